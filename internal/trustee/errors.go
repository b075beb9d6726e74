package trustee

import "errors"

// Errors callers branch on (internal/roles re-exports them).
var (
	// ErrExists: the board already holds what the step would post.
	ErrExists = errors.New("roles: already done")
	// ErrNotReady: the board is not in the phase the step needs.
	ErrNotReady = errors.New("roles: board not ready")
)
