package group

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

func (s *VarTimeSum) add(e *Element, neg bool) {
	d, id := e.varTimePoint()
	if id {
		return
	}
	q := d.pt
	if neg {
		q.neg(&d.pt)
	}
	if !s.set {
		s.p, s.set = q, true
		return
	}
	s.p.add(&s.p, &q)
}

// Element returns the sum as a new Element (one encoding: an inversion).
func (s *VarTimeSum) Element() *Element {
	if !s.set {
		return NewElement()
	}
	return elementFromPoint(&s.p)
}
