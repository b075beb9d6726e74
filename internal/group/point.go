package group

import (
	"crypto/subtle"

	fp "github.com/cloudflare/circl/math/fp25519"
)

// This file is the fast path: edwards25519 points on circl's assembly field
// arithmetic (math/fp25519), used only for decoding, for the VarTime
// functions and for comparisons of decoded elements. Constant-time group
// arithmetic stays on circl's group package.
//
// Field elements are fp.Elt: 32 bytes, little-endian, holding any value below
// 2^256 (circl's Add, Sub, Mul and Sqr do not fully reduce). Every test of a
// value (equality, zero, sign) therefore reduces a copy with fp.Modp first.
//
// Sources of the formulas:
//   - [RFC9496] RFC 9496, "The ristretto255 and decaf448 Groups": constants
//     (§4.1), SQRT_RATIO_M1 (§4.2), decoding (§4.3.1), encoding (§4.3.2),
//     equality (§4.3.3).
//   - [HWCD08] Hisil, Wong, Carter, Dawson, "Twisted Edwards Curves
//     Revisited", ASIACRYPT 2008: extended coordinates (§3), unified addition
//     for a = -1 with k = 2d (§3.1, "add-2008-hwcd-3" in the Explicit-Formulas
//     Database), doubling (§3.3, "dbl-2008-hwcd").
//
// The curve is -x² + y² = 1 + d·x²·y² (a = -1) over GF(2^255 - 19).

// point is an edwards25519 point in extended coordinates [HWCD08 §3]:
// x = X/Z, y = Y/Z, x·y = T/Z, Z ≠ 0. As a ristretto255 element it stands
// for its whole coset modulo the 4-torsion; see equal.
type point struct{ X, Y, Z, T fp.Elt }

// cached is a point prepared as an addend [HWCD08 §3.1]: (Y+X, Y-X, 2Z, 2d·T).
type cached struct{ YplusX, YminusX, Z2, T2d fp.Elt }

// affineCached is a cached point with Z = 1: (y+x, y-x, 2d·x·y).
type affineCached struct{ YplusX, YminusX, T2d fp.Elt }

// Constants of [RFC9496 §4.1], little-endian.
var (
	feZero fp.Elt
	feOne  = fp.Elt{1}
	// feD is the edwards25519 curve constant d = -121665/121666.
	feD = fp.Elt{
		0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
		0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52,
	}
	// feD2 is 2d, the k of [HWCD08 §3.1].
	feD2 = fp.Elt{
		0x59, 0xf1, 0xb2, 0x26, 0x94, 0x9b, 0xd6, 0xeb, 0x56, 0xb1, 0x83, 0x82, 0x9a, 0x14, 0xe0, 0x00,
		0x30, 0xd1, 0xf3, 0xee, 0xf2, 0x80, 0x8e, 0x19, 0xe7, 0xfc, 0xdf, 0x56, 0xdc, 0xd9, 0x06, 0x24,
	}
	// feSqrtM1 is SQRT_M1, the non-negative square root of -1.
	feSqrtM1 = fp.Elt{
		0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
		0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b,
	}
	// feInvSqrtAMinusD is INVSQRT_A_MINUS_D = 1/sqrt(a - d).
	feInvSqrtAMinusD = fp.Elt{
		0xea, 0x40, 0x5d, 0x80, 0xaa, 0xfd, 0xc8, 0x99, 0xbe, 0x72, 0x41, 0x5a, 0x17, 0x16, 0x2f, 0x9d,
		0x40, 0xd8, 0x01, 0xfe, 0x91, 0x7b, 0xc2, 0x16, 0xa2, 0xfc, 0xaf, 0xcf, 0x05, 0x89, 0x6c, 0x78,
	}
)

// feEqual returns 1 if a ≡ b (mod p), else 0, in constant time.
func feEqual(a, b *fp.Elt) int {
	x, y := *a, *b
	fp.Modp(&x)
	fp.Modp(&y)
	return subtle.ConstantTimeCompare(x[:], y[:])
}

// feIsZero returns 1 if a ≡ 0 (mod p), else 0.
func feIsZero(a *fp.Elt) int { return feEqual(a, &feZero) }

// feIsNegative is IS_NEGATIVE of [RFC9496 §4.2]: the low bit of the fully
// reduced value.
func feIsNegative(a *fp.Elt) uint {
	x := *a
	fp.Modp(&x)
	return uint(x[0] & 1)
}

// feAbs sets z = CT_ABS(a) [RFC9496 §4.2]: a or -a, whichever is non-negative.
func feAbs(z, a *fp.Elt) {
	var n fp.Elt
	fp.Neg(&n, a)
	neg := feIsNegative(a)
	*z = *a
	fp.Cmov(z, &n, neg)
}

// fePow22523 sets z = a^((p-5)/8) = a^(2^252 - 3), by the usual addition
// chain through a^(2^k - 1).
func fePow22523(z, a *fp.Elt) {
	var t0, t1 fp.Elt
	// sqrNMul sets z = x^(2^n)·y; z may be x or y.
	sqrNMul := func(z, x *fp.Elt, n int, y *fp.Elt) {
		s := *x
		for i := 0; i < n; i++ {
			fp.Sqr(&s, &s)
		}
		fp.Mul(z, &s, y)
	}
	fp.Sqr(&t0, a)              // a^2
	fp.Sqr(&t1, &t0)            // a^4
	fp.Sqr(&t1, &t1)            // a^8
	fp.Mul(&t1, a, &t1)         // a^9
	fp.Mul(&t0, &t0, &t1)       // a^11
	fp.Sqr(&t0, &t0)            // a^22
	fp.Mul(&t0, &t1, &t0)       // a^(2^5 - 1)
	sqrNMul(&t0, &t0, 5, &t0)   // a^(2^10 - 1)
	sqrNMul(&t1, &t0, 10, &t0)  // a^(2^20 - 1)
	sqrNMul(&t1, &t1, 20, &t1)  // a^(2^40 - 1)
	sqrNMul(&t0, &t1, 10, &t0)  // a^(2^50 - 1)
	sqrNMul(&t1, &t0, 50, &t0)  // a^(2^100 - 1)
	sqrNMul(&t1, &t1, 100, &t1) // a^(2^200 - 1)
	sqrNMul(&t0, &t1, 50, &t0)  // a^(2^250 - 1)
	sqrNMul(z, &t0, 2, a)       // a^(2^252 - 4)·a = a^(2^252 - 3)
}

// sqrtRatioM1 is SQRT_RATIO_M1(u, v) of [RFC9496 §4.2], in constant time:
// it sets r to the non-negative square root of u/v and returns 1 if u/v is
// a square; otherwise it sets r to the non-negative root of SQRT_M1·u/v and
// returns 0. For u ≠ 0, v = 0 it returns 0 (and r = 0); for u = 0, 1 and r = 0.
func sqrtRatioM1(r, u, v *fp.Elt) int {
	var v3, v7, t, check, uNeg, uNegI, rPrime fp.Elt
	fp.Sqr(&v3, v)
	fp.Mul(&v3, &v3, v) // v^3
	fp.Sqr(&v7, &v3)
	fp.Mul(&v7, &v7, v) // v^7
	fp.Mul(&t, u, &v7)
	fePow22523(&t, &t) // (u·v^7)^((p-5)/8)
	var rr fp.Elt
	fp.Mul(&rr, u, &v3)
	fp.Mul(&rr, &rr, &t) // r = (u·v^3)·(u·v^7)^((p-5)/8)
	fp.Sqr(&check, &rr)
	fp.Mul(&check, &check, v) // check = v·r^2
	fp.Neg(&uNeg, u)
	fp.Mul(&uNegI, &uNeg, &feSqrtM1)
	correctSign := feEqual(&check, u)
	flippedSign := feEqual(&check, &uNeg)
	flippedSignI := feEqual(&check, &uNegI)
	fp.Mul(&rPrime, &rr, &feSqrtM1)
	fp.Cmov(&rr, &rPrime, uint(flippedSign|flippedSignI))
	feAbs(r, &rr)
	return correctSign | flippedSign
}

// setCanonicalBytes decodes s as a ristretto255 element [RFC9496 §4.3.1]
// and reports whether s is a valid encoding; p is set only if it is. All
// the checks of the RFC are made: s < p (canonical), s non-negative, the
// square check of SQRT_RATIO_M1, t non-negative and y ≠ 0. The arithmetic
// runs in constant time; only the final accept/reject decision branches.
func (p *point) setCanonicalBytes(s *[Size]byte) bool {
	var fs, sr fp.Elt
	fs = fp.Elt(*s)
	sr = fs
	fp.Modp(&sr)
	canonical := subtle.ConstantTimeCompare(sr[:], s[:]) // s < p
	nonNegative := 1 ^ int(s[0]&1)                       // s canonical, so this is IS_NEGATIVE

	var ss, u1, u2, u2sqr, v, t0, invsqrt, denX, denY, x, y, t fp.Elt
	fp.Sqr(&ss, &fs)
	fp.Sub(&u1, &feOne, &ss) // u1 = 1 + a·s² (a = -1)
	fp.Add(&u2, &feOne, &ss) // u2 = 1 - a·s²
	fp.Sqr(&u2sqr, &u2)
	fp.Sqr(&t0, &u1)
	fp.Mul(&t0, &t0, &feD)
	fp.Neg(&t0, &t0)
	fp.Sub(&v, &t0, &u2sqr) // v = -(D·u1²) - u2²
	fp.Mul(&t0, &v, &u2sqr)
	wasSquare := sqrtRatioM1(&invsqrt, &feOne, &t0) // invsqrt = 1/sqrt(v·u2²)
	fp.Mul(&denX, &invsqrt, &u2)
	fp.Mul(&denY, &invsqrt, &denX)
	fp.Mul(&denY, &denY, &v)
	fp.Add(&x, &fs, &fs)
	fp.Mul(&x, &x, &denX)
	feAbs(&x, &x) // x = CT_ABS(2·s·den_x)
	fp.Mul(&y, &u1, &denY)
	fp.Mul(&t, &x, &y)
	ok := canonical & nonNegative & wasSquare & (1 ^ int(feIsNegative(&t))) & (1 ^ feIsZero(&y))
	if ok != 1 {
		return false
	}
	p.X, p.Y, p.Z, p.T = x, y, feOne, t
	return true
}

// bytes returns the canonical encoding of p [RFC9496 §4.3.2].
func (p *point) bytes() [Size]byte {
	var u1, u2, t0, invsqrt, den1, den2, zInv, ix0, iy0, ench, x, y, denInv, s fp.Elt
	fp.Add(&u1, &p.Z, &p.Y)
	fp.Sub(&t0, &p.Z, &p.Y)
	fp.Mul(&u1, &u1, &t0) // u1 = (z0 + y0)·(z0 - y0)
	fp.Mul(&u2, &p.X, &p.Y)
	fp.Sqr(&t0, &u2)
	fp.Mul(&t0, &t0, &u1)
	sqrtRatioM1(&invsqrt, &feOne, &t0) // invsqrt = 1/sqrt(u1·u2²); always square for a valid point
	fp.Mul(&den1, &invsqrt, &u1)
	fp.Mul(&den2, &invsqrt, &u2)
	fp.Mul(&zInv, &den1, &den2)
	fp.Mul(&zInv, &zInv, &p.T)
	fp.Mul(&ix0, &p.X, &feSqrtM1)
	fp.Mul(&iy0, &p.Y, &feSqrtM1)
	fp.Mul(&ench, &den1, &feInvSqrtAMinusD) // enchanted_denominator
	fp.Mul(&t0, &p.T, &zInv)
	rotate := feIsNegative(&t0)
	x, y, denInv = p.X, p.Y, den2
	fp.Cmov(&x, &iy0, rotate)
	fp.Cmov(&y, &ix0, rotate)
	fp.Cmov(&denInv, &ench, rotate)
	fp.Mul(&t0, &x, &zInv)
	var yNeg fp.Elt
	fp.Neg(&yNeg, &y)
	fp.Cmov(&y, &yNeg, feIsNegative(&t0)) // y = CT_NEG(y, IS_NEGATIVE(x·z_inv))
	fp.Sub(&s, &p.Z, &y)
	fp.Mul(&s, &s, &denInv)
	feAbs(&s, &s) // s = CT_ABS(den_inv·(z - y))
	fp.Modp(&s)
	return [Size]byte(s)
}

// setIdentity sets p = (0 : 1 : 1 : 0).
func (p *point) setIdentity() *point {
	p.X, p.Y, p.Z, p.T = feZero, feOne, feOne, feZero
	return p
}

// equal reports whether p and q are the same ristretto255 element
// [RFC9496 §4.3.3]: x1·y2 = y1·x2 or y1·y2 = x1·x2. Variable time.
func (p *point) equal(q *point) bool {
	var a, b, c, d fp.Elt
	fp.Mul(&a, &p.X, &q.Y)
	fp.Mul(&b, &p.Y, &q.X)
	fp.Mul(&c, &p.Y, &q.Y)
	fp.Mul(&d, &p.X, &q.X)
	return feEqual(&a, &b)|feEqual(&c, &d) == 1
}

// isIdentity reports whether p is the identity element: equal to (0:1:1:0)
// by [RFC9496 §4.3.3], that is X = 0 or Y = 0. Variable time.
func (p *point) isIdentity() bool { return feIsZero(&p.X)|feIsZero(&p.Y) == 1 }

// neg sets p = -q = (-X : Y : Z : -T).
func (p *point) neg(q *point) *point {
	fp.Neg(&p.X, &q.X)
	p.Y, p.Z = q.Y, q.Z
	fp.Neg(&p.T, &q.T)
	return p
}

// toCached sets c to q prepared as an addend (one multiplication).
func (c *cached) fromPoint(q *point) *cached {
	fp.Add(&c.YplusX, &q.Y, &q.X)
	fp.Sub(&c.YminusX, &q.Y, &q.X)
	fp.Add(&c.Z2, &q.Z, &q.Z)
	fp.Mul(&c.T2d, &q.T, &feD2)
	return c
}

// neg sets c = -q: swapping Y+X with Y-X negates x, and T changes sign.
func (c *cached) neg(q *cached) *cached {
	c.YplusX, c.YminusX, c.Z2 = q.YminusX, q.YplusX, q.Z2
	fp.Neg(&c.T2d, &q.T2d)
	return c
}

// fromAffine sets c to the affine point q (q.Z MUST be 1).
func (c *affineCached) fromAffine(q *point) *affineCached {
	fp.Add(&c.YplusX, &q.Y, &q.X)
	fp.Sub(&c.YminusX, &q.Y, &q.X)
	fp.Mul(&c.T2d, &q.T, &feD2)
	return c
}

// addParts sets p = q + (Y2+X2, Y2−X2, 2d·T2) with the unified a = -1
// addition of [HWCD08 §3.1] (add-2008-hwcd-3), given D = Z1·2·Z2:
// A = (Y1−X1)·yMinusX, B = (Y1+X1)·yPlusX, C = T1·t2d;
// E = B-A, F = D-C, G = D+C, H = B+A; X3 = E·F, Y3 = G·H, T3 = E·H, Z3 = F·G.
// It reads q before it writes p, so p may be q. Complete on edwards25519
// (d non-square).
func (p *point) addParts(q *point, yMinusX, yPlusX, t2d, d *fp.Elt) *point {
	var a, b, c, e, f, g, h fp.Elt
	fp.Sub(&e, &q.Y, &q.X)
	fp.Mul(&a, &e, yMinusX)
	fp.Add(&h, &q.Y, &q.X)
	fp.Mul(&b, &h, yPlusX)
	fp.Mul(&c, &q.T, t2d)
	fp.Sub(&e, &b, &a)
	fp.Sub(&f, d, &c)
	fp.Add(&g, d, &c)
	fp.Add(&h, &b, &a)
	fp.Mul(&p.X, &e, &f)
	fp.Mul(&p.Y, &g, &h)
	fp.Mul(&p.T, &e, &h)
	fp.Mul(&p.Z, &f, &g)
	return p
}

// addCached sets p = q + c: D = Z1·2·Z2 (8M in all).
func (p *point) addCached(q *point, c *cached) *point {
	var d fp.Elt
	fp.Mul(&d, &q.Z, &c.Z2)
	return p.addParts(q, &c.YminusX, &c.YplusX, &c.T2d, &d)
}

// addAffine is addCached with Z2 = 1, so D = 2·Z1 (7M) [HWCD08 §3.1].
func (p *point) addAffine(q *point, c *affineCached) *point {
	var d fp.Elt
	fp.Add(&d, &q.Z, &q.Z)
	return p.addParts(q, &c.YminusX, &c.YplusX, &c.T2d, &d)
}

// subAffine sets p = q - c: c negated by swapping Y+X with Y-X and negating
// 2d·T, so C changes sign.
func (p *point) subAffine(q *point, c *affineCached) *point {
	var t2d, d fp.Elt
	fp.Neg(&t2d, &c.T2d)
	fp.Add(&d, &q.Z, &q.Z)
	return p.addParts(q, &c.YplusX, &c.YminusX, &t2d, &d)
}

// add sets p = q + r (9M).
func (p *point) add(q, r *point) *point {
	var c cached
	c.fromPoint(r)
	return p.addCached(q, &c)
}

// double sets p = 2q with [HWCD08 §3.3] (dbl-2008-hwcd) for a = -1:
// A = X1², B = Y1², C = 2·Z1², D = a·A = -A, E = (X1+Y1)² - A - B,
// G = D + B, F = G - C, H = D - B; X3 = E·F, Y3 = G·H, T3 = E·H, Z3 = F·G.
// It does not read T1. With needT false it skips T3 (then p.T is garbage
// and p MUST only be doubled again before any other use).
func (p *point) double(q *point, needT bool) *point {
	var a, b, c, e, f, g, h fp.Elt
	fp.Sqr(&a, &q.X)
	fp.Sqr(&b, &q.Y)
	fp.Sqr(&c, &q.Z)
	fp.Add(&c, &c, &c)
	fp.Add(&e, &q.X, &q.Y)
	fp.Sqr(&e, &e)
	fp.Sub(&e, &e, &a)
	fp.Sub(&e, &e, &b) // E = 2·X1·Y1
	fp.Sub(&g, &b, &a) // G = -A + B
	fp.Sub(&f, &g, &c)
	fp.Neg(&h, &a)
	fp.Sub(&h, &h, &b) // H = -A - B
	fp.Mul(&p.X, &e, &f)
	fp.Mul(&p.Y, &g, &h)
	if needT {
		fp.Mul(&p.T, &e, &h)
	}
	fp.Mul(&p.Z, &f, &g)
	return p
}

// toAffine sets p to the same point with Z = 1 (one inversion).
func (p *point) toAffine(q *point) *point {
	var zi fp.Elt
	fp.Inv(&zi, &q.Z)
	fp.Mul(&p.X, &q.X, &zi)
	fp.Mul(&p.Y, &q.Y, &zi)
	fp.Mul(&p.T, &p.X, &p.Y)
	p.Z = feOne
	return p
}
