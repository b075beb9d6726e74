package board

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// slots are the node's proof checkers (one per CPU), handed out in turn
// across the elections waiting for one (SPEC.md §3.14.5): a
// freed checker goes to the next election in rotation, not to whoever
// queued first, so a flood of expensive posts in one election delays
// another's post by at most one turn per waiting election. With one
// election waiting, it is first come, first served.
type slots struct {
	n     int // checkers in all
	mu    sync.Mutex
	free  int
	queue map[string][]chan struct{} // waiters by election id, oldest first
	order []string                   // elections with waiters, in turn order
}

func newSlots(n int) *slots {
	return &slots{n: n, free: n, queue: map[string][]chan struct{}{}}
}

// acquire takes a checker for election, waiting at most wait; past it the
// post is refused as overload (replica.ErrOverloaded).
func (s *slots) acquire(ctx context.Context, election string, wait time.Duration) error {
	s.mu.Lock()
	if s.free > 0 && len(s.order) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if len(s.queue[election]) == 0 {
		s.order = append(s.order, election)
	}
	s.queue[election] = append(s.queue[election], ch)
	s.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	var err error
	select {
	case <-ch:
		return nil
	case <-t.C:
		err = fmt.Errorf("board: the node's %d proof checkers stayed busy for %v: %w", s.n, wait, replica.ErrOverloaded)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if !s.leave(election, ch) {
		// Handed a checker while giving up: pass it on.
		s.release()
	}
	return err
}

// leave removes a waiter that gave up; false if it was handed a checker
// meanwhile.
func (s *slots) leave(election string, ch chan struct{}) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue[election]
	for i, c := range q {
		if c == ch {
			s.queue[election] = append(q[:i:i], q[i+1:]...)
			if len(s.queue[election]) == 0 {
				s.drop(election)
			}
			return true
		}
	}
	return false
}

// drop removes election from the turn order (its queue is empty).
func (s *slots) drop(election string) {
	delete(s.queue, election)
	for i, e := range s.order {
		if e == election {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			return
		}
	}
}

// release frees a checker: to the first waiter of the election whose turn
// it is (which then goes to the back of the turn order), or to the pool.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		s.free++
		return
	}
	e := s.order[0]
	q := s.queue[e]
	ch := q[0]
	s.order = s.order[1:]
	if len(q) > 1 {
		s.queue[e] = q[1:]
		s.order = append(s.order, e)
	} else {
		delete(s.queue, e)
	}
	close(ch)
}
