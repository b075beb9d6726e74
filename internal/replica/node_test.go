package replica

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestGroupCommit(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.MaxWait = 2 * time.Millisecond
		cfg.MaxInflight = 1
	})
	l := c.leader()
	before := l.Stats()
	const count = 400
	want := submitMany(t, l, "gc", count)
	after := l.Stats()
	entries := after.Entries - before.Entries
	if got := after.Commands - before.Commands; got != count {
		t.Fatalf("commands submitted = %d, want %d", got, count)
	}
	t.Logf("%d concurrent Submits carried by %d log entries", count, entries)
	if entries > count/4 {
		t.Errorf("group commit used %d entries for %d commands", entries, count)
	}
	c.waitAgree(want)
}

func TestSubmitResults(t *testing.T) {
	c := newCluster(t, 1, nil)
	l := c.leader()
	ctx := context.Background()
	res, err := l.SubmitBatch(ctx, [][]byte{[]byte("a"), []byte("reject"), []byte("b")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Err != nil || !errors.Is(res[1].Err, errRejected) || res[2].Err != nil {
		t.Fatalf("results = %+v", res)
	}
	if res[0].Index == 0 || res[0].Index != res[2].Index || res[0].Seq != 1 || res[2].Seq != 2 {
		t.Fatalf("a SubmitBatch must be one entry, in order: %+v", res)
	}
	if res, err := l.SubmitBatch(ctx, nil); err != nil || res != nil {
		t.Fatalf("empty batch = %v, %v", res, err)
	}
	big := make([][]byte, l.cfg.MaxBatch+1)
	if _, err := l.SubmitBatch(ctx, big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized batch: %v", err)
	}
	if _, err := l.Submit(ctx, make([]byte, l.cfg.MaxCommandBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized command: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Submit(cancelled, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

// TestSubmitCommands: commands given in two parts reach every FSM whole,
// in order, in one entry, and are checked against the limits whole.
func TestSubmitCommands(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	ctx := context.Background()
	res, err := l.SubmitCommands(ctx, []Command{{Head: []byte("he"), Body: []byte("ad")}, {Body: []byte("reject")}, {Head: []byte("b")}, {Head: []byte("re"), Body: []byte("ject")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || res[0].Err != nil || !errors.Is(res[1].Err, errRejected) || res[2].Err != nil || !errors.Is(res[3].Err, errRejected) {
		t.Fatalf("results = %+v", res)
	}
	if res[0].Index == 0 || res[0].Index != res[3].Index {
		t.Fatalf("the commands must be one entry: %+v", res)
	}
	c.waitAgree([][]byte{[]byte("head"), []byte("b")})
	half := make([]byte, l.cfg.MaxCommandBytes/2+1)
	if _, err := l.SubmitCommands(ctx, []Command{{Head: half, Body: half}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a command whose parts together pass MaxCommandBytes: %v", err)
	}
}

func TestOverloaded(t *testing.T) {
	c := newCluster(t, 1, func(cfg *Config) {
		cfg.QueueSize = 1
		cfg.MaxInflight = 1
		cfg.MaxBatch = 1
	})
	l := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 200)
	for i := range 200 {
		go func() {
			_, err := l.Submit(ctx, fmt.Appendf(nil, "o%d", i))
			errs <- err
		}()
	}
	var overloaded, ok int
	for range 200 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrOverloaded):
			overloaded++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	t.Logf("ok=%d overloaded=%d", ok, overloaded)
	if overloaded == 0 || ok == 0 {
		t.Fatalf("want both successes and ErrOverloaded; ok=%d overloaded=%d", ok, overloaded)
	}
}

func TestNotLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	lid, lapi := l.cfg.ID, l.cfg.APIAddr
	for id, n := range c.nodes {
		if id == lid {
			continue
		}
		c.waitLeader(n)
		_, err := n.Submit(context.Background(), []byte("x"))
		var nle *NotLeaderError
		if !errors.Is(err, ErrNotLeader) || !errors.As(err, &nle) {
			t.Fatalf("follower %s Submit: %v", id, err)
		}
		if nle.LeaderID != lid || nle.LeaderAPI != lapi {
			t.Errorf("follower %s names leader %q at %q, want %q at %q", id, nle.LeaderID, nle.LeaderAPI, lid, lapi)
		}
		if gotID, gotAPI := n.Leader(); gotID != lid || gotAPI != lapi {
			t.Errorf("follower %s Leader() = %q, %q", id, gotID, gotAPI)
		}
		if err := n.Join(context.Background(), "x", "y", "z"); !errors.Is(err, ErrNotLeader) {
			t.Errorf("follower Join: %v", err)
		}
		if err := n.Remove(context.Background(), "n1"); !errors.Is(err, ErrNotLeader) {
			t.Errorf("follower Remove: %v", err)
		}
	}
}

func TestLeaderLoss(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	want := submitMany(t, old, "before", 100)
	c.waitAgree(want)

	oldID := old.cfg.ID
	c.stop(oldID)
	nl := c.leader()
	if nl.cfg.ID == oldID {
		t.Fatal("stopped node is still leader")
	}
	t.Logf("leader %s lost, new leader %s", oldID, nl.cfg.ID)
	want = append(want, submitMany(t, nl, "after", 100)...)
	c.waitAgree(want)

	// The old leader comes back as a follower with its durable state and
	// catches up; nothing it applied before is applied twice.
	c.start(oldID, c.fsms[oldID], false)
	c.waitAgree(want)
}

func TestMembership(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	c.start("n4", &listFSM{}, false)
	c.join("n4")
	want := submitMany(t, l, "m", 20)
	c.waitAgree(want)

	// Every node, followers included, knows every member's API address.
	for id, n := range c.nodes {
		srv, err := n.Servers()
		if err != nil {
			t.Fatal(err)
		}
		if len(srv) != 4 {
			t.Fatalf("%s: %d servers", id, len(srv))
		}
		leaders := 0
		for _, s := range srv {
			if s.APIAddr != "http://"+s.ID+".test" || s.Suffrage != "Voter" || s.RaftAddr != "addr-"+s.ID {
				t.Errorf("%s: server %+v", id, s)
			}
			if s.Leader {
				leaders++
			}
		}
		if leaders != 1 {
			t.Errorf("%s: %d leaders listed", id, leaders)
		}
	}

	// Remove a follower.
	var victim string
	for id := range c.nodes {
		if id != l.cfg.ID {
			victim = id
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Remove(ctx, victim); err != nil {
		t.Fatal(err)
	}
	c.stop(victim)
	srv, err := l.Servers()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(srv))
	for _, s := range srv {
		ids = append(ids, s.ID)
	}
	if len(srv) != 3 || slices.Contains(ids, victim) {
		t.Fatalf("after removing %s: %v", victim, ids)
	}
	if l.fsm.apiAddr(victim) != "" {
		t.Errorf("API address of removed %s kept", victim)
	}
	want = append(want, submitMany(t, l, "m2", 20)...)
	c.waitAgree(want)
}

func TestRestartReplay(t *testing.T) {
	c := newCluster(t, 1, nil)
	want := submitMany(t, c.leader(), "r", 50)
	fsm := c.fsms["n1"]
	entriesBefore, _, _ := fsm.stats()
	c.stop("n1")

	c.start("n1", fsm, true) // Bootstrap is ignored: state exists
	want = append(want, submitMany(t, c.leader(), "r2", 1)...)
	c.waitAgree(want)
	entries, replays, restores := fsm.stats()
	t.Logf("after restart: %d new entries applied, %d replays skipped, %d restores", entries-entriesBefore, replays, restores)
	if entries != entriesBefore+1 {
		t.Errorf("after restart %d entries applied, want 1", entries-entriesBefore)
	}
	if replays == 0 {
		t.Error("raft replayed nothing; the test does not exercise replay")
	}
	if restores != 0 {
		t.Errorf("%d restores without a snapshot", restores)
	}
}

func TestRestartAfterSnapshotSkipsRestore(t *testing.T) {
	c := newCluster(t, 1, nil)
	want := submitMany(t, c.leader(), "s", 30)
	if err := c.nodes["n1"].Snapshot(); err != nil {
		t.Fatal(err)
	}
	fsm := c.fsms["n1"]
	c.stop("n1")
	c.start("n1", fsm, false)
	want = append(want, submitMany(t, c.leader(), "s2", 5)...)
	c.waitAgree(want)
	if _, _, restores := fsm.stats(); restores != 0 {
		t.Errorf("FSM ahead of the snapshot was restored %d times", restores)
	}

	// An FSM that lost its state is restored from the snapshot.
	c.stop("n1")
	fresh := &listFSM{}
	c.start("n1", fresh, false)
	want = append(want, submitMany(t, c.leader(), "s3", 5)...)
	c.waitAgree(want)
	if _, _, restores := fresh.stats(); restores != 1 {
		t.Errorf("empty FSM restored %d times, want 1", restores)
	}
}

func TestSnapshotCatchUp(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.TrailingLogs = 5 })
	l := c.leader()
	want := submitMany(t, l, "a", 20)
	c.waitAgree(want)

	var lagger string
	for id := range c.nodes {
		if id != l.cfg.ID {
			lagger = id
			break
		}
	}
	lagFSM := c.fsms[lagger]
	lagLast, _ := c.nodes[lagger].store.LastIndex()
	c.stop(lagger)
	for i := range 5 {
		want = append(want, submitMany(t, l, fmt.Sprintf("b%d", i), 20)...)
	}
	if err := l.Snapshot(); err != nil {
		t.Fatal(err)
	}
	want = append(want, submitMany(t, l, "c", 10)...)
	if first, _ := l.store.FirstIndex(); first <= lagFSM.AppliedIndex() {
		t.Fatalf("log not compacted past the lagging node: first %d, lagger applied %d", first, lagFSM.AppliedIndex())
	}

	c.start(lagger, lagFSM, false)
	c.waitAgree(want)
	if _, _, restores := lagFSM.stats(); restores != 1 {
		t.Fatalf("lagging node restored %d snapshots, want 1", restores)
	}
	// The restored node knows API addresses from the snapshot header.
	if id, api := c.nodes[lagger].Leader(); id != l.cfg.ID || api != l.cfg.APIAddr {
		t.Errorf("restored node names leader %q at %q", id, api)
	}
	// Its log (the WAL has no gaps: raft.MonotonicLogStore) was deleted
	// whole when the snapshot was installed, and continues after it; it
	// reopens so.
	lagStore := c.nodes[lagger].store
	first, _ := lagStore.FirstIndex()
	last, _ := lagStore.LastIndex()
	if first <= lagLast || last < first {
		t.Fatalf("lagging node's log is %d..%d after the snapshot: entries from before it kept", first, last)
	}
	c.stop(lagger)
	c.start(lagger, lagFSM, false)
	want = append(want, submitMany(t, c.leader(), "d", 5)...)
	c.waitAgree(want)
}

func TestShutdown(t *testing.T) {
	c := newCluster(t, 1, nil)
	n := c.leader()
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := n.Submit(context.Background(), []byte("x")); !errors.Is(err, ErrShutdown) && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Submit after shutdown: %v", err)
	}
	delete(c.nodes, "n1")
}

func TestTCPCluster(t *testing.T) {
	nodes, fsms := tcpCluster(t, "t", nil)
	want := submitMany(t, nodes[0], "tcp", 200)
	deadline := time.Now().Add(10 * time.Second)
	for i, f := range fsms {
		for len(f.list()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := f.list(); len(got) != len(want) || string(got[199]) != string(want[199]) {
			t.Fatalf("t%d holds %d commands", i+1, len(got))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := nodes[2].Submit(ctx, []byte("x"))
	var nle *NotLeaderError
	if !errors.As(err, &nle) || nle.LeaderID != "t1" || nle.LeaderAPI != "http://t1.test" {
		t.Fatalf("follower over TCP: %v", err)
	}
}

// TestShutdownUnderLoad: shutting a 3-node cluster's leader down while many
// submissions are in flight returns promptly, and every Submit returns
// (committed, or an error), even for commands raft had buffered but never
// answered (BatchApplyCh) — they report ErrShutdown: outcome unknown.
func TestShutdownUnderLoad(t *testing.T) {
	for round := range 5 {
		c := newCluster(t, 3, nil)
		n := c.leader()
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				for k := 0; ; k++ {
					_, err := n.Submit(context.Background(), []byte(fmt.Sprintf("r%d-c%d-%d", round, i, k)))
					if err != nil {
						return
					}
				}
			})
		}
		time.Sleep(50 * time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- n.Shutdown() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: Shutdown of the leader under load did not return", round)
		}
		returned := make(chan struct{})
		go func() { wg.Wait(); close(returned) }()
		select {
		case <-returned:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: submitters still blocked after Shutdown", round)
		}
		c.shutdownAll()
	}
}

// TestNamedAdvertise: a node advertising its Raft address by host name is
// listed under that name in the cluster's configuration (so peers resolve
// it each time they dial, and a node whose IP changes stays reachable), and
// replicates like the others.
func TestNamedAdvertise(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	named := fmt.Sprintf("localhost:%d", port)
	nodes, fsms := tcpCluster(t, "h", func(i int, cfg *Config) {
		if i == 2 {
			cfg.RaftBind, cfg.RaftAdvertise = fmt.Sprintf("127.0.0.1:%d", port), named
		}
	})
	if got := nodes[2].RaftAddr(); got != named {
		t.Fatalf("h3 advertises %q, want %q", got, named)
	}
	found := false
	for _, sv := range nodes[0].raft.GetConfiguration().Configuration().Servers {
		if sv.ID == "h3" {
			found = string(sv.Address) == named
		}
	}
	if !found {
		t.Fatalf("the leader's configuration does not list h3 at %s: %+v", named, nodes[0].raft.GetConfiguration().Configuration().Servers)
	}
	want := submitMany(t, nodes[0], "named", 20)
	deadline := time.Now().Add(20 * time.Second)
	for len(fsms[2].list()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := fsms[2].list(); len(got) != len(want) {
		t.Fatalf("h3 holds %d of %d commands", len(got), len(want))
	}
	if _, err := advertiseAddr("no-such-host.invalid:7000"); err == nil {
		t.Error("an advertise name that does not resolve was accepted")
	}
}
