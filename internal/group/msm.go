package group

import "fmt"

// VarTimeMultiScalarMult returns Σ scalars[i]·points[i].
//
// It runs in variable time and MUST only be used on public inputs
// (verification equations). It uses Straus' interleaved method with width-5
// NAF digits for few terms and Pippenger's bucket method for many, which is what makes batch verification of ballots cheap: the
// cost per term falls as the batch grows.
func VarTimeMultiScalarMult(scalars []*Scalar, points []*Element) *Element {
	if len(scalars) != len(points) {
		panic(fmt.Sprintf("group: VarTimeMultiScalarMult with %d scalars and %d points", len(scalars), len(points)))
	}
	if len(points) < 48 {
		return straus(scalars, points)
	}
	return pippenger(scalars, points)
}

// limbs returns the little-endian 64-bit limbs of a scalar (< 2^253), with
// one spare limb for the carries of signed-digit recoding.
func limbs(s *Scalar) [5]uint64 {
	b := s.Bytes()
	var k [5]uint64
	for i, v := range b {
		k[i/8] |= uint64(v) << (8 * (i % 8))
	}
	return k
}

// wnaf returns the width-w non-adjacent form of s: 257 digits, each zero or
// odd with |d| < 2^(w-1), least significant first, at most one non-zero
// digit in any w consecutive positions.
func wnaf(s *Scalar, w uint) []int8 {
	k := limbs(s)
	naf := make([]int8, 257)
	width := uint64(1) << w
	for i := 0; i < len(naf) && (k[0]|k[1]|k[2]|k[3]|k[4]) != 0; i++ {
		if k[0]&1 == 1 {
			d := int64(k[0] & (width - 1))
			if d >= int64(width/2) {
				d -= int64(width)
			}
			naf[i] = int8(d)
			// k -= d (d odd and small; k ≥ d when d > 0).
			if d > 0 {
				borrow := uint64(d)
				for j := 0; j < 5 && borrow != 0; j++ {
					old := k[j]
					k[j] -= borrow
					if k[j] > old {
						borrow = 1
					} else {
						borrow = 0
					}
				}
			} else {
				carry := uint64(-d)
				for j := 0; j < 5 && carry != 0; j++ {
					k[j] += carry
					if k[j] < carry {
						carry = 1
					} else {
						carry = 0
					}
				}
			}
		}
		for j := 0; j < 4; j++ {
			k[j] = k[j]>>1 | k[j+1]<<63
		}
		k[4] >>= 1
	}
	return naf
}

// straus computes the sum with interleaved width-5 NAFs: per point a table
// of ±P, ±3P, ..., ±15P, one shared chain of doublings, and one addition
// per non-zero digit (about 253/6 per point).
func straus(scalars []*Scalar, points []*Element) *Element {
	const w = 5
	n := len(points)
	pos := make([][1 << (w - 2)]*Element, n)
	neg := make([][1 << (w - 2)]*Element, n)
	nafs := make([][]int8, n)
	top := -1
	for i, p := range points {
		nafs[i] = wnaf(scalars[i], w)
		for j := len(nafs[i]) - 1; j > top; j-- {
			if nafs[i][j] != 0 {
				top = j
				break
			}
		}
		two := NewElement().Double(p)
		pos[i][0] = p.Clone()
		for j := 1; j < len(pos[i]); j++ {
			pos[i][j] = NewElement().Add(pos[i][j-1], two)
		}
		for j := range neg[i] {
			neg[i][j] = NewElement().Neg(pos[i][j])
		}
	}
	acc := NewElement()
	for j := top; j >= 0; j-- {
		if j != top {
			acc.Double(acc)
		}
		for i := range points {
			if d := nafs[i][j]; d > 0 {
				acc.Add(acc, pos[i][d/2])
			} else if d < 0 {
				acc.Add(acc, neg[i][(-d)/2])
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
