package group

import (
	"bytes"
	"testing"

	fp "github.com/cloudflare/circl/math/fp25519"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestAttackTorsionInvisible: an attacker who could feed the verifier
// edwards25519 representatives with a 4-torsion component (P + T4 instead
// of P) must not change the value of any verification equation. Every
// multi-scalar multiplication (Straus and Pippenger sizes) over tweaked
// representatives encodes to the same element, and an equation that is
// false stays false (no "true modulo torsion"). Decoding never yields
// anything but the canonical representative of a ristretto255 element
// (RFC 9496 bad encodings: TestRFC9496Vectors).
func TestAttackTorsionInvisible(t *testing.T) {
	var t4 point
	t4.X, t4.Y, t4.Z, t4.T = feSqrtM1, feZero, feOne, feZero
	var t2 point // (0, −1), order 2
	t2.X, t2.Z, t2.T = feZero, feOne, feZero
	fp.Neg(&t2.Y, &feOne)
	if !onCurve(&t4) || !onCurve(&t2) || !t4.isIdentity() || !t2.isIdentity() {
		t.Fatal("torsion points wrong, or not the ristretto255 identity")
	}
	r := seeded.Raw("torsion")
	for _, n := range []int{2, 7, 80} { // Straus and Pippenger
		es := randomElements(t, "torsion", n+2)[2:]
		sc := make([]*Scalar, n)
		tweaked := make([]*Element, n)
		for i, e := range es {
			sc[i], _ = RandomScalar(r)
			p := *fastOf(t, e)
			var q point
			tor := &t4
			if i%2 == 1 {
				tor = &t2
			}
			q.add(&p, tor)
			q.toAffine(&q)
			tweaked[i] = withDecoded(&decoded{enc: q.bytes(), pt: q, affine: true})
			if !bytes.Equal(tweaked[i].Bytes(), e.Bytes()) {
				t.Fatal("P + torsion encodes differently")
			}
		}
		want := VarTimeMultiScalarMult(sc, es)
		got := VarTimeMultiScalarMult(sc, tweaked)
		if !got.Equal(want) {
			t.Fatalf("n=%d: MSM depends on the torsion component", n)
		}
		// A false equation Σ s_i·P_i − (want + G) = 0 stays false.
		minus1 := NewScalar().Neg(ScalarFromUint64(1))
		bad := NewElement().Add(want, Generator())
		if VarTimeMultiScalarMult(append(sc, minus1), append(tweaked, bad)).IsIdentity() {
			t.Fatalf("n=%d: false equation holds with torsion", n)
		}
		if !VarTimeMultiScalarMult(append(sc, minus1), append(tweaked, want)).IsIdentity() {
			t.Fatalf("n=%d: true equation fails with torsion", n)
		}
	}
}
