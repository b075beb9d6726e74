// Package cover is the one copy of "wait until a checkpoint signed by a
// quorum of board nodes covers entry seq" (SPEC.md §3.10): the rule
// (Covers) and the waiting loop (Wait). The board node uses it before it
// writes a record, the role commands before they fetch a receipt or a
// record, and the demo through them; the web booth mirrors it in
// JavaScript.
//
// The caller supplies the size of the newest checkpoint it has verified to
// be signed by a quorum of the manifest's board nodes (the board node's
// own quorum checkpoint, or a checkpoint or receipt a client checked with
// bulletin.OpenCheckpoint); the package trusts no server.
package cover

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Covers reports whether a quorum checkpoint of log size size covers entry
// seq: the entry is one of its size leaves (seq < size).
func Covers(size, seq uint64) bool { return seq < size }

// Probe returns the log size of the newest checkpoint the caller verified
// to be signed by a quorum (0 while there is none). An error ends the wait;
// a probe that sees a transient failure ("not yet") returns 0 and no error.
type Probe func(ctx context.Context) (size uint64, err error)

// ErrTimeout: no quorum checkpoint covered the entry within the timeout.
var ErrTimeout = errors.New("cover: no quorum checkpoint covers the entry yet")

// The polling schedule: the first probe at once, then after FirstDelay,
// doubling up to MaxDelay. Cosignatures trail a commit by tens of
// milliseconds, so most waits end at the first or second retry.
const (
	FirstDelay = 25 * time.Millisecond
	MaxDelay   = 500 * time.Millisecond
)

// Wait calls probe until the size it returns covers seq, and returns that
// size. It fails with the probe's error, ctx's error, or ErrTimeout (with
// the last size seen) once timeout has passed.
func Wait(ctx context.Context, seq uint64, timeout time.Duration, probe Probe) (uint64, error) {
	deadline := time.Now().Add(timeout)
	for delay := FirstDelay; ; delay = min(2*delay, MaxDelay) {
		size, err := probe(ctx)
		if err != nil {
			return size, err
		}
		if Covers(size, seq) {
			return size, nil
		}
		if !time.Now().Before(deadline) {
			return size, fmt.Errorf("%w: the newest covers %d entries, entry %d waits", ErrTimeout, size, seq)
		}
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return size, ctx.Err()
		case <-t.C:
		}
	}
}
