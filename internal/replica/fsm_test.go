package replica

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/raft"
)

// groupFSM is a listFSM that takes runs of entries through ApplyEntries and
// records how they were grouped.
type groupFSM struct {
	listFSM
	groups [][]uint64
	short  bool // return one result list too few
}

func (f *groupFSM) ApplyEntries(entries []Entry) [][]Result {
	var idx []uint64
	out := make([][]Result, len(entries))
	for i, e := range entries {
		idx = append(idx, e.Index)
		out[i] = f.ApplyBatch(e.Index, e.Cmds)
	}
	f.groups = append(f.groups, idx)
	if f.short {
		out = out[:len(out)-1]
	}
	return out
}

var _ EntriesFSM = (*groupFSM)(nil)

func cmdLog(index uint64, cmds ...string) *raft.Log {
	var bs [][]byte
	for _, c := range cmds {
		bs = append(bs, []byte(c))
	}
	return &raft.Log{Index: index, Type: raft.LogCommand, Data: encodeEntry(kindCommands, wholeCommands(bs))}
}

// batchLogs is a run of committed logs as raft hands them to ApplyBatch:
// command entries, one of raft's configuration entries and a membership
// entry in between.
func batchLogs() []*raft.Log {
	return []*raft.Log{
		cmdLog(1, "a", "b"),
		cmdLog(2, "reject"),
		{Index: 3, Type: raft.LogConfiguration, Data: []byte("raft's own")},
		cmdLog(4, "c"),
		{Index: 5, Type: raft.LogCommand, Data: encodeEntry(kindMembership, wholeCommands([][]byte{encodeMemberOp(memberOp{op: opSetAPI, id: "n2", addr: "127.0.0.1:8002"})}))},
		cmdLog(6, "d", "e", "f"),
		cmdLog(7, "g"),
	}
}

func newTestAdapter(t *testing.T, fsm FSM) *fsmAdapter {
	t.Helper()
	st, err := openBoltStore(filepath.Join(t.TempDir(), "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &fsmAdapter{fsm: fsm, store: st, log: slog.New(slog.DiscardHandler), members: map[string]string{}}
}

func respString(r any) string {
	if res, ok := r.([]Result); ok {
		s := ""
		for _, x := range res {
			s += fmt.Sprintf("(%d %v)", x.Seq, x.Err)
		}
		return s
	}
	return fmt.Sprint(r)
}

// TestApplyBatchGroups: raft's batch is split at membership entries, raft's
// own entries are skipped, and an EntriesFSM and a per-entry FSM end in the
// same state with the same responses.
func TestApplyBatchGroups(t *testing.T) {
	gf := &groupFSM{}
	ga := newTestAdapter(t, gf)
	gresp := ga.ApplyBatch(batchLogs())

	lf := &listFSM{}
	la := newTestAdapter(t, lf)
	lresp := la.ApplyBatch(batchLogs())

	if want := [][]uint64{{1, 2, 4}, {6, 7}}; fmt.Sprint(gf.groups) != fmt.Sprint(want) {
		t.Fatalf("groups %v, want %v", gf.groups, want)
	}
	if len(gresp) != 7 || len(lresp) != 7 {
		t.Fatalf("%d and %d responses for 7 logs", len(gresp), len(lresp))
	}
	for i := range gresp {
		if g, l := respString(gresp[i]), respString(lresp[i]); g != l {
			t.Fatalf("response %d: %s (grouped) != %s (per entry)", i, g, l)
		}
	}
	if gresp[2] != nil || gresp[4] != nil {
		t.Fatalf("configuration and membership responses %v, %v", gresp[2], gresp[4])
	}
	if !slices.EqualFunc(gf.list(), lf.list(), func(a, b []byte) bool { return string(a) == string(b) }) || gf.AppliedIndex() != 7 || lf.AppliedIndex() != 7 {
		t.Fatalf("states differ: %q at %d, %q at %d", gf.list(), gf.AppliedIndex(), lf.list(), lf.AppliedIndex())
	}
	for _, a := range []*fsmAdapter{ga, la} {
		if got := a.apiAddr("n2"); got != "127.0.0.1:8002" {
			t.Fatalf("membership entry not applied: %q", got)
		}
		if _, idx, err := a.store.members(); err != nil || idx != 5 {
			t.Fatalf("membership index %d, %v", idx, err)
		}
	}
	// Replaying the same batch applies nothing twice.
	ga.ApplyBatch(batchLogs())
	if _, replays, _ := gf.stats(); replays != 5 || len(gf.list()) != 7 {
		t.Fatalf("replay: %d replays, %d commands", replays, len(gf.list()))
	}
}

// An EntriesFSM that returns the wrong number of result lists stops the
// replica.
func TestApplyBatchWrongShapePanics(t *testing.T) {
	a := newTestAdapter(t, &groupFSM{short: true})
	defer func() {
		if recover() == nil {
			t.Fatal("a wrong number of result lists was accepted")
		}
	}()
	a.ApplyBatch([]*raft.Log{cmdLog(1, "a"), cmdLog(2, "b")})
}

// An undecodable entry inside a batch panics after the entries before it
// were applied.
func TestApplyBatchPanicsOnGarbage(t *testing.T) {
	f := &groupFSM{}
	a := newTestAdapter(t, f)
	defer func() {
		if recover() == nil {
			t.Fatal("ApplyBatch accepted a committed entry that does not decode")
		}
		if f.AppliedIndex() != 1 {
			t.Fatalf("applied index %d, want 1", f.AppliedIndex())
		}
	}()
	a.ApplyBatch([]*raft.Log{cmdLog(1, "a"), {Index: 2, Type: raft.LogCommand, Data: []byte{9, 9}}, cmdLog(3, "c")})
}
