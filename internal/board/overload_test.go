package board

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// TestSubmitOverloadedWhenCheckersBusy: when every proof checker is busy
// for longer than MaxCheckWait, Submit is refused at once as overload (the
// API's 503 with Retry-After) instead of queueing until the request times
// out, and nothing is proposed.
func TestSubmitOverloadedWhenCheckersBusy(t *testing.T) {
	e, c := newLoneNode(t)
	b := c.leader().board
	b.cfg.MaxCheckWait = 50 * time.Millisecond
	for range b.checks.n { // occupy every checker
		if err := b.checks.acquire(context.Background(), "", time.Second); err != nil {
			t.Fatal(err)
		}
	}
	before := b.current().entries
	start := time.Now()
	_, err := b.Submit(context.Background(), [][]byte{e.ManifestEntry()})
	if !errors.Is(err, replica.ErrOverloaded) {
		t.Fatalf("Submit with every checker busy: %v, want ErrOverloaded", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("refused only after %v", waited)
	}
	if got := b.current().entries; got != before {
		t.Fatalf("entries %d → %d: something was proposed", before, got)
	}
	for range b.checks.n { // free them: the same post now goes through
		b.checks.release()
	}
	c.mustAccept("manifest", e.ManifestEntry())
}
