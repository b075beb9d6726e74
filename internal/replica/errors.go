package replica

import (
	"errors"
	"fmt"
)

// Errors returned by [Node]. Callers branch on them with [errors.Is]; the
// HTTP layer maps them to status codes.
var (
	// ErrNotLeader is returned by write operations on a node that is not the
	// Raft leader. The command was NOT committed. The returned error is a
	// *[NotLeaderError] wrapping ErrNotLeader; it names the leader so that the
	// caller can forward the request.
	ErrNotLeader = errors.New("replica: not the leader")

	// ErrOverloaded is returned when the submission queue is full (or Raft
	// would not take the entry in time). The command was NOT committed; the
	// caller should retry later (HTTP 503 with Retry-After).
	ErrOverloaded = errors.New("replica: overloaded")

	// ErrTooLarge is returned when a command or a SubmitBatch does not fit in
	// one log entry (Config.MaxBatch, Config.MaxBatchBytes; a single command
	// Config.MaxCommandBytes). Nothing was committed.
	ErrTooLarge = errors.New("replica: command batch too large for one log entry")

	// ErrLeadershipLost is returned when this node lost leadership after the
	// entry was handed to Raft. The outcome is UNKNOWN: the entry may still be
	// committed by the new leader. Commands SHOULD be idempotent so that a
	// retry is harmless.
	ErrLeadershipLost = errors.New("replica: leadership lost, outcome unknown")

	// ErrShutdown is returned by operations on a node that is shutting down.
	// For a command already handed to Raft the outcome is unknown.
	ErrShutdown = errors.New("replica: node is shut down")
)

// errKeyNotFound is returned by the stable store for a missing key. Its text
// is NOT prefixed: raft v1.8 recognises a missing key by comparing
// err.Error() with "not found" (api.go HasExistingState, raft.go).
var errKeyNotFound = errors.New("not found")

// NotLeaderError is the concrete error behind [ErrNotLeader]. LeaderID and
// LeaderAPI are empty when no leader is known (e.g. during an election).
type NotLeaderError struct {
	LeaderID  string // Raft server ID of the current leader, if known
	LeaderAPI string // API (HTTP) address of the leader, if known
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return "replica: not the leader (no leader known)"
	}
	return fmt.Sprintf("replica: not the leader (leader %q at %q)", e.LeaderID, e.LeaderAPI)
}

// Unwrap makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }
