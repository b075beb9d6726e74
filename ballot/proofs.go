package ballot

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"io"

	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
)

// prove produces a disjunctive Chaum–Pedersen proof (SPEC.md §6.3) that the
// ciphertext (alpha, beta) = (r·G, m·G + r·K) encrypts one of the n values
// v_j = v0 + j, knowing r and m = v0 + real. t holds the statement; prove
// appends the commitments and draws the challenge from it.
//
// Every branch is computed with the same formula, so timing does not reveal
// which branch is real: with random u_j and c_j,
//
//	a_j = u_j·G,  b_j = u_j·K - c_j·(m - v_j)·G,  s_j = u_j + c_j·r,
//
// which for a simulated branch (c_j random) satisfies the verification
// equations, and for the real branch (m = v_j) is the honest commitment
// with nonce u_j; its challenge is then fixed to c - Σ_{j≠real} c_j.
// It returns the proof and the encodings of a_0, b_0, a_1, b_1, ...
func prove(rand io.Reader, t *transcript.Transcript, pk *group.Element, r *group.Scalar, m, v0 uint64, n int) (proof, [][]byte, error) {
	return keyFor(pk, n).prove(rand, t, r, m, v0, n)
}

// prove is the package-level prove with the key already prepared.
func (k encKey) prove(rand io.Reader, t *transcript.Transcript, r *group.Scalar, m, v0 uint64, n int) (proof, [][]byte, error) {
	pf := proof{a: make([]*group.Element, n), b: make([]*group.Element, n), c: make([]*group.Scalar, n), s: make([]*group.Scalar, n)}
	enc := make([][]byte, 2*n)
	u := make([]*group.Scalar, n)
	ms := group.ScalarFromUint64(m)
	for j := 0; j < n; j++ {
		var err error
		if u[j], err = group.RandomScalar(rand); err != nil {
			return proof{}, nil, err
		}
		if pf.c[j], err = group.RandomScalar(rand); err != nil {
			return proof{}, nil, err
		}
		d := group.NewScalar().Sub(ms, group.ScalarFromUint64(v0+uint64(j)))
		d.Mul(d, pf.c[j]).Neg(d)
		pf.a[j] = group.NewElement().ScalarBaseMult(u[j])
		pf.b[j] = k.mulAddG(u[j], d)
		enc[2*j], enc[2*j+1] = pf.a[j].Bytes(), pf.b[j].Bytes()
		t.Bytes(enc[2*j]).Bytes(enc[2*j+1])
	}
	c := t.Challenge()
	// Constant-time selection of the real branch: isReal_j ∈ {0, 1}.
	real := m - v0
	isReal := make([]*group.Scalar, n)
	others := group.NewScalar()
	for j := 0; j < n; j++ {
		isReal[j] = group.ScalarFromUint64(uint64(subtle.ConstantTimeEq(int32(j), int32(real))))
		notReal := group.NewScalar().Sub(group.ScalarFromUint64(1), isReal[j])
		others.Add(others, group.NewScalar().Mul(notReal, pf.c[j]))
	}
	cReal := group.NewScalar().Sub(c, others)
	for j := 0; j < n; j++ {
		// c_j = c_j + isReal_j·(cReal - c_j)
		delta := group.NewScalar().Sub(cReal, pf.c[j])
		pf.c[j].Add(pf.c[j], delta.Mul(delta, isReal[j]))
		pf.s[j] = group.NewScalar().Mul(pf.c[j], r)
		pf.s[j].Add(pf.s[j], u[j])
	}
	return pf, enc, nil
}

// challengeOK reports whether Σ c_j equals the transcript's challenge
// (SPEC.md V8.6.2 / V8.7.2). t holds the statement; commitments are appended
// from the ballot's bytes at off (branch stride branchSize).
func challengeOK(t *transcript.Transcript, raw []byte, off int, pf *proof) bool {
	for j := range pf.a {
		o := off + j*branchSize
		t.Bytes(raw[o : o+group.Size]).Bytes(raw[o+group.Size : o+2*group.Size])
	}
	sum := group.NewScalar()
	for _, c := range pf.c {
		sum.Add(sum, c)
	}
	return sum.Equal(t.Challenge())
}

// weights yields verifier weights: uniformly random scalars below 2^128 read
// from a SHA-256 counter-mode stream keyed by a 32-byte seed (SPEC.md §2.5).
type weights struct {
	seed  [32]byte
	ctr   uint64
	spare []byte // the unused second half of the last hash, or nil
}

func newWeights(rand io.Reader) (*weights, error) {
	w := &weights{}
	if _, err := io.ReadFull(rand, w.seed[:]); err != nil {
		return nil, err
	}
	return w, nil
}

// Read makes a weights stream usable as the randomness of a worker's batch:
// it returns SHA-256 counter-mode output.
func (w *weights) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		var in [41]byte
		copy(in[:], w.seed[:])
		binary.BigEndian.PutUint64(in[32:], w.ctr)
		in[40] = 1 // separate the byte stream from next's inputs
		w.ctr++
		b := sha256.Sum256(in[:])
		n += copy(p[n:], b[:])
	}
	return n, nil
}

func (w *weights) next() *group.Scalar {
	var b [32]byte
	if w.spare != nil {
		copy(b[:16], w.spare)
		w.spare = nil
	} else {
		var in [40]byte
		copy(in[:], w.seed[:])
		binary.BigEndian.PutUint64(in[32:], w.ctr)
		w.ctr++
		h := sha256.Sum256(in[:])
		// 128-bit weights (SPEC.md §2.5), two per hash: a commitment's
		// coefficient is −z, which the MSM runs as z·(−P) at half the cost
		// of a full scalar.
		copy(b[:16], h[:16])
		w.spare = h[16:]
	}
	s, err := group.DecodeScalar(b[:])
	if err != nil || s.IsZero() {
		return group.ScalarFromUint64(1)
	}
	return s
}

// lin accumulates one random linear combination of equations of the form
// gG + kK + Σ s·P = 0 (SPEC.md §2.5).
type lin struct {
	g, k  *group.Scalar
	terms []batch.Term
}

// addProof folds the 2n equations of a disjunctive proof on (A, B) with
// values v_j = v0 + j into l:
//
//	s_j·G - c_j·A - a_j = 0
//	s_j·K - c_j·B + c_j·v_j·G - b_j = 0
//
// and returns the coefficients of A and B, which the caller attaches to the
// ciphertext points (A and B are sums of option ciphertexts for a range proof).
func (l *lin) addProof(w *weights, pf *proof, v0 uint64) (ca, cb *group.Scalar) {
	ca, cb = group.NewScalar(), group.NewScalar()
	t := group.NewScalar()
	for j := range pf.a {
		za, zb := w.next(), w.next()
		l.g.Add(l.g, t.Mul(za, pf.s[j]))
		if v := v0 + uint64(j); v != 0 {
			t.Mul(zb, pf.c[j])
			l.g.Add(l.g, t.Mul(t, group.ScalarFromUint64(v)))
		}
		l.k.Add(l.k, t.Mul(zb, pf.s[j]))
		ca.Sub(ca, t.Mul(za, pf.c[j]))
		cb.Sub(cb, t.Mul(zb, pf.c[j]))
		l.terms = append(l.terms, batch.Term{S: za.Neg(za), P: pf.a[j]}, batch.Term{S: zb.Neg(zb), P: pf.b[j]})
	}
	return ca, cb
}

// equation returns the random linear combination of every proof equation
// of b (SPEC.md V8.6.3, V8.7.3). The challenge sums MUST have been checked.
func (b *Ballot) equation(m *Manifest, w *weights, fp, pkb []byte) *lin {
	l := &lin{g: group.NewScalar(), k: group.NewScalar()}
	for q := range b.qs {
		eq := &b.qs[q]
		if eq.kind != KindSelect {
			b.kindEquation(l, w, q, &m.Questions[q], fp, pkb)
			continue
		}
		ra, rb := l.addProof(w, &eq.rng, uint64(m.Questions[q].Min))
		for i := range eq.opts {
			o := &eq.opts[i]
			ca, cb := l.addProof(w, &o.pf, 0)
			l.terms = append(l.terms, batch.Term{S: ca.Add(ca, ra), P: o.ct.Alpha}, batch.Term{S: cb.Add(cb, rb), P: o.ct.Beta})
		}
	}
	return l
}

// checkEq verifies one equation gG + kK + Σ s·P = 0 alone (for Diagnose).
func checkEq(pk *group.Element, g, k *group.Scalar, terms ...batch.Term) bool {
	sc := []*group.Scalar{g, k}
	pts := []*group.Element{group.Generator(), pk}
	for _, t := range terms {
		sc = append(sc, t.S)
		pts = append(pts, t.P)
	}
	return group.VarTimeMultiScalarMult(sc, pts).IsIdentity()
}
