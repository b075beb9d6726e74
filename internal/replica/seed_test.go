package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listState is listFSM's snapshot stream of (applied, cmds).
func listState(applied uint64, cmds [][]byte) func(io.Writer) error {
	return func(w io.Writer) error {
		b := binary.BigEndian.AppendUint64(nil, applied)
		if len(cmds) > 0 {
			b = append(b, encodeEntry(kindCommands, wholeCommands(cmds))...)
		}
		_, err := w.Write(b)
		return err
	}
}

// TestSeedCluster restores a replica's FSM state into a new one-server
// cluster (as `urna node restore` does): the seeded node leads without
// restoring the snapshot again, continues the log after the state's index
// (no new entry is taken for a replay), survives a restart, and a server
// joining with an empty directory receives the state.
func TestSeedCluster(t *testing.T) {
	old := newCluster(t, 3, nil)
	before := submitMany(t, old.leader(), "old", 40)
	old.waitAgree(before)
	src := old.fsms["n2"]
	applied, cmds := src.AppliedIndex(), src.list()
	old.shutdownAll()
	old.nodes = map[string]*Node{}

	c := newCluster(t, 0, nil)
	dir := c.config("r1").DataDir
	if err := SeedCluster(Seed{DataDir: dir, ID: "r1", RaftAddr: "addr-r1", AppliedIndex: applied, WriteState: listState(applied, cmds)}); err != nil {
		t.Fatal(err)
	}
	// The FSM's own durable state was restored beside the Raft state.
	fsm := &listFSM{applied: applied, cmds: slices.Clone(cmds)}
	r1 := c.start("r1", fsm, true)
	c.waitLeader(r1)
	after := submitMany(t, r1, "new", 20)
	want := append(slices.Clone(before), after...)
	c.waitAgree(want)
	if _, replays, restores := fsm.stats(); replays != 0 || restores != 0 {
		t.Fatalf("seeded node: %d replays, %d restores; want none", replays, restores)
	}
	if got := fsm.AppliedIndex(); got <= applied {
		t.Fatalf("applied index %d after new writes, seeded at %d", got, applied)
	}

	c.stop("r1")
	c.start("r1", fsm, false)
	c.waitLeader(c.nodes["r1"])
	more := submitMany(t, c.leader(), "more", 5)
	want = append(want, more...)

	fresh := &listFSM{}
	c.start("r2", fresh, false)
	c.join("r2")
	c.waitAgree(want)
	if _, _, restores := fresh.stats(); restores != 1 {
		t.Fatalf("joining node restored %d snapshots, want 1", restores)
	}
}

func TestSeedClusterRefuses(t *testing.T) {
	good := func(dir string) Seed {
		return Seed{DataDir: dir, ID: "r1", RaftAddr: "127.0.0.1:7001", AppliedIndex: 5, WriteState: listState(5, [][]byte{[]byte("x")})}
	}
	base := t.TempDir()
	used := filepath.Join(base, "used")
	if err := SeedCluster(good(used)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	for name, c := range map[string]struct {
		mut  func(*Seed)
		want string
	}{
		"no id":        {func(s *Seed) { s.ID = "" }, "bad server ID"},
		"index 0":      {func(s *Seed) { s.AppliedIndex = 0 }, "applied nothing"},
		"no addr":      {func(s *Seed) { s.RaftAddr = "" }, "no Raft address"},
		"no writer":    {func(s *Seed) { s.WriteState = nil }, "no state writer"},
		"not empty":    {func(s *Seed) { s.DataDir = used }, "not empty"},
		"write failed": {func(s *Seed) { s.WriteState = func(io.Writer) error { return boom } }, "disk on fire"},
	} {
		s := good(filepath.Join(base, strings.ReplaceAll(name, " ", "-")))
		c.mut(&s)
		err := SeedCluster(s)
		if err == nil || !strings.HasPrefix(err.Error(), "replica: seed: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: SeedCluster = %v, want an error about %q", name, err, c.want)
		}
		if s.DataDir != used {
			if _, err := os.Stat(s.DataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s left behind (stat: %v)", name, s.DataDir, err)
			}
		}
	}
	// A failed seed into an existing empty directory leaves it empty.
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o700)
	s := good(empty)
	s.WriteState = func(w io.Writer) error { w.Write(bytes.Repeat([]byte{1}, 100)); return boom }
	if err := SeedCluster(s); !errors.Is(err, boom) {
		t.Fatalf("SeedCluster = %v, want %v", err, boom)
	}
	if ents, err := os.ReadDir(empty); err != nil || len(ents) != 0 {
		t.Fatalf("after a failed seed the directory holds %v (%v)", ents, err)
	}
}
