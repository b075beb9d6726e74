// Package batch verifies many group equations of the form
//
//	g·G + Σ sᵢ·Pᵢ = 0
//
// together (SPEC.md §2.5). Each equation j is multiplied by a weight zⱼ
// drawn by the verifier, uniformly random in [1, 2^128), and all weighted
// equations are summed into one variable-time multi-scalar multiplication.
// Terms on a shared base (G, the election key) are merged first, so they
// cost one term per batch, not one per equation. A term whose coefficient is
// ±1 (a commitment) thus gets a 128-bit scalar, which the MSM runs at about
// half the cost of a full one. If any equation is false the sum is non-zero
// except with probability at most 2^-128 per weight draw; Failed then finds
// the false equations by bisection. An equation added with AddWeighted is
// already a random combination made by its caller and is summed as it is.
//
// Everything here is variable time and MUST only see public data.
package batch

import (
	"io"

	"github.com/urna-vote/urna/internal/group"
)

// Term is one scalar·element term.
type Term struct {
	S *group.Scalar
	P *group.Element
}

type equation struct {
	owner    int
	weighted bool // already weighted by its caller (AddWeighted)
	g        *group.Scalar
	fixed    map[int]*group.Scalar
	terms    []Term
}

// Verifier accumulates equations. The zero value is not usable; call New.
type Verifier struct {
	bases []*group.Element // shared bases, by index
	eqs   []equation
}

// New returns a Verifier. Shared bases (other than G, which is always
// shared) are registered with Base.
func New() *Verifier { return &Verifier{} }

// Base registers a shared base and returns its handle for Eq.Fixed.
func (v *Verifier) Base(p *group.Element) int { v.bases = append(v.bases, p); return len(v.bases) - 1 }

// Eq is one equation under construction.
type Eq struct{ e *equation }

// Add starts a new equation owned by item (a ballot index, a trustee index...).
// gCoeff may be nil.
func (v *Verifier) Add(owner int) Eq {
	v.eqs = append(v.eqs, equation{owner: owner, g: group.NewScalar()})
	return Eq{&v.eqs[len(v.eqs)-1]}
}

// G adds s·G to the equation.
func (q Eq) G(s *group.Scalar) Eq { q.e.g.Add(q.e.g, s); return q }

// Fixed adds s·base to the equation, base being a handle from Verifier.Base.
func (q Eq) Fixed(base int, s *group.Scalar) Eq {
	if q.e.fixed == nil {
		q.e.fixed = map[int]*group.Scalar{}
	}
	if c, ok := q.e.fixed[base]; ok {
		c.Add(c, s)
	} else {
		q.e.fixed[base] = s.Clone()
	}
	return q
}

// AddWeighted starts an equation owned by item that its caller has already
// made a random linear combination of sub-equations, each with its own
// weight uniformly random in [1, 2^128) (or larger), drawn from randomness
// that the data being checked cannot choose (SPEC.md §2.5). It is summed
// with weight 1, so its commitment terms keep their short weights as
// scalars. Its weights MUST be independent of every other equation's.
func (v *Verifier) AddWeighted(owner int) Eq {
	q := v.Add(owner)
	q.e.weighted = true
	return q
}

// Term adds s·p to the equation.
func (q Eq) Term(s *group.Scalar, p *group.Element) Eq {
	q.e.terms = append(q.e.terms, Term{S: s, P: p})
	return q
}

// Len is the number of equations added.
func (v *Verifier) Len() int { return len(v.eqs) }

// check verifies the equations eqs[lo:hi] with weights from rand.
func (v *Verifier) check(rand io.Reader, eqs []equation) (bool, error) {
	if len(eqs) == 0 {
		return true, nil
	}
	gc := group.NewScalar()
	fixed := make([]*group.Scalar, len(v.bases))
	for i := range fixed {
		fixed[i] = group.NewScalar()
	}
	n := 1 + len(v.bases)
	for _, e := range eqs {
		n += len(e.terms)
	}
	sc := make([]*group.Scalar, 0, n)
	pts := make([]*group.Element, 0, n)
	// One read of 16 bytes per equation: a single equation needs no weight.
	var buf []byte
	if len(eqs) > 1 {
		buf = make([]byte, 16*len(eqs))
		if _, err := io.ReadFull(rand, buf); err != nil {
			return false, err
		}
	}
	for k, e := range eqs {
		if e.weighted || buf == nil {
			gc.Add(gc, e.g)
			for b, s := range e.fixed {
				fixed[b].Add(fixed[b], s)
			}
			for _, t := range e.terms {
				sc = append(sc, t.S)
				pts = append(pts, t.P)
			}
			continue
		}
		z := weight(buf[16*k : 16*k+16])
		gc.Add(gc, group.NewScalar().Mul(z, e.g))
		for b, s := range e.fixed {
			fixed[b].Add(fixed[b], group.NewScalar().Mul(z, s))
		}
		for _, t := range e.terms {
			sc = append(sc, group.NewScalar().Mul(z, t.S))
			pts = append(pts, t.P)
		}
	}
	sc = append(sc, gc)
	pts = append(pts, group.Generator())
	for i, b := range v.bases {
		sc = append(sc, fixed[i])
		pts = append(pts, b)
	}
	return group.VarTimeMultiScalarMult(sc, pts).IsIdentity(), nil
}

// weight returns the 16 little-endian bytes b as a scalar in [1, 2^128):
// an all-zero draw (probability 2^-128) becomes 1.
func weight(b []byte) *group.Scalar {
	var enc [group.Size]byte
	copy(enc[:], b)
	if enc == [group.Size]byte{} {
		enc[0] = 1
	}
	z, err := group.DecodeScalar(enc[:])
	if err != nil {
		panic("batch: a 128-bit scalar is not canonical") // < 2^128 < ℓ
	}
	return z
}

// Verify reports whether every equation holds (up to the batch soundness
// error). rand supplies the weights: crypto/rand in production.
func (v *Verifier) Verify(rand io.Reader) (bool, error) { return v.check(rand, v.eqs) }

// Failed returns the owners of the equations that do not hold, in increasing
// order of first appearance, by recursive bisection of the batch.
func (v *Verifier) Failed(rand io.Reader) ([]int, error) {
	var bad []int
	seen := map[int]bool{}
	var walk func(eqs []equation) error
	walk = func(eqs []equation) error {
		ok, err := v.check(rand, eqs)
		if err != nil || ok {
			return err
		}
		if len(eqs) == 1 {
			if !seen[eqs[0].owner] {
				seen[eqs[0].owner] = true
				bad = append(bad, eqs[0].owner)
			}
			return nil
		}
		mid := len(eqs) / 2
		if err := walk(eqs[:mid]); err != nil {
			return err
		}
		return walk(eqs[mid:])
	}
	if err := walk(v.eqs); err != nil {
		return nil, err
	}
	return bad, nil
}
