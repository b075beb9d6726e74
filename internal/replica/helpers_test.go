package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/testonly"
)

var errRejected = errors.New("test: rejected")

// listFSM is an append-only list of commands with the applied index, kept in
// memory. Reusing the same listFSM across a node restart models an FSM whose
// state is durable. With countOnly it keeps no command, only the applied
// index and the counts: a benchmark measures replication, not memory.
type listFSM struct {
	mu        sync.Mutex
	countOnly bool
	applied   uint64
	cmds      [][]byte
	entries   int // entries applied (not counting replays)
	replays   int // ApplyBatch calls with an already-applied index
	restores  int
}

func (f *listFSM) ApplyBatch(idx uint64, cmds [][]byte) []Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := make([]Result, len(cmds))
	if idx <= f.applied {
		f.replays++
		for i := range res {
			res[i].Err = errors.New("test: already applied")
		}
		return res
	}
	f.entries++
	for i, c := range cmds {
		if string(c) == "reject" {
			res[i].Err = errRejected
			continue
		}
		if f.countOnly {
			continue
		}
		f.cmds = append(f.cmds, bytes.Clone(c))
		res[i].Seq = uint64(len(f.cmds))
	}
	f.applied = idx
	return res
}

func (f *listFSM) AppliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

func (f *listFSM) list() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.cmds)
}

func (f *listFSM) stats() (entries, replays, restores int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entries, f.replays, f.restores
}

func (f *listFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The list is append-only: a prefix of the slice is an immutable view.
	return &listSnapshot{applied: f.applied, cmds: f.cmds[:len(f.cmds):len(f.cmds)]}, nil
}

func (f *listFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if len(b) < 8 {
		return errors.New("test: short snapshot")
	}
	applied := binary.BigEndian.Uint64(b)
	e, err := decodeEntry(b[8:])
	var cmds [][]byte
	if err == nil {
		cmds = e.cmds
	} else if len(b) != 8 {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied, f.cmds = applied, cmds
	f.restores++
	return nil
}

type listSnapshot struct {
	applied uint64
	cmds    [][]byte
}

func (s *listSnapshot) Persist(sink raft.SnapshotSink) error {
	b := binary.BigEndian.AppendUint64(nil, s.applied)
	if len(s.cmds) > 0 {
		b = append(b, encodeEntry(kindCommands, wholeCommands(s.cmds))...)
	}
	if _, err := sink.Write(b); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *listSnapshot) Release() {}

// testConfig returns a config with timeouts short enough for fast tests.
func testConfig(t testing.TB, id, dir string) Config {
	c := DefaultConfig()
	c.ID = id
	c.DataDir = dir
	c.RaftBind = "127.0.0.1:0"
	c.APIAddr = "http://" + id + ".test"
	c.Logger = testonly.Logger(t, slog.LevelInfo)
	// Short enough for fast elections, with a margin for a loaded 2-core
	// CI machine: the lease (300 ms) is below the heartbeat timeout, so a
	// leader that stalls steps down before a follower can elect another,
	// and a 300 ms stall is survived. Equal 150 ms timers failed
	// TestGroupCommit beside two CPU burners.
	c.HeartbeatTimeout = 500 * time.Millisecond
	c.ElectionTimeout = 500 * time.Millisecond
	c.LeaderLeaseTimeout = 300 * time.Millisecond
	c.ApplyTimeout = 5 * time.Second
	c.SnapshotInterval = time.Hour // tests snapshot explicitly
	c.SnapshotThreshold = 1 << 30
	return c
}

// cluster is a set of nodes on raft's in-memory transport.
type cluster struct {
	t      testing.TB
	nodes  map[string]*Node
	fsms   map[string]*listFSM
	trans  map[string]*raft.InmemTransport
	dirs   map[string]string
	config func(id string) Config
}

func newCluster(t testing.TB, n int, tweak func(*Config)) *cluster {
	t.Helper()
	base := t.TempDir()
	c := &cluster{
		t: t, nodes: map[string]*Node{}, fsms: map[string]*listFSM{},
		trans: map[string]*raft.InmemTransport{}, dirs: map[string]string{},
	}
	c.config = func(id string) Config {
		cfg := testConfig(t, id, filepath.Join(base, id))
		if tweak != nil {
			tweak(&cfg)
		}
		return cfg
	}
	t.Cleanup(c.shutdownAll)
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		c.start(id, &listFSM{}, i == 1)
		if i == 1 {
			c.waitLeader(c.nodes[id])
			continue
		}
		c.join(id)
	}
	return c
}

// start (re)starts node id with fsm on a transport at the address "addr-id",
// connected to every other transport.
func (c *cluster) start(id string, fsm *listFSM, bootstrap bool) *Node {
	c.t.Helper()
	_, tr := raft.NewInmemTransport(raft.ServerAddress("addr-" + id))
	for oid, ot := range c.trans {
		if oid == id {
			continue
		}
		tr.Connect(ot.LocalAddr(), ot)
		ot.Connect(tr.LocalAddr(), tr)
	}
	c.trans[id] = tr
	cfg := c.config(id)
	cfg.Bootstrap = bootstrap
	n, err := newNode(cfg, fsm, tr)
	if err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	c.nodes[id], c.fsms[id] = n, fsm
	return n
}

func (c *cluster) join(id string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := c.nodes[id]
	var err error
	for range 5 { // a leader change during the join is retried
		if err = c.leader().Join(ctx, id, n.RaftAddr(), n.cfg.APIAddr); err == nil {
			return
		}
		if !errors.Is(err, ErrLeadershipLost) && !errors.Is(err, ErrNotLeader) {
			break
		}
	}
	c.t.Fatalf("join %s: %v", id, err)
}

func (c *cluster) stop(id string) {
	c.t.Helper()
	if err := c.nodes[id].Shutdown(); err != nil {
		c.t.Errorf("shutdown %s: %v", id, err)
	}
	for oid, ot := range c.trans {
		if oid != id {
			ot.Disconnect(raft.ServerAddress("addr-" + id))
		}
	}
	delete(c.nodes, id)
	delete(c.trans, id)
}

func (c *cluster) shutdownAll() {
	for id, n := range c.nodes {
		if err := n.Shutdown(); err != nil {
			c.t.Errorf("shutdown %s: %v", id, err)
		}
	}
}

func (c *cluster) waitLeader(n *Node) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		c.t.Fatal(err)
	}
}

// leader returns the node that is leader, waiting for one.
func (c *cluster) leader() *Node {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range c.nodes {
			if n.IsLeader() {
				if id, api := n.Leader(); id == n.cfg.ID && api != "" {
					return n
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no leader")
	return nil
}

// waitAgree waits until every running node's FSM holds want.
func (c *cluster) waitAgree(want [][]byte) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok := true
		for id, f := range c.fsms {
			if _, running := c.nodes[id]; !running {
				continue
			}
			if got := f.list(); !slices.EqualFunc(got, want, bytes.Equal) {
				ok = false
				if time.Now().After(deadline) {
					c.t.Fatalf("node %s holds %d commands, want %d", id, len(got), len(want))
				}
			}
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// submitMany submits n distinct commands concurrently and returns them in
// log order.
func submitMany(t testing.TB, n *Node, prefix string, count int) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type acked struct {
		cmd []byte
		res Result
	}
	out := make([]acked, count)
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() {
			cmd := fmt.Appendf(nil, "%s-%04d", prefix, i)
			res, err := n.Submit(ctx, cmd)
			if err != nil {
				t.Errorf("submit %s: %v", cmd, err)
				return
			}
			if res.Err != nil || res.Index == 0 || res.Seq == 0 {
				t.Errorf("submit %s: result %+v", cmd, res)
			}
			out[i] = acked{cmd, res}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.SortFunc(out, func(a, b acked) int { return int(a.res.Seq) - int(b.res.Seq) })
	cmds := make([][]byte, count)
	for i, a := range out {
		cmds[i] = a.cmd
	}
	return cmds
}

// joinAll waits until nodes[0], the bootstrapped node, leads and has it
// add every other node as a voter.
func joinAll(t testing.TB, nodes []*Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := nodes[0].WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		if err := nodes[0].Join(ctx, n.cfg.ID, n.RaftAddr(), n.cfg.APIAddr); err != nil {
			t.Fatal(err)
		}
	}
}

// tcpCluster starts three nodes named prefix1..3 over TCP, bootstrapped by
// the first and joined; edit, when set, adjusts node i's config first.
func tcpCluster(t testing.TB, prefix string, edit func(i int, cfg *Config)) ([]*Node, []*listFSM) {
	base := t.TempDir()
	var nodes []*Node
	var fsms []*listFSM
	for i := range 3 {
		id := fmt.Sprintf("%s%d", prefix, i+1)
		cfg := testConfig(t, id, filepath.Join(base, id))
		cfg.Bootstrap = i == 0
		if edit != nil {
			edit(i, &cfg)
		}
		f := &listFSM{}
		n, err := New(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown() })
		nodes, fsms = append(nodes, n), append(fsms, f)
	}
	joinAll(t, nodes)
	return nodes, fsms
}
