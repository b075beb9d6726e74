package ballot

import (
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestSelectCounted(t *testing.T) {
	cred := func(i byte) [32]byte { return [32]byte{i} }
	tr := func(i byte) Tracker { return Tracker{i} }
	entries := []CountEntry{
		{Credential: cred(1), Tracker: tr(1), Valid: true},                 // 0: superseded by 4
		{Credential: cred(2), Tracker: tr(2), Valid: true},                 // 1: counted
		{Credential: cred(3), Tracker: tr(3), Valid: true, Audited: true},  // 2: audited
		{Credential: cred(3), Tracker: tr(3), Valid: true},                 // 3: cast after its audit: rejected
		{Credential: cred(1), Tracker: tr(4), Valid: true},                 // 4: superseded by... no: counted
		{Credential: cred(1), Tracker: tr(5), Valid: false},                // 5: invalid, does not supersede 4
		{Credential: cred(2), Tracker: tr(2), Valid: true},                 // 6: replay of 1: rejected, 1 still counts
		{Credential: cred(4), Tracker: tr(6), Valid: true},                 // 7: counted
		{Credential: cred(4), Tracker: tr(6), Valid: true, Audited: true},  // 8: audit of a cast tracker: never counts
		{Credential: cred(5), Tracker: tr(7), Valid: false, Audited: true}, // 9: invalid audit: burns nothing
		{Credential: cred(5), Tracker: tr(7), Valid: true},                 // 10: counted
	}
	want := []CountStatus{Superseded, Counted, Audited, ReusedTracker, Counted, Invalid, ReusedTracker, Counted, Audited, Invalid, Counted}
	if got := SelectCounted(entries); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if got := CountedIndexes(entries); !slices.Equal(got, []int{1, 4, 7, 10}) {
		t.Fatalf("CountedIndexes = %v", got)
	}
	if CountedIndexes(nil) != nil {
		t.Fatal("empty board counts something")
	}
	// The streaming form: the same statuses as they come, and the entry each
	// counted one replaces.
	c := NewCounter()
	wantPrev := []int{-1, -1, -1, -1, 0, -1, -1, -1, -1, -1, -1}
	for i, e := range entries {
		st, prev := c.Add(e)
		if want := want[i]; want == Superseded {
			want = Counted // superseded only later, by entry 4
			if st != want {
				t.Errorf("entry %d: Add = %v, want %v", i, st, want)
			}
		} else if st != want {
			t.Errorf("entry %d: Add = %v, want %v", i, st, want)
		}
		if prev != wantPrev[i] {
			t.Errorf("entry %d supersedes %d, want %d", i, prev, wantPrev[i])
		}
	}
	if c.Counted() != 4 {
		t.Errorf("Counted = %d, want 4", c.Counted())
	}
}

func TestCountEntriesFromBallots(t *testing.T) {
	e := newTestElection(t, "count", shapes[:1], 2)
	rng := seeded.Raw("count-ballots")
	b1, s1 := e.encrypt(t, rng, 0, [][]uint32{{1}})
	b2, _ := e.encrypt(t, rng, 0, [][]uint32{{2}})
	o, _ := b1.Open(s1)
	entries := []CountEntry{AuditEntry(&AuditedBallot{Ballot: b1, Opening: o}, true), CastEntry(b1, true), CastEntry(b2, true)}
	if got := SelectCounted(entries); !slices.Equal(got, []CountStatus{Audited, ReusedTracker, Counted}) {
		t.Fatal(got)
	}
	if entries[2].Credential != [32]byte(e.creds[0].Public().Bytes()) {
		t.Fatal("CastEntry credential")
	}
}
