package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
)

// followEvery is the pause between two rounds of the parties following
// the board while voting runs.
const followEvery = 5 * time.Second

// follower is a party that follows the board while voting runs, as a
// careful trustee or authority does (roles.Follow): its saved
// verification state then stays close to the board, and its check before
// decrypting or tallying verifies only the last ballots.
type follower struct {
	name string
	mem  func() (*roles.Memory, error)
	cl   *apiclient.Client
}

// followers are the trustees ts (trustee i posts through tc(i)) and the
// election authority (through ea), each following the board with its own
// memory.
func (r *run) followers(ts []*roles.Trustee, tc func(int) *apiclient.Client, ea *apiclient.Client) []follower {
	var parties []follower
	for i, t := range ts {
		parties = append(parties, follower{name: fmt.Sprintf("trustee %d", i+1), cl: tc(i), mem: func() (*roles.Memory, error) {
			mem, err := roles.OpenMemory(t.Dir)
			if mem != nil {
				mem.Also(t.Memory)
			}
			return mem, err
		}})
	}
	return append(parties, follower{name: "election authority", cl: ea, mem: func() (*roles.Memory, error) { return roles.OpenMemory(r.dirOf("authority")) }})
}

// followWhileVoting runs the parties' follows in rounds, one party after
// the other, every followEvery until the returned function is called; that
// function lets the follow under way finish (its work is the next check's
// head start) and returns the first verification failure (a board that
// does not verify or forks), nil otherwise. Other errors (a checkpoint late
// under load) are reported as progress lines and the party tries again
// next round.
func (r *run) followWhileVoting(ctx context.Context, parties []follower) (stop func() error) {
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for {
			round := time.Now()
			for _, p := range parties {
				select {
				case <-quit:
					done <- nil
					return
				default:
				}
				t0 := time.Now()
				mem, err := p.mem()
				var out *roles.VerifyOutcome
				if err == nil {
					out, err = roles.Follow(ctx, r.rand, mem, p.cl)
				}
				var ee *roles.EvidenceError
				switch {
				case ctx.Err() != nil:
					done <- nil
					return
				case errors.Is(err, client.ErrNotVerified) || errors.As(err, &ee):
					done <- fmt.Errorf("demo: %s following the board: %w", p.name, err)
					return
				case err != nil:
					r.progress("%s could not follow the board now (tries again): %v", p.name, err)
				default:
					r.progress("%s followed the board: %d entries, verified up to %s, in %v",
						p.name, out.Report.Entries, out.UpTo, time.Since(t0).Round(time.Millisecond))
				}
			}
			// Following takes at most about half of the wall time: each
			// round costs the new ballots plus reading and saving the
			// parties' states, which grow with the board.
			select {
			case <-quit:
				done <- nil
				return
			case <-ctx.Done():
				done <- nil
				return
			case <-time.After(max(followEvery, time.Since(round))):
			}
		}
	}()
	return func() error { close(quit); return <-done }
}
