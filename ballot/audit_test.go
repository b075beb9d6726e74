package ballot

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// auditChoices are the choices of the ballots the audit tests open.
var auditChoices = [][]uint32{{3}, {4, 1}, {}, {2}}

// auditFixture is an election of shapes (seed) and a ballot of auditChoices
// drawn from rng, seeded with ballotSeed, which the test may draw from again.
func auditFixture(t *testing.T, seed, ballotSeed string) (e *testElection, rng *seeded.Reader, b *Ballot, s *Secrets) {
	t.Helper()
	e = newTestElection(t, seed, shapes, 1)
	rng = seeded.Raw(ballotSeed)
	b, s = e.encrypt(t, rng, 0, auditChoices)
	return e, rng, b, s
}

func TestAudit(t *testing.T) {
	e, rng, b, s := auditFixture(t, "audit", "audit-ballots")
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

	other, s2 := e.encrypt(t, rng, 0, auditChoices)
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

// TestAuditUnlinked covers the audit of protocol 1.2 (SPEC.md §7.3): it
// carries the ballot's tracker but neither its credential nor its proofs,
// round-trips, verifies by re-encryption, and every forged opening fails.
func TestAuditUnlinked(t *testing.T) {
	e, _, b, s := auditFixture(t, "audit-v12", "audit-1.2-ballots")
	a, err := b.Audit(s)
	if err != nil {
		t.Fatal(err)
	}
	enc := a.Bytes()
	if a.Tracker() != b.Tracker() || TrackerOf(b.Bytes()) != b.Tracker() {
		t.Fatal("the audit's tracker is not the ballot's")
	}
	if bytes.Contains(enc, b.Credential().Bytes()) {
		t.Fatal("the audit carries the credential")
	}
	p, err := ParseAudit(enc)
	if err != nil || !bytes.Equal(p.Bytes(), enc) || p.Tracker() != b.Tracker() || p.Fingerprint() != e.m.Fingerprint() {
		t.Fatal("audit round trip", err)
	}
	if err := VerifyAudit(e.m, e.pk, p); err != nil {
		t.Fatal(err)
	}
	if got := p.Opening.Selections(e.m); !slices.Equal(got[1], []string{"b", "e"}) {
		t.Fatalf("selections %v", got)
	}
	if _, err := b.Audit(nil); !errors.Is(err, ErrOpeningMismatch) {
		t.Error("audit without the secrets")
	}
	forge := func(edit func(*Audit)) *Audit {
		c, err := ParseAudit(enc)
		if err != nil {
			t.Fatal(err)
		}
		edit(c)
		return c
	}
	for name, c := range map[string]struct {
		a    *Audit
		want error
	}{
		"wrong randomness": {forge(func(a *Audit) {
			a.Opening.Randomness[1][4] = group.NewScalar().Add(a.Opening.Randomness[1][4], group.ScalarFromUint64(1))
		}), ErrOpeningMismatch},
		"claims another choice": {forge(func(a *Audit) { a.Opening.Choices[0] = []uint32{2} }), ErrOpeningMismatch},
		"claims an extra one":   {forge(func(a *Audit) { a.Opening.Choices[2] = []uint32{0} }), ErrOpeningMismatch},
		"breaks a rule":         {forge(func(a *Audit) { a.Opening.Choices[0] = []uint32{} }), ErrOpeningMismatch},
		"another election":      {forge(func(a *Audit) { a.fingerprint[0] ^= 1 }), ErrShape},
	} {
		if err := VerifyAudit(e.m, e.pk, c.a); !errors.Is(err, c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := newTestElection(t, "audit-v12-other", shapes[:2], 1)
	if err := VerifyAudit(other.m, other.pk, p); !errors.Is(err, ErrShape) {
		t.Errorf("audit against another manifest: %v", err)
	}
	// Decoding: bad flag, truncation, trailing bytes, shape mismatch, identity α.
	choicesLen := len(enc) - len(a.Opening.Bytes())
	badFlag := bytes.Clone(enc)
	badFlag[choicesLen+8] = 2
	shape := bytes.Clone(enc)
	shape[choicesLen+3] = 3
	idAlpha := bytes.Clone(enc)
	copy(idAlpha[32+4+4:], make([]byte, 32))
	for name, x := range map[string][]byte{"flag 2": badFlag, "trailing": append(bytes.Clone(enc), 0), "truncated": enc[:len(enc)-1],
		"question count": shape, "identity alpha": idAlpha, "empty": nil, "a ballot": b.Bytes()} {
		if a, err := ParseAudit(x); err == nil || a != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
