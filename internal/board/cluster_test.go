package board

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// tnode is one in-process board node: bbolt (or PostgreSQL) store, board,
// replica on loopback TCP.
type tnode struct {
	id    string
	dir   string
	st    store.Store
	board *Board
	rep   *replica.Node
}

type tcluster struct {
	t       testing.TB
	mu      sync.Mutex
	nodes   map[string]*tnode
	base    string
	keys    map[string]ed25519.PrivateKey
	open    func(t testing.TB, id, dir string) store.Store
	tweak   func(*replica.Config)
	skip    bool
	cosign  time.Duration // cosign interval (default 20 ms)
	stopped map[string]*tnode
	trans   map[string]*raft.InmemTransport // raft's in-memory network, by node id
	tcp     bool                            // real loopback TCP instead (benchmarks)
	// wait bounds a submit, leader changes included (default 20 s).
	wait time.Duration
	// witnesses reach the manifest's witnesses (Config.Witnesses).
	witnesses map[string]WitnessClient
	now       func() time.Time // the nodes' clock (Config.Now), if set
}

// fakeClock is a clock the test sets, for Config.Now (the nodes read it
// from their goroutines).
type fakeClock struct{ ms atomic.Int64 }

func newFakeClock(ms int64) *fakeClock {
	c := &fakeClock{}
	c.ms.Store(ms)
	return c
}

func (c *fakeClock) Now() time.Time      { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) Set(ms int64)        { c.ms.Store(ms) }
func (c *fakeClock) Add(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// transport gives node id a fresh in-memory Raft transport at a fixed
// address ("inmem-<id>:7000", kept across restarts) connected both ways to every
// other node's current transport.
func (c *tcluster) transport(id string) *raft.InmemTransport {
	addr, t := raft.NewInmemTransport(raft.ServerAddress("inmem-" + id + ":7000"))
	c.mu.Lock()
	defer c.mu.Unlock()
	for oid, ot := range c.trans {
		if oid != id {
			t.Connect(ot.LocalAddr(), ot)
			ot.Connect(addr, t)
		}
	}
	c.trans[id] = t
	return t
}

func boltOpener(t testing.TB, id, dir string) store.Store {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(dir, "state.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newTCluster starts an in-memory cluster of the nodes ids (none: the
// caller sets it up and calls startAll), stopped when the test ends.
func newTCluster(t testing.TB, keys map[string]ed25519.PrivateKey, open func(testing.TB, string, string) store.Store, tweak func(*replica.Config), ids ...string) *tcluster {
	c := &tcluster{t: t, nodes: map[string]*tnode{}, stopped: map[string]*tnode{}, trans: map[string]*raft.InmemTransport{}, base: t.TempDir(), keys: keys, open: open, tweak: tweak}
	t.Cleanup(c.stopAll)
	c.startAll(ids...)
	return c
}

// newElectionCluster makes the board test election with cfg and starts the
// nodes ids on bolt stores (tweak, if not nil, tunes their Raft), stopped
// when the test ends.
func newElectionCluster(t testing.TB, cfg testonly.Config, tweak func(*replica.Config), ids ...string) (*testonly.Election, *tcluster) {
	e := testonly.NewElection(t, "board test election", cfg)
	return e, newTCluster(t, e.NodeKeys(), boltOpener, tweak, ids...)
}

// newThreeNodes is newElectionCluster for the board test election with
// the voters given, on the three nodes n1, n2 and n3.
func newThreeNodes(t testing.TB, voters int) (*testonly.Election, *tcluster) {
	return newElectionCluster(t, testonly.Config{Voters: voters}, nil, "n1", "n2", "n3")
}

// newLoneNode starts node n1 alone, on the board of a two-voter election
// whose manifest lists two nodes, stopped when the test ends.
func newLoneNode(t testing.TB) (*testonly.Election, *tcluster) {
	return newElectionCluster(t, testonly.Config{Voters: 2, Nodes: 2}, nil, "n1")
}

// openElection posts e's setup (manifest, credentials, deals,
// confirmations) and its open entry, each of which must be accepted.
func (c *tcluster) openElection(e *testonly.Election) {
	c.t.Helper()
	c.mustAccept("manifest", e.ManifestEntry())
	c.mustAccept("credentials", e.CredentialsEntry())
	c.mustAccept("deals", e.DealEntries()...)
	c.mustAccept("confirmations", e.ConfirmationEntries()...)
	c.mustAccept("open", e.OpenEntry())
}

// startAll starts the nodes ids, the first bootstrapping the cluster.
func (c *tcluster) startAll(ids ...string) {
	for i, id := range ids {
		c.start(id, i == 0)
		if i == 0 {
			c.leader()
			continue
		}
		c.join(id)
	}
	if len(ids) > 0 {
		c.waitAnnounced(ids...)
	}
}

// waitAnnounced waits until every node ids announced this board version
// through the replicated log (SPEC.md §3.14.8), as an operator does before
// creating a second election.
func (c *tcluster) waitAnnounced(ids ...string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, missing := c.leader().board.Versions(), []string(nil)
		for _, id := range ids {
			if v[id] < BoardVersion {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("nodes %v did not announce board version %d: %v", missing, BoardVersion, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *tcluster) start(id string, bootstrap bool) *tnode {
	c.t.Helper()
	dir := filepath.Join(c.base, id)
	st := c.open(c.t, id, dir)
	cosign := c.cosign
	if cosign == 0 {
		cosign = 20 * time.Millisecond
	}
	cfg := Config{NodeID: id, Store: st, Logger: testonly.Logger(c.t, slog.LevelWarn), CosignInterval: cosign, SkipChecks: c.skip, Witnesses: c.witnesses, Now: c.now}
	if k := c.keys[id]; k != nil {
		cfg.Key = k
	}
	cfg.ForwardCosign = func(ctx context.Context, api string, cmd []byte) error {
		c.mu.Lock()
		l := c.nodes[strings.TrimPrefix(api, "mem://")]
		c.mu.Unlock()
		if l == nil {
			return errors.New("test: unknown leader")
		}
		return l.board.SubmitCosign(ctx, cmd)
	}
	b, err := Open(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	rc := replica.DefaultConfig()
	rc.ID, rc.DataDir, rc.RaftBind, rc.APIAddr, rc.Bootstrap = id, filepath.Join(dir, "raft"), "inmem-"+id+":7000", "mem://"+id, bootstrap
	rc.Logger = testonly.Logger(c.t, slog.LevelWarn)
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	rc.SnapshotInterval, rc.SnapshotThreshold = time.Hour, 1<<30
	if c.tweak != nil {
		c.tweak(&rc)
	}
	var r *replica.Node
	if c.tcp {
		rc.RaftBind = "127.0.0.1:0"
		if old := c.stopped[id]; old != nil {
			rc.RaftBind = old.rep.RaftAddr() // keep the address peers know
		}
		r, err = replica.New(rc, b)
	} else {
		r, err = replica.NewWithTransport(rc, b, c.transport(id))
	}
	if err != nil {
		c.t.Fatal(err)
	}
	b.Attach(r)
	b.Start()
	n := &tnode{id: id, dir: dir, st: st, board: b, rep: r}
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
	return n
}

func (c *tcluster) stop(id string) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	c.mu.Unlock()
	_ = n.board.Close()
	if err := n.rep.Shutdown(); err != nil {
		c.t.Errorf("shutdown %s: %v", id, err)
	}
	if err := n.st.Close(); err != nil {
		c.t.Errorf("close store %s: %v", id, err)
	}
	// Cut the stopped node out of the in-memory network: a pipeline another
	// node keeps open to it would otherwise block that node's Shutdown.
	c.mu.Lock()
	if t := c.trans[id]; t != nil {
		for oid, ot := range c.trans {
			if oid != id {
				ot.Disconnect(t.LocalAddr())
			}
		}
		delete(c.trans, id)
	}
	c.mu.Unlock()
	c.stopped[id] = n
}

func (c *tcluster) stopAll() {
	c.mu.Lock()
	var ids []string
	for id := range c.nodes {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.stop(id)
	}
}

func (c *tcluster) join(id string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := c.nodes[id]
	for {
		err := c.leader().rep.Join(ctx, id, n.rep.RaftAddr(), "mem://"+id)
		// A leader that loses leadership mid-change leaves the outcome
		// unknown; adding a member again is harmless, so ask the next one.
		if (errors.Is(err, replica.ErrLeadershipLost) || errors.Is(err, replica.ErrNotLeader)) && ctx.Err() == nil {
			continue
		}
		if err != nil {
			c.t.Fatalf("join %s: %v", id, err)
		}
		return
	}
}

func (c *tcluster) leader() *tnode {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, n := range c.nodes {
			if id, api := n.rep.Leader(); n.rep.IsLeader() && id == n.id && api != "" {
				c.mu.Unlock()
				return n
			}
		}
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no leader")
	return nil
}

// submit posts entries through the leader and returns the results.
func (c *tcluster) submit(entries ...[]byte) []Posted {
	c.t.Helper()
	wait := c.wait
	if wait == 0 {
		wait = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		res, err := c.leader().board.Submit(ctx, entries)
		if errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrLeadershipLost) {
			continue // posting is idempotent: a retry of a committed entry answers its position
		}
		if err != nil {
			c.t.Fatalf("submit: %v", err)
		}
		return res
	}
}

// mustAccept submits entries and fails unless all are accepted.
func (c *tcluster) mustAccept(what string, entries ...[]byte) []Posted {
	c.t.Helper()
	res := c.submit(entries...)
	for i, r := range res {
		if r.Err != nil {
			c.t.Fatalf("%s %d rejected: %v", what, i, r.Err)
		}
	}
	return res
}

// mustRepeat posts an entry that is on the board already: posting is
// idempotent, so it is answered with the position of the entry with these
// very bytes, and the board does not grow.
func (c *tcluster) mustRepeat(what string, entry []byte) {
	c.t.Helper()
	n := c.leader()
	before := n.state().entries
	res := c.submit(entry)
	if res[0].Err != nil {
		c.t.Fatalf("%s: %v, want the position of the first post", what, res[0].Err)
	}
	got, err := n.board.Entries(context.Background(), res[0].Seq, 1, 0)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, entry) {
		c.t.Fatalf("%s: answered seq %d, which does not hold these bytes (%v)", what, res[0].Seq, err)
	}
	if after := c.leader().state().entries; after != before {
		c.t.Fatalf("%s: the board grew from %d to %d entries", what, before, after)
	}
}

// mustReject submits one entry and checks the rejection.
func (c *tcluster) mustReject(what string, entry []byte, want error) {
	c.t.Helper()
	res := c.submit(entry)
	if !errors.Is(res[0].Err, want) {
		c.t.Fatalf("%s: got %v, want %v", what, res[0].Err, want)
	}
}

// state summarises a node's board for comparison.
type nodeState struct {
	entries  uint64
	blocks   uint64
	root     [32]byte
	lastHash [32]byte
	quorumCP uint64
}

func (n *tnode) state() nodeState {
	v := n.board.current()
	s := nodeState{entries: v.entries, blocks: v.blocks, quorumCP: v.quorumCP}
	if v.last != nil {
		s.root, s.lastHash = v.last.LogRoot, v.last.Hash()
	}
	return s
}

// waitAgree waits until every running node holds the same chain, and (when
// wantCheckpoint) a quorum checkpoint covering the whole log; it returns
// the common state.
func (c *tcluster) waitAgree(wantCheckpoint bool) nodeState {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		var first *nodeState
		ok := true
		var desc []string
		for id, n := range c.nodes {
			s := n.state()
			desc = append(desc, fmt.Sprintf("%s:%d/%d/cp%d", id, s.entries, s.blocks, s.quorumCP))
			if first == nil {
				first = &s
			}
			if s.entries != first.entries || s.blocks != first.blocks || s.root != first.root || s.lastHash != first.lastHash {
				ok = false
			}
			if wantCheckpoint && s.quorumCP != s.entries {
				ok = false
			}
		}
		c.mu.Unlock()
		if ok {
			return *first
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("nodes disagree: %v", desc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// compareBlocks checks that every running node stores identical block headers.
func (c *tcluster) compareBlocks() {
	c.t.Helper()
	ctx := context.Background()
	var ref []Block
	var refID string
	for id, n := range c.nodes {
		bs, err := n.board.Blocks(ctx, 0, 1000)
		if err != nil {
			c.t.Fatal(err)
		}
		if ref == nil {
			ref, refID = bs, id
			continue
		}
		if len(bs) != len(ref) {
			c.t.Fatalf("%s has %d blocks, %s %d", id, len(bs), refID, len(ref))
		}
		for i := range bs {
			if !bytes.Equal(bs[i].Raw, ref[i].Raw) {
				c.t.Fatalf("block %d differs between %s and %s", i, id, refID)
			}
		}
	}
}
