package ballot

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestAudit(t *testing.T) {
	e := newTestElection(t, "audit", shapes, 1)
	rng := seeded.Raw("audit-ballots")
	b, s := e.encrypt(t, rng, 0, [][]uint32{{3}, {4, 1}, {}, {2}})
	o, err := b.Open(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyOpening(e.m, e.pk, b, o); err != nil {
		t.Fatal(err)
	}
	if got := o.Selections(e.m); !slices.Equal(got[0], []string{"d"}) || !slices.Equal(got[1], []string{"b", "e"}) || len(got[2]) != 0 {
		t.Fatalf("selections %v", got)
	}
	ab := &AuditedBallot{Ballot: b, Opening: o}
	enc := ab.Bytes()
	p, err := ParseAuditedBallot(enc)
	if err != nil || !bytes.Equal(p.Bytes(), enc) {
		t.Fatal("audited ballot round trip", err)
	}
	if err := VerifyOpening(e.m, e.pk, p.Ballot, p.Opening); err != nil {
		t.Fatal(err)
	}

	other, s2 := e.encrypt(t, rng, 0, [][]uint32{{3}, {4, 1}, {}, {2}})
	if _, err := b.Open(s2); !errors.Is(err, ErrOpeningMismatch) {
		t.Error("opened a ballot with another ballot's secrets")
	}
	o2, _ := other.Open(s2)
	if err := VerifyOpening(e.m, e.pk, b, o2); !errors.Is(err, ErrOpeningMismatch) {
		t.Error("another ballot's opening (same choices) accepted")
	}
	clone := func() *Opening {
		c, _ := b.Open(s)
		return c
	}
	wrongR := clone()
	wrongR.Randomness[1][4] = group.NewScalar().Add(wrongR.Randomness[1][4], group.ScalarFromUint64(1))
	lie := clone()
	lie.Choices[0] = []uint32{2}
	lie2 := clone()
	lie2.Choices[2] = []uint32{0}
	short := clone()
	short.Randomness = short.Randomness[:3]
	for name, op := range map[string]*Opening{"wrong randomness": wrongR, "claims another choice": lie, "claims an extra choice": lie2, "missing question": short, "nil": nil} {
		if err := VerifyOpening(e.m, e.pk, b, op); !errors.Is(err, ErrOpeningMismatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Decoding: bad flag, truncation, trailing bytes, shape mismatch.
	flagOff := 4 + len(b.raw) + 4 + 4
	badFlag := bytes.Clone(enc)
	badFlag[flagOff] = 2
	shape := bytes.Clone(enc)
	shape[4+len(b.raw)+3] = 3
	for name, x := range map[string][]byte{"flag 2": badFlag, "trailing": append(bytes.Clone(enc), 0), "truncated": enc[:len(enc)-1], "question count": shape, "empty": nil} {
		if a, err := ParseAuditedBallot(x); err == nil || a != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
