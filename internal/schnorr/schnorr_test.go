package schnorr

import (
	"errors"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestSignVerify(t *testing.T) {
	k, err := GenerateKey(seeded.New("k"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := k.Sign(seeded.New("n"), []byte("hello"))
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
	other, _ := GenerateKey(seeded.New("o"))
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
	k, _ := GenerateKey(seeded.New("k"))
	sig, _ := k.Sign(seeded.New("n"), nil)
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
