package board

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
)

// windowMs is the voting window of the window tests: [opens, closes).
const (
	windowOpens  = uint64(1_800_000_000_000)
	windowCloses = windowOpens + 3_600_000
)

// TestApplyWindow: under a version-4 window the FSM judges every voting
// entry on the time of the block that will hold it (SPEC.md §3.9), fixed
// from all the stamps of its Raft entry, so replicas agree whatever the
// stamps' order: a ballot stamped inside the window shares the fate of a
// later stamp in the same Raft entry, and a close stamped before closes_at
// is accepted (without the manual close) when its block's time is later.
func TestApplyWindow(t *testing.T) {
	e := testonly.NewElection(t, "board window", testonly.Config{Voters: 6, Schedule: &ballot.Schedule{OpensAt: windowOpens, ClosesAt: windowCloses}})
	var log []replica.Entry
	add := func(cmds ...[]byte) {
		log = append(log, replica.Entry{Index: uint64(len(log) + 1), Cmds: cmds})
	}
	setup := windowOpens - 600_000
	add(encodeEntryCmd(setup, e.ManifestEntry()))
	add(encodeEntryCmd(setup, e.CredentialsEntry()))
	var cmds [][]byte
	for _, d := range e.DealEntries() {
		cmds = append(cmds, encodeEntryCmd(setup, d))
	}
	add(cmds...)
	add(encodeEntryCmd(setup+1, e.OpenEntry()))
	ballots := make([][]byte, 6)
	for v := range ballots {
		ballots[v], _, _ = e.BallotEntry(v, testonly.Pick(v%3, v%2))
	}
	add(encodeEntryCmd(windowOpens-1, ballots[0]))                                            // 5: too early
	add(encodeEntryCmd(windowOpens, ballots[0]))                                              // 6: accepted
	add(encodeEntryCmd(windowCloses-1, ballots[1]), encodeEntryCmd(windowCloses, ballots[2])) // 7: both closed
	add(encodeEntryCmd(windowCloses-2, ballots[3]))                                           // 8: 7 made no block: accepted
	// 9: an attack by a faulty proposer: bytes too short to name an
	// election, stamped inside the window, then a ballot stamped after the
	// close. The short bytes go to the default election's rules, which
	// refuse them, and MUST NOT fix the block time that judges the ballot:
	// it is refused as closed (else a ballot in a block timed after
	// closes_at is accepted, and the record fails V5.7).
	add(encodeEntryCmd(windowCloses-3, []byte("short")), encodeEntryCmd(windowCloses+1, ballots[5]))
	add(encodeEntryCmd(windowCloses-1, e.CloseEntry()), encodeEntryCmd(windowCloses+5, ballots[4])) // 10: block at closes+5: close accepted, ballot closed
	b, _ := openApplyBoard(t, t.TempDir())
	res := b.ApplyEntries(log)
	for k := 0; k < 4; k++ {
		for i, r := range res[k] {
			if r.Err != nil {
				t.Fatalf("setup entry %d command %d: %v", k, i, r.Err)
			}
		}
	}
	want := []struct {
		k, i int
		err  error
		text string
	}{
		{4, 0, bulletin.ErrNotOpenYet, "ballot at 2027-01-15T07:59:59.999Z: the election opens at 2027-01-15T08:00:00Z"},
		{5, 0, nil, ""},
		{6, 0, bulletin.ErrClosed, "the election closed at 2027-01-15T09:00:00Z"},
		{6, 1, bulletin.ErrClosed, ""},
		{7, 0, nil, ""},
		{8, 0, bulletin.ErrMalformed, ""},
		{8, 1, bulletin.ErrClosed, "the election closed"},
		{9, 0, nil, ""},
		{9, 1, bulletin.ErrClosed, "ballot after close"},
	}
	for _, w := range want {
		got := res[w.k][w.i].Err
		if (w.err == nil) != (got == nil) || (w.err != nil && !errors.Is(got, w.err)) || (got != nil && !strings.Contains(got.Error(), w.text)) {
			t.Errorf("raft entry %d command %d: %v, want %v %q", w.k+1, w.i, got, w.err, w.text)
		}
	}
	v := b.current()
	if v.rules.Phase != bulletin.PhaseClosed || v.rules.Ballots != 2 {
		t.Fatalf("phase %s with %d ballots, want closed with 2", v.rules.Phase, v.rules.Ballots)
	}
	if v.last.Time != windowCloses+5 {
		t.Fatalf("last block time %d, want %d (the Raft entry's latest stamp)", v.last.Time, windowCloses+5)
	}
	// Another replica, given the same log in other groups, agrees.
	other, _ := openApplyBoard(t, t.TempDir())
	other.ApplyEntries(log[:5])
	other.ApplyEntries(log[5:])
	sameState(t, "regrouped", stateOf(t, other), stateOf(t, b))
}

// TestApplyWindowNoManualClose: a manifest without the manual close
// refuses the authority's close before closes_at.
func TestApplyWindowNoManualClose(t *testing.T) {
	e := testonly.NewElection(t, "board window close", testonly.Config{Voters: 2, Schedule: &ballot.Schedule{OpensAt: windowOpens, ClosesAt: windowCloses}})
	b, _ := openApplyBoard(t, t.TempDir())
	at := windowOpens + 10
	var log []replica.Entry
	for _, en := range append([][]byte{e.ManifestEntry(), e.CredentialsEntry()}, append(e.DealEntries(), e.OpenEntry(), e.CloseEntry())...) {
		log = append(log, replica.Entry{Index: uint64(len(log) + 1), Cmds: [][]byte{encodeEntryCmd(at, en)}})
	}
	res := b.ApplyEntries(log)
	if err := res[len(res)-1][0].Err; !errors.Is(err, bulletin.ErrNotAuthorized) || !strings.Contains(err.Error(), "allows no manual close") {
		t.Fatalf("close before closes_at: %v", err)
	}
}

// TestAttackPostAfterClose: an honest node refuses a ballot posted from
// closes_at on (its own clock), before checking its proofs, naming the
// times; and its stamps never go back behind the last block's time even
// when its clock is slow (a new leader's may be).
func TestAttackPostAfterClose(t *testing.T) {
	e := testonly.NewElection(t, "board window submit", testonly.Config{Voters: 3, Schedule: &ballot.Schedule{OpensAt: windowOpens, ClosesAt: windowCloses, Manual: true}})
	var mu sync.Mutex
	clock := time.UnixMilli(int64(windowOpens) + 1000)
	setClock := func(ms uint64) { mu.Lock(); clock = time.UnixMilli(int64(ms)); mu.Unlock() }
	c := newTCluster(t, e.NodeKeys(), boltOpener, nil)
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	c.startAll("n1")
	c.openElection(e)
	b0, _, _ := e.BallotEntry(0, testonly.Pick(0, 0))
	c.mustAccept("a ballot in the window", b0)
	setClock(windowOpens - 5000)
	b1, _, _ := e.BallotEntry(1, testonly.Pick(1, 0))
	c.mustAccept("a ballot from a node with a slow clock", b1)
	if last := c.leader().board.current().last.Time; last != windowOpens+1000 {
		t.Fatalf("block time %d after a slow clock, want %d (held)", last, windowOpens+1000)
	}
	setClock(windowCloses)
	b2, _, _ := e.BallotEntry(2, testonly.Pick(2, 1))
	p := c.submit(b2)[0]
	if !errors.Is(p.Err, bulletin.ErrClosed) || !strings.Contains(p.Err.Error(), "closed at 2027-01-15T09:00:00Z") {
		t.Fatalf("ballot at closes_at: %v", p.Err)
	}
	if got := c.leader().board.current().rules.Ballots; got != 2 {
		t.Fatalf("%d ballots on the board, want 2", got)
	}
	setClock(windowOpens - 1)
	c.mustAccept("the close (manual close allowed)", e.CloseEntry())
}
