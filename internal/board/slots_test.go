package board

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// TestSlotsTakeTurns: a freed proof checker goes to the elections waiting
// in turn, not first come first served (SPEC.md §3.14.5):
// three posts of alpha queued before one of beta, beta's is served second.
// No timing: the test waits for each waiter to be queued, then releases
// one checker at a time and reads who got it.
func TestSlotsTakeTurns(t *testing.T) {
	s := newSlots(1)
	ctx := context.Background()
	if err := s.acquire(ctx, "x", time.Second); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	queued := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			s.mu.Lock()
			k := 0
			for _, q := range s.queue {
				k += len(q)
			}
			s.mu.Unlock()
			if k == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d waiters queued, want %d", k, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i, w := range []string{"alpha", "alpha", "alpha", "beta"} {
		name := fmt.Sprintf("%s%d", w, i)
		go func() {
			if err := s.acquire(ctx, w, time.Hour); err != nil {
				got <- err.Error()
				return
			}
			got <- name
		}()
		queued(i + 1)
	}
	var order []string
	for range 4 {
		s.release()
		order = append(order, <-got)
	}
	if fmt.Sprint(order) != "[alpha0 beta3 alpha1 alpha2]" {
		t.Fatalf("checkers went to %v, want alpha0 beta3 alpha1 alpha2", order)
	}
	// The last holder releases: the pool has its checker back.
	s.release()
	if s.free != 1 || len(s.order) != 0 {
		t.Fatalf("free %d, order %v", s.free, s.order)
	}
	// A waiter that gives up leaves the queue, and a later one is served.
	if err := s.acquire(ctx, "x", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.acquire(ctx, "alpha", time.Millisecond); !errors.Is(err, replica.ErrOverloaded) {
		t.Fatalf("a waiter past its wait: %v, want overload", err)
	}
	if len(s.order) != 0 || len(s.queue) != 0 {
		t.Fatalf("the waiter that gave up is still queued: %v", s.order)
	}
	s.release()
	if err := s.acquire(ctx, "beta", time.Second); err != nil || s.free != 0 {
		t.Fatalf("after the give-up: %v (free %d)", err, s.free)
	}
}
