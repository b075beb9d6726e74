package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
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

// SaveState replaces the saved verification state (0600, atomically).
func (m *Memory) SaveState(s *client.Verified) error {
	if m == nil {
		return nil
	}
	data, err := s.MarshalState()
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	return replaceFile(filepath.Join(m.dir, StateFile), data)
}

// nodeSource is a node as client.Follow reads it, with the part of the
// record after a saved state (client.SuffixSource) assembled from
// GET /blocks and GET /entries: the node serves no partial record.
type nodeSource struct{ *apiclient.Client }

// RecordSince implements client.SuffixSource: the blocks from height from
// up to the one ending at log size size, their entries, and note, framed as
// a record and streamed as the pages arrive. The verifier checks all of
// it; here only the pieces' places are checked, to frame them.
func (n nodeSource) RecordSince(ctx context.Context, from, size uint64, note []byte) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		pw.CloseWithError(n.writeSince(ctx, pw, from, size, note))
	}()
	return &cancelReader{PipeReader: pr, cancel: cancel}, nil
}

type cancelReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (r *cancelReader) Close() error { r.cancel(); return r.PipeReader.Close() }

func (n nodeSource) writeSince(ctx context.Context, w io.Writer, from, size uint64, note []byte) error {
	rw, err := bulletin.NewRecordWriter(w)
	if err != nil {
		return err
	}
	var pending [][]byte // entries fetched, not yet in a block
	var next uint64      // the sequence number of pending[0]
	started := false
	for height := from; ; {
		blocks, err := n.Blocks(ctx, height, api.MaxPageLimit)
		if err != nil {
			return fmt.Errorf("roles: the node's blocks from height %d: %w", height, err)
		}
		if len(blocks) == 0 {
			return fmt.Errorf("roles: the node has no block at height %d below log size %d", height, size)
		}
		for _, b := range blocks {
			h, err := bulletin.ParseBlockHeader(b.Header)
			if err != nil {
				return fmt.Errorf("roles: the node's block %d: %w", height, err)
			}
			if h.Height != height || h.LogSize > size || h.FirstSeq+uint64(h.Count) != h.LogSize {
				return fmt.Errorf("roles: the node's block %d (height %d, log size %d) does not lead to log size %d", height, h.Height, h.LogSize, size)
			}
			if !started {
				started, next = true, h.FirstSeq
			}
			for next+uint64(len(pending)) < h.LogSize {
				at := next + uint64(len(pending))
				list, _, err := n.Entries(ctx, at, api.MaxPageLimit)
				if err != nil {
					return fmt.Errorf("roles: the node's entries from %d: %w", at, err)
				}
				if len(list) == 0 {
					return fmt.Errorf("roles: the node has no entry %d below log size %d", at, size)
				}
				for k, e := range list {
					if e.Seq != at+uint64(k) {
						return fmt.Errorf("roles: the node served entry %d where %d was asked", e.Seq, at+uint64(k))
					}
					if e.Seq < size {
						pending = append(pending, e.Entry)
					}
				}
			}
			if h.FirstSeq != next {
				return fmt.Errorf("roles: the node's block %d starts at entry %d, not %d", h.Height, h.FirstSeq, next)
			}
			if err := rw.WriteBlock(h, pending[:h.Count]); err != nil {
				return err
			}
			pending, next = pending[h.Count:], h.LogSize
			height++
			if h.LogSize == size {
				if err := rw.WriteCheckpoint(note); err != nil {
					return err
				}
				return rw.Close()
			}
		}
	}
}
