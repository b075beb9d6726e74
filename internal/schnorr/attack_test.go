package schnorr

import (
	"encoding/binary"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestAttackSignature: the challenge is SPEC §2.6's (X, R, msg, each
// length-prefixed), so a signature cannot move to another key or message;
// R = identity and a non-canonical s do not decode; a signature under the
// identity key (which anyone can "sign" for with s = k, any R = k·G) is
// refused.
func TestAttackSignature(t *testing.T) {
	rng := seeded.New("schnorr attack")
	k, _ := GenerateKey(rng)
	msg := []byte("ballot envelope")
	sig, _ := k.Sign(rng, msg)
	item := func(b, x []byte) []byte { return append(binary.BigEndian.AppendUint32(b, uint32(len(x))), x...) }
	enc := item(item(item(nil, k.Public().Bytes()), sig.R.Bytes()), msg)
	c := group.HashToScalar(enc, []byte("urna/v1/schnorr-signature"))
	if !group.NewElement().ScalarBaseMult(sig.S).Equal(group.NewElement().Add(sig.R, group.NewElement().ScalarMult(c, k.Public()))) {
		t.Fatal("signature does not verify under SPEC §2.6's challenge")
	}
	other, _ := GenerateKey(rng)
	if Verify(other.Public(), msg, sig) == nil || Verify(k.Public(), []byte("ballot envelopf"), sig) == nil {
		t.Error("signature moved to another key or message")
	}
	raw := sig.Bytes()
	clear(raw[:32])
	if _, err := ParseSignature(raw); err == nil {
		t.Error("identity R decodes")
	}
	raw = sig.Bytes()
	for i := 32; i < 64; i++ {
		raw[i] = 0xff
	}
	if _, err := ParseSignature(raw); err == nil {
		t.Error("non-canonical s decodes")
	}
	w, _ := group.RandomNonZeroScalar(rng)
	forged := &Signature{R: group.NewElement().ScalarBaseMult(w), S: w}
	if Verify(group.NewElement(), msg, forged) == nil {
		t.Error("signature under the identity key accepted")
	}
}
