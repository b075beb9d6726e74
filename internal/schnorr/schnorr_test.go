package schnorr

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/urna-vote/urna/internal/group"
)

type seeded struct {
	seed string
	n    byte
}

func (r *seeded) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 32 {
		h := sha256.Sum256([]byte{r.n})
		h = sha256.Sum256(append([]byte(r.seed), h[:]...))
		r.n++
		copy(p[i:], h[:])
	}
	return len(p), nil
}

func TestSignVerify(t *testing.T) {
	k, err := GenerateKey(&seeded{seed: "k"})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := k.Sign(&seeded{seed: "n"}, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(k.Public(), []byte("hello"), sig); err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseSignature(sig.Bytes())
	if err != nil || Verify(k.Public(), []byte("hello"), parsed) != nil {
		t.Fatalf("parse round trip: %v", err)
	}
	other, _ := GenerateKey(&seeded{seed: "o"})
	bad := []struct {
		name string
		pk   *group.Element
		msg  string
		sig  *Signature
	}{
		{"other message", k.Public(), "hellO", sig},
		{"other key", other.Public(), "hello", sig},
		{"identity key", group.NewElement(), "hello", sig},
		{"tweaked s", k.Public(), "hello", &Signature{R: sig.R, S: group.NewScalar().Add(sig.S, group.ScalarFromUint64(1))}},
		{"tweaked R", k.Public(), "hello", &Signature{R: group.NewElement().Add(sig.R, group.Generator()), S: sig.S}},
	}
	for _, b := range bad {
		if err := Verify(b.pk, []byte(b.msg), b.sig); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Verify = %v, want ErrInvalid", b.name, err)
		}
	}
	// The equation terms sum to the identity for a good signature.
	gc, terms := Equation(k.Public(), []byte("hello"), sig)
	sc := []*group.Scalar{gc}
	pts := []*group.Element{group.Generator()}
	for _, tm := range terms {
		sc, pts = append(sc, tm.S), append(pts, tm.P)
	}
	if !group.VarTimeMultiScalarMult(sc, pts).IsIdentity() {
		t.Fatal("Equation terms do not cancel")
	}
}

func TestParseRejects(t *testing.T) {
	k, _ := GenerateKey(&seeded{seed: "k"})
	sig, _ := k.Sign(&seeded{seed: "n"}, nil)
	b := sig.Bytes()
	ident := append(make([]byte, 32), b[32:]...)
	unreduced := append(append([]byte{}, b[:32]...), make([]byte, 32)...)
	unreduced[63] = 0xff
	for name, in := range map[string][]byte{"short": b[:63], "long": append(append([]byte{}, b...), 0), "identity R": ident, "unreduced s": unreduced} {
		if _, err := ParseSignature(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewPrivateKey(group.NewScalar()); err == nil {
		t.Error("zero key accepted")
	}
}
