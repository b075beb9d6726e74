package roles

import (
	"context"
	"fmt"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/cover"
)

// VerifyOutcome is a party's own verification of the board.
type VerifyOutcome struct {
	Report *client.Report
	// OK is true when every step up to UpTo ran and passed.
	OK         bool
	UpTo       string
	FailedStep string // the first failing step, when !OK
	Failure    string // its first failure, for people
	// StateUnused says why the party's saved state (StateFile) was not
	// used and the whole record was verified instead; empty otherwise.
	StateUnused string
}

// WaitCheckpoint waits until a checkpoint signed by a quorum of the
// manifest's board nodes covers every entry on the node's board, for at
// most timeout (cover.Wait).
func WaitCheckpoint(ctx context.Context, c *apiclient.Client, timeout time.Duration) error {
	st, err := c.Election(ctx)
	if err != nil {
		return err
	}
	if st.Counts.Entries == 0 {
		return nil
	}
	m, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		return fmt.Errorf("roles: the node's manifest: %w", err)
	}
	bd := bulletin.BoardFor(m)
	var unopened error // why the newest checkpoint did not open, if it did not
	_, err = cover.Wait(ctx, st.Counts.Entries-1, timeout, func(ctx context.Context) (uint64, error) {
		cp, err := c.Checkpoint(ctx)
		if err != nil {
			return 0, nil // none yet, or a transient failure: ask again
		}
		v, err := bd.Open([]byte(cp.Note))
		if unopened = err; err != nil {
			return 0, nil // not signed by a quorum (or cosigned by the witness quorum) yet
		}
		return v.Size, nil
	})
	if err != nil && unopened != nil {
		// A checkpoint that never gathers the witness quorum is what a
		// history the witnesses refused looks like (SPEC.md §3.13).
		return fmt.Errorf("roles: waiting for a checkpoint of the whole board: %w; the node's newest checkpoint does not open under the manifest's rules: %w", err, unopened)
	}
	if err != nil {
		return fmt.Errorf("roles: waiting for a checkpoint of the whole board: %w", err)
	}
	return nil
}

// outcomeOf summarizes a verified report for a party: every step the
// record reaches passed (observe refuses otherwise), UpTo is the last step
// that ran.
func outcomeOf(s *client.Verified) *VerifyOutcome {
	rep := s.Report
	out := &VerifyOutcome{Report: rep, OK: true}
	if s.StateUnused != nil {
		out.StateUnused = s.StateUnused.Error()
	}
	for n := client.StepV1; n <= client.StepV13; n++ {
		s := rep.Step(n)
		if s == nil {
			continue
		}
		if s.Ran {
			out.UpTo = n.String()
		}
		if len(s.Failures) > 0 && out.OK {
			out.OK, out.FailedStep, out.Failure = false, n.String(), s.Failures[0].String()
		}
	}
	return out
}
