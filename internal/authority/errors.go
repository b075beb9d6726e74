package authority

import "github.com/urna-vote/urna/internal/trustee"

// Errors callers branch on: the trustee package's, one sentinel each
// (internal/roles re-exports them).
var (
	// ErrExists: the board already holds what the step would post.
	ErrExists = trustee.ErrExists
	// ErrNotReady: the board is not in the phase the step needs.
	ErrNotReady = trustee.ErrNotReady
)
