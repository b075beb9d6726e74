package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
	"github.com/urna-vote/urna/internal/testonly"
)

// applyLog is a committed Raft log for the apply tests: the commands of
// each entry, with gaps in the indexes (raft's own and membership entries
// never reach the FSM).
func applyLog(t *testing.T) []replica.Entry {
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: 8})
	var log []replica.Entry
	idx := uint64(3)
	add := func(groups ...[][]byte) {
		var cmds [][]byte
		for _, g := range groups {
			cmds = append(cmds, g...)
		}
		log = append(log, replica.Entry{Index: idx, Cmds: cmds})
		idx += 1 + idx%3 // gaps of 0 to 2 indexes
	}
	ms := uint64(1_700_000_000_000)
	// entries is one command per entry, all stamped ms.
	entries := func(ms uint64, es ...[]byte) [][]byte {
		var cmds [][]byte
		for _, e := range es {
			cmds = append(cmds, encodeEntryCmd(ms, e))
		}
		return cmds
	}
	add(entries(ms, e.ManifestEntry()))
	add(entries(ms+5, e.CredentialsEntry()), entries(ms+3, e.DealEntries()...))
	add(entries(ms+9, e.ConfirmationEntries()...))
	add(entries(ms+10, e.OpenEntry()))
	var ballots [][]byte
	for v := range 8 {
		en, _, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
		ballots = append(ballots, en)
	}
	add(entries(ms+20, ballots[0], ballots[1]), entries(ms+15, ballots[2]))
	// Commands whose entries are all rejected (duplicate, malformed): no block.
	add(entries(ms+30, ballots[0], []byte("not an entry")))
	// A rejected cosign (unknown node) next to accepted ballots.
	add([][]byte{encodeCosignCmd(&cosignCmd{node: "nobody", size: 1, sig: make([]byte, 64)})}, entries(ms+25, ballots[3]))
	// Time going backwards: the block time never decreases.
	add(entries(ms+1, ballots[4], ballots[5]))
	add(entries(ms+40, ballots[6]), entries(ms+41, ballots[6], ballots[7]))
	return log
}

func openApplyBoard(t *testing.T, dir string) (*Board, store.Store) {
	t.Helper()
	st, err := store.OpenBolt(filepath.Join(dir, "state.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return openBoardOn(t, st), st
}

// restartApplyBoard closes b and its store st, opens a fresh board over
// dir and wants it to resume at applied index want after what happened.
func restartApplyBoard(t *testing.T, b *Board, st store.Store, dir string, want uint64, after string) *Board {
	t.Helper()
	_ = b.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ = openApplyBoard(t, dir)
	if got := b.AppliedIndex(); got != want {
		t.Fatalf("applied index %d after %s, want %d", got, after, want)
	}
	return b
}

func openBoardOn(t *testing.T, st store.Store) *Board {
	t.Helper()
	b, err := Open(Config{NodeID: "n1", Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// applyState is everything a replica's state is compared on: the store's
// snapshot stream (every table, every namespace, the applied index), the
// block hashes and the newest checkpoint root.
type applyState struct {
	snapshot []byte
	blocks   []string
	root     string
	applied  uint64
}

func stateOf(t *testing.T, b *Board) applyState {
	t.Helper()
	ctx := context.Background()
	v := b.current()
	out := applyState{snapshot: storetest.SnapshotBytes(t, b.st), applied: b.AppliedIndex()}
	if v.last != nil {
		out.root = fmt.Sprintf("%x", v.last.LogRoot)
	}
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		for h := range v.blocks {
			hd, err := readBlock(tx, h)
			if err != nil {
				return err
			}
			out.blocks = append(out.blocks, fmt.Sprintf("%x", hd.Hash()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameState(t *testing.T, what string, got, want applyState) {
	t.Helper()
	if got.applied != want.applied || got.root != want.root || fmt.Sprint(got.blocks) != fmt.Sprint(want.blocks) {
		t.Fatalf("%s: applied %d root %s blocks %v, want applied %d root %s blocks %v", what, got.applied, got.root, got.blocks, want.applied, want.root, want.blocks)
	}
	if !bytes.Equal(got.snapshot, want.snapshot) {
		t.Fatalf("%s: store snapshots differ (%d and %d bytes)", what, len(got.snapshot), len(want.snapshot))
	}
}

func resultString(r replica.Result) string {
	return fmt.Sprintf("seq=%d value=%x err=%v", r.Seq, r.Value, r.Err)
}

// TestApplyEntriesGrouping: however raft groups committed entries, every
// replica ends in the same state, bit for bit, with one block per Raft
// entry, and returns the same results as one-at-a-time application.
func TestApplyEntriesGrouping(t *testing.T) {
	log := applyLog(t)
	ref, _ := openApplyBoard(t, t.TempDir())
	var want [][]replica.Result
	for _, e := range log {
		want = append(want, ref.ApplyBatch(e.Index, e.Cmds))
	}
	wantState := stateOf(t, ref)
	if n := len(wantState.blocks); n != len(log)-1 {
		t.Fatalf("%d blocks for %d raft entries (one without accepted entries)", n, len(log))
	}
	sameUnderGroupings(t, log, want, wantState, 1, 2, 3, 4, len(log)-1, len(log))
}

// sameUnderGroupings applies log to a fresh board in Raft groups of each
// size and wants the results want and the state wantState of applying it
// one entry at a time: replicas agree whatever raft's grouping.
func sameUnderGroupings(t *testing.T, log []replica.Entry, want [][]replica.Result, wantState applyState, sizes ...int) {
	t.Helper()
	for _, size := range sizes {
		t.Run(fmt.Sprintf("groups of %d", size), func(t *testing.T) {
			b, _ := openApplyBoard(t, t.TempDir())
			var got [][]replica.Result
			for lo := 0; lo < len(log); lo += size {
				got = append(got, b.ApplyEntries(log[lo:min(lo+size, len(log))])...)
			}
			for k := range want {
				for i := range want[k] {
					if g, w := resultString(got[k][i]), resultString(want[k][i]); g != w {
						t.Fatalf("entry %d command %d: %s, want %s", k, i, g, w)
					}
				}
			}
			sameState(t, "grouped", stateOf(t, b), wantState)
		})
	}
}

// TestApplyEntriesReplay: a group that straddles the applied index (raft
// replays the log after a restart, grouped differently) applies only the
// new entries; the old ones are ErrReplayed.
func TestApplyEntriesReplay(t *testing.T) {
	log := applyLog(t)
	ref, _ := openApplyBoard(t, t.TempDir())
	want := ref.ApplyEntries(log)
	wantState := stateOf(t, ref)

	dir := t.TempDir()
	b, st := openApplyBoard(t, dir)
	b.ApplyEntries(log[:5])
	// Restart: the store and a fresh board over it.
	b = restartApplyBoard(t, b, st, dir, log[4].Index, "restart")
	res := b.ApplyEntries(log[2:])
	for k := range 3 {
		for _, r := range res[k] {
			if !errors.Is(r.Err, ErrReplayed) {
				t.Fatalf("replayed entry %d: %v", log[2+k].Index, r.Err)
			}
		}
	}
	for k := 5; k < len(log); k++ {
		for i := range want[k] {
			if g, w := resultString(res[k-2][i]), resultString(want[k][i]); g != w {
				t.Fatalf("entry %d command %d: %s, want %s", k, i, g, w)
			}
		}
	}
	sameState(t, "after replay", stateOf(t, b), wantState)
	// A group entirely at or below the applied index changes nothing.
	for _, rs := range b.ApplyEntries(log) {
		for _, r := range rs {
			if !errors.Is(r.Err, ErrReplayed) {
				t.Fatalf("full replay: %v", r.Err)
			}
		}
	}
	sameState(t, "after full replay", stateOf(t, b), wantState)
}

// crashStore fails the transaction of its next Update after fn ran, as a
// crash before the commit would: nothing of the transaction is stored.
type crashStore struct {
	store.Store
	crash bool
}

var errCrash = errors.New("test: crash before commit")

func (s *crashStore) Update(ctx context.Context, fn func(store.WriteTx) error) error {
	if !s.crash {
		return s.Store.Update(ctx, fn)
	}
	s.crash = false
	return s.Store.Update(ctx, func(tx store.WriteTx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errCrash
	})
}

// TestApplyEntriesCrashMidGroup: a node that dies while applying a group
// (after writing part of it to its transaction) restarts at the previous
// applied index and re-applies the whole group to the same state.
func TestApplyEntriesCrashMidGroup(t *testing.T) {
	log := applyLog(t)
	ref, _ := openApplyBoard(t, t.TempDir())
	ref.ApplyEntries(log)
	wantState := stateOf(t, ref)

	dir := t.TempDir()
	inner, err := store.OpenBolt(filepath.Join(dir, "state.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := &crashStore{Store: inner}
	b := openBoardOn(t, cs)
	b.ApplyEntries(log[:3])
	cs.crash = true
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("a failed apply transaction did not stop the replica")
			}
		}()
		b.ApplyEntries(log[3:7])
	}()
	b = restartApplyBoard(t, b, inner, dir, log[2].Index, "the crash")
	// Raft redelivers from the applied index on, grouped differently.
	b.ApplyEntries(log[1:5])
	b.ApplyEntries(log[5:])
	sameState(t, "after crash and restart", stateOf(t, b), wantState)
}

// A committed command that does not decode stops the replica, also inside
// a group.
func TestApplyEntriesPanicsOnGarbage(t *testing.T) {
	log := applyLog(t)
	b, _ := openApplyBoard(t, t.TempDir())
	defer func() {
		if recover() == nil {
			t.Fatal("ApplyEntries accepted a command that does not decode")
		}
	}()
	b.ApplyEntries([]replica.Entry{log[0], {Index: log[1].Index, Cmds: [][]byte{{0xff, 1, 2}}}})
}

// windowOpens and windowCloses are the voting window of the window tests: [opens, closes).
const (
	windowOpens  = uint64(1_800_000_000_000)
	windowCloses = windowOpens + 3_600_000
)

// windowSchedule is the schedule of the window tests, with or without the
// authority's manual close.
func windowSchedule(manual bool) *ballot.Schedule {
	return &ballot.Schedule{OpensAt: windowOpens, ClosesAt: windowCloses, Manual: manual}
}

// TestApplyWindow: under a version-4 window the FSM judges every voting
// entry on the time of the block that will hold it (SPEC.md §3.9), fixed
// from all the stamps of its Raft entry, so replicas agree whatever the
// stamps' order: a ballot stamped inside the window shares the fate of a
// later stamp in the same Raft entry, and a close stamped before closes_at
// is accepted (without the manual close) when its block's time is later.
func TestApplyWindow(t *testing.T) {
	e := testonly.NewElection(t, "board window", testonly.Config{Voters: 6, Schedule: windowSchedule(false)})
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
	e := testonly.NewElection(t, "board window close", testonly.Config{Voters: 2, Schedule: windowSchedule(false)})
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
