package ballot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestWeightedCredentialList: the version-2 encoding (SPEC.md §5.3) round
// trips, sorts by credential with the weights following, and leaves the
// version-1 encoding byte for byte as it was.
func TestWeightedCredentialList(t *testing.T) {
	pts := pointsFrom(t, seeded.Raw("weighted-list"), 3)
	roll := [32]byte{0xAA, 1, 2}
	l, err := NewWeightedCredentialList(roll, pts, []uint32{5, 1, MaxWeight})
	if err != nil {
		t.Fatal(err)
	}
	b := l.Bytes()
	if b[0] != CredentialListWeighted || !bytes.Equal(b[1:33], roll[:]) || binary.BigEndian.Uint32(b[33:]) != 3 || len(b) != 1+32+4+3*36 {
		t.Fatalf("layout % x", b[:40])
	}
	p, err := ParseCredentialList(b)
	if err != nil || !bytes.Equal(p.Bytes(), b) || p.Version() != CredentialListWeighted || p.Roll != roll {
		t.Fatalf("round trip: %v", err)
	}
	for i, c := range pts {
		k := slices.IndexFunc(p.Credentials, func(e *group.Element) bool { return e.Equal(c) })
		if want := []uint32{5, 1, MaxWeight}[i]; k < 0 || p.Weight(k) != want {
			t.Fatalf("credential %d: weight %d, want %d", i, p.Weight(k), want)
		}
	}
	if p.TotalWeight() != 5+1+MaxWeight {
		t.Fatalf("total weight %d", p.TotalWeight())
	}
	// Version 1 is unchanged: u32 count || elements, weight 1 each.
	u, _ := NewCredentialList(pts)
	ub := u.Bytes()
	if binary.BigEndian.Uint32(ub) != 3 || len(ub) != 4+3*32 || u.Version() != CredentialListUnweighted || u.Weight(0) != 1 || u.TotalWeight() != 3 {
		t.Fatal("version-1 encoding changed")
	}
}

// TestWeightedCredentialListRejects: every malformed weighted list is
// refused with ErrInvalidCredentialList or a decoding error.
func TestWeightedCredentialListRejects(t *testing.T) {
	pts := pointsFrom(t, seeded.Raw("weighted-reject"), 2)
	for _, w := range [][]uint32{{0, 1}, {1, MaxWeight + 1}, {1}} {
		if _, err := NewWeightedCredentialList([32]byte{}, pts, w); !errors.Is(err, ErrInvalidCredentialList) {
			t.Errorf("weights %v: %v", w, err)
		}
	}
	l, _ := NewWeightedCredentialList([32]byte{}, pts, []uint32{2, 3})
	good := l.Bytes()
	weightAt := func(i int) int { return 1 + 32 + 4 + i*36 + 32 }
	set := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	swapped := bytes.Clone(good)
	copy(swapped[37:37+36], good[37+36:])
	copy(swapped[37+36:], good[37:37+36])
	cases := map[string][]byte{
		"weight 0":               set(weightAt(0), 0),
		"weight above the bound": set(weightAt(1), MaxWeight+1),
		"weight 2^32-1":          set(weightAt(1), 0xFFFFFFFF),
		"unsorted":               swapped,
		"duplicate":              append(set(33, 3), good[37:37+36]...),
		"count 0":                good[:37:37],
		"count too large":        set(33, 3),
		"truncated":              good[:len(good)-1],
		"trailing byte":          append(bytes.Clone(good), 0),
		"version 1 byte":         append([]byte{1}, good[1:]...),
		"version 3":              append([]byte{3}, good[1:]...),
		"no roll":                {CredentialListWeighted},
		"empty":                  {},
	}
	for name, b := range cases {
		if _, err := ParseCredentialList(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestElectorate: credentials registered by the list and by late entries,
// with their weights; a credential never twice.
func TestElectorate(t *testing.T) {
	pts := pointsFrom(t, seeded.Raw("electorate"), 4)
	first, _ := NewCredentialList(pts[:2])
	late, _ := NewWeightedCredentialList([32]byte{}, pts[2:], []uint32{3, 4})
	again, _ := NewWeightedCredentialList([32]byte{}, pts[1:3], []uint32{9, 9})
	e := NewElectorate()
	if err := e.Add(first); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(late); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(again); !errors.Is(err, ErrInvalidCredentialList) {
		t.Fatalf("a registered credential again: %v", err)
	}
	if e.Len() != 4 || e.TotalWeight() != 1+1+3+4 || !e.Contains(pts[3]) {
		t.Fatalf("len %d total %d", e.Len(), e.TotalWeight())
	}
	if w, ok := e.Weight([32]byte(pts[2].Bytes())); !ok || w != 3 {
		t.Fatalf("weight %d %v", w, ok)
	}
	if w, ok := e.Weight([32]byte(pts[0].Bytes())); !ok || w != 1 {
		t.Fatalf("weight %d %v", w, ok)
	}
}

// TestCounterWeights: maxCount (V10.6) is the sum of the weights of the
// credentials with a counted ballot; a revote does not add its weight twice.
func TestCounterWeights(t *testing.T) {
	c := NewCounter()
	add := func(cred byte, tr byte, w uint32) {
		c.Add(CountEntry{Credential: [32]byte{cred}, Tracker: Tracker{tr}, Valid: true, Weight: w})
	}
	add(1, 1, 5)
	add(2, 2, 0) // reads as 1
	add(1, 3, 5) // revote
	c.Add(CountEntry{Credential: [32]byte{3}, Tracker: Tracker{4}, Valid: false, Weight: 100})
	if c.Counted() != 2 || c.MaxCount() != 6 {
		t.Fatalf("counted %d, maxCount %d", c.Counted(), c.MaxCount())
	}
}
