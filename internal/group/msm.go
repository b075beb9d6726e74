package group

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// VarTimeMultiScalarMult returns Σ scalars[i]·points[i].
//
// It runs in variable time and MUST only be used on public inputs
// (verification equations). It works on the fast edwards25519 points of
// point.go: decoded elements are used as they are, any other element is
// converted once through its canonical encoding. Zero scalars and identity
// points are dropped. A scalar s closer to ℓ than to 0 is used as
// (ℓ − s)·(−P), so a term whose scalar is a short batch weight or its
// negation (a proof's commitment, weighted by −z) costs as many windows as
// the weight has bits. Few terms use Straus' interleaved method with width-5
// NAF digits; many use Pippenger's bucket method with signed c-bit digits,
// which is what makes batch verification of ballots cheap: the cost per
// term falls as the batch grows. The method and c come from an operation
// count (field multiplications) of both.
func VarTimeMultiScalarMult(scalars []*Scalar, points []*Element) *Element {
	if len(scalars) != len(points) {
		panic(fmt.Sprintf("group: VarTimeMultiScalarMult with %d scalars and %d points", len(scalars), len(points)))
	}
	sc := make([][Size]byte, 0, len(points))
	pts := make([]*decoded, 0, len(points))
	neg := make([]bool, 0, len(points))
	bits := 0
	for i, s := range scalars {
		b := [Size]byte(s.Bytes())
		if b == [Size]byte{} {
			continue
		}
		d, id := points[i].varTimePoint()
		if id {
			continue
		}
		n, nb := shorterSigned(&b)
		sc = append(sc, b)
		pts = append(pts, d)
		neg = append(neg, n)
		bits += nb
	}
	var acc point
	if c, pip := msmPlanBits(len(pts), bits); pip {
		acc = pippenger(sc, pts, neg, c)
	} else {
		acc = straus(sc, pts, neg)
	}
	return elementFromPoint(&acc)
}

// scalarOrder is ℓ as little-endian 64-bit limbs.
var scalarOrder = [4]uint64{0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000}

// shorterSigned replaces the canonical non-zero scalar b by ℓ − b when that
// has fewer bits, and reports whether it did (the term's point is then to
// be negated) and the bit length of the result. Variable time: public
// scalars only.
func shorterSigned(b *[Size]byte) (negated bool, bitLen int) {
	var s, d [4]uint64
	for i := range s {
		s[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	var borrow uint64
	for i := range d {
		d[i], borrow = bits.Sub64(scalarOrder[i], s[i], borrow)
	}
	if limbsLen(&d) >= limbsLen(&s) {
		return false, limbsLen(&s)
	}
	for i := range d {
		binary.LittleEndian.PutUint64(b[8*i:], d[i])
	}
	return true, limbsLen(&d)
}

// limbsLen is the bit length of a little-endian 256-bit integer.
func limbsLen(x *[4]uint64) int {
	for i := 3; i >= 0; i-- {
		if x[i] != 0 {
			return 64*i + bits.Len64(x[i])
		}
	}
	return 0
}

// Approximate costs in field multiplications (squarings counted as one).
const (
	costDouble    = 8 // 4M + 4S
	costAddAffine = 7 // extended + affine cached
	costAddFull   = 9 // extended + extended
)

// msmPlan chooses between Straus and Pippenger for n full-size terms, and
// c for Pippenger, by counting field operations.
func msmPlan(n int) (c int, pippenger bool) { return msmPlanBits(n, 253*n) }

// msmPlanBits is msmPlan for n terms whose scalars have bits bits in all.
func msmPlanBits(n, bits int) (c int, pippenger bool) {
	// Straus: 253 shared doublings; per point a table of 8 odd multiples and
	// about 253/6 additions, 410 multiplications on paper. Benchmarks on amd64
	// put its real cost per point nearer 600 (the NAF recoding, the on-the-fly
	// negations and the additions and subtractions the count leaves out), which
	// moves the crossover with Pippenger to about 56 terms, as measured. Short
	// scalars save Straus additions but not its table, so its count stays.
	const strausPerPoint = 600
	best := 253*costDouble + n*strausPerPoint
	for w := 2; w <= 15; w++ {
		nw := (254 + w - 1) / w
		// Per window: two full additions per bucket to sum the buckets, w
		// doublings; per term one mixed addition per window its scalar
		// reaches (about bits/w in all, plus one for the signed digits' carry).
		cost := nw*(2*(1<<(w-1))*costAddFull+w*costDouble) + (bits/w+n)*costAddAffine + n
		if cost < best {
			best, c, pippenger = cost, w, true
		}
	}
	return c, pippenger
}

// wnaf returns the width-w non-adjacent form of the little-endian scalar b
// (< 2^253): 257 digits, each zero or odd with |d| < 2^(w-1), least
// significant first, at most one non-zero digit in any w consecutive
// positions.
func wnaf(b *[Size]byte, w uint) []int8 {
	// Little-endian 64-bit limbs with one spare limb for the carries.
	var k [5]uint64
	for i, v := range b {
		k[i/8] |= uint64(v) << (8 * (i % 8))
	}
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
// of P, 3P, ..., 15P (negated on the fly), one shared chain of doublings,
// and one addition per non-zero digit (about 253/6 per point).
func straus(sc [][Size]byte, pts []*decoded, neg []bool) point {
	const w = 5
	n := len(pts)
	tabs := make([][1 << (w - 2)]cached, n)
	nafs := make([][]int8, n)
	top := -1
	for i, d := range pts {
		nafs[i] = wnaf(&sc[i], w)
		if neg[i] {
			for j, d := range nafs[i] {
				nafs[i][j] = -d
			}
		}
		for j := len(nafs[i]) - 1; j > top; j-- {
			if nafs[i][j] != 0 {
				top = j
				break
			}
		}
		var two, cur point
		var twoC cached
		two.double(&d.pt, true)
		twoC.fromPoint(&two)
		cur = d.pt
		tabs[i][0].fromPoint(&cur)
		for j := 1; j < len(tabs[i]); j++ {
			cur.addCached(&cur, &twoC)
			tabs[i][j].fromPoint(&cur)
		}
	}
	var acc point
	acc.setIdentity()
	var negC cached
	for j := top; j >= 0; j-- {
		if j != top {
			// T is needed only by an addition in this round or by the
			// encoding of the result.
			needT := j == 0
			for i := 0; i < n && !needT; i++ {
				needT = nafs[i][j] != 0
			}
			acc.double(&acc, needT)
		}
		for i := range tabs {
			if d := nafs[i][j]; d > 0 {
				acc.addCached(&acc, &tabs[i][d/2])
			} else if d < 0 {
				acc.addCached(&acc, negC.neg(&tabs[i][(-d)/2]))
			}
		}
	}
	return acc
}

// window returns the c-bit digit (c ≤ 24) of a little-endian 256-bit
// scalar starting at bit pos.
func window(b *[Size]byte, pos, c int) int {
	var v uint32
	for k := 0; k < 4 && pos/8+k < len(b); k++ {
		v |= uint32(b[pos/8+k]) << (8 * k)
	}
	return int((v >> (pos % 8)) & (1<<c - 1))
}

// pippenger computes the sum with the bucket method, c-bit windows (c ≤ 15)
// and signed digits in [-2^(c-1), 2^(c-1)], so 2^(c-1) buckets per window.
func pippenger(sc [][Size]byte, pts []*decoded, neg []bool, c int) point {
	n := len(pts)
	// Bit 253 and above of a scalar are zero, so with nw·c ≥ 254 the top
	// window is below 2^(c-1) before the carry and needs no recoding.
	nw := (254 + c - 1) / c
	half := 1 << (c - 1)
	digits := make([]int16, nw*n) // digit of window w of term i at w·n + i
	for i := range sc {
		carry := 0
		for w := 0; w < nw; w++ {
			d := window(&sc[i], w*c, c) + carry
			carry = 0
			if w < nw-1 && d >= half {
				d -= 1 << c
				carry = 1
			}
			if neg[i] {
				d = -d
			}
			digits[w*n+i] = int16(d)
		}
	}
	aff := make([]affineCached, n)
	for i, d := range pts {
		if d.affine {
			aff[i].fromAffine(&d.pt)
		} else {
			var a point
			aff[i].fromAffine(a.toAffine(&d.pt))
		}
	}
	buckets := make([]point, half)
	used := make([]bool, half)
	var acc, running, sum point
	acc.setIdentity()
	for w := nw - 1; w >= 0; w-- {
		if w != nw-1 {
			for k := 0; k < c; k++ {
				acc.double(&acc, k == c-1)
			}
		}
		clear(used)
		for i, d := range digits[w*n : (w+1)*n] {
			switch {
			case d > 0:
				b := &buckets[d-1]
				if !used[d-1] {
					b.setIdentity()
					used[d-1] = true
				}
				b.addAffine(b, &aff[i])
			case d < 0:
				b := &buckets[-d-1]
				if !used[-d-1] {
					b.setIdentity()
					used[-d-1] = true
				}
				b.subAffine(b, &aff[i])
			}
		}
		// Σ (k+1)·bucket[k] as a running sum from the top bucket down.
		started := false
		for k := half - 1; k >= 0; k-- {
			if used[k] {
				if started {
					running.add(&running, &buckets[k])
				} else {
					running, started = buckets[k], true
					sum = running
					continue
				}
			}
			if started {
				sum.add(&sum, &running)
			}
		}
		if started {
			acc.add(&acc, &sum)
		}
	}
	return acc
}
