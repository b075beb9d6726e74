package board

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// mixCache keeps the tip of each mixed question's cascade for the
// pre-checks of shuffles and mix decryptions (SPEC.md §11.2).
type mixCache struct {
	mu   sync.Mutex
	tips map[int]mixTip
}

type mixTip struct {
	position int // shuffles applied: 0 for the counted ballots' rows
	rows     []shuffle.Row
}

// mixRows returns the rows that the next shuffle of mixed question q takes
// and its decryptions decrypt: the output of the cascade's last shuffle,
// or, before the first, the K.5 rows of the counted ballots in board order
// (SPEC.md V10, §11.1). v is the board's state after close.
func (s *Submitter) mixRows(v *state, q int) ([]shuffle.Row, error) {
	mx := v.rules.Mix(q)
	if mx == nil {
		return nil, fmt.Errorf("board: question %d is not mixed", q)
	}
	want := len(mx.Shufflers)
	s.mix.mu.Lock()
	defer s.mix.mu.Unlock()
	if t, ok := s.mix.tips[q]; ok && t.position == want {
		return t.rows, nil
	}
	var rows []shuffle.Row
	err := s.st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		if want > 0 {
			rows, err = lastShuffle(tx, q, want)
		} else {
			rows, err = countedRows(tx, v.manifest.m, q)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("board: rows of question %d: %w", q, err)
	}
	if s.mix.tips == nil {
		s.mix.tips = map[int]mixTip{}
	}
	s.mix.tips[q] = mixTip{position: want, rows: rows}
	return rows, nil
}

// lastShuffle finds the accepted shuffle of question q at position, looking
// back from the newest entry to the close (shuffles come after it).
func lastShuffle(tx store.ReadTx, q, position int) ([]shuffle.Row, error) {
	n, err := tx.EntryCount()
	if err != nil {
		return nil, err
	}
	for seq := n; seq > 0; seq-- {
		data, err := tx.Entry(seq - 1)
		if err != nil {
			return nil, err
		}
		e, err := bulletin.ParseEntry(data)
		if err != nil {
			return nil, err
		}
		if e.Type == bulletin.TypeClose {
			break
		}
		if e.Type != bulletin.TypeShuffle {
			continue
		}
		ms, err := tally.ParseMixShuffle(e.Body)
		if err != nil {
			return nil, err
		}
		if ms.Question == q && ms.Position == position {
			return ms.Outputs, nil
		}
	}
	return nil, fmt.Errorf("shuffle %d of question %d is not on the board", position, q)
}

// countedRows returns the K.5 rows of question q of every credential's
// counted ballot, in board order.
func countedRows(tx store.ReadTx, m *ballot.Manifest, q int) ([]shuffle.Row, error) {
	var seqs []uint64
	err := tx.Scan(store.NSCredential, nil, func(_, val []byte) error {
		if len(val) != 8 {
			return fmt.Errorf("stored ballot index of %d bytes", len(val))
		}
		if seq := binary.BigEndian.Uint64(val); seq != noBallot {
			seqs = append(seqs, seq)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(seqs)
	counted := make([]*ballot.Ballot, len(seqs))
	for i, seq := range seqs {
		data, err := tx.Entry(seq)
		if err != nil {
			return nil, err
		}
		e, err := bulletin.ParseEntry(data)
		if err != nil {
			return nil, err
		}
		if counted[i], err = ballot.ParseBallot(e.Body); err != nil {
			return nil, err
		}
	}
	return tally.MixInput(m, q, counted)
}
