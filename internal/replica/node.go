package replica

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Node is one replica of the bulletin board: a Raft server with a durable
// log, snapshots, group commit and membership metadata. Its methods are safe
// for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	raft  *raft.Raft
	trans raft.Transport
	store *raftStore
	logs  raft.LogStore // the log cache in front of store's WAL
	fsm   *fsmAdapter

	queue chan *request
	// large holds a token while a command larger than MaxBatchBytes is in
	// flight (Config.MaxCommandBytes): one at a time.
	large chan struct{}
	stop  chan struct{}
	// ctx is cancelled by Shutdown; it bounds the node's own raft calls.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.RWMutex // guards closed against concurrent enqueue
	closed bool

	batcherDone chan struct{}
	watchDone   chan struct{}
	raftDown    chan struct{} // closed once raft has shut down
	waiters     sync.WaitGroup
	shutdown    sync.Once
	shutdownErr error

	entries  atomic.Uint64
	commands atomic.Uint64
	// readyTerm is the last term in which this node, as leader, committed
	// a read barrier (ReadIndex).
	readyTerm atomic.Uint64

	// hadState records whether raft found a log, a stable store or a
	// snapshot at startup: such a node is already a member (or was one) and
	// needs neither bootstrap nor join.
	hadState bool
}

// New starts a node listening for Raft traffic on cfg.RaftBind over TCP.
// fsm MUST be opened on its own durable state before New is called: raft may
// replay log entries at or below fsm.AppliedIndex(), which the FSM skips.
func New(cfg Config, fsm FSM) (*Node, error) {
	installRaftSink()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// A nil advertise address makes the transport advertise the address it
	// actually listens on (useful with port 0).
	var adv net.Addr
	if cfg.RaftAdvertise != "" {
		a, err := advertiseAddr(cfg.RaftAdvertise)
		if err != nil {
			return nil, err
		}
		adv = a
	}
	tcfg := &raft.NetworkTransportConfig{
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  newHCLogger(cfg.Logger, "raft-net"),
	}
	// Both stream layers turn away HTTP and TLS clients that dialled the
	// Raft port by mistake, with a log line saying so (sniff.go).
	var err error
	if cfg.PeerTLS != nil {
		tcfg.Stream, err = newTLSStream(cfg.RaftBind, adv, cfg.PeerTLS, loggerOf(cfg))
	} else {
		tcfg.Stream, err = newPlainStream(cfg.RaftBind, adv, loggerOf(cfg))
	}
	if err != nil {
		return nil, err
	}
	trans := raft.NewNetworkTransportWithConfig(tcfg)
	n, err := newNode(cfg, fsm, trans)
	if err != nil {
		_ = trans.Close()
		return nil, err
	}
	if s, ok := tcfg.Stream.(*tlsStream); ok {
		s.node.Store(n)
	}
	return n, nil
}

func loggerOf(cfg Config) *slog.Logger {
	if cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cfg.Logger.With("node", cfg.ID)
}

// NewWithTransport starts a node on the given Raft transport instead of TCP:
// in-process clusters use raft's in-memory transport (raft.NewInmemTransport),
// with cfg.RaftBind set to the transport's address (host:port shaped). The node closes trans on
// Shutdown if it is an io.Closer.
func NewWithTransport(cfg Config, fsm FSM, trans raft.Transport) (*Node, error) {
	return newNode(cfg, fsm, trans)
}

// newNode starts a node on any transport.
func newNode(cfg Config, fsm FSM, trans raft.Transport) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	cfg.Logger = logger

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("replica: data dir: %w", err)
	}
	store, err := openRaftStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if c := store.wal.tornCut; c != nil {
		logger.Warn("replica: cut an unacknowledged write off the end of the Raft log (a crash during it)",
			"segment", c.segment, "offset", c.offset, "bytes", c.bytes, "record", c.reason)
	}
	n, err := startNode(cfg, fsm, trans, store)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	return n, nil
}

func startNode(cfg Config, fsm FSM, trans raft.Transport, store *raftStore) (*Node, error) {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, newHCLogger(cfg.Logger, "raft-snap"))
	if err != nil {
		return nil, fmt.Errorf("replica: snapshot store: %w", err)
	}
	logs, err := newSizedLogCache(store.wal, cfg.LogCache, cfg.MaxBatchBytes)
	if err != nil {
		return nil, fmt.Errorf("replica: log cache: %w", err)
	}
	members, membersIndex, err := store.members()
	if err != nil {
		return nil, err
	}
	adapter := &fsmAdapter{fsm: fsm, store: store.boltStore, log: cfg.Logger, members: members, membersIndex: membersIndex}

	rc := cfg.raftConfig()
	rc.NoSnapshotRestoreOnStart = skipRestore(cfg.DataDir, snaps, fsm, membersIndex, cfg.Logger)

	r, err := raft.NewRaft(rc, adapter, logs, store.boltStore, snaps, trans)
	if err != nil {
		return nil, fmt.Errorf("replica: start raft: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		ctx:         ctx,
		cancel:      cancel,
		cfg:         cfg,
		log:         cfg.Logger,
		raft:        r,
		trans:       trans,
		store:       store,
		logs:        logs,
		fsm:         adapter,
		queue:       make(chan *request, cfg.QueueSize),
		large:       make(chan struct{}, 1),
		stop:        make(chan struct{}),
		batcherDone: make(chan struct{}),
		watchDone:   make(chan struct{}),
		raftDown:    make(chan struct{}),
	}
	has, err := raft.HasExistingState(logs, store.boltStore, snaps)
	if err != nil {
		cancel()
		_ = r.Shutdown().Error()
		return nil, fmt.Errorf("replica: inspect state: %w", err)
	}
	n.hadState = has
	if cfg.Bootstrap {
		if !has {
			err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
				Suffrage: raft.Voter, ID: raft.ServerID(cfg.ID), Address: trans.LocalAddr(),
			}}}).Error()
			if err != nil {
				cancel()
				_ = r.Shutdown().Error()
				return nil, fmt.Errorf("replica: bootstrap: %w", err)
			}
			n.log.Info("replica: bootstrapped a new cluster")
		}
	}
	go n.runBatcher()
	go n.watchLeadership()
	return n, nil
}

// skipRestore reports whether the FSM's durable state already covers the
// latest snapshot, so raft need not restore it at startup (raft then replays
// only the log after the snapshot, which the FSM skips up to its applied
// index). Any doubt means restore.
func skipRestore(dataDir string, snaps *raft.FileSnapshotStore, fsm FSM, membersIndex uint64, log *slog.Logger) bool {
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return false
	}
	h, err := snapshotHeaderOf(dataDir, list[0].ID)
	if err != nil {
		log.Warn("replica: cannot read latest snapshot header; raft will try to restore", "err", err)
		return false
	}
	skip := fsm.AppliedIndex() >= h.fsmIndex && membersIndex >= h.membersIndex
	log.Info("replica: startup", "fsm_applied", fsm.AppliedIndex(), "snapshot_index", list[0].Index, "snapshot_fsm_index", h.fsmIndex, "restore", !skip)
	return skip
}

// snapshotHeaderOf reads the replica's header (snapHeader) at the start of
// the snapshot id that raft's FileSnapshotStore keeps under dataDir, in its
// layout: snapshots/<id>/state.bin. It does not use the store's Open, which
// reads the whole state file to check its CRC before returning: 2.3 GB and
// minutes at a million ballots, for a decision that needs the first bytes.
// The CRC still guards every use of the snapshot's contents: a restore or a
// send to a follower opens it through the store. TestSnapshotHeaderLayout
// pins the layout.
func snapshotHeaderOf(dataDir, id string) (snapHeader, error) {
	f, err := os.Open(filepath.Join(dataDir, "snapshots", id, "state.bin"))
	if err != nil {
		return snapHeader{}, fmt.Errorf("replica: snapshot %s: %w", id, err)
	}
	defer f.Close()
	return readSnapHeader(bufio.NewReader(f))
}

// watchLeadership records this node's API address in the replicated
// membership metadata whenever it becomes leader and the metadata lacks it
// (e.g. right after bootstrap).
func (n *Node) watchLeadership() {
	defer close(n.watchDone)
	for {
		select {
		case <-n.stop:
			return
		case isLeader := <-n.raft.LeaderCh():
			if !isLeader {
				continue
			}
			n.log.Info("replica: became leader")
			if n.fsm.apiAddr(n.cfg.ID) == n.cfg.APIAddr {
				continue
			}
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ApplyTimeout)
			err := n.applyMembers(ctx, memberOp{op: opSetAPI, id: n.cfg.ID, addr: n.cfg.APIAddr})
			cancel()
			if err != nil {
				n.log.Warn("replica: recording own API address failed", "err", err)
			}
		}
	}
}

// Leader returns the current leader's ID and API address, or empty strings
// when no leader is known.
func (n *Node) Leader() (id, apiAddr string) {
	_, lid := n.raft.LeaderWithID()
	if lid == "" {
		return "", ""
	}
	return string(lid), n.fsm.apiAddr(string(lid))
}

// HadState reports whether the node found Raft state (a log, votes or a
// snapshot) when it started. Such a node rejoins its cluster by itself: its
// peers are in its own configuration, so it MUST NOT need a join request to
// start (the member it would ask may be the one that is down).
func (n *Node) HadState() bool { return n.hadState }

// RaftAddr returns the address other servers use to reach this node's Raft
// transport (pass it to Join on the leader).
func (n *Node) RaftAddr() string { return string(n.trans.LocalAddr()) }

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// WaitLeader blocks until some leader is known (and its API address, once the
// leader has recorded it), or ctx is done.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if id, api := n.Leader(); id != "" && api != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replica: wait for leader: %w", ctx.Err())
		case <-n.stop:
			return ErrShutdown
		case <-t.C:
		}
	}
}

// Stats is a point-in-time view of a node, for /health and metrics.
type Stats struct {
	ID           string
	State        string // Leader, Follower, Candidate or Shutdown
	LeaderID     string
	Term         uint64
	LastIndex    uint64 // last Raft log index
	CommitIndex  uint64
	AppliedIndex uint64 // last index applied to the FSM by raft
	Queued       int    // Submit calls waiting for the batcher
	Entries      uint64 // command entries this node handed to raft as leader
	Commands     uint64 // commands in those entries
	// LogCommits counts the fsynced writes of this node's Raft log and
	// stable store since it started (log appends, cuts and new segment
	// files; raft.db transactions: term and vote updates, membership).
	LogCommits uint64
	// LastContact is when this node last heard from a leader (the zero
	// time if never; now on the leader).
	LastContact time.Time
	Raft        map[string]string
}

// Stats returns current statistics.
func (n *Node) Stats() Stats {
	rs := n.raft.Stats()
	id, _ := n.Leader()
	parse := func(k string) uint64 { v, _ := strconv.ParseUint(rs[k], 10, 64); return v }
	return Stats{
		ID:           n.cfg.ID,
		State:        n.raft.State().String(),
		LeaderID:     id,
		Term:         parse("term"),
		LastIndex:    n.raft.LastIndex(),
		CommitIndex:  parse("commit_index"),
		AppliedIndex: n.raft.AppliedIndex(),
		Queued:       len(n.queue),
		Entries:      n.entries.Load(),
		Commands:     n.commands.Load(),
		LogCommits:   n.store.commits(),
		LastContact:  n.lastContact(),
		Raft:         rs,
	}
}

func (n *Node) lastContact() time.Time {
	if n.raft.State() == raft.Leader {
		return time.Now()
	}
	return n.raft.LastContact()
}

// Snapshot asks raft for a snapshot now (normally taken automatically per
// Config.SnapshotThreshold), which also compacts the log.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("replica: snapshot: %w", err)
	}
	return nil
}

// Shutdown stops the batcher (pending Submits fail with ErrShutdown), stops
// raft, and closes the transport and the log store. It does not close the
// FSM. It is safe to call more than once.
func (n *Node) Shutdown() error {
	n.shutdown.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		close(n.stop)
		n.cancel()
		<-n.batcherDone
		<-n.watchDone
		var errs []error
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("replica: raft shutdown: %w", err))
		}
		close(n.raftDown)
		n.waiters.Wait()
		if c, ok := n.trans.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("replica: close transport: %w", err))
			}
		}
		if err := n.store.Close(); err != nil {
			errs = append(errs, err)
		}
		n.shutdownErr = errors.Join(errs...)
		n.log.Info("replica: shut down")
	})
	return n.shutdownErr
}

// await waits for f, ctx, or raft's shutdown. Why not just f.Error():
// with BatchApplyCh, raft buffers Apply (and Barrier) futures in a
// channel, and one still in that buffer when raft shuts down is never
// answered. Once raft is down, an unanswered future therefore means
// "outcome unknown" (ErrShutdown), and Shutdown does not wait forever for
// its waiter.
func (n *Node) await(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-n.raftDown:
		select {
		case err := <-done:
			return err
		default:
			return ErrShutdown
		}
	}
}

// mapRaftErr turns raft's errors into this package's sentinels.
func (n *Node) mapRaftErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return ErrLeadershipLost
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrOverloaded
	default:
		return fmt.Errorf("replica: raft: %w", err)
	}
}

func (n *Node) notLeader() error {
	id, api := n.Leader()
	return &NotLeaderError{LeaderID: id, LeaderAPI: api}
}
