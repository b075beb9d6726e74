package board

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urna-vote/urna/ballot"
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
	// ErrBehind: WaitApplied gave up before this node applied the read
	// index (it is cut off from the leader or far behind).
	ErrBehind = errors.New("board: this node has not caught up with the read index")
)

// Replica is what the board needs from internal/replica (a *replica.Node).
type Replica interface {
	Submit(ctx context.Context, cmd []byte) (replica.Result, error)
	SubmitCommands(ctx context.Context, cmds []replica.Command) ([]replica.Result, error)
	FitEntry(cmds []replica.Command) int
	Leader() (id, apiAddr string)
	IsLeader() bool
	Stats() replica.Stats
	Servers() ([]replica.Server, error)
	Join(ctx context.Context, id, raftAddr, apiAddr string) error
	Remove(ctx context.Context, id string) error
	ReadIndex(ctx context.Context) (uint64, error)
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
	// Witnesses reach the manifest's witnesses (SPEC.md §3.13), by witness
	// name. The leader submits every new quorum checkpoint to each and
	// replicates their cosignatures. A witness of the manifest missing here
	// is reached at https://<name> (its name as a schema-less URL, C2SP
	// tlog-cosignature). Nil: all of them so.
	Witnesses map[string]WitnessClient
	// SubmitCapacity is how many posted entries this node holds between
	// admission and commit, shared fairly between the elections posting
	// (SPEC.md §3.14.5). Default 4096.
	SubmitCapacity int
	// SubmitMinShare is the least share of SubmitCapacity an election
	// posting gets, however many others post. Default 64.
	SubmitMinShare int
	// MaxElectionEntries is how many entries this node lets one election's
	// log reach (SPEC.md §3.14.5). Default 16 777 216.
	MaxElectionEntries uint64
	// MaxElectionBytes is how many bytes of entries this node lets one
	// election's log reach, at most the rule's MaxElectionBytes, which
	// every replica enforces (SPEC.md §3.14.5). Default MaxElectionBytes.
	MaxElectionBytes uint64
	// ElectionRate, if positive, is how many entries per second this node
	// admits for one election, with bursts of ElectionBurst (default twice
	// the rate): a token bucket per election on the node's clock
	// (SPEC.md §3.14.5). Default: no limit.
	ElectionRate  float64
	ElectionBurst int
	// MaxActiveElections is how many elections not archived this node
	// lets the board hold: it proposes no manifest creating one more
	// (§3.14.5.5). Default 256.
	MaxActiveElections int
	// VersionWait is how long a manifest creating an election beside
	// others waits for voters that have not announced the board version
	// yet (a cluster just started) before it is refused (SPEC.md §3.14.8).
	// Default 5 s.
	VersionWait time.Duration
	// Creators, if not empty, are the only election authority keys (the
	// canonical 32-byte Schnorr public keys) whose manifests this node
	// proposes on an election route: the operator's admission of new
	// elections (SPEC.md §3.14.2). Empty: any authority. It is
	// not a rule of the board (replicas cannot diverge over it).
	Creators [][32]byte
	// SkipChecks disables the pre-proposal signature and proof checks.
	// For benchmarks of the board alone; never in production.
	SkipChecks bool
}

// Board is a board node's state machine and the services around it. Each
// part has one job and they share the committed state through stateSource:
//
//   - FSM applies committed commands (replica.EntriesFSM), snapshots and
//     restores; pass Board.FSM to replica.New;
//   - Submitter pre-checks and proposes posted entries;
//   - Reader answers reads with domain values;
//   - Hub hands committed blocks to subscribers;
//   - Cosigner signs checkpoints and proposes followers' cosignatures.
//
// Board also offers the cluster's membership (Health, Cluster, Join,
// Remove, LeaderAPI). It knows nothing of HTTP.
type Board struct {
	*FSM
	*Submitter
	*Reader
	*Hub
	*Cosigner

	cfg    Config
	st     store.Store
	rep    replicaRef
	scopes scopes

	stopOnce sync.Once
	started  atomic.Bool
	bg       context.Context // ends at Close
	cancel   context.CancelFunc
	warmed   chan struct{} // closed when Start's warm-up of the entry-type counts ends
}

// replicaRef is the replica the board is attached to, shared by its parts.
type replicaRef struct{ p atomic.Pointer[replicaBox] }

type replicaBox struct{ r Replica }

func (r *replicaRef) get() (Replica, error) {
	box := r.p.Load()
	if box == nil {
		return nil, ErrNoReplica
	}
	return box.r, nil
}

// Open loads the board from cfg.Store. Pass b.FSM to replica.New, Attach
// the replica, then Start the background cosigner.
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
	if cfg.SubmitCapacity <= 0 {
		cfg.SubmitCapacity = 4096
	}
	if cfg.SubmitMinShare <= 0 {
		cfg.SubmitMinShare = 64
	}
	if cfg.MaxElectionEntries == 0 {
		cfg.MaxElectionEntries = 1 << 24
	}
	if cfg.MaxElectionBytes == 0 || cfg.MaxElectionBytes > MaxElectionBytes {
		cfg.MaxElectionBytes = MaxElectionBytes
	}
	if cfg.VersionWait <= 0 {
		cfg.VersionWait = 5 * time.Second
	}
	if cfg.MaxActiveElections <= 0 {
		cfg.MaxActiveElections = 256
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Board{cfg: cfg, st: cfg.Store, bg: ctx, cancel: cancel, warmed: make(chan struct{}), Hub: newHub(), scopes: scopes{byID: map[string]*Scoped{}}}
	fsm, err := newFSM(cfg.Store, fsmHooks{
		block:    b.publish,
		applied:  func() { b.Cosigner.wake(); b.Reader.applied.notify() },
		restored: b.restored,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	b.FSM = fsm
	b.Submitter = newSubmitter(&b.cfg, cfg.Store, fsm, &b.rep)
	b.Submitter.shares = newShares(cfg.SubmitCapacity, cfg.SubmitMinShare)
	if cfg.ElectionRate > 0 {
		b.Submitter.shares.rate, b.Submitter.shares.burst = cfg.ElectionRate, float64(cfg.ElectionBurst)
		if cfg.ElectionBurst <= 0 {
			b.Submitter.shares.burst = 2 * cfg.ElectionRate
		}
	}
	b.Submitter.fsm = fsm
	b.Reader = &Reader{cfg: &b.cfg, st: cfg.Store, src: fsm, applied: &appliedSignal{}, tl: newTimelines(cfg.Store)}
	b.Cosigner = newCosigner(&b.cfg, fsm, &b.rep, ctx)
	return b, nil
}

// Attach connects the board to its replica (after replica.New(cfg, b.FSM)).
func (b *Board) Attach(r Replica) { b.rep.p.Store(&replicaBox{r}) }

// Start runs the cosigner until Close, and counts every election's entry
// types in the background, so that the first status after the node
// starts (ElectionStatus) need not read the whole log. Call it once.
func (b *Board) Start() {
	b.started.Store(true)
	go b.Cosigner.run()
	go func() {
		defer close(b.warmed)
		if err := b.Reader.tl.warm(b.bg, b.FSM.board); err != nil && b.bg.Err() == nil {
			// The next status counts what is left.
			b.cfg.Logger.Warn("board: warm-up of the status failed", "err", err)
		}
	}()
}

// Close stops the background work and subscriptions. It does not close the
// store or the replica.
func (b *Board) Close() error {
	b.stopOnce.Do(func() {
		close(b.Cosigner.stop)
		b.cancel()
		if b.started.Load() {
			<-b.Cosigner.done
			<-b.warmed
		}
		b.Hub.close()
		b.scopes.mu.Lock()
		for _, s := range b.scopes.byID {
			s.hub.close()
		}
		b.scopes.mu.Unlock()
	})
	return nil
}

// restored drops every Submitter's cached tally inputs after a restore.
func (b *Board) restored() {
	defer b.Cosigner.wake() // the restored state may lack this node's announcement
	b.Submitter.tally.reset()
	b.scopes.mu.Lock()
	defer b.scopes.mu.Unlock()
	for _, s := range b.scopes.byID {
		s.Submitter.tally.reset()
	}
}

// NodeStatus is this node's view of the cluster (the API's /health).
type NodeStatus struct {
	Node    string
	Leader  string // the leader's ID, "" when unknown
	Role    string // "leader", "follower", "candidate", ... or "detached"
	Applied uint64 // the applied Raft index
}

// Status reports this node's role and progress.
func (b *Board) Status() NodeStatus {
	s := NodeStatus{Node: b.cfg.NodeID, Applied: b.AppliedIndex(), Role: "detached"}
	if r, err := b.rep.get(); err == nil {
		st := r.Stats()
		s.Leader, s.Role, s.Applied = st.LeaderID, strings.ToLower(st.State), b.AppliedIndex()
	}
	return s
}

// LeaderAPI is the API base URL of the current leader ("" when unknown).
func (b *Board) LeaderAPI() string {
	r, err := b.rep.get()
	if err != nil {
		return ""
	}
	_, api := r.Leader()
	return api
}

// Cluster returns the leader's ID and the Raft configuration.
func (b *Board) Cluster(context.Context) (leader string, servers []replica.Server, err error) {
	r, err := b.rep.get()
	if err != nil {
		return "", nil, err
	}
	if servers, err = r.Servers(); err != nil {
		return "", nil, err
	}
	leader, _ = r.Leader()
	return leader, servers, nil
}

// Join adds a voter to the cluster (on the leader).
func (b *Board) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	r, err := b.rep.get()
	if err != nil {
		return err
	}
	return r.Join(ctx, id, raftAddr, apiAddr)
}

// Remove removes a server from the cluster (on the leader).
func (b *Board) Remove(ctx context.Context, id string) error {
	r, err := b.rep.get()
	if err != nil {
		return err
	}
	return r.Remove(ctx, id)
}
