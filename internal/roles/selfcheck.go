package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
)

// VerifyOutcome is a party's own verification of the board.
type VerifyOutcome struct {
	Report *client.Report
	// OK is true when every step up to UpTo ran and passed.
	OK         bool
	UpTo       string
	FailedStep string // the first failing step, when !OK
	Failure    string // its first failure, for people
}

// VerifyNode downloads the complete election record from the node and
// verifies it with package client (SPEC.md §10). upTo ("V1"…"V13") is the
// last step that MUST have run and passed; later steps are reported but
// not required (a record before the result has no V12/V13 to run).
//
// The board signs checkpoints a little after it commits entries, so it
// first waits (WaitCheckpoint) for a checkpoint that covers the board, and
// retries a download whose newest entries no checkpoint covers yet.
func VerifyNode(ctx context.Context, rand io.Reader, c *apiclient.Client, upTo string) (*VerifyOutcome, error) {
	for attempt := 0; ; attempt++ {
		if err := WaitCheckpoint(ctx, c, 15*time.Second); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if _, err := c.WriteRecord(ctx, &buf); err != nil {
			return nil, fmt.Errorf("roles: downloading the election record: %w", err)
		}
		out, err := verifyStepsThrough(&buf, rand, upTo)
		if err != nil || out.OK || out.FailedStep != "V3" || attempt == 2 {
			return out, err
		}
	}
}

// WaitCheckpoint waits until the node's newest signed checkpoint covers
// every entry on its board, for at most timeout.
func WaitCheckpoint(ctx context.Context, c *apiclient.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := c.Election(ctx)
		if err != nil {
			return err
		}
		cp, err := c.Checkpoint(ctx)
		if err == nil && cp.Size >= st.Counts.Entries {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("newest checkpoint covers %d of %d entries", cp.Size, st.Counts.Entries)
			}
			return fmt.Errorf("roles: waiting for a checkpoint of the whole board: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// verifyStepsThrough runs the verifier (package client) on the record r
// and reports whether every step from V1 to upTo ran and passed, and no
// later step failed.
func verifyStepsThrough(r io.Reader, rand io.Reader, upTo string) (*VerifyOutcome, error) {
	last, err := strconv.Atoi(upTo[min(1, len(upTo)):])
	if len(upTo) < 2 || upTo[0] != 'V' || err != nil || last < 1 || last > 13 {
		return nil, fmt.Errorf("roles: verification step %q, want V1..V13", upTo)
	}
	rep, err := client.VerifyElectionRecord(r, client.VerifyOptions{Rand: rand})
	if err != nil && !errors.Is(err, client.ErrFailed) {
		return nil, fmt.Errorf("roles: %w", err)
	}
	out := &VerifyOutcome{Report: rep, OK: true, UpTo: upTo}
	for n := 1; n <= last; n++ {
		id := client.Step(n)
		s := rep.Step(id)
		if s == nil || !s.Ran || !s.OK {
			out.OK, out.FailedStep = false, id.String()
			switch {
			case s == nil:
				out.Failure = "step missing from the report"
			case len(s.Failures) > 0:
				out.Failure = s.Failures[0].String()
			case !s.Ran:
				out.Failure = "step did not run: " + s.Skipped
			default:
				out.Failure = "step failed"
			}
			return out, nil
		}
	}
	// A failure in a later step still makes the record bad.
	if step, f, bad := rep.FirstFailure(); bad && len(rep.Step(step).Failures) > 0 {
		out.OK, out.FailedStep, out.Failure = false, step.String(), f.String()
	}
	return out, nil
}
