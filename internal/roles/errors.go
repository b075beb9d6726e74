package roles

import (
	"errors"

	"github.com/urna-vote/urna/internal/trustee"
)

// Errors callers branch on.
var (
	// ErrExists: the board already holds what the step would post (a
	// second deal, a second list...). Secret files that would be
	// overwritten fail with keyfile.ErrExists instead.
	ErrExists = trustee.ErrExists
	// ErrRefused: the party's own check of the board failed (it does not
	// verify, a node showed an older board, or the board forked), so it
	// posted nothing.
	ErrRefused = errors.New("roles: refusing")
	// ErrNotReady: the board is not in the phase the step needs.
	ErrNotReady = trustee.ErrNotReady
)
