package shuffle

import (
	"fmt"
	"io"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
)

// Statement is what a shuffle proof proves: Outputs are Inputs permuted and
// re-encrypted under Key, in the context Context. Context MUST bind
// everything the proof must not be moved to: the election fingerprint, the
// mixer's index, the question (SPEC.md §13.1). Width is the
// width of every row (it matters when there are no rows).
type Statement struct {
	Context []byte
	Key     *group.Element
	Width   int
	Inputs  []Row
	Outputs []Row
}

// validate checks the statement's shape (step S1).
func (st *Statement) validate() error {
	if err := checkKey(st.Key); err != nil {
		return err
	}
	if err := checkRows("input", st.Inputs, st.Width); err != nil {
		return err
	}
	if err := checkRows("output", st.Outputs, st.Width); err != nil {
		return err
	}
	if len(st.Inputs) != len(st.Outputs) {
		return fmt.Errorf("shuffle: %d input rows but %d output rows", len(st.Inputs), len(st.Outputs))
	}
	return nil
}

// Proof is a Terelius–Wikström proof of a shuffle (GenProof of Haenni et
// al.), in additive notation. N is the number of rows, w their width.
type Proof struct {
	C    []*group.Element // permutation commitment c_1..c_N
	CHat []*group.Element // commitment chain ĉ_1..ĉ_N
	T1   *group.Element
	T2   *group.Element
	T3   *group.Element
	T4A  []*group.Element // t_4,k on the α components, k = 1..w
	T4B  []*group.Element // t_4,k on the β components, k = 1..w
	THat []*group.Element // t̂_1..t̂_N
	S1   *group.Scalar
	S2   *group.Scalar
	S3   *group.Scalar
	S4   []*group.Scalar // s_4,k, k = 1..w
	SHat []*group.Scalar // ŝ_1..ŝ_N
	S    []*group.Scalar // s'_1..s'_N
}

// Generators returns h = h_0 and h_1..h_n for context: h_i =
// HashToElement(Encoding(context, u64 i), "urna/v1/shuffle-generators")
// (SPEC.md §13.2). Nobody knows a discrete-log relation
// between them, or with G or any key.
func Generators(context []byte, n int) []*group.Element {
	tag := transcript.ShuffleGenerators.Tag()
	hs := make([]*group.Element, n+1)
	forChunks(n+1, chunks(n+1), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			msg := transcript.New(transcript.ShuffleGenerators).Bytes(context).Uint64(uint64(i)).Encoding()
			hs[i] = group.HashToElement(msg, tag)
		}
	})
	return hs
}

// statementSeed is Digest("shuffle-statement"; context, K, u64 N, u64 w,
// each input row, each output row, c_1..c_N), a row being the concatenation
// of its w encodings α_k || β_k (SPEC.md §13.3).
func statementSeed(st *Statement, c []*group.Element) []byte {
	t := transcript.New(transcript.ShuffleStatement).Bytes(st.Context).Element(st.Key).
		Uint64(uint64(len(st.Inputs))).Uint64(uint64(st.Width))
	row := make([]byte, 0, 64*st.Width)
	for _, rows := range [][]Row{st.Inputs, st.Outputs} {
		for _, r := range rows {
			row = r.AppendBytes(row[:0])
			t.Bytes(row)
		}
	}
	t.Elements(c...)
	d := t.Digest()
	return d[:]
}

// challenges returns u_1..u_N: u_j = Challenge("shuffle-challenges"; seed, u64 j).
func challenges(seed []byte, n int) []*group.Scalar {
	u := make([]*group.Scalar, n)
	forChunks(n, chunks(n), func(_, lo, hi int) {
		for j := lo; j < hi; j++ {
			u[j] = transcript.New(transcript.ShuffleChallenges).Bytes(seed).Uint64(uint64(j + 1)).Challenge()
		}
	})
	return u
}

// challenge returns c = Challenge("shuffle-proof"; seed, ĉ_1..ĉ_N, t_1, t_2,
// t_3, t_4,1 (α), t_4,1 (β), ..., t_4,w (β), t̂_1..t̂_N).
func challenge(seed []byte, p *Proof) *group.Scalar {
	t := transcript.New(transcript.ShuffleProof).Bytes(seed).Elements(p.CHat...).Elements(p.T1, p.T2, p.T3)
	for k := range p.T4A {
		t.Elements(p.T4A[k], p.T4B[k])
	}
	return t.Elements(p.THat...).Challenge()
}

// Prove returns a proof that st.Outputs is a shuffle of st.Inputs made with
// wit (GenProof of Haenni et al.; SPEC.md §13.4). Randomness
// comes from rand (crypto/rand.Reader in production). Prove does not check
// that wit matches st: a wrong witness gives a proof that does not verify.
func Prove(rand io.Reader, st *Statement, wit *Witness) (*Proof, error) {
	if err := st.validate(); err != nil {
		return nil, err
	}
	n, w := len(st.Inputs), st.Width
	if wit == nil || len(wit.perm) != n || len(wit.r) != n {
		return nil, fmt.Errorf("shuffle: the witness is not for %d rows", n)
	}
	// rnd draws a scalar; the first read error sticks in rerr, checked once
	// all draws are made.
	var rerr error
	rnd := func() *group.Scalar {
		s, err := group.RandomScalar(rand)
		if err != nil && rerr == nil {
			rerr = fmt.Errorf("shuffle: %w", err)
		}
		if s == nil {
			s = group.NewScalar()
		}
		return s
	}
	hs := Generators(st.Context, n)
	p := &Proof{C: make([]*group.Element, n), CHat: make([]*group.Element, n), THat: make([]*group.Element, n),
		T4A: make([]*group.Element, w), T4B: make([]*group.Element, w), S4: make([]*group.Scalar, w),
		SHat: make([]*group.Scalar, n), S: make([]*group.Scalar, n)}

	seen := make([]bool, n)
	for i, j := range wit.perm {
		if j < 0 || j >= n || seen[j] {
			return nil, fmt.Errorf("shuffle: the witness is not a permutation of %d rows", n)
		}
		seen[j] = true
		if len(wit.r[i]) != w {
			return nil, fmt.Errorf("shuffle: the witness row %d has width %d, want %d", i+1, len(wit.r[i]), w)
		}
	}
	// Every scalar is drawn in a fixed order before any group operation, so
	// that the work can run in parallel without changing the proof.
	r := make([]*group.Scalar, n)
	for _, j := range wit.perm {
		r[j] = rnd()
	}
	rh := make([]*group.Scalar, n)
	for i := range rh {
		rh[i] = rnd()
	}
	w1, w2, w3 := rnd(), rnd(), rnd()
	w4 := make([]*group.Scalar, w)
	for k := range w4 {
		w4[k] = rnd()
	}
	wHat, wPrime := make([]*group.Scalar, n), make([]*group.Scalar, n)
	for i := range n {
		wHat[i], wPrime[i] = rnd(), rnd()
	}
	if rerr != nil {
		return nil, rerr
	}
	k := chunks(n)

	// Permutation commitment: c_ψ(i) = r_ψ(i)·G + h_i.
	forChunks(n, k, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			j := wit.perm[i]
			p.C[j] = group.NewElement().ScalarBaseMult(r[j])
			p.C[j].Add(p.C[j], hs[i+1])
		}
	})
	seed := statementSeed(st, p.C)
	u := challenges(seed, n)
	up := make([]*group.Scalar, n) // u'_i = u_ψ(i)
	for i, j := range wit.perm {
		up[i] = u[j]
	}

	// Commitment chain ĉ_0 = h, ĉ_i = r̂_i·G + u'_i·ĉ_(i−1), computed in
	// closed form ĉ_i = a_i·G + b_i·h with a_i = r̂_i + u'_i·a_(i−1) and
	// b_i = u'_i·b_(i−1) (a_0 = 0, b_0 = 1), so each ĉ_i is independent.
	ca, cb := make([]*group.Scalar, n), make([]*group.Scalar, n)
	a, bb := group.NewScalar(), group.ScalarFromUint64(1)
	for i := range n {
		a = group.NewScalar().Mul(up[i], a)
		a.Add(a, rh[i])
		bb = group.NewScalar().Mul(up[i], bb)
		ca[i], cb[i] = a, bb
	}
	ht := group.NewFixedBase(hs[0]) // one table of h for the N constant-time b_i·h
	forChunks(n, k, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			p.CHat[i] = ht.MulAddBase(cb[i], ca[i])
		}
	})

	// Aggregated secrets: r̄ = Σ r_j, r̂ = Σ r̂_i·v_i with v_i = Π_(k>i) u'_k,
	// r̃ = Σ r_j·u_j, r̃'_k = Σ r̃_ik·u'_i.
	rBar, rHat, rTilde := group.NewScalar(), group.NewScalar(), group.NewScalar()
	v := group.ScalarFromUint64(1)
	for i := n - 1; i >= 0; i-- {
		rHat.Add(rHat, group.NewScalar().Mul(rh[i], v))
		v.Mul(v, up[i])
	}
	for j := range n {
		rBar.Add(rBar, r[j])
		rTilde.Add(rTilde, group.NewScalar().Mul(r[j], u[j]))
	}
	rPrime := make([]*group.Scalar, w)
	for c := range w {
		rPrime[c] = group.NewScalar()
		for i := range n {
			rPrime[c].Add(rPrime[c], group.NewScalar().Mul(wit.r[i][c], up[i]))
		}
	}

	// Commitments of the Σ-protocol: t_3 and t_4 are sums over the rows,
	// computed per piece and added; t̂_i per row.
	partial := make([][]*group.Element, k) // per piece: t_3, then t_4^α and t_4^β per component
	forChunks(n, k, func(c, lo, hi int) {
		sums := make([]*group.Element, 1+2*w)
		for x := range sums {
			sums[x] = group.NewElement()
		}
		for i := lo; i < hi; i++ {
			sums[0].Add(sums[0], group.NewElement().ScalarMult(wPrime[i], hs[i+1]))
			for x, ct := range st.Outputs[i] {
				sums[1+2*x].Add(sums[1+2*x], group.NewElement().ScalarMult(wPrime[i], ct.Alpha))
				sums[2+2*x].Add(sums[2+2*x], group.NewElement().ScalarMult(wPrime[i], ct.Beta))
			}
			prev := hs[0]
			if i > 0 {
				prev = p.CHat[i-1]
			}
			e := group.NewElement().ScalarBaseMult(wHat[i])
			p.THat[i] = e.Add(e, group.NewElement().ScalarMult(wPrime[i], prev))
		}
		partial[c] = sums
	})
	p.T1 = group.NewElement().ScalarBaseMult(w1)
	p.T2 = group.NewElement().ScalarBaseMult(w2)
	p.T3 = group.NewElement().ScalarBaseMult(w3)
	for x := range w {
		negW4 := group.NewScalar().Neg(w4[x])
		p.T4A[x] = group.NewElement().ScalarBaseMult(negW4)
		p.T4B[x] = group.NewElement().ScalarMult(negW4, st.Key)
	}
	for _, sums := range partial {
		p.T3.Add(p.T3, sums[0])
		for x := range w {
			p.T4A[x].Add(p.T4A[x], sums[1+2*x])
			p.T4B[x].Add(p.T4B[x], sums[2+2*x])
		}
	}

	// Challenge and responses.
	c := challenge(seed, p)
	resp := func(mask, secret *group.Scalar) *group.Scalar {
		s := group.NewScalar().Mul(c, secret)
		return s.Add(s, mask)
	}
	p.S1, p.S2, p.S3 = resp(w1, rBar), resp(w2, rHat), resp(w3, rTilde)
	for k := range w {
		p.S4[k] = resp(w4[k], rPrime[k])
	}
	for i := range n {
		p.SHat[i] = resp(wHat[i], rh[i])
		p.S[i] = resp(wPrime[i], up[i])
	}
	return p, nil
}

// VerifyVarTime checks p against st (CheckProof of Haenni et al.;
// SPEC.md §13.6, steps S1–S8). It returns nil if the proof verifies,
// a descriptive error if the statement or proof is malformed (wrong shape),
// and ErrInvalidProof if an equation fails. rand supplies the weights that
// merge the equations into one multi-scalar multiplication (SPEC.md §2.5;
// crypto/rand.Reader in production). Variable time: public data only.
func VerifyVarTime(rand io.Reader, st *Statement, p *Proof) error {
	if err := st.validate(); err != nil {
		return err
	}
	n, w := len(st.Inputs), st.Width
	if err := p.checkShape(n, w); err != nil {
		return err
	}
	hs := Generators(st.Context, n)
	seed := statementSeed(st, p.C)
	u := challenges(seed, n)
	c := challenge(seed, p)

	// Weights: z1, z2, z3 for S6.1–S6.3, zA_k, zB_k for S6.4, ẑ_i for S6.5.
	nz := 3 + 2*w + n
	z := make([]*group.Scalar, nz)
	for i := range z {
		s, err := group.RandomNonZeroScalar(rand)
		if err != nil {
			return fmt.Errorf("shuffle: %w", err)
		}
		z[i] = s
	}
	z1, z2, z3, zA, zB, zHat := z[0], z[1], z[2], z[3:3+w], z[3+w:3+2*w], z[3+2*w:]

	// Σ of the weighted equations "left − right = 0", one coefficient per
	// distinct point (SPEC.md §13.6 step S7).
	m := newMSM(6 + 2*w + 5*n + 4*w*n)
	mul := func(a, b *group.Scalar) *group.Scalar { return group.NewScalar().Mul(a, b) }
	neg := func(a *group.Scalar) *group.Scalar { return group.NewScalar().Neg(a) }
	negC := neg(c)

	// G: z1·s1 + z2·s2 + z3·s3 − Σ zA_k·s4_k + Σ ẑ_i·ŝ_i; K: −Σ zB_k·s4_k.
	gc := mul(z1, p.S1)
	gc.Add(gc, mul(z2, p.S2))
	gc.Add(gc, mul(z3, p.S3))
	kc := group.NewScalar()
	for k := range w {
		gc.Sub(gc, mul(zA[k], p.S4[k]))
		kc.Sub(kc, mul(zB[k], p.S4[k]))
	}
	for i := range n {
		gc.Add(gc, mul(zHat[i], p.SHat[i]))
	}
	m.add(gc, group.Generator())
	m.add(kc, st.Key)

	// t-values, each with −(its weight).
	m.add(neg(z1), p.T1)
	m.add(neg(z2), p.T2)
	m.add(neg(z3), p.T3)
	for k := range w {
		m.add(neg(zA[k]), p.T4A[k])
		m.add(neg(zB[k]), p.T4B[k])
	}
	for i := range n {
		m.add(neg(zHat[i]), p.THat[i])
	}

	// c_j: −c·(z1 + z3·u_j); h_i: c·z1 + z3·s'_i.
	cz1 := mul(c, z1)
	for j := range n {
		s := mul(z3, u[j])
		s.Add(s, z1)
		m.add(s.Mul(s, negC), p.C[j])
		hsc := mul(z3, p.S[j])
		m.add(hsc.Add(hsc, cz1), hs[j+1])
	}

	// ĉ_0 = h: z2·c·Π u_j + ẑ_1·s'_1; ĉ_i (i < N): −c·ẑ_i + ẑ_(i+1)·s'_(i+1);
	// ĉ_N additionally −c·z2 (with N = 0, ĉ_N is h).
	prodU := group.ScalarFromUint64(1)
	for _, uj := range u {
		prodU.Mul(prodU, uj)
	}
	chat := append([]*group.Element{hs[0]}, p.CHat...)
	coef := make([]*group.Scalar, n+1)
	coef[0] = mul(mul(c, z2), prodU)
	for i := 1; i <= n; i++ {
		coef[i] = mul(negC, zHat[i-1])
		coef[i-1].Add(coef[i-1], mul(zHat[i-1], p.S[i-1]))
	}
	coef[n].Sub(coef[n], mul(c, z2))
	for i := range chat {
		m.add(coef[i], chat[i])
	}

	// Output components: zA_k·s'_i on α̃_ik, zB_k·s'_i on β̃_ik; input
	// components: −c·zA_k·u_j on α_jk, −c·zB_k·u_j on β_jk.
	for k := range w {
		czA, czB := mul(negC, zA[k]), mul(negC, zB[k])
		for i := range n {
			m.add(mul(zA[k], p.S[i]), st.Outputs[i][k].Alpha)
			m.add(mul(zB[k], p.S[i]), st.Outputs[i][k].Beta)
			m.add(mul(czA, u[i]), st.Inputs[i][k].Alpha)
			m.add(mul(czB, u[i]), st.Inputs[i][k].Beta)
		}
	}
	if !m.sumIsIdentity() {
		return ErrInvalidProof
	}
	return nil
}

// msm collects the terms of one variable-time multi-scalar multiplication.
type msm struct {
	sc  []*group.Scalar
	pts []*group.Element
}

func newMSM(n int) *msm {
	return &msm{sc: make([]*group.Scalar, 0, n), pts: make([]*group.Element, 0, n)}
}

func (m *msm) add(s *group.Scalar, p *group.Element) {
	m.sc = append(m.sc, s)
	m.pts = append(m.pts, p)
}

// sumIsIdentity computes the sum in one piece per CPU (each a
// multi-scalar multiplication of its terms) and adds the pieces: the sum,
// hence the verdict, does not depend on the split.
func (m *msm) sumIsIdentity() bool {
	k := chunks(len(m.sc))
	parts := make([]*group.Element, k)
	forChunks(len(m.sc), k, func(c, lo, hi int) {
		parts[c] = group.VarTimeMultiScalarMult(m.sc[lo:hi], m.pts[lo:hi])
	})
	sum := group.NewElement()
	for _, p := range parts {
		sum.Add(sum, p)
	}
	return sum.IsIdentity()
}
