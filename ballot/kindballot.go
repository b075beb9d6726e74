package ballot

import (
	"fmt"
	"io"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// BallotVersionKinds is the ballot encoding for version-3 manifests: every
// question is preceded by its kind (SPEC.md §12.2).
const BallotVersionKinds = 2

// Kinds of the sum proofs of a ranking (SPEC.md §12.3.1).
const (
	sumRow    = 0 // Σ_j m_ij ∈ {0, 1}: option i has at most one rank
	sumColumn = 1 // Σ_i m_ij ∈ {0, 1}: rank j is given at most once
	sumStep   = 2 // Σ_i m_ij − Σ_i m_i,j+1 ∈ {0, 1}: rank j+1 only after rank j
	sumTotal  = 3 // Σ_ij m_ij ∈ {min, ..., max}: options ranked
)

var sumNames = [...]string{"row", "column", "step", "total"}

// sumClaim is one disjunctive proof (SPEC.md §6.3) on a signed sum of the
// entries of a ranking matrix: (A, B) = Σ_{e ∈ plus} c_e − Σ_{e ∈ minus} c_e
// encrypts one of v0..vmax.
type sumClaim struct {
	kind, index int
	v0, vmax    uint64
	plus, minus []int // entry indexes e = i·k + j
	pf          proof
	off         int // offset of branch 0 in Ballot.raw
}

// writeIn is the encrypted write-in of one question: per chunk a ciphertext
// and a Schnorr proof (t, s) of knowledge of its randomness.
type writeIn struct {
	cts []*Ciphertext
	t   []*group.Element
	s   []*group.Scalar
	off int // offset of chunk 0 in Ballot.raw
}

// rankedSums returns the sum claims of an n×k ranking whose total proof has
// nb branches (values k−nb+1..k), in encoding order: rows, columns, steps,
// total (SPEC.md §12.3.1).
func rankedSums(n, k, nb int) []sumClaim {
	var cs []sumClaim
	for i := 0; i < n; i++ {
		c := sumClaim{kind: sumRow, index: i, vmax: 1}
		for j := 0; j < k; j++ {
			c.plus = append(c.plus, i*k+j)
		}
		cs = append(cs, c)
	}
	col := func(j int) []int {
		var es []int
		for i := 0; i < n; i++ {
			es = append(es, i*k+j)
		}
		return es
	}
	for j := 0; j < k; j++ {
		cs = append(cs, sumClaim{kind: sumColumn, index: j, vmax: 1, plus: col(j)})
	}
	for j := 0; j+1 < k; j++ {
		cs = append(cs, sumClaim{kind: sumStep, index: j, vmax: 1, plus: col(j), minus: col(j + 1)})
	}
	all := make([]int, n*k)
	for e := range all {
		all[e] = e
	}
	return append(cs, sumClaim{kind: sumTotal, v0: uint64(k - nb + 1), vmax: uint64(k), plus: all})
}

// kindStatement is the transcript of a proof of a mixed question: the
// items every proof shares (SPEC.md §6.4 items 1–4), then ints as u64
// items, then the ciphertext items.
func kindStatement(l transcript.Label, fp, pkb, credb []byte, q int, ints []uint64, cts [][]byte) *transcript.Transcript {
	t := statement(l, fp, pkb, credb, q)
	for _, v := range ints {
		t.Uint64(v)
	}
	for _, c := range cts {
		t.Bytes(c)
	}
	return t
}

// sumStatement is the transcript of a sum claim: kind, index, v0, vmax,
// then α, β of every entry of the matrix.
func (c *sumClaim) statement(fp, pkb, credb []byte, q int, entries [][]byte) *transcript.Transcript {
	return kindStatement(transcript.RankedSumProof, fp, pkb, credb, q, []uint64{uint64(c.kind), uint64(c.index), c.v0, c.vmax}, entries)
}

// EncryptElement returns the ElGamal encryption (r·G, M + r·K) of the
// element M, in constant time (SPEC.md §12.4).
func EncryptElement(pk, msg *group.Element, r *group.Scalar) *Ciphertext {
	beta := group.NewElement().ScalarMult(r, pk)
	return &Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: beta.Add(beta, msg)}
}

// EncryptAnswers encrypts one answer per question under the joint election
// key pk and proves every answer well formed (SPEC.md §6.2,
// SPEC.md §12.3). For a manifest of version 1 or 2 it is
// EncryptBallot of the answers' Choices. Otherwise it makes a version-2
// ballot: a selection question as in SPEC.md §6, a ranking as an n×k
// matrix of 0/1 ciphertexts, scores as one ciphertext per option, a
// write-in as ciphertexts of group elements (EncodeWriteIn). Randomness
// comes from rand (crypto/rand.Reader in production). The encryptions and
// proofs run in constant time with respect to the answers; checking the
// answers and encoding a write-in do not.
func EncryptAnswers(rand io.Reader, m *Manifest, pk *group.Element, cred *CredentialKey, answers []Answer) (*Ballot, *Secrets, error) {
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	if len(answers) != len(m.Questions) {
		return nil, nil, fmt.Errorf("%w: %d answers for %d questions", ErrInvalidChoice, len(answers), len(m.Questions))
	}
	if m.Version != ManifestVersionKinds {
		choices := make([][]uint32, len(answers))
		for q := range answers {
			if _, err := checkAnswer(q, &m.Questions[q], &answers[q]); err != nil {
				return nil, nil, err
			}
			choices[q] = answers[q].Choices
		}
		return EncryptBallot(rand, m, pk, cred, choices)
	}
	if pk == nil || pk.IsIdentity() {
		return nil, nil, ErrInvalidKey
	}
	if cred == nil {
		return nil, nil, fmt.Errorf("%w: no credential key", ErrInvalidCredential)
	}
	plain := make([]plaintext, len(answers))
	for q := range answers {
		mq := &m.Questions[q]
		vals, err := checkAnswer(q, mq, &answers[q])
		if err != nil {
			return nil, nil, err
		}
		plain[q].vals = vals
		if mq.Kind == KindWriteIn {
			if plain[q].elems, err = EncodeWriteIn(answers[q].Text, mq.Max); err != nil {
				return nil, nil, err
			}
		}
	}
	b, sec, err := encryptKinds(rand, m, pk, cred, plain)
	if err != nil {
		return nil, nil, err
	}
	sec.answers = cloneAnswers(answers) // for Open (SPEC.md §12.9)
	return b, sec, nil
}

// plaintext is what a ballot encrypts for one question: small integers
// (selections, ranking matrix, scores) or elements (write-in chunks).
type plaintext struct {
	vals  []uint64
	elems []*group.Element
}

// kindEncoder holds what every question's encryption needs.
type kindEncoder struct {
	rand       io.Reader
	pk         *group.Element
	fp         []byte
	pkb, credb []byte
	w          *wire.Writer
	q          int
	rs         []*group.Scalar // the randomness of the question's ciphertexts, in order
	err        error           // the first randomness error
}

func (e *kindEncoder) random() *group.Scalar {
	r, err := group.RandomNonZeroScalar(e.rand)
	if err != nil && e.err == nil {
		e.err = err
	}
	if r == nil {
		r = group.ScalarFromUint64(1)
	}
	return r
}

// proveAt proves with prove and writes the branches, returning the proof
// and the offset of branch 0.
func (e *kindEncoder) proveAt(t *transcript.Transcript, r *group.Scalar, v, v0 uint64, nb int) (proof, int) {
	pf, enc, err := prove(e.rand, t, e.pk, r, v, v0, nb)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return proof{}, len(e.w.Out())
	}
	off := len(e.w.Out())
	writeProof(e.w, &pf, enc)
	return pf, off
}

// entry encrypts the small integer v, writes α || β and its proof on values
// v0..v0+nb−1 under the transcript made by st, and returns the option.
func (e *kindEncoder) entry(v, v0 uint64, nb int, st func(ab, bb []byte) *transcript.Transcript) encOption {
	r := e.random()
	e.rs = append(e.rs, r)
	ct := Encrypt(e.pk, v, r)
	ab, bb := ct.Alpha.Bytes(), ct.Beta.Bytes()
	off := len(e.w.Out())
	e.w.Fixed(ab).Fixed(bb)
	pf, _ := e.proveAt(st(ab, bb), r, v, v0, nb)
	return encOption{ct: ct, pf: pf, off: off}
}

// encryptKinds builds a version-2 ballot for the plaintexts without
// checking them against the questions' rules (tests use it to build
// malformed ballots; a malformed answer gives a proof that does not verify).
func encryptKinds(rand io.Reader, m *Manifest, pk *group.Element, cred *CredentialKey, plain []plaintext) (*Ballot, *Secrets, error) {
	fp := m.Fingerprint()
	e := &kindEncoder{rand: rand, pk: pk, fp: fp[:], pkb: pk.Bytes(), credb: cred.pub.Bytes(), w: wire.NewWriter(m.BallotSize())}
	b := &Ballot{fingerprint: fp, cred: cred.pub.Clone()}
	sec := &Secrets{}
	e.w.U8(BallotVersionKinds).Fixed(fp[:]).Fixed(e.credb).Count(len(m.Questions))
	for q := range m.Questions {
		mq := &m.Questions[q]
		e.q, e.rs = q, nil
		e.w.U8(uint8(mq.Kind))
		var eq encQuestion
		switch mq.Kind {
		case KindSelect:
			var err error
			if eq, e.rs, err = encryptSelect(rand, e.w, keyFor(pk, 3*len(mq.Options)+int(mq.Max-mq.Min)+1), fp[:], e.pkb, e.credb, q, mq, plain[q].vals); err != nil {
				return nil, nil, err
			}
		case KindRanked:
			eq = e.ranked(mq, plain[q].vals)
		case KindScore:
			eq = e.score(mq, plain[q].vals)
		case KindWriteIn:
			eq = e.writeIn(plain[q].elems)
		}
		if e.err != nil {
			return nil, nil, e.err
		}
		eq.kind = mq.Kind
		b.qs = append(b.qs, eq)
		sec.r = append(sec.r, e.rs)
	}
	b.raw = e.w.Out()
	b.tracker = TrackerOf(b.raw) // SPEC.md §12.10
	sec.tracker = b.tracker
	return b, sec, nil
}

// ranked encrypts the n×k matrix mat (row-major, option i rank j) and
// proves it a ranking (SPEC.md §12.3.1).
func (e *kindEncoder) ranked(mq *Question, mat []uint64) encQuestion {
	n, k := len(mq.Options), int(mq.Max)
	e.w.Count(n).Count(k)
	eq := encQuestion{n: n, k: k}
	entries := make([][]byte, 0, 2*n*k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			o := e.entry(mat[i*k+j], 0, 2, func(ab, bb []byte) *transcript.Transcript {
				return kindStatement(transcript.RankedEntryProof, e.fp, e.pkb, e.credb, e.q, []uint64{uint64(i), uint64(j)}, [][]byte{ab, bb})
			})
			eq.opts = append(eq.opts, o)
			entries = append(entries, e.w.Out()[o.off:o.off+group.Size], e.w.Out()[o.off+group.Size:o.off+CiphertextSize])
		}
	}
	// The slices of entries alias the writer's buffer, which may move
	// as it grows: copy them once.
	for x := range entries {
		entries[x] = append([]byte(nil), entries[x]...)
	}
	eq.sums = rankedSums(n, k, int(mq.Max-mq.Min+1))
	for x := range eq.sums {
		c := &eq.sums[x]
		r, v := group.NewScalar(), int64(0)
		for _, i := range c.plus {
			r.Add(r, e.rs[i])
			v += int64(mat[i])
		}
		for _, i := range c.minus {
			r.Sub(r, e.rs[i])
			v -= int64(mat[i])
		}
		if c.kind == sumTotal {
			e.w.Count(int(c.vmax - c.v0 + 1))
		}
		c.pf, c.off = e.proveAt(c.statement(e.fp, e.pkb, e.credb, e.q, entries), r, uint64(v), c.v0, int(c.vmax-c.v0+1))
	}
	return eq
}

// score encrypts one score per option, each with a proof that it lies in
// Min..Max (SPEC.md §12.3.2).
func (e *kindEncoder) score(mq *Question, vals []uint64) encQuestion {
	n, nb := len(mq.Options), int(mq.Max-mq.Min+1)
	e.w.Count(n).Count(nb)
	eq := encQuestion{n: n}
	for i := 0; i < n; i++ {
		eq.opts = append(eq.opts, e.entry(vals[i], uint64(mq.Min), nb, func(ab, bb []byte) *transcript.Transcript {
			return kindStatement(transcript.ScoreProof, e.fp, e.pkb, e.credb, e.q, []uint64{uint64(i), uint64(mq.Min), uint64(mq.Max)}, [][]byte{ab, bb})
		}))
	}
	return eq
}

// writeInChallenge is Challenge("writein-proof"; fp, K, credential, q,
// u64 w, α_1, β_1, ..., α_w, β_w, t_1, ..., t_w) (SPEC.md §12.3.3).
func writeInChallenge(fp, pkb, credb []byte, q int, cts [][]byte, ts [][]byte) *group.Scalar {
	t := kindStatement(transcript.WriteInProof, fp, pkb, credb, q, []uint64{uint64(len(ts))}, cts)
	for _, x := range ts {
		t.Bytes(x)
	}
	return t.Challenge()
}

// writeIn encrypts the chunk elements and proves knowledge of every
// ciphertext's randomness (SPEC.md §12.3.3).
func (e *kindEncoder) writeIn(elems []*group.Element) encQuestion {
	wi := &writeIn{}
	var cts, ts [][]byte
	var us []*group.Scalar
	for _, msg := range elems {
		r, u := e.random(), e.random()
		e.rs = append(e.rs, r)
		ct := EncryptElement(e.pk, msg, r)
		t := group.NewElement().ScalarBaseMult(u)
		wi.cts, wi.t, us = append(wi.cts, ct), append(wi.t, t), append(us, u)
		cts = append(cts, ct.Alpha.Bytes(), ct.Beta.Bytes())
		ts = append(ts, t.Bytes())
	}
	c := writeInChallenge(e.fp, e.pkb, e.credb, e.q, cts, ts)
	e.w.Count(len(elems))
	wi.off = len(e.w.Out())
	for k := range elems {
		s := group.NewScalar().Mul(c, e.rs[k])
		wi.s = append(wi.s, s.Add(s, us[k]))
		e.w.Fixed(cts[2*k]).Fixed(cts[2*k+1]).Fixed(ts[k]).Scalar(wi.s[k])
	}
	return encQuestion{wi: wi}
}

// readKindQuestion reads the body of a question of a version-2 ballot
// after its kind byte (SPEC.md §12.2).
func readKindQuestion(r *wire.Reader, kind QuestionKind, q int, off func() int) encQuestion {
	eq := encQuestion{kind: kind}
	readEntry := func(nb int) encOption {
		o := encOption{off: off()}
		a := r.NonIdentity("alpha")
		be := r.Element("beta")
		o.ct = &Ciphertext{Alpha: a, Beta: be}
		o.pf = readProof(r, nb)
		return o
	}
	switch kind {
	case KindSelect:
		eq = readSelect(r, q, off)
	case KindRanked:
		eq.n = r.Count("options", MaxOptions)
		eq.k = r.Count("ranks", eq.n)
		if r.Err() == nil && (eq.n < MinOptions || eq.k < 1) {
			r.Failf("question %d: %d options, %d ranks", q, eq.n, eq.k)
		}
		for e := 0; e < eq.n*eq.k && r.Err() == nil; e++ {
			eq.opts = append(eq.opts, readEntry(2))
		}
		eq.sums = rankedSums(eq.n, eq.k, 1)
		for x := range eq.sums {
			c := &eq.sums[x]
			nb := 2
			if c.kind == sumTotal {
				nb = r.Count("total branches", eq.k+1)
				if r.Err() == nil && nb < 1 {
					r.Failf("question %d: no total branch", q)
				}
				c.v0 = uint64(eq.k - nb + 1)
			}
			c.off = off()
			if r.Err() != nil {
				break
			}
			c.pf = readProof(r, nb)
		}
	case KindScore:
		eq.n = r.Count("options", MaxOptions)
		nb := r.Count("score branches", MaxScore+1)
		if r.Err() == nil && (eq.n < MinOptions || nb < 2) {
			r.Failf("question %d: %d options, %d score branches", q, eq.n, nb)
		}
		for i := 0; i < eq.n && r.Err() == nil; i++ {
			eq.opts = append(eq.opts, readEntry(nb))
		}
	case KindWriteIn:
		n := r.Count("write-in chunks", maxWriteInCts)
		if r.Err() == nil && n < 1 {
			r.Failf("question %d: no write-in chunk", q)
		}
		wi := &writeIn{off: off()}
		for k := 0; k < n && r.Err() == nil; k++ {
			a := r.NonIdentity("write-in alpha")
			be := r.Element("write-in beta")
			wi.cts = append(wi.cts, &Ciphertext{Alpha: a, Beta: be})
			wi.t = append(wi.t, r.Element("write-in commitment"))
			wi.s = append(wi.s, r.Scalar("write-in response"))
		}
		eq.wi = wi
	default:
		r.Failf("question %d: unknown kind %d", q, uint8(kind))
	}
	return eq
}
