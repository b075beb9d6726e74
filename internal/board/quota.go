package board

import (
	"fmt"
	"sync"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// shares is the node's submit pipeline divided between elections
// (SPEC.md §3.14.5), so that one election flooding the board
// cannot keep another's posts out. While several elections have entries
// in flight, an election may hold at most max(minShare, capacity / busy)
// entries between admission and commit, busy being the number of
// elections with entries in flight counting the one posting; an election
// alone in flight is bounded only by the replica's queue, as a board of
// one election always was, and a post to an election with nothing in
// flight is always admitted, however large. It is admission control on
// this node only (never a rule: replicas cannot diverge over it).
type shares struct {
	mu       sync.Mutex
	capacity int
	minShare int
	inflight map[string]int // election id → entries admitted, not finished

	// rate (entries per second, 0: no limit) and burst are each
	// election's token bucket on this node (§3.14.5.4).
	rate    float64
	burst   float64
	buckets map[string]*bucket // by election id: only elections that exist
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newShares(capacity, minShare int) *shares {
	return &shares{capacity: capacity, minShare: minShare, inflight: map[string]int{}, buckets: map[string]*bucket{}}
}

// take spends n tokens of election's bucket at time now, or refuses the
// post with replica.ErrOverloaded (§3.14.5.4). The clock is the node's: this
// is admission, never a rule.
func (q *shares) take(election string, n int, now time.Time) error {
	if q.rate <= 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.buckets[election]
	if b == nil {
		b = &bucket{tokens: q.burst, at: now}
		q.buckets[election] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(q.burst, b.tokens+d.Seconds()*q.rate)
		b.at = now
	}
	if float64(n) > b.tokens && b.tokens < q.burst {
		return fmt.Errorf("board: election %q posts faster than this node's %g entries per second: %w", election, q.rate, replica.ErrOverloaded)
	}
	b.tokens -= float64(n) // a post larger than the burst drains a full bucket, and no more
	return nil
}

// acquire admits n entries of election (its id; "" before the board's
// first election exists) or refuses them with replica.ErrOverloaded. The
// caller MUST call release once the entries are committed or refused.
func (q *shares) acquire(election string, n int) (release func(), err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	have := q.inflight[election]
	if busy := len(q.inflight); have > 0 && busy > 1 {
		share := max(q.minShare, q.capacity/busy)
		if have+n > share {
			return nil, fmt.Errorf("board: election %q has %d entries in flight, its share of this node's %d is %d: %w",
				election, have, q.capacity, share, replica.ErrOverloaded)
		}
	}
	q.inflight[election] = have + n
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.inflight[election] -= n; q.inflight[election] <= 0 {
				delete(q.inflight, election)
			}
		})
	}, nil
}
