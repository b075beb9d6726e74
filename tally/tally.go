package tally

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// DecryptionShare is one factor D = x_j·Alpha of a partial decryption with
// its Chaum–Pedersen proof that log_G X_j = log_Alpha D (SPEC.md §9.2). The
// proof carries its commitments A = w·G and B = w·Alpha so it batches.
type DecryptionShare struct {
	D, A, B *group.Element
	Z       *group.Scalar
}

// PartialDecryption is trustee Trustee's partial decryption of the whole
// aggregate, per question and per option (SPEC.md §9.2).
type PartialDecryption struct {
	Trustee int
	Shares  [][]DecryptionShare
}

// Result is the published tally (SPEC.md §9.4): Counts per question per
// option, and the T trustees whose partial decryptions were combined.
type Result struct {
	Counts   [][]uint64
	Trustees []int
	// Mixed holds, for each mixed question in increasing order, its
	// decrypted answers (SPEC.md §11.5); nil for a manifest without mixed
	// questions, whose result encodes as before.
	Mixed []MixedAnswers
}

// Position names one aggregate ciphertext.
type Position struct{ Question, Option int }

// Aggregate returns the per-question, per-option sums of the counted
// ballots' ciphertexts when every credential has weight 1 (SPEC.md V11.2):
// WeightedAggregate with no weights.
func Aggregate(options []int, ciphertexts [][][]*ballot.Ciphertext) ([][]*ballot.Ciphertext, error) {
	return WeightedAggregate(options, ciphertexts, nil)
}

// WeightedAggregate returns the aggregate of SPEC.md §9.1 and V11.2: per
// question and option, Σ w_b·(α, β) over the counted ballots b, w_b the
// weight of b's credential (weights[b]; every weight is 1 when weights is
// nil). options[q] is the number of options of question q; every ballot
// MUST have exactly that shape. With no ballots every sum is (identity,
// identity).
func WeightedAggregate(options []int, ciphertexts [][][]*ballot.Ciphertext, weights []uint32) ([][]*ballot.Ciphertext, error) {
	if weights != nil && len(weights) != len(ciphertexts) {
		return nil, fmt.Errorf("%w: %d weights for %d ballots", ErrMalformed, len(weights), len(ciphertexts))
	}
	a, err := NewAggregator(options)
	if err != nil {
		return nil, err
	}
	for b, bal := range ciphertexts {
		w := uint32(1)
		if weights != nil {
			w = weights[b]
		}
		if err := a.Add(w, bal); err != nil {
			return nil, fmt.Errorf("ballot %d: %w", b, err)
		}
	}
	return a.Aggregate(), nil
}

// Aggregator is the running encrypted aggregate of SPEC.md §9.1: it is the
// one implementation of the aggregate, which WeightedAggregate, the
// observer's V11 (package client, which adds each newly counted ballot and
// takes out the one it supersedes) and the board's pre-check of partial
// decryptions all use. Sums are variable time (public data). The zero
// value is not usable; call NewAggregator.
//
// Ballots are summed per weight and each weight's sum is multiplied once,
// in Aggregate: Σ_b w_b·E_b = Σ_w w·(Σ_{b: w_b = w} E_b). Adding a ballot
// thus costs two point additions per option whatever its weight, and the
// multiplications, at most one per distinct weight (≤ 1000) and ciphertext,
// happen once.
type Aggregator struct {
	options []int
	byW     map[uint32]sums // the plain sum of the ballots of each weight
}

// sums are alpha, beta by question and option.
type sums [][][2]group.VarTimeSum

// NewAggregator returns the empty aggregate of a manifest whose question q
// has options[q] options.
func NewAggregator(options []int) (*Aggregator, error) {
	for q, n := range options {
		if n < 0 || n > wire.MaxList {
			return nil, fmt.Errorf("%w: question %d has %d options", ErrMalformed, q, n)
		}
	}
	return &Aggregator{options: slices.Clone(options), byW: map[uint32]sums{}}, nil
}

// ManifestAggregator returns the empty aggregate of m's questions.
func ManifestAggregator(m *ballot.Manifest) *Aggregator {
	return &Aggregator{options: SelectOptions(m), byW: map[uint32]sums{}}
}

// SelectOptions returns, per question of m, the number of option
// ciphertexts the homomorphic tally adds up (SPEC.md §9.1): the number of
// options of a selection question, 0 for a mixed (ranked, score or
// write-in) question, whose ballots are shuffled and decrypted row by row
// instead (SPEC.md §11).
func SelectOptions(m *ballot.Manifest) []int {
	options := make([]int, len(m.Questions))
	for q, mq := range m.Questions {
		if !mq.Kind.Mixed() {
			options[q] = len(mq.Options)
		}
	}
	return options
}

// of returns the sums of the ballots of weight w, made on first use.
func (a *Aggregator) of(w uint32) sums {
	s, ok := a.byW[w]
	if !ok {
		s = make(sums, len(a.options))
		for q, n := range a.options {
			s[q] = make([][2]group.VarTimeSum, n)
		}
		a.byW[w] = s
	}
	return s
}

// Add adds w·c for every ciphertext c of a counted ballot whose credential
// has weight w (1..ballot.MaxWeight, SPEC.md §5.3); cts MUST have the
// aggregate's shape. On error the aggregate is unchanged.
func (a *Aggregator) Add(w uint32, cts [][]*ballot.Ciphertext) error { return a.add(w, cts, false) }

// Sub takes out what Add(w, cts) added: the ballot a revote supersedes.
func (a *Aggregator) Sub(w uint32, cts [][]*ballot.Ciphertext) error { return a.add(w, cts, true) }

func (a *Aggregator) add(w uint32, cts [][]*ballot.Ciphertext, neg bool) error {
	if !ballot.ValidWeight(w) {
		return fmt.Errorf("%w: weight %d, want 1..%d", ErrMalformed, w, ballot.MaxWeight)
	}
	if len(cts) != len(a.options) {
		return fmt.Errorf("%w: %d questions, want %d", ErrMalformed, len(cts), len(a.options))
	}
	for q, row := range cts {
		if len(row) != a.options[q] {
			return fmt.Errorf("%w: question %d has %d options, want %d", ErrMalformed, q, len(row), a.options[q])
		}
		for _, ct := range row {
			if ct == nil || ct.Alpha == nil || ct.Beta == nil {
				return fmt.Errorf("%w: nil ciphertext", ErrMalformed)
			}
		}
	}
	sw := a.of(w)
	for q, row := range cts {
		for o, ct := range row {
			s := &sw[q][o]
			if neg {
				s[0].Sub(ct.Alpha)
				s[1].Sub(ct.Beta)
			} else {
				s[0].Add(ct.Alpha)
				s[1].Add(ct.Beta)
			}
		}
	}
	return nil
}

// AddBallot is Add for a decoded ballot of the aggregate's shape (the
// verifier checked it, V8.3), without building its ciphertext table.
func (a *Aggregator) AddBallot(w uint32, b *ballot.Ballot) error {
	if !ballot.ValidWeight(w) {
		return fmt.Errorf("%w: weight %d, want 1..%d", ErrMalformed, w, ballot.MaxWeight)
	}
	if b.NumQuestions() != len(a.options) {
		return fmt.Errorf("%w: %d questions, want %d", ErrMalformed, b.NumQuestions(), len(a.options))
	}
	for q, n := range a.options {
		if b.NumOptions(q) != n {
			return fmt.Errorf("%w: question %d has %d options, want %d", ErrMalformed, q, b.NumOptions(q), n)
		}
	}
	sw := a.of(w)
	for q := range sw {
		for o := range sw[q] {
			ct := b.Ciphertext(q, o)
			sw[q][o][0].Add(ct.Alpha)
			sw[q][o][1].Add(ct.Beta)
		}
	}
	return nil
}

// Aggregate returns the aggregate so far, (A_qo, B_qo) per question and
// option: Σ over the weights w of w times the sum of the ballots of weight w.
func (a *Aggregator) Aggregate() [][]*ballot.Ciphertext {
	ws := slices.Sorted(maps.Keys(a.byW)) // any order gives the same sum; sorted for determinism
	agg := make([][]*ballot.Ciphertext, len(a.options))
	for q, n := range a.options {
		agg[q] = make([]*ballot.Ciphertext, n)
		for o := range agg[q] {
			var alpha, beta group.VarTimeSum
			for _, w := range ws {
				s := &a.byW[w][q][o]
				alpha.AddMul(w, s[0].Element())
				beta.AddMul(w, s[1].Element())
			}
			agg[q][o] = &ballot.Ciphertext{Alpha: alpha.Element(), Beta: beta.Element()}
		}
	}
	return agg
}

// Sums returns, for each weight w of a ballot added so far (increasing),
// the plain sum of those ballots' ciphertexts, before it is multiplied by
// w: what a verifier saves to go on later (Add(w, sum) on an empty
// aggregator of the same shape gives the aggregator back).
func (a *Aggregator) Sums() ([]uint32, [][][]*ballot.Ciphertext) {
	ws := slices.Sorted(maps.Keys(a.byW))
	out := make([][][]*ballot.Ciphertext, len(ws))
	for i, w := range ws {
		out[i] = make([][]*ballot.Ciphertext, len(a.options))
		for q, row := range a.byW[w] {
			out[i][q] = make([]*ballot.Ciphertext, len(row))
			for o := range row {
				out[i][q][o] = &ballot.Ciphertext{Alpha: row[o][0].Element(), Beta: row[o][1].Element()}
			}
		}
	}
	return ws, out
}

// decryptionChallenge is the transcript of SPEC.md §9.2 (label decryption-proof).
func decryptionChallenge(p *Params, j int, X *group.Element, q, o int, ct *ballot.Ciphertext, s *DecryptionShare) *group.Scalar {
	return transcript.New(transcript.DecryptionProof).Bytes(p.Fingerprint[:]).
		Uint64(uint64(j)).Element(X).Uint64(uint64(q)).Uint64(uint64(o)).
		Elements(ct.Alpha, ct.Beta, s.D, s.A, s.B).Challenge()
}

// PartialDecrypt computes trustee share.Index's partial decryption of agg
// (SPEC.md §9.2): D = x_j·Alpha for every aggregate ciphertext, with a
// Chaum–Pedersen proof whose nonce comes from rand.
func PartialDecrypt(rand io.Reader, params *Params, share *KeyShare, agg [][]*ballot.Ciphertext) (*PartialDecryption, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if share.Fingerprint != params.Fingerprint || share.N != params.N || share.T != params.T || !params.inRange(share.Index) {
		return nil, fmt.Errorf("%w: key share is for other parameters", ErrParams)
	}
	pd := &PartialDecryption{Trustee: share.Index, Shares: make([][]DecryptionShare, len(agg))}
	for q, row := range agg {
		pd.Shares[q] = make([]DecryptionShare, len(row))
		for o, ct := range row {
			w, err := group.RandomNonZeroScalar(rand)
			if err != nil {
				return nil, fmt.Errorf("tally: %w", err)
			}
			s := &pd.Shares[q][o]
			s.D = group.NewElement().ScalarMult(share.share, ct.Alpha)
			s.A = group.NewElement().ScalarBaseMult(w)
			s.B = group.NewElement().ScalarMult(w, ct.Alpha)
			c := decryptionChallenge(params, share.Index, share.VerificationKey, q, o, ct, s)
			s.Z = group.NewScalar().Mul(c, share.share)
			s.Z.Add(s.Z, w)
		}
	}
	return pd, nil
}

// checkShape reports whether pd covers exactly agg's questions and options.
func checkShape(params *Params, agg [][]*ballot.Ciphertext, pd *PartialDecryption) error {
	if pd == nil || !params.inRange(pd.Trustee) || len(pd.Shares) != len(agg) {
		return fmt.Errorf("%w: partial decryption shape", ErrMalformed)
	}
	for q := range agg {
		if len(pd.Shares[q]) != len(agg[q]) {
			return fmt.Errorf("%w: partial decryption shape", ErrMalformed)
		}
		for _, ct := range agg[q] {
			if ct == nil || ct.Alpha == nil || ct.Beta == nil {
				return fmt.Errorf("%w: nil aggregate ciphertext", ErrMalformed)
			}
		}
		for _, s := range pd.Shares[q] {
			if s.D == nil || s.A == nil || s.B == nil || s.Z == nil {
				return fmt.Errorf("%w: partial decryption shape", ErrMalformed)
			}
		}
	}
	return nil
}

// verifyFactor checks z·G == A + c·X and z·Alpha == B + c·D.
func verifyFactor(params *Params, j int, X *group.Element, q, o int, ct *ballot.Ciphertext, s *DecryptionShare) bool {
	c := decryptionChallenge(params, j, X, q, o, ct, s)
	nc := group.NewScalar().Neg(c)
	l1 := group.VarTimeMultiScalarMult([]*group.Scalar{s.Z, nc}, []*group.Element{group.Generator(), X})
	l2 := group.VarTimeMultiScalarMult([]*group.Scalar{s.Z, nc}, []*group.Element{ct.Alpha, s.D})
	return l1.Equal(s.A) && l2.Equal(s.B)
}

// VerifyPartial checks trustee pd.Trustee's partial decryption of agg
// against its verification key X (SPEC.md V12.1–V12.3), one proof at a
// time. A failed proof returns ErrInvalidProof.
func VerifyPartial(params *Params, X *group.Element, agg [][]*ballot.Ciphertext, pd *PartialDecryption) error {
	if err := checkShape(params, agg, pd); err != nil {
		return err
	}
	for q, row := range agg {
		for o, ct := range row {
			if !verifyFactor(params, pd.Trustee, X, q, o, ct, &pd.Shares[q][o]) {
				return ErrInvalidProof
			}
		}
	}
	return nil
}

// batchPartial loads pd's proof equations into a batch verifier, owner = flat position.
func batchPartial(params *Params, X *group.Element, agg [][]*ballot.Ciphertext, pd *PartialDecryption) (*batch.Verifier, []Position) {
	v := batch.New()
	xb := v.Base(X)
	minus1 := group.NewScalar().Neg(group.ScalarFromUint64(1))
	var pos []Position
	for q, row := range agg {
		for o, ct := range row {
			s := &pd.Shares[q][o]
			nc := group.NewScalar().Neg(decryptionChallenge(params, pd.Trustee, X, q, o, ct, s))
			// z·G − A − c·X = 0
			v.Add(len(pos)).G(s.Z).Term(minus1, s.A).Fixed(xb, nc)
			// z·Alpha − B − c·D = 0
			v.Add(len(pos)).Term(s.Z, ct.Alpha).Term(minus1, s.B).Term(nc, s.D)
			pos = append(pos, Position{q, o})
		}
	}
	return v, pos
}

// VerifyPartialBatch is VerifyPartial with all of pd's proofs checked in one
// random linear combination (SPEC.md §2.5, V12.3); rand supplies the weights.
func VerifyPartialBatch(rand io.Reader, params *Params, X *group.Element, agg [][]*ballot.Ciphertext, pd *PartialDecryption) error {
	if err := checkShape(params, agg, pd); err != nil {
		return err
	}
	v, _ := batchPartial(params, X, agg, pd)
	ok, err := v.Verify(rand)
	if err != nil {
		return fmt.Errorf("tally: %w", err)
	}
	if !ok {
		return ErrInvalidProof
	}
	return nil
}

// FailedFactors returns the positions whose decryption proofs fail (for
// the verifier's V12 report), found by bisection of a batch.
func FailedFactors(rand io.Reader, params *Params, X *group.Element, agg [][]*ballot.Ciphertext, pd *PartialDecryption) ([]Position, error) {
	if err := checkShape(params, agg, pd); err != nil {
		return nil, err
	}
	v, pos := batchPartial(params, X, agg, pd)
	bad, err := v.Failed(rand)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	out := make([]Position, len(bad))
	for k, b := range bad {
		out[k] = pos[b]
	}
	return out, nil
}

// Lagrange returns λ_j = Π_{k∈set, k≠j} k/(k−j) mod ℓ for every j in set,
// the coefficients interpolating at 0 (SPEC.md §9.3). set MUST hold
// distinct non-zero indices.
func Lagrange(set []int) []*group.Scalar {
	out := make([]*group.Scalar, len(set))
	for a, j := range set {
		num, den := group.ScalarFromUint64(1), group.ScalarFromUint64(1)
		js := group.ScalarFromUint64(uint64(j))
		for _, k := range set {
			if k == j {
				continue
			}
			ks := group.ScalarFromUint64(uint64(k))
			num.Mul(num, ks)
			den.Mul(den, group.NewScalar().Sub(ks, js))
		}
		out[a] = num.Mul(num, group.NewScalar().Invert(den))
	}
	return out
}

// chooseTrustees verifies partials in increasing trustee order and returns
// the first T valid indices and the rejected ones seen on the way.
func chooseTrustees(params *Params, vk []*group.Element, agg [][]*ballot.Ciphertext, partials map[int]*PartialDecryption) (chosen, rejected []int) {
	for j := 1; j <= params.N && len(chosen) < params.T; j++ {
		pd, ok := partials[j]
		if !ok {
			continue
		}
		if pd == nil || pd.Trustee != j || VerifyPartial(params, vk[j-1], agg, pd) != nil {
			rejected = append(rejected, j)
			continue
		}
		chosen = append(chosen, j)
	}
	return chosen, rejected
}

// combined returns M = Beta − Σ_{j∈set} λ_j·D_j for every position (SPEC.md §9.3).
func combined(agg [][]*ballot.Ciphertext, partials map[int]*PartialDecryption, set []int) [][]*group.Element {
	lam := Lagrange(set)
	out := make([][]*group.Element, len(agg))
	for q, row := range agg {
		out[q] = make([]*group.Element, len(row))
		for o, ct := range row {
			sc := make([]*group.Scalar, len(set))
			pts := make([]*group.Element, len(set))
			for a, j := range set {
				sc[a] = lam[a]
				pts[a] = partials[j].Shares[q][o].D
			}
			out[q][o] = group.NewElement().Sub(ct.Beta, group.VarTimeMultiScalarMult(sc, pts))
		}
	}
	return out
}

func checkVK(params *Params, vk []*group.Element) error {
	if err := params.Validate(); err != nil {
		return err
	}
	if len(vk) != params.N {
		return fmt.Errorf("%w: %d verification keys, N=%d", ErrMalformed, len(vk), params.N)
	}
	for _, x := range vk {
		if x == nil {
			return fmt.Errorf("%w: nil verification key", ErrMalformed)
		}
	}
	return nil
}

// MaxCount bounds the maxCount of Combine (SPEC.md §9.3, V10.6): the sum
// of the weights of the counted credentials, at most 2^20 credentials of
// weight at most 1000 (§5.3), so below 2^30. The table of baby steps then
// has at most 2^15 entries.
const MaxCount = ballot.MaxTotalWeight

// Combine decrypts the aggregate (SPEC.md §9.3): it verifies the partial
// decryptions in increasing trustee order, takes the first T valid ones,
// computes M = Beta − Σ λ_j·D_j and finds m with m·G = M, 0 ≤ m ≤ maxCount,
// by baby-step giant-step. maxCount MUST be at most MaxCount (ErrParams). vk are the verification keys X_1..X_N. It returns
// the result and the indices of the partial decryptions it rejected.
func Combine(params *Params, vk []*group.Element, agg [][]*ballot.Ciphertext, partials map[int]*PartialDecryption, maxCount uint64) (*Result, []int, error) {
	if err := checkVK(params, vk); err != nil {
		return nil, nil, err
	}
	// The table of baby steps has √maxCount entries: bound it before
	// verifying anything, so a bad maxCount cannot allocate 2^32 of them.
	if maxCount > MaxCount {
		return nil, nil, fmt.Errorf("%w: maxCount %d exceeds %d", ErrParams, maxCount, uint64(MaxCount))
	}
	chosen, rejected := chooseTrustees(params, vk, agg, partials)
	if len(chosen) < params.T {
		return nil, rejected, fmt.Errorf("%w: %d valid partial decryptions, T=%d", ErrTooFewTrustees, len(chosen), params.T)
	}
	ms := combined(agg, partials, chosen)
	bs := newBabySteps(maxCount)
	res := &Result{Counts: make([][]uint64, len(agg)), Trustees: chosen}
	for q, row := range ms {
		res.Counts[q] = make([]uint64, len(row))
		for o, M := range row {
			m, ok := bs.varTimeLog(M)
			if !ok {
				return nil, rejected, fmt.Errorf("%w: question %d option %d", ErrNoDiscreteLog, q, o)
			}
			res.Counts[q][o] = m
		}
	}
	return res, rejected, nil
}

// VerifyResult is the observer's V13 (SPEC.md V13.1–V13.4): res.Trustees
// MUST be the T smallest indices whose partial decryptions verify, every
// count MUST be at most maxCount and satisfy Counts[q][o]·G == M[q][o].
func VerifyResult(params *Params, vk []*group.Element, agg [][]*ballot.Ciphertext, partials map[int]*PartialDecryption, maxCount uint64, res *Result) error {
	if err := checkVK(params, vk); err != nil {
		return err
	}
	chosen, _ := chooseTrustees(params, vk, agg, partials)
	if len(chosen) < params.T {
		return fmt.Errorf("%w: %d valid partial decryptions, T=%d", ErrTooFewTrustees, len(chosen), params.T)
	}
	if !slices.Equal(chosen, res.Trustees) {
		return fmt.Errorf("%w: trustees %v, want %v", ErrResultMismatch, res.Trustees, chosen)
	}
	if len(res.Counts) != len(agg) {
		return fmt.Errorf("%w: shape", ErrResultMismatch)
	}
	ms := combined(agg, partials, chosen)
	for q, row := range ms {
		if len(res.Counts[q]) != len(row) {
			return fmt.Errorf("%w: shape", ErrResultMismatch)
		}
		for o, M := range row {
			m := res.Counts[q][o]
			if m > maxCount || !group.NewElement().ScalarBaseMult(group.ScalarFromUint64(m)).Equal(M) {
				return fmt.Errorf("%w: question %d option %d", ErrResultMismatch, q, o)
			}
		}
	}
	return nil
}

// babySteps is the table j·G → j for 0 ≤ j < step of baby-step giant-step.
type babySteps struct {
	max   uint64
	step  uint64
	table map[[32]byte]uint64
	giant *group.Element // −step·G
}

func newBabySteps(max uint64) *babySteps {
	step := uint64(1)
	for step*step <= max && step < 1<<32 {
		step++
	}
	bs := &babySteps{max: max, step: step, table: make(map[[32]byte]uint64, step)}
	p := group.NewElement()
	g := group.Generator()
	for j := uint64(0); j < step; j++ {
		bs.table[[32]byte(p.Bytes())] = j
		p.Add(p, g)
	}
	bs.giant = group.NewElement().Neg(p) // p = step·G here
	return bs
}

// varTimeLog returns m ≤ max with m·G == M. Variable time: M is public (a decrypted total).
func (bs *babySteps) varTimeLog(M *group.Element) (uint64, bool) {
	cur := M.Clone()
	for i := uint64(0); i*bs.step <= bs.max; i++ {
		if j, ok := bs.table[[32]byte(cur.Bytes())]; ok {
			if m := i*bs.step + j; m <= bs.max {
				return m, true
			}
			return 0, false
		}
		cur.Add(cur, bs.giant)
	}
	return 0, false
}

// Bytes returns the canonical encoding of pd (SPEC.md §9.5):
//
//	u16 trustee || u32 Q || Q × (u32 O_q || O_q × (D || A || B || z))
func (pd *PartialDecryption) Bytes() []byte {
	n := 6
	for _, row := range pd.Shares {
		n += 4 + 128*len(row)
	}
	w := wire.NewWriter(n).U16(uint16(pd.Trustee)).Count(len(pd.Shares))
	for _, row := range pd.Shares {
		w.Count(len(row))
		for _, s := range row {
			w.Element(s.D).Element(s.A).Element(s.B).Scalar(s.Z)
		}
	}
	return w.Out()
}

// ParsePartialDecryption decodes PartialDecryption.Bytes strictly. D, A and B
// may be the identity (the aggregate of no ballots has Alpha = identity).
func ParsePartialDecryption(b []byte) (*PartialDecryption, error) {
	r := wire.NewReader(b)
	pd := &PartialDecryption{Trustee: readIndex(r, "trustee")}
	nq := r.Count("question count", r.Remaining()/4)
	for q := 0; q < nq && r.Err() == nil; q++ {
		no := r.Count("option count", r.Remaining()/128)
		row := make([]DecryptionShare, 0, no)
		for o := 0; o < no && r.Err() == nil; o++ {
			row = append(row, DecryptionShare{D: r.Element("D"), A: r.Element("A"), B: r.Element("B"), Z: r.Scalar("z")})
		}
		pd.Shares = append(pd.Shares, row)
	}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return pd, nil
}

// Bytes returns the canonical encoding of res (SPEC.md §9.5):
//
//	u32 count || count × u16 trustee || u32 Q || Q × (u32 O_q || O_q × u64 count)
//
// followed, only when Mixed is not empty, by the mixed answers of SPEC.md
// §11.5.
func (res *Result) Bytes() []byte {
	w := wire.NewWriter(64).Count(len(res.Trustees))
	for _, j := range res.Trustees {
		w.U16(uint16(j))
	}
	w.Count(len(res.Counts))
	for _, row := range res.Counts {
		w.Count(len(row))
		for _, c := range row {
			w.U64(c)
		}
	}
	if len(res.Mixed) > 0 {
		appendMixed(w, res.Mixed)
	}
	return w.Out()
}

// ParseResult decodes Result.Bytes strictly: trustees strictly increasing in
// 1..MaxTrustees.
func ParseResult(b []byte) (*Result, error) {
	r := wire.NewReader(b)
	res := &Result{}
	nt := r.Count("trustee count", MaxTrustees)
	prev := 0
	for k := 0; k < nt && r.Err() == nil; k++ {
		j := readIndex(r, "trustee")
		if r.Err() == nil && j <= prev {
			r.Failf("trustee %d out of order", j)
		}
		prev = j
		res.Trustees = append(res.Trustees, j)
	}
	nq := r.Count("question count", r.Remaining()/4)
	for q := 0; q < nq && r.Err() == nil; q++ {
		no := r.Count("option count", r.Remaining()/8)
		row := make([]uint64, 0, no)
		for o := 0; o < no && r.Err() == nil; o++ {
			row = append(row, r.U64("count"))
		}
		res.Counts = append(res.Counts, row)
	}
	if r.Err() == nil && r.Remaining() > 0 {
		res.Mixed = readMixed(r)
	}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return res, nil
}

// Digest returns the result digest bound to the election (SPEC.md §9.5):
// Digest(label "result"; fingerprint, Result.Bytes()).
func (res *Result) Digest(fingerprint [32]byte) [32]byte {
	return transcript.New(transcript.ResultDigest).Bytes(fingerprint[:]).Bytes(res.Bytes()).Digest()
}
