package group

import "math/bits"

// VarTimeSum is a running sum of elements, in variable time: for public
// data only, such as the encrypted aggregate of the counted ballots
// (SPEC.md §9.6). Each Add or Sub is one point addition on the fast path
// (point.go) of an element that is already decoded, so an aggregate over a
// million ballots never converts a ballot's elements to circl's form (which
// would decode them a second time). The zero value is the identity.
type VarTimeSum struct {
	p   point
	set bool
}

// Add adds e to the sum.
func (s *VarTimeSum) Add(e *Element) { s.add(e, false) }

// Sub subtracts e from the sum.
func (s *VarTimeSum) Sub(e *Element) { s.add(e, true) }

func (s *VarTimeSum) add(e *Element, neg bool) { s.addMul(1, e, neg) }

// addPoint adds q to the sum.
func (s *VarTimeSum) addPoint(q *point) {
	if !s.set {
		s.p, s.set = *q, true
		return
	}
	s.p.add(&s.p, q)
}

// AddMul adds w·e to the sum, by double-and-add over the bits of w
// (variable time in w and e: public data, such as a credential's weight
// and a ballot's ciphertext). w = 1 is one Add; w = 0 adds nothing.
func (s *VarTimeSum) AddMul(w uint32, e *Element) { s.addMul(w, e, false) }

// SubMul subtracts w·e from the sum.
func (s *VarTimeSum) SubMul(w uint32, e *Element) { s.addMul(w, e, true) }

func (s *VarTimeSum) addMul(w uint32, e *Element, neg bool) {
	if w == 0 {
		return
	}
	d, id := e.varTimePoint()
	if id {
		return
	}
	base := d.pt
	if neg {
		base.neg(&d.pt)
	}
	acc := base
	for i := bits.Len32(w) - 2; i >= 0; i-- {
		acc.double(&acc, true)
		if w>>uint(i)&1 == 1 {
			acc.add(&acc, &base)
		}
	}
	s.addPoint(&acc)
}

// Element returns the sum as a new Element (one encoding: an inversion).
func (s *VarTimeSum) Element() *Element {
	if !s.set {
		return NewElement()
	}
	return elementFromPoint(&s.p)
}
