package ballot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// seatsOffset returns the offset of question q's seats field (SPEC.md
// §12.1, field 9a) in m's encoding, found by encoding m with two seat
// counts and comparing.
func seatsOffset(t *testing.T, m *Manifest, q int) int {
	t.Helper()
	a := m.Bytes()
	c := *m
	c.Questions = append([]Question(nil), m.Questions...)
	c.Questions[q].Seats ^= 0x40
	b := c.Bytes()
	for i := range a {
		if a[i] != b[i] {
			return i - 3 // the u32's last byte differs
		}
	}
	t.Fatal("the seats do not change the encoding")
	return 0
}

// TestAttackManifestSeats: a version-3 manifest whose ranked question
// elects 0 seats, as many seats as options, or more, is refused by the
// decoder (SPEC.md §12.1: 1..#options−1), by the constructor and by the
// authoring form, which also refuses seats on a question of another kind;
// the default (2, or 1 with two options) fills an authoring form that
// names none. A decoded manifest's seats survive the round trip.
func TestAttackManifestSeats(t *testing.T) {
	rng := seeded.New("manifest seats")
	m := newTestManifest(t, rng, "seats", kindQuestions)
	if got := m.Questions[1].Seats; got != DefaultSeats(5) || got != 2 {
		t.Fatalf("default seats of a 5-option ranking: %d", got)
	}
	off := seatsOffset(t, m, 1)
	for _, seats := range []uint32{0, 5, 6, 64, 1 << 31, 0xffffffff} {
		b := m.Bytes()
		binary.BigEndian.PutUint32(b[off:], seats)
		if _, err := ParseManifest(b); !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), "seats") {
			t.Errorf("decoder on %d seats: %v", seats, err)
		}
	}
	for _, seats := range []uint32{1, 3, 4} {
		b := m.Bytes()
		binary.BigEndian.PutUint32(b[off:], seats)
		got, err := ParseManifest(b)
		if err != nil || got.Questions[1].Seats != seats || string(got.Bytes()) != string(b) {
			t.Errorf("decoder on %d seats: %v", seats, err)
		}
	}

	qs := append([]Question(nil), kindQuestions...)
	qs[1].Seats = 5
	if _, err := NewManifest(m.ElectionID, m.Title, qs, m.Authority, m.CredentialAuthority, m.Trustees, m.Threshold, m.BoardNodes, m.BoardQuorum); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("constructor with 5 seats of 5 options: %v", err)
	}
	qs = append([]Question(nil), kindQuestions...)
	qs[2].Seats = 1
	if _, err := NewManifest(m.ElectionID, m.Title, qs, m.Authority, m.CredentialAuthority, m.Trustees, m.Threshold, m.BoardNodes, m.BoardQuorum); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("constructor with seats on a score question: %v", err)
	}

	form := func(edit func(q []map[string]any)) error {
		raw, err := MarshalManifestJSON(m)
		if err != nil {
			t.Fatal(err)
		}
		var j map[string]any
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatal(err)
		}
		var qs []map[string]any
		for _, q := range j["questions"].([]any) {
			qs = append(qs, q.(map[string]any))
		}
		edit(qs)
		raw, _ = json.Marshal(j)
		_, err = ParseManifestJSON(raw)
		return err
	}
	if err := form(func([]map[string]any) {}); err != nil {
		t.Fatalf("the authoring form of a valid manifest: %v", err)
	}
	for name, edit := range map[string]func(q []map[string]any){
		"0 seats":              func(q []map[string]any) { q[1]["seats"] = 0 },
		"5 seats of 5 options": func(q []map[string]any) { q[1]["seats"] = 5 },
		"negative seats":       func(q []map[string]any) { q[1]["seats"] = -1 },
		"fractional seats":     func(q []map[string]any) { q[1]["seats"] = 1.5 },
		"seats on a score":     func(q []map[string]any) { q[2]["seats"] = 1 },
		"seats on a select":    func(q []map[string]any) { q[0]["seats"] = 1 },
		"seats on a write-in":  func(q []map[string]any) { q[3]["seats"] = 1 },
	} {
		if err := form(edit); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("authoring form with %s: %v", name, err)
		}
	}
	if err := form(func(q []map[string]any) { delete(q[1], "seats") }); err != nil {
		t.Errorf("authoring form without seats: %v", err)
	}
}
