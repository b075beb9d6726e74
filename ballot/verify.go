package ballot

import (
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
)

// Failure says which sub-step of SPEC.md V8 rejected a ballot, for the
// verifier's report. Question, Option and Branch are -1 when they do not
// apply; Option is -1 for a question's range proof. It unwraps to the
// sentinel that Verify returns for the same ballot.
type Failure struct {
	Step             string // e.g. "V8.6.3"
	Question, Option int
	Part             string // the proof of a mixed question, e.g. "column 2 proof" (docs/spec/kinds.md), or ""
	Branch           int
	Reason           string
	err              error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%v (%s%s: %s)", f.err, f.Step, f.Where(), f.Reason)
}

// Where names the failing part of the ballot, e.g. " question 1 option 2
// branch 0" or " question 0 range proof"; "" for the whole ballot.
func (f *Failure) Where() string {
	if f.Question < 0 {
		return ""
	}
	s := fmt.Sprintf(" question %d", f.Question)
	if f.Part != "" {
		s += " " + f.Part
	} else if f.Option >= 0 {
		s += fmt.Sprintf(" option %d", f.Option)
	} else {
		s += " range proof"
	}
	if f.Branch >= 0 {
		s += fmt.Sprintf(" branch %d", f.Branch)
	}
	return s
}

func (f *Failure) Unwrap() error { return f.err }

func fail(step string, err error, q, o, br int, reason string) *Failure {
	return &Failure{Step: step, Question: q, Option: o, Branch: br, Reason: reason, err: err}
}

// precheck runs the checks outside the group equations: V8.2 (election),
// V8.3 (shape) and the challenge sums of V8.6.2 and V8.7.2.
func (b *Ballot) precheck(m *Manifest, fp *[32]byte, pkb []byte) *Failure {
	if b.fingerprint != *fp {
		return fail("V8.2", ErrWrongElection, -1, -1, -1, "fingerprint differs from the manifest's")
	}
	if len(b.qs) != len(m.Questions) {
		return fail("V8.3", ErrShape, -1, -1, -1, fmt.Sprintf("%d questions, manifest has %d", len(b.qs), len(m.Questions)))
	}
	if want := ballotVersionFor(m); b.Version() != want {
		return fail("V8.3", ErrShape, -1, -1, -1, fmt.Sprintf("ballot version %d, the manifest's ballots are version %d", b.Version(), want))
	}
	for q := range m.Questions {
		mq := &m.Questions[q]
		eq := &b.qs[q]
		if eq.kind != mq.Kind {
			return fail("V8.3", ErrShape, q, -1, -1, fmt.Sprintf("a %s answer to a %s question", eq.kind, mq.Kind))
		}
		if eq.kind != KindSelect {
			if f := b.kindShape(q, mq); f != nil {
				return f
			}
			continue
		}
		if len(eq.opts) != len(mq.Options) {
			return fail("V8.3", ErrShape, q, -1, -1, fmt.Sprintf("%d options, manifest has %d", len(eq.opts), len(mq.Options)))
		}
		if len(eq.rng.a) != int(mq.Max-mq.Min)+1 {
			return fail("V8.3", ErrShape, q, -1, -1, fmt.Sprintf("%d range branches, want %d", len(eq.rng.a), mq.Max-mq.Min+1))
		}
	}
	credb := b.raw[33 : 33+group.Size]
	for q, mq := range m.Questions {
		eq := &b.qs[q]
		if eq.kind != KindSelect {
			if f := b.kindChallenges(q, &m.Questions[q], fp[:], pkb, credb); f != nil {
				return f
			}
			continue
		}
		rt := statement(transcript.RangeProof, fp[:], pkb, credb, q).Uint64(uint64(mq.Min)).Uint64(uint64(mq.Max))
		for i := range eq.opts {
			o := &eq.opts[i]
			ct := b.raw[o.off : o.off+CiphertextSize]
			rt.Bytes(ct[:group.Size]).Bytes(ct[group.Size:])
			t := statement(transcript.DisjunctiveProof, fp[:], pkb, credb, q).Uint64(uint64(i)).Bytes(ct[:group.Size]).Bytes(ct[group.Size:])
			if !challengeOK(t, b.raw, o.off+CiphertextSize, &o.pf) {
				return fail("V8.6.2", ErrInvalidProof, q, i, -1, "challenges do not sum to the transcript challenge")
			}
		}
		if !challengeOK(rt, b.raw, eq.rngOff, &eq.rng) {
			return fail("V8.7.2", ErrInvalidProof, q, -1, -1, "challenges do not sum to the transcript challenge")
		}
	}
	return nil
}

func checkKey(m *Manifest, pk *group.Element) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if pk == nil || pk.IsIdentity() {
		return ErrInvalidKey
	}
	return nil
}

// Verify checks one ballot against the manifest and the election key
// (SPEC.md V8.2, V8.3, V8.6, V8.7). It returns ErrWrongElection, ErrShape
// or the opaque ErrInvalidProof; Diagnose says which check failed. It does
// not check the envelope signature or the credential list (V8.4, V8.5).
// All the proof equations are checked as one random linear combination
// whose weights are derived from a hash of the ballot and the key (SPEC.md §2.5).
func (b *Ballot) Verify(m *Manifest, pk *group.Element) error {
	if err := checkKey(m, pk); err != nil {
		return err
	}
	fp, pkb := m.Fingerprint(), pk.Bytes()
	if f := b.precheck(m, &fp, pkb); f != nil {
		return f.err
	}
	w := &weights{seed: transcript.DigestOf(transcript.BatchWeights, pkb, b.raw)}
	l := b.equation(m, w, fp[:], pkb)
	if !checkEq(pk, l.g, l.k, l.terms...) {
		return ErrInvalidProof
	}
	return nil
}

// Diagnose checks every equation of the ballot separately and returns the
// first failing check, or nil if the ballot is valid (SPEC.md V8). It is
// several times slower than Verify; use it to report a ballot that Verify
// or VerifyBatch rejected.
func (b *Ballot) Diagnose(m *Manifest, pk *group.Element) *Failure {
	if err := checkKey(m, pk); err != nil {
		return fail("V8", err, -1, -1, -1, err.Error())
	}
	fp, pkb := m.Fingerprint(), pk.Bytes()
	if f := b.precheck(m, &fp, pkb); f != nil {
		return f
	}
	credb := b.raw[33 : 33+group.Size]
	for q := range b.qs {
		eq := &b.qs[q]
		if eq.kind != KindSelect {
			if f := b.kindDiagnose(pk, q, &m.Questions[q], fp[:], pkb, credb); f != nil {
				return f
			}
			continue
		}
		A, B := group.NewElement(), group.NewElement()
		for i := range eq.opts {
			o := &eq.opts[i]
			A.Add(A, o.ct.Alpha)
			B.Add(B, o.ct.Beta)
			if f := diagnoseProof(pk, &o.pf, 0, o.ct.Alpha, o.ct.Beta, fail("V8.6.3", ErrInvalidProof, q, i, -1, "")); f != nil {
				return f
			}
		}
		if f := diagnoseProof(pk, &eq.rng, uint64(m.Questions[q].Min), A, B, fail("V8.7.3", ErrInvalidProof, q, -1, -1, "")); f != nil {
			return f
		}
	}
	return nil
}

// diagnoseProof checks the equations P2 and P3 (SPEC.md §6.3) of every
// branch of the disjunctive proof pf on (A, B) with values v0, v0+1, ...
// and returns at, completed with the branch and the reason, for the first
// that fails; nil if all hold.
func diagnoseProof(pk *group.Element, pf *proof, v0 uint64, A, B *group.Element, at *Failure) *Failure {
	minus1 := group.NewScalar().Neg(group.ScalarFromUint64(1))
	zero := group.NewScalar()
	for j := range pf.a {
		nc := group.NewScalar().Neg(pf.c[j])
		if !checkEq(pk, pf.s[j], zero, batch.Term{S: nc, P: A}, batch.Term{S: minus1, P: pf.a[j]}) {
			at.Branch, at.Reason = j, "s·G ≠ a + c·α"
			return at
		}
		g := group.NewScalar().Mul(pf.c[j], group.ScalarFromUint64(v0+uint64(j)))
		if !checkEq(pk, g, pf.s[j], batch.Term{S: nc, P: B}, batch.Term{S: minus1, P: pf.b[j]}) {
			at.Branch, at.Reason = j, "s·K ≠ b + c·(β - v·G)"
			return at
		}
	}
	return nil
}

// VerifyBatch checks many ballots of one election at once (SPEC.md V8,
// §2.5, §6.6): the proof equations of all ballots, and whatever extra adds
// for ballot idx (typically the envelope's Schnorr signature, with owner
// idx), go into one multi-scalar multiplication with G and K as shared
// bases. It returns the indexes of the invalid ballots in increasing order
// (nil if all are valid); err is non-nil only if m, pk or rand is unusable.
// A nil ballot is reported bad. rand supplies the weights: crypto/rand in
// production.
func VerifyBatch(rand io.Reader, m *Manifest, pk *group.Element, ballots []*Ballot, extra func(v *batch.Verifier, idx int)) ([]int, error) {
	if err := checkKey(m, pk); err != nil {
		return nil, err
	}
	fp := m.Fingerprint()
	return verifyBatch(rand, m, pk, &fp, pk.Bytes(), ballots, 0, extra)
}

// VerifyBatchParallel is VerifyBatch with the ballots split into workers
// batches verified concurrently. rand is read only by the calling
// goroutine (one seed per worker); extra MUST be safe for concurrent use.
func VerifyBatchParallel(rand io.Reader, m *Manifest, pk *group.Element, ballots []*Ballot, extra func(v *batch.Verifier, idx int), workers int) ([]int, error) {
	if workers <= 1 || len(ballots) < 2*workers {
		return VerifyBatch(rand, m, pk, ballots, extra)
	}
	if err := checkKey(m, pk); err != nil {
		return nil, err
	}
	fp, pkb := m.Fingerprint(), pk.Bytes()
	type result struct {
		bad []int
		err error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		lo, hi := k*len(ballots)/workers, (k+1)*len(ballots)/workers
		seed, err := newWeights(rand)
		if err != nil {
			return nil, fmt.Errorf("ballot: reading randomness: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			bad, err := verifyBatch(seed, m, pk, &fp, pkb, ballots[lo:hi], lo, extra)
			results[k] = result{bad, err}
		}()
	}
	wg.Wait()
	var bad []int
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		bad = append(bad, r.bad...)
	}
	return bad, nil
}

// verifyBatch verifies ballots, whose indexes start at base.
func verifyBatch(rand io.Reader, m *Manifest, pk *group.Element, fp *[32]byte, pkb []byte, ballots []*Ballot, base int, extra func(v *batch.Verifier, idx int)) ([]int, error) {
	w, err := newWeights(rand)
	if err != nil {
		return nil, fmt.Errorf("ballot: reading randomness: %w", err)
	}
	v := batch.New()
	kb := v.Base(pk)
	var bad []int
	for i, b := range ballots {
		if b == nil || b.precheck(m, fp, pkb) != nil {
			bad = append(bad, base+i)
			continue
		}
		l := b.equation(m, w, fp[:], pkb)
		// The ballot's equation is already a combination with weights from
		// w, which rand seeded: summed as it is, its commitments keep their
		// 128-bit scalars.
		eq := v.AddWeighted(base+i).G(l.g).Fixed(kb, l.k)
		for _, t := range l.terms {
			eq.Term(t.S, t.P)
		}
		if extra != nil {
			extra(v, base+i)
		}
	}
	ok, err := v.Verify(rand)
	if err != nil {
		return nil, fmt.Errorf("ballot: reading randomness: %w", err)
	}
	if !ok {
		failed, err := v.Failed(rand)
		if err != nil {
			return nil, fmt.Errorf("ballot: reading randomness: %w", err)
		}
		bad = append(bad, failed...)
		slices.Sort(bad)
		bad = slices.Compact(bad)
	}
	return bad, nil
}
