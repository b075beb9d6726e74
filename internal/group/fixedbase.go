package group

import (
	r255 "github.com/bwesterb/go-ristretto"
	"github.com/bwesterb/go-ristretto/edwards25519"
	fp "github.com/cloudflare/circl/math/fp25519"
)

// FixedBase is a table of multiples of one element P for constant-time
// multiplications s·P: go-ristretto's signed 4-bit comb (32×8 precomputed
// points, ≈ 30 KB), the same code and the same constant-time table lookup
// that circl's ScalarBaseMult runs on its table for G (circl's Ristretto255
// is go-ristretto underneath). A multiplication costs about a third of
// ScalarMult; building the table costs about 30 of them, so it pays for an
// element that many multiplications share (the election key, when one
// process encrypts many ballots).
type FixedBase struct {
	t r255.ScalarMultTable
}

// NewFixedBase computes the table of p. p is public (an election key).
func NewFixedBase(p *Element) *FixedBase {
	var rp r255.Point
	enc := [Size]byte(p.Bytes())
	if !rp.SetBytes(&enc) {
		// Both decoders are tested against RFC 9496; a disagreement is a bug.
		panic("group: go-ristretto rejects a canonical encoding")
	}
	fb := new(FixedBase)
	fb.t.Compute(&rp)
	return fb
}

// MulAddBase returns s·P + g·G for the table's P, in constant time with
// respect to s and g: both comb multiplications look up every table row
// with conditional moves, the sum uses the complete addition formula, and
// only the result, which the caller publishes, is encoded (in the fast
// form, which keeps its encoding).
func (t *FixedBase) MulAddBase(s, g *Scalar) *Element {
	var sp, gp r255.Point
	var rs, rg r255.Scalar
	buf := [Size]byte(s.Bytes())
	rs.SetBytes(&buf)
	buf = [Size]byte(g.Bytes())
	rg.SetBytes(&buf)
	sp.ScalarMultTable(&t.t, &rs)
	gp.ScalarMultBase(&rg)
	sp.Add(&sp, &gp)
	// Hand the coordinates to the fast form, which encodes once; a round
	// trip through go-ristretto's encoding and our decoder costs twice that.
	ext := (*edwards25519.ExtendedPoint)(&sp)
	var pt point
	for _, c := range [...]struct {
		dst *fp.Elt
		src *edwards25519.FieldElement
	}{{&pt.X, &ext.X}, {&pt.Y, &ext.Y}, {&pt.Z, &ext.Z}, {&pt.T, &ext.T}} {
		c.src.BytesInto((*[Size]byte)(c.dst))
	}
	return elementFromPoint(&pt)
}
