package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// readIndex calls ReadIndex with a generous deadline.
func readIndex(t *testing.T, n *Node) (uint64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return n.ReadIndex(ctx)
}

// lastIndex submits one command and returns the Raft index it got.
func submitIndex(t *testing.T, n *Node, cmd string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := n.Submit(ctx, []byte(cmd))
	if err != nil || res.Err != nil {
		t.Fatalf("submit %s: %v %v", cmd, err, res.Err)
	}
	return res.Index
}

// TestReadIndex: the leader's read index is the index of the last
// acknowledged command, even when raft's own and membership entries follow
// it in the log (the FSM never sees those, so waiting for them would never
// end); followers are told who leads.
func TestReadIndex(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	want := submitMany(t, l, "a", 20)
	last := submitIndex(t, l, "last")
	want = append(want, []byte("last"))

	got, err := readIndex(t, l)
	if err != nil {
		t.Fatal(err)
	}
	if got != last {
		t.Errorf("read index %d, want the last command's index %d", got, last)
	}

	// A fourth node's join appends a configuration entry and a membership
	// entry after the last command.
	c.start("n4", &listFSM{}, false)
	c.join("n4")
	if ci := l.raft.CommitIndex(); ci <= last {
		t.Fatalf("commit index %d did not move past %d with the join", ci, last)
	}
	if got, err = readIndex(t, l); err != nil || got != last {
		t.Errorf("after a join: read index %d, %v; want %d", got, err, last)
	}
	c.waitAgree(want)
	for id, f := range c.fsms {
		if a := f.AppliedIndex(); a != last {
			t.Errorf("%s applied %d, not the read index %d", id, a, last)
		}
	}

	for id, n := range c.nodes {
		if n == l {
			continue
		}
		c.waitLeader(n)
		_, err := readIndex(t, n)
		var nle *NotLeaderError
		if !errors.As(err, &nle) || nle.LeaderID != l.cfg.ID {
			t.Errorf("follower %s: ReadIndex answered %v, want a NotLeaderError naming %s", id, err, l.cfg.ID)
		}
	}
}

// TestReadIndexNewLeader: a leader elected after the old one stopped
// answers a read index covering everything the old one acknowledged, and
// commits one barrier for its term, not one per read.
func TestReadIndexNewLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	submitMany(t, old, "before", 30)
	last := submitIndex(t, old, "last")
	c.stop(old.cfg.ID)

	nl := c.leader()
	got, err := readIndex(t, nl)
	if err != nil {
		t.Fatal(err)
	}
	if got < last {
		t.Fatalf("the new leader's read index %d is below the acknowledged %d", got, last)
	}
	term := nl.raft.CurrentTerm()
	before := nl.raft.LastIndex()
	for range 5 {
		if _, err := readIndex(t, nl); err != nil {
			t.Fatal(err)
		}
	}
	if nl.raft.CurrentTerm() == term && nl.raft.LastIndex() != before {
		t.Errorf("five reads in one term appended %d log entries", nl.raft.LastIndex()-before)
	}
}

// TestAttackReadIndexIsolatedLeader: a leader cut off from the others
// still believes it leads for a while; the others elect a new leader and
// commit a write the old one never sees. The old leader MUST NOT hand out a
// read index (a read from its state would miss that acknowledged write):
// ReadIndex fails with ErrNotLeader.
func TestAttackReadIndexIsolatedLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	submitMany(t, old, "before", 10)
	oldAddr := raft.ServerAddress("addr-" + old.cfg.ID)
	for id, tr := range c.trans {
		if id == old.cfg.ID {
			tr.DisconnectAll()
			continue
		}
		tr.Disconnect(oldAddr)
	}

	// At once, while the old leader may still believe it leads.
	start := time.Now()
	idx, err := readIndex(t, old)
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("isolated leader: ReadIndex = %d, %v; want ErrNotLeader", idx, err)
	}
	t.Logf("isolated leader refused a read index after %v: %v", time.Since(start).Round(time.Millisecond), err)

	// The majority moves on; the old leader still refuses.
	var nl *Node
	deadline := time.Now().Add(20 * time.Second)
	for nl == nil && time.Now().Before(deadline) {
		for id, n := range c.nodes {
			if id != old.cfg.ID && n.IsLeader() {
				nl = n
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if nl == nil {
		t.Fatal("the majority elected no leader")
	}
	after := submitIndex(t, nl, "after")
	if idx, err := readIndex(t, old); err == nil {
		t.Fatalf("isolated old leader answered read index %d; the majority acknowledged index %d meanwhile", idx, after)
	}
	if idx, err := readIndex(t, nl); err != nil || idx < after {
		t.Fatalf("new leader: read index %d, %v; want at least %d", idx, err, after)
	}
}
