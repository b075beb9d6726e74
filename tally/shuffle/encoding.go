package shuffle

import (
	"fmt"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// ProofSize returns the length of the encoding of a proof for n rows of
// width w: 8 + 32·(5n + 6 + 3w).
func ProofSize(n, w int) int { return 8 + group.Size*(5*n+6+3*w) }

// checkShape checks that p is a complete proof for n rows of width w
// (SPEC.md §13.6 step S2).
func (p *Proof) checkShape(n, w int) error {
	if p == nil {
		return fmt.Errorf("shuffle: no proof")
	}
	if len(p.C) != n || len(p.CHat) != n || len(p.THat) != n || len(p.SHat) != n || len(p.S) != n {
		return fmt.Errorf("shuffle: the proof is not for %d rows", n)
	}
	if len(p.T4A) != w || len(p.T4B) != w || len(p.S4) != w {
		return fmt.Errorf("shuffle: the proof is not for width %d", w)
	}
	for _, es := range [][]*group.Element{p.C, p.CHat, p.THat, p.T4A, p.T4B, {p.T1, p.T2, p.T3}} {
		for _, e := range es {
			if e == nil {
				return fmt.Errorf("shuffle: the proof has a missing element")
			}
		}
	}
	for _, ss := range [][]*group.Scalar{p.SHat, p.S, p.S4, {p.S1, p.S2, p.S3}} {
		for _, s := range ss {
			if s == nil {
				return fmt.Errorf("shuffle: the proof has a missing scalar")
			}
		}
	}
	return nil
}

// Bytes returns the canonical encoding of p (SPEC.md §13
// §Encoding):
//
//	u32 N || u32 w || c_1..c_N || ĉ_1..ĉ_N || t_1 || t_2 || t_3 ||
//	(t_4,k(α) || t_4,k(β)) for k = 1..w || t̂_1..t̂_N ||
//	s_1 || s_2 || s_3 || s_4,1..s_4,w || ŝ_1..ŝ_N || s'_1..s'_N
//
// It panics if p is not a complete proof (Prove and ParseProof only make
// complete ones).
func (p *Proof) Bytes() []byte {
	n, w := len(p.C), len(p.S4)
	if err := p.checkShape(n, w); err != nil {
		panic(err)
	}
	out := wire.NewWriter(ProofSize(n, w)).U32(uint32(n)).U32(uint32(w))
	elems := func(es []*group.Element) {
		for _, e := range es {
			out.Element(e)
		}
	}
	scalars := func(ss []*group.Scalar) {
		for _, s := range ss {
			out.Scalar(s)
		}
	}
	elems(p.C)
	elems(p.CHat)
	elems([]*group.Element{p.T1, p.T2, p.T3})
	for k := range w {
		elems([]*group.Element{p.T4A[k], p.T4B[k]})
	}
	elems(p.THat)
	scalars([]*group.Scalar{p.S1, p.S2, p.S3})
	scalars(p.S4)
	scalars(p.SHat)
	scalars(p.S)
	return out.Out()
}

// ParseProof decodes the canonical encoding of a proof exactly: every element
// and scalar canonical (elements may be the identity), 1 ≤ w ≤ MaxWidth,
// N ≤ MaxRows, and the length exactly ProofSize(N, w).
func ParseProof(b []byte) (*Proof, error) {
	r := wire.NewReader(b)
	n := r.Count("rows", MaxRows)
	w := r.Count("width", MaxWidth)
	if r.Err() == nil && w < 1 {
		r.Failf("width 0")
	}
	// Check the length before allocating, so a short input cannot ask for
	// large slices.
	if r.Err() == nil && r.Remaining() != ProofSize(n, w)-8 {
		r.Failf("%d bytes follow the header, want %d for %d rows of width %d", r.Remaining(), ProofSize(n, w)-8, n, w)
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("shuffle: proof: %w", r.Err())
	}
	elems := func(what string, k int) []*group.Element {
		es := make([]*group.Element, k)
		for i := range es {
			es[i] = r.Element(what)
		}
		return es
	}
	scalars := func(what string, k int) []*group.Scalar {
		ss := make([]*group.Scalar, k)
		for i := range ss {
			ss[i] = r.Scalar(what)
		}
		return ss
	}
	p := &Proof{C: elems("c", n), CHat: elems("ĉ", n)}
	p.T1, p.T2, p.T3 = r.Element("t1"), r.Element("t2"), r.Element("t3")
	p.T4A, p.T4B = make([]*group.Element, w), make([]*group.Element, w)
	for k := range w {
		p.T4A[k], p.T4B[k] = r.Element("t4 α"), r.Element("t4 β")
	}
	p.THat = elems("t̂", n)
	p.S1, p.S2, p.S3 = r.Scalar("s1"), r.Scalar("s2"), r.Scalar("s3")
	p.S4 = scalars("s4", w)
	p.SHat = scalars("ŝ", n)
	p.S = scalars("s'", n)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("shuffle: proof: %w", err)
	}
	return p, nil
}
