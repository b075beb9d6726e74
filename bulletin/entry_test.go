package bulletin

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestEntryRoundTrip(t *testing.T) {
	el := newElection(t, "entry")
	for _, e := range el.prefix(t, PhaseResult) {
		raw := e.Bytes()
		p, err := ParseEntry(raw)
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		if !bytes.Equal(p.Bytes(), raw) || p.ID() != e.ID() {
			t.Fatalf("%s: round trip differs", e.Type)
		}
		if err := p.VerifySignature(); err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
	}
}

// offsets of the envelope fields
const (
	offVersion = 0
	offType    = 1
	offFP      = 2
	offRole    = 34
	offAuthor  = 35
	offBodyLen = 67
	offBody    = 71
)

// TestEntryTamper flips every field of an entry: each change is either
// rejected by ParseEntry or by the signature check.
func TestEntryTamper(t *testing.T) {
	el := newElection(t, "tamper")
	e := el.closeE(t)
	raw := e.Bytes()
	sigOff := len(raw) - 64
	cases := []struct {
		name  string
		mut   func([]byte) []byte
		parse bool // true: ParseEntry must reject; false: signature must fail
	}{
		{"version 0", set(offVersion, 0), true},
		{"version 2", set(offVersion, 2), true},
		{"type 0", set(offType, 0), true},
		{"type 17 (the first unregistered)", set(offType, 17), true},
		{"type manifest", set(offType, byte(TypeManifest)), false},
		{"fingerprint", flip(offFP + 5), false},
		{"role 0", set(offRole, 0), true},
		{"role 6", set(offRole, 6), true},
		{"role voter", set(offRole, byte(RoleVoter)), false},
		{"author non-canonical", func(b []byte) []byte { copy(b[offAuthor:], bytes.Repeat([]byte{0xff}, 32)); return b }, true},
		{"author identity", func(b []byte) []byte { copy(b[offAuthor:], make([]byte, 32)); return b }, true},
		{"author other key", func(b []byte) []byte { copy(b[offAuthor:], el.ca.Public().Bytes()); return b }, false},
		{"body length +1", flip(offBodyLen + 3), true},
		{"body byte", flip(offBody + 5), false},
		{"sig R identity", func(b []byte) []byte { copy(b[sigOff:], make([]byte, 32)); return b }, true},
		{"sig R other point", func(b []byte) []byte { copy(b[sigOff:], group.Generator().Bytes()); return b }, false},
		{"sig s non-canonical", func(b []byte) []byte { copy(b[sigOff+32:], bytes.Repeat([]byte{0xff}, 32)); return b }, true},
		{"sig s +1", flip(sigOff + 32), false},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, true},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, true},
		{"empty", func(b []byte) []byte { return nil }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.mut(bytes.Clone(raw))
			p, err := ParseEntry(b)
			if c.parse {
				if err == nil || p != nil || !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseEntry accepted or wrong error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			if err := p.VerifySignature(); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("signature: %v", err)
			}
		})
	}
}

func set(off int, v byte) func([]byte) []byte {
	return func(b []byte) []byte { b[off] = v; return b }
}

func flip(off int) func([]byte) []byte {
	return func(b []byte) []byte { b[off] ^= 1; return b }
}

func TestEntryBodyLimits(t *testing.T) {
	el := newElection(t, "limits")
	k := el.voters[0]
	if _, err := NewEntry(TypeBallot, el.fp, RoleVoter, k.Public(), make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEntry(TypeBallot, el.fp, RoleVoter, k.Public(), make([]byte, 64<<10+1)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized ballot: %v", err)
	}
	if _, err := NewEntry(EntryType(99), el.fp, RoleVoter, k.Public(), nil); !errors.Is(err, ErrMalformed) {
		t.Fatal("unknown type accepted")
	}
	if _, err := NewEntry(TypeBallot, el.fp, RoleVoter, group.NewElement(), nil); !errors.Is(err, ErrMalformed) {
		t.Fatal("identity author accepted")
	}
	// an oversized body on the wire is rejected by ParseEntry too
	e, _ := NewEntry(TypeClose, el.fp, RoleAuthority, el.auth.Public(), nil)
	e.Body = make([]byte, 4<<10+1)
	e.Sig, _ = el.auth.Sign(el.rng, e.SigningMessage())
	if _, err := ParseEntry(e.Bytes()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized close body parsed: %v", err)
	}
	// signing with another key than the author's
	e, _ = NewEntry(TypeClose, el.fp, RoleAuthority, el.auth.Public(), nil)
	if err := e.Sign(el.rng, el.ca); err == nil {
		t.Fatal("signed with the wrong key")
	}
}

func TestEntryView(t *testing.T) {
	el := newElection(t, "view")
	e := el.ballotE(t, 0, "tr")
	seq := uint64(7)
	v := e.View(&seq, func(typ EntryType, body []byte) ([]byte, any, error) {
		var f BallotFacts
		err := json.Unmarshal(body, &f)
		return f.Tracker[:], map[string]int{"questions": 1}, err
	})
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != "ballot" || v.Role != "voter" || v.Tracker == "" || !bytes.Contains(b, []byte(`"seq":7`)) {
		t.Fatalf("view %s", b)
	}
}

func TestOpenCloseBodies(t *testing.T) {
	o := &OpenBody{JointKey: group.Generator(), Qualified: []uint16{1, 3}}
	p, err := ParseOpenBody(o.Bytes())
	if err != nil || !bytes.Equal(p.Bytes(), o.Bytes()) {
		t.Fatal(err)
	}
	bad := [][]byte{
		(&OpenBody{JointKey: group.NewElement(), Qualified: []uint16{1}}).Bytes(), // identity key
		(&OpenBody{JointKey: group.Generator(), Qualified: []uint16{3, 1}}).Bytes(),
		(&OpenBody{JointKey: group.Generator(), Qualified: []uint16{1, 1}}).Bytes(),
		(&OpenBody{JointKey: group.Generator(), Qualified: []uint16{0}}).Bytes(),
		append(o.Bytes(), 0),
	}
	for i, b := range bad {
		if _, err := ParseOpenBody(b); err == nil {
			t.Errorf("bad open body %d accepted", i)
		}
	}
	c := &CloseBody{Reason: "end"}
	if p, err := ParseCloseBody(c.Bytes()); err != nil || p.Reason != "end" {
		t.Fatal(err)
	}
	for _, b := range [][]byte{{0, 0, 0, 1, 0xff}, append(c.Bytes(), 0), {0, 0, 0}} {
		if _, err := ParseCloseBody(b); err == nil {
			t.Errorf("bad close body %x accepted", b)
		}
	}
}

func TestBatchSignatures(t *testing.T) {
	el := newElection(t, "batch")
	es := el.prefix(t, PhaseOpen)
	es[2].Sig = &schnorr.Signature{R: es[3].Sig.R, S: es[3].Sig.S}
	st := &ElectionState{}
	errs := PreCheck(seeded.Raw("b"), st, es, nil)
	for i, err := range errs {
		if (i == 2) != (err != nil) {
			t.Errorf("entry %d: %v", i, err)
		}
	}
}
