package group

import (
	"crypto/subtle"
	"encoding/binary"
	"sync"

	fp "github.com/cloudflare/circl/math/fp25519"
)

// FixedBase is a table of multiples of one element P for constant-time
// multiplications s·P: a signed radix-16 comb (32 rows of 8 precomputed
// affine points, ≈ 24 KB) on the fast point type of point.go, the method of
// ref10's ge_scalarmult_base applied to any element. A multiplication is 64
// constant-time table lookups, 64 mixed additions and 4 doublings, about a
// fifth of circl's ScalarMult; building the table costs about 10 of them, so
// it pays for an element that many multiplications share (the election key,
// when one process encrypts many ballots). ScalarBaseMult uses the same
// code on a table of G.
type FixedBase struct {
	t combTable
}

// combTable holds row i, entry j = (j+1)·16^(2i)·P as an addend
// (affineCached), each field element as 4 little-endian 64-bit words so
// that lookup selects with masks rather than calls.
type combTable [32][8][12]uint64

// NewFixedBase computes the table of p. p is public (an election key).
func NewFixedBase(p *Element) *FixedBase {
	d, id := p.varTimePoint()
	fb := new(FixedBase)
	if id {
		var o point
		fb.t.compute(o.setIdentity())
	} else {
		fb.t.compute(&d.pt)
	}
	return fb
}

// MulAddBase returns s·P + g·G for the table's P, in constant time with
// respect to s and g: every lookup reads the whole row with conditional
// moves, the sums use the complete addition formula, and the result, which
// the caller publishes, is encoded once.
func (t *FixedBase) MulAddBase(s, g *Scalar) *Element {
	acc := combMul([]*combTable{&t.t, baseTable()}, []*Scalar{s, g})
	return elementFromPoint(&acc)
}

var (
	baseOnce sync.Once
	baseTab  *combTable
)

// baseTable returns the comb table of G, built on first use.
func baseTable() *combTable {
	baseOnce.Do(func() {
		baseTab = new(combTable)
		baseTab.compute(&generator.pt)
	})
	return baseTab
}

// compute fills t for the point p (public: variable time is fine here).
func (t *combTable) compute(p *point) {
	var pts [32 * 8]point
	base := *p // 16^(2i)·p
	for i := 0; i < 32; i++ {
		var bc cached
		bc.fromPoint(&base)
		pts[8*i] = base
		for j := 1; j < 8; j++ {
			pts[8*i+j].addCached(&pts[8*i+j-1], &bc)
		}
		if i < 31 {
			for k := 0; k < 8; k++ {
				base.double(&base, k == 7)
			}
		}
	}
	// To affine with one inversion (Montgomery's trick): prefix[i] is the
	// product of the Z of points 0..i.
	var prefix [len(pts)]fp.Elt
	prefix[0] = pts[0].Z
	for i := 1; i < len(pts); i++ {
		fp.Mul(&prefix[i], &prefix[i-1], &pts[i].Z)
	}
	var inv, zi fp.Elt
	fp.Inv(&inv, &prefix[len(pts)-1])
	for i := len(pts) - 1; i >= 0; i-- {
		if i > 0 {
			fp.Mul(&zi, &inv, &prefix[i-1])
			fp.Mul(&inv, &inv, &pts[i].Z)
		} else {
			zi = inv
		}
		var a point
		fp.Mul(&a.X, &pts[i].X, &zi)
		fp.Mul(&a.Y, &pts[i].Y, &zi)
		fp.Mul(&a.T, &a.X, &a.Y)
		a.Z = feOne
		var c affineCached
		c.fromAffine(&a)
		for k, f := range [3]*fp.Elt{&c.YplusX, &c.YminusX, &c.T2d} {
			fp.Modp(f)
			for w := 0; w < 4; w++ {
				t[i/8][i%8][4*k+w] = binary.LittleEndian.Uint64(f[8*w:])
			}
		}
	}
}

// radix16 returns the signed radix-16 digits of the scalar b < 2^255:
// b = Σ e[i]·16^i with every e[i] in [-8, 8], in constant time.
func radix16(b *[Size]byte) (e [64]int8) {
	for i, v := range b {
		e[2*i] = int8(v & 15)
		e[2*i+1] = int8(v >> 4)
	}
	var carry int8
	for i := 0; i < 63; i++ {
		e[i] += carry
		carry = (e[i] + 8) >> 4
		e[i] -= carry << 4
	}
	e[63] += carry
	return e
}

// lookup sets c = d·(row's unit) for the digit d in [-8, 8] in constant
// time: it reads all 8 entries of the row under masks, selects the identity
// for d = 0 and negates conditionally.
func (t *combTable) lookup(c *affineCached, row int, d int8) {
	m := d >> 7               // -1 if d < 0, else 0
	abs := uint8((d ^ m) - m) // |d|
	neg := uint(uint8(m) & 1) // 1 if d < 0
	var w [12]uint64
	zero := -uint64(subtle.ConstantTimeByteEq(abs, 0))
	w[0], w[4] = 1&zero, 1&zero // the identity: y+x = y-x = 1, 2d·x·y = 0
	r := &t[row]
	for j := range r {
		e := &r[j]
		mask := -uint64(subtle.ConstantTimeByteEq(abs, uint8(j+1)))
		for k := range w {
			w[k] |= e[k] & mask
		}
	}
	putElt(&c.YplusX, (*[4]uint64)(w[0:4]))
	putElt(&c.YminusX, (*[4]uint64)(w[4:8]))
	putElt(&c.T2d, (*[4]uint64)(w[8:12]))
	// -(x, y) = (-x, y): swap y+x with y-x and negate 2d·x·y.
	fp.Cswap(&c.YplusX, &c.YminusX, neg)
	var nt fp.Elt
	fp.Neg(&nt, &c.T2d)
	fp.Cmov(&c.T2d, &nt, neg)
}

// putElt writes the little-endian words w into f.
func putElt(f *fp.Elt, w *[4]uint64) {
	binary.LittleEndian.PutUint64(f[0:], w[0])
	binary.LittleEndian.PutUint64(f[8:], w[1])
	binary.LittleEndian.PutUint64(f[16:], w[2])
	binary.LittleEndian.PutUint64(f[24:], w[3])
}

// combMul returns Σ sc[k]·P_k for the points of tabs, in constant time with
// respect to the scalars: the odd digits of every scalar, four doublings,
// then the even digits, sharing the doublings.
func combMul(tabs []*combTable, sc []*Scalar) point {
	digits := make([][64]int8, len(sc))
	for k, s := range sc {
		b := [Size]byte(s.Bytes())
		digits[k] = radix16(&b)
	}
	var acc point
	acc.setIdentity()
	var c affineCached
	for i := 1; i < 64; i += 2 {
		for k, t := range tabs {
			t.lookup(&c, i/2, digits[k][i])
			acc.addAffine(&acc, &c)
		}
	}
	for k := 0; k < 4; k++ {
		acc.double(&acc, k == 3)
	}
	for i := 0; i < 64; i += 2 {
		for k, t := range tabs {
			t.lookup(&c, i/2, digits[k][i])
			acc.addAffine(&acc, &c)
		}
	}
	return acc
}
