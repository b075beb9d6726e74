package ballot

import (
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// BallotVersion is the only ballot encoding version of protocol version 1.
const BallotVersion = 1

// Encoding sizes (SPEC.md §6.1).
const (
	branchSize     = 4 * group.Size                // a || b || c || s
	optionSize     = CiphertextSize + 2*branchSize // alpha || beta || branch 0 || branch 1
	ballotHeader   = 1 + 32 + group.Size + 4       // version || fingerprint || credential || question count
	maxRangeBranch = MaxOptions + 1                // Max - Min + 1 ≤ 65
	MaxBallotSize  = ballotHeader + MaxQuestions*(8+MaxOptions*optionSize+maxRangeBranch*branchSize)
	// MaxBallotBytes bounds the ballot of any valid manifest (V4.2): the
	// board accepts no larger ballot entry body. About 200 options in all.
	MaxBallotBytes = 64 << 10
	// MaxAuditBytes bounds the audit (entry type 13) of any ballot of a
	// valid manifest (SPEC.md §3.2, §12.10): the audit of the largest
	// version-1 ballot is about 20 KB, and a version-3 manifest's
	// audit-size rule keeps its audits within it.
	MaxAuditBytes = 32 << 10
)

// proof is a disjunctive Chaum–Pedersen proof with n branches (SPEC.md
// §6.3): branch j shows that (alpha, beta - v_j·G) is a Diffie–Hellman
// tuple (alpha = r·G, beta - v_j·G = r·K) for the branch's value v_j.
type proof struct {
	a, b []*group.Element // commitments
	c, s []*group.Scalar  // per-branch challenges and responses
}

type encOption struct {
	ct  *Ciphertext
	pf  proof
	off int // offset of alpha in Ballot.raw; the branches follow beta
}

// encQuestion is one question of a ballot. KindSelect: opts are the
// options and rng the range proof. KindRanked: opts are the n·k entries
// (option i, rank j at i·k + j) with their 0/1 proofs, sums the row,
// column, step and total proofs. KindScore: opts are the options, each
// with its score proof. KindWriteIn: wi.
type encQuestion struct {
	kind   QuestionKind
	opts   []encOption
	rng    proof
	rngOff int // offset of the first range branch in Ballot.raw
	n, k   int // options and ranks of a ranked or score question (k: ranked only)
	sums   []sumClaim
	wi     *writeIn
}

// Ballot is a decoded, immutable encrypted ballot (SPEC.md §6). It keeps its
// canonical bytes, so that verification hashes them without re-encoding and
// never decodes a point twice. Obtain one from EncryptBallot or ParseBallot; a
// Ballot is well-formed but not verified until Verify or VerifyBatch says so.
type Ballot struct {
	raw         []byte
	fingerprint [32]byte
	cred        *group.Element
	qs          []encQuestion
	tracker     Tracker
}

// Secrets are what the voting client keeps after EncryptBallot, to open the ballot
// for an audit (SPEC.md §7.2). They MUST NOT be logged, and are destroyed
// when the ballot is cast.
type Secrets struct {
	_       [0]func()
	tracker Tracker
	choices [][]uint32
	answers []Answer // version-2 ballots: the answers (SPEC.md §12.9)
	r       [][]*group.Scalar
}

// String redacts the secrets.
func (s *Secrets) String() string { return "ballot.Secrets(REDACTED)" }

// selections turns per-question option indexes into 0/1 per option,
// checking them against the manifest (SPEC.md §6.2 step 1).
func selections(m *Manifest, choices [][]uint32) ([][]uint64, [][]uint32, error) {
	if len(choices) != len(m.Questions) {
		return nil, nil, fmt.Errorf("%w: %d answers for %d questions", ErrInvalidChoice, len(choices), len(m.Questions))
	}
	sel := make([][]uint64, len(choices))
	norm := make([][]uint32, len(choices))
	for q, ch := range choices {
		mq := m.Questions[q]
		sel[q] = make([]uint64, len(mq.Options))
		for _, i := range ch {
			if int64(i) >= int64(len(mq.Options)) {
				return nil, nil, fmt.Errorf("%w: question %d has no option %d", ErrInvalidChoice, q, i)
			}
			if sel[q][i] == 1 {
				return nil, nil, fmt.Errorf("%w: question %d: option %d selected twice", ErrInvalidChoice, q, i)
			}
			sel[q][i] = 1
		}
		if n := uint32(len(ch)); n < mq.Min || n > mq.Max {
			return nil, nil, fmt.Errorf("%w: question %d: %d selections, want %d..%d", ErrInvalidChoice, q, n, mq.Min, mq.Max)
		}
		norm[q] = slices.Sorted(slices.Values(ch))
		if norm[q] == nil {
			norm[q] = []uint32{}
		}
	}
	return sel, norm, nil
}

// statement starts the transcript of a proof with the items every proof
// shares: election fingerprint, election key, public credential, question index.
func statement(l transcript.Label, fp []byte, pkb, credb []byte, q int) *transcript.Transcript {
	return transcript.New(l).Bytes(fp).Bytes(pkb).Bytes(credb).Uint64(uint64(q))
}

// EncryptBallot encrypts the voter's choices (per question, the indexes of the
// selected options) under the joint election key pk and proves them
// well-formed (SPEC.md §6.2). It returns the ballot and the secrets needed
// to audit it. The ballot is bound to the election and to the public
// credential of cred; the caller signs the board envelope with cred.
// Randomness comes from rand (crypto/rand.Reader in production). Encryption
// and the real branch of every proof run in constant time with respect to
// the choices.
func EncryptBallot(rand io.Reader, m *Manifest, pk *group.Element, cred *CredentialKey, choices [][]uint32) (*Ballot, *Secrets, error) {
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	if pk == nil || pk.IsIdentity() {
		return nil, nil, ErrInvalidKey
	}
	if cred == nil {
		return nil, nil, fmt.Errorf("%w: no credential key", ErrInvalidCredential)
	}
	if m.Version == ManifestVersionKinds {
		return nil, nil, fmt.Errorf("%w: the manifest has ranked, score or write-in questions: use EncryptAnswers", ErrInvalidChoice)
	}
	sel, norm, err := selections(m, choices)
	if err != nil {
		return nil, nil, err
	}
	b, sec, err := encrypt(rand, m, pk, cred, sel)
	if err != nil {
		return nil, nil, err
	}
	sec.choices = norm
	return b, sec, nil
}

// encrypt builds a ballot for the 0/1 selections sel without checking them
// against the question rules (tests use it to build invalid ballots).
func encrypt(rand io.Reader, m *Manifest, pk *group.Element, cred *CredentialKey, sel [][]uint64) (*Ballot, *Secrets, error) {
	fp := m.Fingerprint()
	pkb, credb := pk.Bytes(), cred.pub.Bytes()
	b := &Ballot{fingerprint: fp, cred: cred.pub.Clone()}
	sec := &Secrets{}
	w := wire.NewWriter(m.BallotSize())
	w.U8(BallotVersion).Fixed(fp[:]).Fixed(credb).Count(len(m.Questions))
	mults := 0 // by pk: per option, its ciphertext and 2 proof branches; the range branches
	for _, mq := range m.Questions {
		mults += 3*len(mq.Options) + int(mq.Max-mq.Min) + 1
	}
	k := keyFor(pk, mults)
	for q := range m.Questions {
		eq, rq, err := encryptSelect(rand, w, k, fp[:], pkb, credb, q, &m.Questions[q], sel[q])
		if err != nil {
			return nil, nil, err
		}
		b.qs = append(b.qs, eq)
		sec.r = append(sec.r, rq)
	}
	b.raw = w.Out()
	b.tracker = TrackerOf(b.raw)
	sec.tracker = b.tracker
	return b, sec, nil
}

// encryptSelect writes the part of a selection question q for the 0/1
// selections sel (SPEC.md §6.1 fields 5–10, §6.2) and returns it with the
// options' randomness.
func encryptSelect(rand io.Reader, w *wire.Writer, k encKey, fp, pkb, credb []byte, q int, mq *Question, sel []uint64) (encQuestion, []*group.Scalar, error) {
	w.Count(len(mq.Options))
	eq := encQuestion{}
	rsum := group.NewScalar()
	var count uint64
	rq := make([]*group.Scalar, len(mq.Options))
	ctBytes := make([][]byte, 0, 2*len(mq.Options))
	for i := range mq.Options {
		r, err := group.RandomNonZeroScalar(rand)
		if err != nil {
			return eq, nil, err
		}
		rq[i] = r
		rsum.Add(rsum, r)
		count += sel[i]
		ct := k.encrypt(sel[i], r)
		ab, bb := ct.Alpha.Bytes(), ct.Beta.Bytes()
		ctBytes = append(ctBytes, ab, bb)
		t := statement(transcript.DisjunctiveProof, fp, pkb, credb, q).Uint64(uint64(i)).Bytes(ab).Bytes(bb)
		pf, enc, err := k.prove(rand, t, r, sel[i], 0, 2)
		if err != nil {
			return eq, nil, err
		}
		off := len(w.Out())
		w.Fixed(ab).Fixed(bb)
		writeProof(w, &pf, enc)
		eq.opts = append(eq.opts, encOption{ct: ct, pf: pf, off: off})
	}
	t := statement(transcript.RangeProof, fp, pkb, credb, q).Uint64(uint64(mq.Min)).Uint64(uint64(mq.Max))
	for _, x := range ctBytes {
		t.Bytes(x)
	}
	pf, enc, err := k.prove(rand, t, rsum, count, uint64(mq.Min), int(mq.Max-mq.Min)+1)
	if err != nil {
		return eq, nil, err
	}
	w.Count(len(pf.a))
	eq.rngOff = len(w.Out())
	writeProof(w, &pf, enc)
	eq.rng = pf
	return eq, rq, nil
}

// writeProof writes the branches (a_j || b_j || c_j || s_j); enc holds the
// already computed encodings of a_j, b_j.
func writeProof(w *wire.Writer, pf *proof, enc [][]byte) {
	for j := range pf.a {
		w.Fixed(enc[2*j]).Fixed(enc[2*j+1]).Scalar(pf.c[j]).Scalar(pf.s[j])
	}
}

// ParseBallot decodes a canonical ballot (SPEC.md §6.1, V8.1): version 1,
// canonical elements and scalars, a non-identity credential and non-identity
// alphas, 1..64 questions of 2..64 options, 1..65 range branches, no
// trailing bytes. It does not verify the proofs. It returns nil on error.
func ParseBallot(data []byte) (*Ballot, error) {
	if len(data) > MaxBallotSize {
		return nil, fmt.Errorf("ballot: %d bytes exceeds %d", len(data), MaxBallotSize)
	}
	raw := slices.Clone(data)
	r := wire.NewReader(raw)
	off := func() int { return len(raw) - r.Remaining() }
	v := r.U8("version")
	if r.Err() == nil && v != BallotVersion && v != BallotVersionKinds {
		return nil, fmt.Errorf("ballot: %w: version %d", wire.ErrMalformed, v)
	}
	b := &Ballot{raw: raw}
	copy(b.fingerprint[:], r.Fixed("fingerprint", 32))
	b.cred = r.NonIdentity("credential")
	nq := r.Count("questions", MaxQuestions)
	if r.Err() == nil && nq < 1 {
		r.Failf("no questions")
	}
	for q := 0; q < nq && r.Err() == nil; q++ {
		if v == BallotVersion {
			b.qs = append(b.qs, readSelect(r, q, off))
		} else {
			b.qs = append(b.qs, readKindQuestion(r, QuestionKind(r.U8("question kind")), q, off))
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: %w", err)
	}
	b.tracker = TrackerOf(raw)
	return b, nil
}

// readSelect reads a selection question (SPEC.md §6.1 fields 5–10).
func readSelect(r *wire.Reader, q int, off func() int) encQuestion {
	no := r.Count("options", MaxOptions)
	if r.Err() == nil && no < MinOptions {
		r.Failf("question %d: %d options", q, no)
	}
	eq := encQuestion{}
	for i := 0; i < no && r.Err() == nil; i++ {
		o := encOption{off: off()}
		a := r.NonIdentity("alpha")
		be := r.Element("beta")
		o.ct = &Ciphertext{Alpha: a, Beta: be}
		o.pf = readProof(r, 2)
		eq.opts = append(eq.opts, o)
	}
	nb := r.Count("range branches", maxRangeBranch)
	if r.Err() == nil && nb < 1 {
		r.Failf("question %d: no range branch", q)
	}
	eq.rngOff = off()
	eq.rng = readProof(r, nb)
	return eq
}

func readProof(r *wire.Reader, n int) proof {
	var pf proof
	for j := 0; j < n && r.Err() == nil; j++ {
		pf.a = append(pf.a, r.Element("commitment a"))
		pf.b = append(pf.b, r.Element("commitment b"))
		pf.c = append(pf.c, r.Scalar("challenge"))
		pf.s = append(pf.s, r.Scalar("response"))
	}
	return pf
}

// Bytes returns the canonical encoding of b (SPEC.md §6.1).
func (b *Ballot) Bytes() []byte { return slices.Clone(b.raw) }

// Fingerprint returns the election fingerprint the ballot is bound to.
func (b *Ballot) Fingerprint() [32]byte { return b.fingerprint }

// Credential returns the public credential the ballot is bound to. The board
// envelope of a cast ballot MUST be signed by this key (SPEC.md V8.4).
func (b *Ballot) Credential() *group.Element { return b.cred.Clone() }

// NumQuestions returns the number of questions.
func (b *Ballot) NumQuestions() int { return len(b.qs) }

// NumOptions returns the number of option ciphertexts of question q that
// the homomorphic tally adds up: the number of options of a selection
// question, 0 for a ranked, score or write-in question (those are mixed:
// MixRow).
func (b *Ballot) NumOptions(q int) int {
	if b.qs[q].kind != KindSelect {
		return 0
	}
	return len(b.qs[q].opts)
}

// Version returns the ballot's encoding version: BallotVersion, or
// BallotVersionKinds for a version-3 manifest.
func (b *Ballot) Version() uint8 { return b.raw[0] }

// Ciphertext returns a copy of the ciphertext of option i of selection question q.
func (b *Ballot) Ciphertext(q, i int) *Ciphertext {
	ct := b.qs[q].opts[i].ct
	return &Ciphertext{Alpha: ct.Alpha.Clone(), Beta: ct.Beta.Clone()}
}

// Ciphertexts returns copies of all option ciphertexts, per question (what
// the tally aggregates, SPEC.md V11); none for a mixed question.
func (b *Ballot) Ciphertexts() [][]*Ciphertext {
	out := make([][]*Ciphertext, len(b.qs))
	for q := range b.qs {
		for i := 0; i < b.NumOptions(q); i++ {
			out[q] = append(out[q], b.Ciphertext(q, i))
		}
	}
	return out
}

// Tracker returns the ballot's tracker (SPEC.md §7.1): the digest of its
// fingerprint and ciphertexts, equal to the tracker of its Audit.
func (b *Ballot) Tracker() Tracker { return b.tracker }

// PeekCredential returns the public credential's encoding from an encoded
// ballot without decoding any group element: it is bytes 33..65 of the §6.1
// layout (version u8 ‖ fingerprint[32] ‖ credential[32] ‖ ...). Only for
// bytes whose strict decoding was already checked (a board replica applying
// a ballot its proposer pre-checked); everything else uses ParseBallot.
func PeekCredential(data []byte) ([32]byte, error) {
	if len(data) < credentialEnd || (data[0] != BallotVersion && data[0] != BallotVersionKinds) {
		return [32]byte{}, fmt.Errorf("%w: %d bytes or unknown version", ErrShape, len(data))
	}
	return [32]byte(data[credentialEnd-32 : credentialEnd]), nil
}

// credentialEnd is the end offset of the public credential in a ballot.
const credentialEnd = 1 + 32 + group.Size
