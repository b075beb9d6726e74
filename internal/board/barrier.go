package board

import (
	"context"
	"fmt"
	"sync"
)

// The board's half of a linearizable read (docs/API.md, "consistent
// reads"): the replica's leader hands out a read index
// (replica.Node.ReadIndex), and the node that answers the read first waits
// until its own state has applied that index. A state at or past the read
// index holds every write acknowledged before the read index was taken.

// ReadIndex returns the read index of a linearizable read; only the leader
// answers it (on a follower it fails with an error wrapping
// replica.ErrNotLeader that names the leader).
func (b *Board) ReadIndex(ctx context.Context) (uint64, error) {
	r, err := b.rep.get()
	if err != nil {
		return 0, err
	}
	return r.ReadIndex(ctx)
}

// WaitApplied returns once this node's committed state has applied the
// Raft index index (a read index), or fails with an error wrapping
// ErrBehind and ctx's error when ctx ends first. Reads made after it
// returns see that state or a newer one.
func (r *Reader) WaitApplied(ctx context.Context, index uint64) error {
	for {
		// Take the channel before looking: an apply after the look closes it.
		ch := r.applied.wait()
		applied := r.src.appliedIndex()
		if applied >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: applied index %d, read index %d: %w", ErrBehind, applied, index, ctx.Err())
		}
	}
}

// appliedSignal wakes the readers waiting in WaitApplied after every apply
// or restore: it closes the channel they wait on and starts a new one.
type appliedSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *appliedSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// notify never blocks (it runs on the applier's goroutine).
func (s *appliedSignal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
