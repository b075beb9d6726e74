package board

import (
	"fmt"
	"sync"

	"github.com/urna-vote/urna/internal/replica"
)

// shares is the node's submit pipeline divided between elections
// (docs/spec/elections.md E.5.1), so that one election flooding the board
// cannot keep another's posts out. An election may hold at most
// max(minShare, capacity / busy) entries between admission and commit,
// busy being the number of elections with entries in flight counting the
// one posting; a post to an election with nothing in flight is always
// admitted, however large. It is admission control on this node only
// (never a rule: replicas cannot diverge over it).
type shares struct {
	mu       sync.Mutex
	capacity int
	minShare int
	inflight map[string]int // election id → entries admitted, not finished
}

func newShares(capacity, minShare int) *shares {
	return &shares{capacity: capacity, minShare: minShare, inflight: map[string]int{}}
}

// acquire admits n entries of election (its id; "" before the board's
// first election exists) or refuses them with replica.ErrOverloaded. The
// caller MUST call release once the entries are committed or refused.
func (q *shares) acquire(election string, n int) (release func(), err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	have := q.inflight[election]
	if have > 0 {
		busy := len(q.inflight)
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
