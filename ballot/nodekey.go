package ballot

import (
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
)

// Ed25519 public keys of board nodes and witnesses (SPEC.md §4.1, the
// node-key rule): a key is valid only if it is the canonical encoding of a
// point of prime order ℓ. The decoding is RFC 8032 §5.1.3 exactly, with no
// leniency:
//
//  1. y = the 255 low bits (little-endian), x_0 = bit 255; y ≥ p fails;
//  2. u = y² − 1, v = d·y² + 1, x = u·v³·(u·v⁷)^((p−5)/8) mod p;
//     if v·x² = u keep x, if v·x² = −u set x = x·2^((p−1)/4), else fail;
//  3. x = 0 with x_0 = 1 fails; if x mod 2 ≠ x_0 set x = p − x;
//
// and the point A = (x, y) must satisfy [ℓ]A = O with A ≠ O. That rejects
// the identity, the seven other points of small order (whose "signatures"
// anyone can forge) and every mixed-order point. The arithmetic here is
// variable-time: keys are public.

var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD = func() *big.Int { // −121665 / 121666 mod p
		n := new(big.Int).Sub(edP, big.NewInt(121665))
		inv := new(big.Int).ModInverse(big.NewInt(121666), edP)
		return n.Mul(n, inv).Mod(n, edP)
	}()
	edL, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	// sqrt(−1) = 2^((p−1)/4) mod p
	edSqrtM1 = new(big.Int).Exp(big.NewInt(2), new(big.Int).Rsh(new(big.Int).Sub(edP, big.NewInt(1)), 2), edP)
)

// CheckEd25519Key applies the node-key rule (SPEC.md §4.1) to a 32-byte
// Ed25519 public key: nil if it is the canonical encoding of a point of
// prime order, otherwise an error saying which part failed.
func CheckEd25519Key(key []byte) error {
	if len(key) != NodeKeySize {
		return errors.New("is not 32 bytes")
	}
	// The check costs about 2 ms (big.Int arithmetic); manifests are parsed
	// again and again with the same few keys, so verdicts are remembered.
	if err, ok := keyVerdicts.Load(string(key)); ok {
		return err.(keyVerdict).err
	}
	err := checkEd25519Key(key)
	if keyVerdictCount.Add(1) <= maxKeyVerdicts {
		keyVerdicts.Store(string(key), keyVerdict{err})
	}
	return err
}

type keyVerdict struct{ err error }

const maxKeyVerdicts = 4096

var (
	keyVerdicts     sync.Map // string(key) → keyVerdict
	keyVerdictCount atomic.Int64
)

func checkEd25519Key(key []byte) error {
	a, err := decodeEd25519(key)
	if err != nil {
		return err
	}
	if a.isIdentity() {
		return errKeyIdentity
	}
	if a.mul(big.NewInt(8)).isIdentity() {
		return errKeySmallOrder
	}
	if !a.mul(edL).isIdentity() {
		return errKeyMixedOrder
	}
	return nil
}

// decodeEd25519 is RFC 8032 §5.1.3 without leniency (steps 1–3 above).
func decodeEd25519(key []byte) (edPoint, error) {
	le := make([]byte, 32)
	for i := range le {
		le[i] = key[31-i]
	}
	x0 := le[0] >> 7
	le[0] &= 0x7f
	y := new(big.Int).SetBytes(le)
	if y.Cmp(edP) >= 0 {
		return edPoint{}, errKeyNotCanonical
	}
	mod := func(z *big.Int) *big.Int { return z.Mod(z, edP) }
	y2 := mod(new(big.Int).Mul(y, y))
	u := mod(new(big.Int).Sub(y2, big.NewInt(1)))
	v := mod(new(big.Int).Add(new(big.Int).Mul(edD, y2), big.NewInt(1)))
	v3 := mod(new(big.Int).Mul(new(big.Int).Mul(v, v), v))
	v7 := mod(new(big.Int).Mul(new(big.Int).Mul(v3, v3), v))
	e := new(big.Int).Rsh(new(big.Int).Sub(edP, big.NewInt(5)), 3)
	x := new(big.Int).Exp(mod(new(big.Int).Mul(u, v7)), e, edP)
	x = mod(x.Mul(x, mod(new(big.Int).Mul(u, v3))))
	vx2 := mod(new(big.Int).Mul(v, new(big.Int).Mul(x, x)))
	switch {
	case vx2.Cmp(u) == 0:
	case vx2.Cmp(mod(new(big.Int).Neg(u))) == 0:
		x = mod(x.Mul(x, edSqrtM1))
	default:
		return edPoint{}, errKeyNotOnCurve
	}
	if x.Sign() == 0 && x0 == 1 {
		return edPoint{}, errKeyNotCanonical
	}
	if uint8(x.Bit(0)) != x0 {
		x.Sub(edP, x)
	}
	return edPoint{x, y, big.NewInt(1)}, nil
}

// edPoint is a point of edwards25519 in projective coordinates (X:Y:Z).
type edPoint struct{ x, y, z *big.Int }

func (a edPoint) isIdentity() bool {
	// (X:Y:Z) = (0:1:1) projectively: X = 0 and Y = Z.
	return a.x.Sign() == 0 && a.y.Cmp(a.z) == 0
}

// add is the complete addition of twisted Edwards curves with a = −1
// (Bernstein–Birkner–Joye–Lange–Peters, projective coordinates).
func (a edPoint) add(b edPoint) edPoint {
	m := func(x, y *big.Int) *big.Int { z := new(big.Int).Mul(x, y); return z.Mod(z, edP) }
	A := m(a.z, b.z)
	B := m(A, A)
	C := m(a.x, b.x)
	D := m(a.y, b.y)
	E := m(m(edD, C), D)
	F := new(big.Int).Sub(B, E)
	G := new(big.Int).Add(B, E)
	s := m(new(big.Int).Add(a.x, a.y), new(big.Int).Add(b.x, b.y))
	s.Sub(s, C).Sub(s, D)
	return edPoint{m(m(A, F), s), m(m(A, G), new(big.Int).Add(D, C)), m(F, G)}
}

// mul returns [k]a by double-and-add, k > 0.
func (a edPoint) mul(k *big.Int) edPoint {
	r := edPoint{big.NewInt(0), big.NewInt(1), big.NewInt(1)}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = r.add(r)
		if k.Bit(i) == 1 {
			r = r.add(a)
		}
	}
	// Normalize negative intermediate values (F may be negative before mod).
	r.x.Mod(r.x, edP)
	r.y.Mod(r.y, edP)
	r.z.Mod(r.z, edP)
	return r
}
