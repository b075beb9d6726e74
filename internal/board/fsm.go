package board

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
)

// FSM is the board's replicated state machine and nothing else: it applies
// committed commands to the store (replica.EntriesFSM), snapshots and
// restores the store, and publishes the committed state as an immutable
// *state that the board's other parts read through stateSource.
type FSM struct {
	st     store.Store
	bodies *applyBodies
	rules  *bulletin.Rules

	// applyMu serialises ApplyEntries and Restore; the replica already
	// calls them from one goroutine, the mutex guards the state they
	// publish and the bodies' decode slot.
	applyMu sync.Mutex
	mu      sync.RWMutex
	cur     *boardState // replaced wholesale after each apply
	applied atomic.Uint64
	// restores counts Restore calls (tests, metrics).
	restores atomic.Uint64

	hooks fsmHooks
}

// fsmHooks tell the board's other parts about applies. They run on the
// applier's goroutine and MUST NOT block.
type fsmHooks struct {
	block    func(*state, Block) // a committed block of an election (the Hubs)
	applied  func()              // after every apply or restore (wakes the cosigner)
	restored func()              // after a restore (drops caches of the old state)
}

// stateSource is how the board's parts read the committed state of one
// election (the FSM: the default election; a scope: the one it names),
// and the board's applied Raft index.
type stateSource interface {
	current() *state
	appliedIndex() uint64
}

var (
	_ replica.EntriesFSM = (*FSM)(nil)
	_ stateSource        = (*FSM)(nil)
)

func newFSM(st store.Store, hooks fsmHooks) (*FSM, error) {
	ab := newApplyBodies()
	f := &FSM{st: st, bodies: ab, rules: bulletin.NewRules(ab), hooks: hooks}
	v, err := loadBoard(context.Background(), st)
	if err != nil {
		return nil, err
	}
	f.publish(v)
	return f, nil
}

func (f *FSM) publish(v *boardState) {
	f.mu.Lock()
	f.cur = v
	f.mu.Unlock()
	f.applied.Store(v.applied)
}

// board is the published state of every election.
func (f *FSM) board() *boardState {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cur
}

// current is the default election's state (SPEC.md §3.14.1).
func (f *FSM) current() *state { return f.board().dflt() }

// AppliedIndex implements replica.FSM.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

func (f *FSM) appliedIndex() uint64 { return f.applied.Load() }

// Snapshot implements replica.FSM: a store snapshot handle, streamed by
// Persist concurrently with later applies.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	s, err := f.st.Snapshot(context.Background())
	if err != nil {
		return nil, fmt.Errorf("board: snapshot: %w", err)
	}
	return &fsmSnapshot{s: s}, nil
}

// Restore implements replica.FSM: it replaces the whole store.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if err := f.st.Restore(context.Background(), rc); err != nil {
		return fmt.Errorf("board: restore: %w", err)
	}
	v, err := loadBoard(context.Background(), f.st)
	if err != nil {
		return fmt.Errorf("board: restore: %w", err)
	}
	f.publish(v)
	f.hooks.restored()
	f.restores.Add(1)
	f.hooks.applied()
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
