package group

import (
	r255 "github.com/bwesterb/go-ristretto"
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
// only the result, which the caller publishes, is encoded (then decoded
// into the fast form, so its encoding is kept).
func (t *FixedBase) MulAddBase(s, g *Scalar) *Element {
	var sp, gp r255.Point
	var rs, rg r255.Scalar
	buf := [Size]byte(s.Bytes())
	rs.SetBytes(&buf)
	buf = [Size]byte(g.Bytes())
	rg.SetBytes(&buf)
	sp.ScalarMultTable(&t.t, &rs)
	gp.ScalarMultBase(&rg)
	sp.Add(&sp, &gp).BytesInto(&buf)
	e, err := DecodeElement(buf[:])
	if err != nil {
		panic("group: the fast decoder rejects go-ristretto's encoding: " + err.Error())
	}
	return e
}
