package group

import "fmt"

// VarTimeMultiScalarMult returns Σ scalars[i]·points[i].
//
// It runs in variable time and MUST only be used on public inputs
// (verification equations). It uses Straus' interleaved windows for few
// terms and Pippenger's bucket method for many, which is what makes batch
// verification of ballots cheap: the cost per term falls as the batch grows.
func VarTimeMultiScalarMult(scalars []*Scalar, points []*Element) *Element {
	if len(scalars) != len(points) {
		panic(fmt.Sprintf("group: VarTimeMultiScalarMult with %d scalars and %d points", len(scalars), len(points)))
	}
	if len(points) < 48 {
		return straus(scalars, points)
	}
	return pippenger(scalars, points)
}

// nibble returns the 4-bit window i (0 = least significant) of a little-endian scalar.
func nibble(b []byte, i int) int {
	v := b[i/2]
	if i%2 == 1 {
		v >>= 4
	}
	return int(v & 15)
}

// straus computes the sum with 4-bit windows and a 16-entry table per point.
func straus(scalars []*Scalar, points []*Element) *Element {
	n := len(points)
	tables := make([][16]*Element, n)
	digits := make([][]byte, n)
	for i, p := range points {
		t := &tables[i]
		t[0] = NewElement()
		t[1] = p.Clone()
		for j := 2; j < 16; j++ {
			t[j] = NewElement().Add(t[j-1], p)
		}
		digits[i] = scalars[i].Bytes()
	}
	acc := NewElement()
	for w := 63; w >= 0; w-- {
		if w != 63 {
			for k := 0; k < 4; k++ {
				acc.Double(acc)
			}
		}
		for i := range points {
			if d := nibble(digits[i], w); d != 0 {
				acc.Add(acc, tables[i][d])
			}
		}
	}
	return acc
}

// window returns the c-bit digit of a little-endian 256-bit scalar starting at bit pos.
func window(b []byte, pos, c int) int {
	var v uint32
	for k := 0; k < 4 && pos/8+k < len(b); k++ {
		v |= uint32(b[pos/8+k]) << (8 * k)
	}
	return int((v >> (pos % 8)) & (1<<c - 1))
}

// pippenger computes the sum with the bucket method and c-bit windows.
func pippenger(scalars []*Scalar, points []*Element) *Element {
	n := len(points)
	// Pick the window that minimises additions: ⌈253/c⌉ windows, each costing
	// n bucket additions plus about 2·2^c to sum the buckets.
	c, best := 4, 0
	for w := 4; w <= 16; w++ {
		if cost := (253 + w - 1) / w * (n + 2<<w); best == 0 || cost < best {
			c, best = w, cost
		}
	}
	digits := make([][]byte, n)
	for i, s := range scalars {
		digits[i] = s.Bytes()
	}
	buckets := make([]*Element, 1<<c)
	for i := range buckets {
		buckets[i] = NewElement()
	}
	used := make([]bool, 1<<c)
	acc := NewElement()
	top := ((253 + c - 1) / c) * c // scalars are < 2^253
	for pos := top - c; pos >= 0; pos -= c {
		for k := 0; k < c; k++ {
			acc.Double(acc)
		}
		for i := range used {
			used[i] = false
		}
		for i := range points {
			d := window(digits[i], pos, c)
			if d == 0 {
				continue
			}
			if used[d] {
				buckets[d].Add(buckets[d], points[i])
			} else {
				buckets[d].Set(points[i])
				used[d] = true
			}
		}
		// Σ d·bucket[d] as a running sum from the top bucket down.
		running, sum := NewElement(), NewElement()
		for d := len(buckets) - 1; d > 0; d-- {
			if used[d] {
				running.Add(running, buckets[d])
			}
			sum.Add(sum, running)
		}
		acc.Add(acc, sum)
	}
	return acc
}
