package board

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
)

// Errors callers branch on.
var (
	// ErrReplayed is the Result.Err of a command carried by a Raft entry at
	// or below the applied index: it was applied before (its effects are in
	// the store) and is not applied again.
	ErrReplayed = errors.New("board: command already applied")
	// ErrNoReplica: the board is not attached to a replica yet.
	ErrNoReplica = errors.New("board: no replica attached")
	// ErrNoCheckpoint: no checkpoint covering the entry exists yet.
	ErrNoCheckpoint = errors.New("board: no checkpoint yet")
	// ErrBadCommand: SubmitCosign got bytes that are not a well-formed
	// cosign command (nothing was proposed).
	ErrBadCommand = errBadCommand
)

// Replica is what the board needs from internal/replica (a *replica.Node).
type Replica interface {
	Submit(ctx context.Context, cmd []byte) (replica.Result, error)
	SubmitBatch(ctx context.Context, cmds [][]byte) ([]replica.Result, error)
	Leader() (id, apiAddr string)
	IsLeader() bool
	Stats() replica.Stats
	Servers() ([]replica.Server, error)
	Join(ctx context.Context, id, raftAddr, apiAddr string) error
	Remove(ctx context.Context, id string) error
}

var _ Replica = (*replica.Node)(nil)

// Config configures a Board.
type Config struct {
	// NodeID is this node's ID: its Raft ID and its name among the
	// manifest's board nodes (the checkpoint note key name).
	NodeID string
	// Store holds the node's state; the board does not close it.
	Store store.Store
	// Key is this node's Ed25519 checkpoint signing key. Nil: the node never
	// cosigns (an observer replica).
	Key ed25519.PrivateKey
	// Logger receives the node's logs (never entries or keys). Nil discards.
	Logger *slog.Logger
	// CosignInterval is the minimum time between two cosign commands of
	// this node. Default 75 ms.
	CosignInterval time.Duration
	// Now is the proposer's clock, read outside Apply. Default time.Now.
	Now func() time.Time
	// ForwardCosign sends a cosign command to the leader (whose API base URL
	// is leaderAPI) when this node is a follower. Nil: followers' signatures
	// are dropped until they lead.
	ForwardCosign func(ctx context.Context, leaderAPI string, cmd []byte) error
	// MaxCheckWait is how long a submission may wait for a free proof
	// checker before it is refused with replica.ErrOverloaded. Default 2 s.
	MaxCheckWait time.Duration
	// SkipChecks disables the pre-proposal signature and proof checks.
	// For benchmarks of the board alone; never in production.
	SkipChecks bool
}

// Board is a node's replicated board state machine (a replica.FSM) and the
// node-side implementation of httpapi.Backend.
type Board struct {
	cfg Config
	st  store.Store
	log *slog.Logger

	// applyMu serialises ApplyBatch, Restore and the in-memory view they
	// maintain; the replica already calls them from one goroutine, the
	// mutex protects the view against readers.
	applyMu sync.Mutex
	view    *view // cached from the store; replaced wholesale after each apply
	viewMu  sync.RWMutex
	applied atomic.Uint64
	// restores counts Restore calls (tests, metrics).
	restores atomic.Uint64

	rep atomic.Pointer[replicaBox]
	// checks bounds concurrent pre-checks to the number of CPUs, so that
	// proof verification under load cannot starve Raft's heartbeats.
	checks chan struct{}
	// tally caches the closed election's aggregate for pre-checks.
	tally tallyCache

	subMu sync.Mutex
	subs  map[int]chan blockEvent
	subID int

	kick     chan struct{} // wakes the cosigner after an apply
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	started  atomic.Bool
	bg       context.Context
	cancel   context.CancelFunc
}

type replicaBox struct{ r Replica }

var _ replica.EntriesFSM = (*Board)(nil)

// Open loads the board from cfg.Store. Call Attach with the replica, then
// Start the background cosigner.
func Open(cfg Config) (*Board, error) {
	if cfg.Store == nil {
		return nil, errors.New("board: config: Store is nil")
	}
	if cfg.NodeID != "" && !ballot.ValidNodeID(cfg.NodeID) {
		return nil, fmt.Errorf("board: config: node id %q is not a valid note name", cfg.NodeID)
	}
	if cfg.Key != nil && len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("board: config: Key is not an Ed25519 private key")
	}
	if cfg.CosignInterval <= 0 {
		cfg.CosignInterval = 75 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxCheckWait <= 0 {
		cfg.MaxCheckWait = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Board{
		cfg: cfg, st: cfg.Store, log: cfg.Logger,
		subs: map[int]chan blockEvent{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		bg: ctx, cancel: cancel,
		checks: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	if err := b.reload(); err != nil {
		cancel()
		return nil, err
	}
	return b, nil
}

// Attach connects the board to its replica (after replica.New(cfg, board)).
func (b *Board) Attach(r Replica) { b.rep.Store(&replicaBox{r}) }

func (b *Board) replica() (Replica, error) {
	box := b.rep.Load()
	if box == nil {
		return nil, ErrNoReplica
	}
	return box.r, nil
}

// Start runs the cosigner until Close. Call it once.
func (b *Board) Start() {
	b.started.Store(true)
	go b.runCosigner()
}

// Close stops the background work and subscriptions. It does not close the
// store or the replica.
func (b *Board) Close() error {
	b.stopOnce.Do(func() {
		close(b.stop)
		b.cancel()
		if b.started.Load() {
			<-b.done
		}
		b.subMu.Lock()
		for id, ch := range b.subs {
			close(ch)
			delete(b.subs, id)
		}
		b.subMu.Unlock()
	})
	return nil
}

// reload rebuilds the in-memory view from the store.
func (b *Board) reload() error {
	v, err := loadView(context.Background(), b.st)
	if err != nil {
		return err
	}
	b.setView(v)
	return nil
}

func (b *Board) setView(v *view) {
	b.viewMu.Lock()
	b.view = v
	b.viewMu.Unlock()
	b.applied.Store(v.applied)
}

func (b *Board) currentView() *view {
	b.viewMu.RLock()
	defer b.viewMu.RUnlock()
	return b.view
}

// AppliedIndex implements replica.FSM.
func (b *Board) AppliedIndex() uint64 { return b.applied.Load() }

// Snapshot implements replica.FSM: a store snapshot handle, streamed by
// Persist concurrently with later applies.
func (b *Board) Snapshot() (raft.FSMSnapshot, error) {
	s, err := b.st.Snapshot(context.Background())
	if err != nil {
		return nil, fmt.Errorf("board: snapshot: %w", err)
	}
	return &fsmSnapshot{s: s}, nil
}

// Restore implements replica.FSM: it replaces the whole store.
func (b *Board) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	if err := b.st.Restore(context.Background(), rc); err != nil {
		return fmt.Errorf("board: restore: %w", err)
	}
	if err := b.reload(); err != nil {
		return fmt.Errorf("board: restore: %w", err)
	}
	b.tally.mu.Lock()
	b.tally.agg, b.tally.vk = nil, nil
	b.tally.mu.Unlock()
	b.restores.Add(1)
	b.wake()
	return nil
}

type fsmSnapshot struct{ s store.Snapshot }

func (f *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := f.s.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("board: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (f *fsmSnapshot) Release() { f.s.Release() }

// blockEvent is delivered to subscribers after a block commits.
type blockEvent struct {
	header *bulletin.BlockHeader
	raw    []byte
}

func (b *Board) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}
