package roles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
)

// StateFile is the name of a party's saved verification state, kept beside
// its memory (MemoryFile): what client.Follow needs to verify only the
// entries a later contact adds (client.FollowOptions.State). It holds one
// election's state, the last one the party followed.
const StateFile = "board-state.bin"

// LoadState returns the saved verification state, or nil if there is none
// (or no memory directory).
func (m *Memory) LoadState() ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(m.dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return data, nil
}

// OpenState opens the saved verification state, or returns nil if there
// is none (or no memory directory). client.Follow reads it as a stream
// (FollowOptions.StateReader); the caller closes it.
func (m *Memory) OpenState() (*os.File, error) {
	if m == nil {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(m.dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return f, nil
}

// SaveState replaces the saved verification state (0600, atomically).
func (m *Memory) SaveState(s *client.Verified) error {
	if m == nil {
		return nil
	}
	// Streamed to the file: the state of a large board is as large as
	// its sets (770 MB at 1,000,000 voters), and a copy in memory would be
	// the party's largest allocation.
	return replaceFileWith(filepath.Join(m.dir, StateFile), s.WriteState)
}

// A node (*apiclient.Client) is a client.SuffixSource: a party holding a
// saved state reads only the blocks after it, as the binary record suffix
// (GET /record?from=&size=, apiclient.RecordSince).
var _ client.SuffixSource = (*apiclient.Client)(nil)
