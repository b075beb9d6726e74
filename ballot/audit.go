package ballot

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Opening reveals what a ballot encrypts (SPEC.md §7.2): per question the
// selected option indexes (ascending) and per option the encryption
// randomness r. The randomness of a question's sum, which the range proof
// used, is the sum of its options' r. Publishing an opening destroys the
// ballot's secrecy: an opened ballot MUST NOT be cast (SPEC.md V10).
//
// The opening of a version-2 ballot (SPEC.md §12.9) has Answers,
// one per question, and Choices nil; Randomness holds, per question, the r
// of every ciphertext in ballot order (a ranking's n·k entries, a score per
// option, a write-in's chunks).
type Opening struct {
	Choices    [][]uint32
	Randomness [][]*group.Scalar
	Answers    []Answer    // version-2 ballots only
	shape      []kindShape // version-2 ballots only: the ballot's kinds and sizes
}

// Open returns the opening of b from the secrets EncryptBallot returned
// with it (SPEC.md §7.2). It fails with ErrOpeningMismatch if the secrets
// belong to another ballot.
func (b *Ballot) Open(s *Secrets) (*Opening, error) {
	if s == nil || s.tracker != b.tracker {
		return nil, ErrOpeningMismatch
	}
	if b.Version() == BallotVersionKinds {
		return b.openKinds(s)
	}
	o := &Opening{}
	for q := range s.r {
		o.Choices = append(o.Choices, slices.Clone(s.choices[q]))
		var rs []*group.Scalar
		for _, r := range s.r[q] {
			rs = append(rs, r.Clone())
		}
		o.Randomness = append(o.Randomness, rs)
	}
	return o, nil
}

// AppendTo writes the canonical encoding of o (SPEC.md §7.3):
// u32 question count, then per question u32 option count and per option
// a flag (u8 1 if selected, else 0) and the scalar r.
//
// The opening of a version-2 ballot is encoded as SPEC.md §12.9
// says, with the ballot's shape.
func (o *Opening) AppendTo(w *wire.Writer) {
	if o.shape != nil {
		o.appendKinds(w)
		return
	}
	w.Count(len(o.Randomness))
	for q, rs := range o.Randomness {
		w.Count(len(rs))
		for i, r := range rs {
			sel := uint8(0)
			if q < len(o.Choices) && slices.Contains(o.Choices[q], uint32(i)) {
				sel = 1
			}
			w.U8(sel).Scalar(r)
		}
	}
}

// Bytes returns the canonical encoding of o.
func (o *Opening) Bytes() []byte {
	w := wire.NewWriter(64)
	o.AppendTo(w)
	return w.Out()
}

func readOpening(r *wire.Reader) *Opening {
	o := &Opening{}
	nq := r.Count("opening questions", MaxQuestions)
	for q := 0; q < nq && r.Err() == nil; q++ {
		no := r.Count("opening options", MaxOptions)
		ch := []uint32{}
		var rs []*group.Scalar
		for i := 0; i < no && r.Err() == nil; i++ {
			if r.Flag("selected") {
				ch = append(ch, uint32(i))
			}
			rs = append(rs, r.Scalar("randomness"))
		}
		o.Choices = append(o.Choices, ch)
		o.Randomness = append(o.Randomness, rs)
	}
	return o
}

// Selections returns the texts of the selected options, per question, for
// an observer's report: for a version-2 opening the ranked options in
// order, "option: score" per option, the write-in text. o MUST have passed
// VerifyOpening or VerifyAudit for m, or at least Fits(m).
func (o *Opening) Selections(m *Manifest) [][]string {
	if o.shape != nil {
		return o.selectionsKinds(m)
	}
	out := make([][]string, len(o.Choices))
	for q, ch := range o.Choices {
		for _, i := range ch {
			out[q] = append(out[q], m.Questions[q].Options[i])
		}
	}
	return out
}

// Fits reports whether every answer of o names a question and an option
// of m, of the question's kind, so that Selections can show an opening
// that has not been verified (a check page showing a bad audit) without
// failing. A verified opening always fits.
func (o *Opening) Fits(m *Manifest) bool {
	if o.shape != nil {
		if len(o.Answers) != len(m.Questions) || len(o.shape) != len(m.Questions) {
			return false
		}
		for q, a := range o.Answers {
			mq := &m.Questions[q]
			idx := slices.Concat(a.Choices, a.Ranking)
			if o.shape[q].kind != mq.Kind || slices.ContainsFunc(idx, func(i uint32) bool { return int64(i) >= int64(len(mq.Options)) }) ||
				(mq.Kind == KindScore && len(a.Scores) != len(mq.Options)) {
				return false
			}
		}
		return true
	}
	if len(o.Choices) != len(m.Questions) {
		return false
	}
	for q, ch := range o.Choices {
		if m.Questions[q].Kind != KindSelect {
			return false
		}
		for _, i := range ch {
			if int(i) >= len(m.Questions[q].Options) {
				return false
			}
		}
	}
	return true
}

// VerifyOpening checks an audited ballot (SPEC.md V9): the ballot itself
// verifies (V9.1), the opening has the ballot's shape and its choices obey
// every question's rules (V9.2), and every option re-encrypts exactly to
// the ballot's ciphertext: Encrypt(pk, m_i, r_i) = (α_i, β_i) (V9.3). On
// success the opening's Choices are what the ballot encrypted. For a
// version-2 ballot it is V9 of SPEC.md §12.9: each answer obeys
// its question's rule and every ranking entry, score and write-in chunk
// re-encrypts; on success the opening's Answers are what the ballot
// encrypted.
func VerifyOpening(m *Manifest, pk *group.Element, b *Ballot, o *Opening) error {
	if err := b.Verify(m, pk); err != nil {
		return err
	}
	if o == nil {
		return fmt.Errorf("%w: no opening", ErrOpeningMismatch)
	}
	if b.Version() == BallotVersionKinds {
		return verifyKinds(m, pk, shapesOf(b), kindCiphertexts(b), o)
	}
	if len(o.Randomness) != len(b.qs) || len(o.Choices) != len(b.qs) {
		return fmt.Errorf("%w: opening has the wrong number of questions", ErrOpeningMismatch)
	}
	sel, _, err := selections(m, o.Choices)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOpeningMismatch, err)
	}
	for q := range b.qs {
		if len(o.Randomness[q]) != len(b.qs[q].opts) {
			return fmt.Errorf("%w: question %d has the wrong number of options", ErrOpeningMismatch, q)
		}
		for i, opt := range b.qs[q].opts {
			r := o.Randomness[q][i]
			if r == nil || !Encrypt(pk, sel[q][i], r).Equal(opt.ct) {
				return fmt.Errorf("%w: question %d option %d does not re-encrypt", ErrOpeningMismatch, q, i)
			}
		}
	}
	return nil
}

// AuditedBallot is a challenged ballot with its opening, as posted on the
// board (SPEC.md §7.3).
type AuditedBallot struct {
	Ballot  *Ballot
	Opening *Opening
}

// Bytes returns the canonical encoding: the ballot as a u32-length-prefixed
// byte string, then the opening.
func (a *AuditedBallot) Bytes() []byte {
	w := wire.NewWriter(len(a.Ballot.raw) + 64)
	w.Bytes(a.Ballot.raw)
	a.Opening.AppendTo(w)
	return w.Out()
}

// ParseAuditedBallot decodes an audited ballot strictly (SPEC.md §7.3, V9):
// a canonical ballot, then an opening with the same numbers of questions
// and options, flags 0 or 1, canonical scalars, no trailing bytes; for a
// version-2 ballot, the opening of SPEC.md §12.9 (Decoding). It
// does not verify the ballot or the opening (VerifyOpening does).
func ParseAuditedBallot(data []byte) (*AuditedBallot, error) {
	r := wire.NewReader(data)
	bb := r.Bytes("ballot", MaxBallotSize)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ballot: audited ballot: %w", err)
	}
	b, err := ParseBallot(bb)
	if err != nil {
		return nil, err
	}
	if b.Version() == BallotVersionKinds {
		o := readKinds(r, shapesOf(b))
		if err := r.Done(); err != nil {
			return nil, fmt.Errorf("ballot: audited ballot: %w", err)
		}
		return &AuditedBallot{Ballot: b, Opening: o}, nil
	}
	o := readOpening(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: audited ballot: %w", err)
	}
	if len(o.Randomness) != len(b.qs) {
		return nil, fmt.Errorf("ballot: audited ballot: %w: opening has %d questions, ballot %d", wire.ErrMalformed, len(o.Randomness), len(b.qs))
	}
	for q := range b.qs {
		if len(o.Randomness[q]) != len(b.qs[q].opts) {
			return nil, fmt.Errorf("ballot: audited ballot: %w: question %d: opening has %d options, ballot %d", wire.ErrMalformed, q, len(o.Randomness[q]), len(b.qs[q].opts))
		}
	}
	return &AuditedBallot{Ballot: b, Opening: o}, nil
}

// Audit is a challenged ballot as protocol 1.2 posts it (SPEC.md §7.3): the
// election fingerprint, the option ciphertexts and the opening, and nothing
// else. It carries neither the public credential nor the proofs (both hash
// the credential, so either would link the audit to the voter by a trial
// verification against every public credential); the opening itself shows
// what the ciphertexts encrypt, which VerifyAudit checks by re-encryption.
// Its tracker equals the tracker of the ballot it was made from.
//
// The audit of a version-2 ballot (SPEC.md §12.10, "audit2") has the same
// form: choices2 (every question's kind and counts and every ciphertext:
// selection options, ranking entries, scores, write-in chunks), then the
// opening of §12.9.
type Audit struct {
	fingerprint [32]byte
	cts         [][]*Ciphertext // per question, every ciphertext in ballot order
	shape       []kindShape     // audit2 only: the kinds and counts of choices2
	choices     []byte          // the choices encoding of SPEC.md §7.1 or choices2 of §12.10
	Opening     *Opening
	tracker     Tracker
}

// Audit returns the audit of b (SPEC.md §7.2–§7.3; §12.10 for a version-2
// ballot) from the secrets EncryptBallot or EncryptAnswers returned with
// it: b's fingerprint and ciphertexts and their opening. It fails with
// ErrOpeningMismatch if the secrets belong to another ballot. After it, b
// MUST NOT be cast.
func (b *Ballot) Audit(s *Secrets) (*Audit, error) {
	o, err := b.Open(s)
	if err != nil {
		return nil, err
	}
	c, ok := choicesOfBallot(b.raw)
	if !ok { // cannot happen: b was built or strictly decoded
		return nil, fmt.Errorf("%w: ballot layout", ErrShape)
	}
	a := &Audit{fingerprint: b.fingerprint, cts: b.Ciphertexts(), choices: c, Opening: o, tracker: trackerOfChoices(b.Version(), c)}
	if b.Version() == BallotVersionKinds {
		a.cts, a.shape = kindCiphertexts(b), o.shape
	}
	return a, nil
}

// Version returns the audit's layout: BallotVersion for the audit of SPEC.md
// §7.3, BallotVersionKinds for the audit2 of §12.10 (a version-2 ballot's).
func (a *Audit) Version() uint8 {
	if a.shape != nil {
		return BallotVersionKinds
	}
	return BallotVersion
}

// Fingerprint returns the election fingerprint the audit names.
func (a *Audit) Fingerprint() [32]byte { return a.fingerprint }

// Tracker returns the audit's tracker (SPEC.md §7.1, §12.10): the tracker
// the booth showed for the ballot it opens.
func (a *Audit) Tracker() Tracker { return a.tracker }

// Ciphertexts returns copies of the ciphertexts, per question: the options
// of a §7.3 audit; every ciphertext of an audit2 in ballot order (a
// ranking's n·k entries, one score per option, a write-in's chunks).
func (a *Audit) Ciphertexts() [][]*Ciphertext {
	out := make([][]*Ciphertext, len(a.cts))
	for q := range a.cts {
		for _, ct := range a.cts[q] {
			out[q] = append(out[q], &Ciphertext{Alpha: ct.Alpha.Clone(), Beta: ct.Beta.Clone()})
		}
	}
	return out
}

// Bytes returns the canonical encoding (SPEC.md §7.3, §12.10): the choices
// encoding, then the opening (§7.2, §12.9).
func (a *Audit) Bytes() []byte {
	w := wire.NewWriter(len(a.choices) + 40*len(a.choices)/64)
	w.Fixed(a.choices)
	a.Opening.AppendTo(w)
	return w.Out()
}

// auditLayout tells the two audit layouts apart without the manifest
// (SPEC.md §12.10, Which layout): in a §7.3 audit the u32 at bytes 36..39
// is the first question's option count, 2..64; in an audit2 it is a kind
// byte and the top bytes of a count, never in 2..64.
func auditLayout(data []byte) uint8 {
	if len(data) >= 40 {
		if n := binary.BigEndian.Uint32(data[36:40]); n < MinOptions || n > MaxOptions {
			return BallotVersionKinds
		}
	}
	return BallotVersion
}

// ParseAudit decodes an audit strictly (SPEC.md §7.3, V9.1): 1..64
// questions of 2..64 options, canonical elements with α not the identity,
// an opening with the same numbers of questions and options, flags 0 or 1,
// canonical scalars, no trailing bytes. An audit2 (the audit of a version-2
// ballot, §12.10) is recognised by its bytes and decoded as §12.10 says;
// VerifyAudit checks that its layout is the manifest's. ParseAudit does not
// check the opening (VerifyAudit does).
func ParseAudit(data []byte) (*Audit, error) {
	if auditLayout(data) == BallotVersionKinds {
		return parseKindAudit(data)
	}
	r := wire.NewReader(data)
	a := &Audit{}
	copy(a.fingerprint[:], r.Fixed("fingerprint", 32))
	nq := r.Count("questions", MaxQuestions)
	if r.Err() == nil && nq < 1 {
		r.Failf("no questions")
	}
	for q := 0; q < nq && r.Err() == nil; q++ {
		no := r.Count("options", MaxOptions)
		if r.Err() == nil && no < MinOptions {
			r.Failf("question %d: %d options", q, no)
		}
		a.cts = append(a.cts, readCiphertexts(r, no))
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ballot: audit: %w", err)
	}
	a.choices = slices.Clone(data[:len(data)-r.Remaining()])
	a.Opening = readOpening(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: audit: %w", err)
	}
	if len(a.Opening.Randomness) != len(a.cts) {
		return nil, fmt.Errorf("ballot: audit: %w: opening has %d questions, ciphertexts %d", wire.ErrMalformed, len(a.Opening.Randomness), len(a.cts))
	}
	for q := range a.cts {
		if len(a.Opening.Randomness[q]) != len(a.cts[q]) {
			return nil, fmt.Errorf("ballot: audit: %w: question %d: opening has %d options, ciphertexts %d", wire.ErrMalformed, q, len(a.Opening.Randomness[q]), len(a.cts[q]))
		}
	}
	a.tracker = trackerOfChoices(BallotVersion, a.choices)
	return a, nil
}

// readCiphertexts reads n ciphertexts α ‖ β, α not the identity.
func readCiphertexts(r *wire.Reader, n int) []*Ciphertext {
	var cts []*Ciphertext
	for i := 0; i < n && r.Err() == nil; i++ {
		al := r.NonIdentity("alpha")
		be := r.Element("beta")
		cts = append(cts, &Ciphertext{Alpha: al, Beta: be})
	}
	return cts
}

// VerifyAudit checks an audit (SPEC.md V9.1–V9.3): it names the manifest's
// election and has its numbers of questions and options (V9.1), the
// opening's choices obey every question's rules (V9.2), and every option
// re-encrypts exactly under the election key pk: Encrypt(pk, m_i, r_i) =
// (α_i, β_i) (V9.3). On success the opening's Choices are what the
// ciphertexts encrypt. For a version-3 manifest the audit MUST be an
// audit2 and is checked by V9.1.2–V9.3 of SPEC.md §12.10; on success the
// opening's Answers are what the ciphertexts encrypt. It returns ErrShape
// (V9.1) or ErrOpeningMismatch (V9.2, V9.3).
func VerifyAudit(m *Manifest, pk *group.Element, a *Audit) error {
	if kinds := m.Version == ManifestVersionKinds; kinds != (a.shape != nil) {
		return fmt.Errorf("%w: V9.1.1: an audit of the layout of version-%d ballots for a version-%d manifest (SPEC.md §12.10, Which layout)", ErrShape, a.Version(), m.Version)
	}
	if a.fingerprint != m.Fingerprint() {
		return fmt.Errorf("%w: V9.1.2: audit of another election", ErrShape)
	}
	if a.shape != nil {
		if err := kindShapeMatches(m, a.shape); err != nil {
			return err
		}
		return verifyKinds(m, pk, a.shape, a.cts, a.Opening)
	}
	if len(a.cts) != len(m.Questions) {
		return fmt.Errorf("%w: %d questions, manifest has %d", ErrShape, len(a.cts), len(m.Questions))
	}
	for q := range a.cts {
		if len(a.cts[q]) != len(m.Questions[q].Options) {
			return fmt.Errorf("%w: question %d has %d options, manifest %d", ErrShape, q, len(a.cts[q]), len(m.Questions[q].Options))
		}
	}
	sel, _, err := selections(m, a.Opening.Choices)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOpeningMismatch, err)
	}
	for q := range a.cts {
		for i, ct := range a.cts[q] {
			if !Encrypt(pk, sel[q][i], a.Opening.Randomness[q][i]).Equal(ct) {
				return fmt.Errorf("%w: question %d option %d does not re-encrypt", ErrOpeningMismatch, q, i)
			}
		}
	}
	return nil
}

// OpenedEntry returns the CountEntry of an audit (SPEC.md V10.2): it names
// no credential and burns its tracker when valid.
func OpenedEntry(a *Audit, valid bool) CountEntry {
	return CountEntry{Tracker: a.tracker, Audited: true, Valid: valid}
}
