package board

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
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
	var err error
	if want > 0 {
		err = s.st.View(context.Background(), func(tx store.ReadTx) error {
			rows, err = lastShuffle(tx, q, want)
			return err
		})
	} else {
		rows, err = countedRows(s.st, v.manifest.m, q, runtime.GOMAXPROCS(0))
	}
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
	var rows []shuffle.Row
	err = backToClose(tx, n, func(e *bulletin.Entry) error {
		if e.Type != bulletin.TypeShuffle || rows != nil {
			return nil
		}
		ms, err := tally.ParseMixShuffle(e.Body)
		if err == nil && ms.Question == q && ms.Position == position {
			rows = ms.Outputs
		}
		return err
	})
	if err == nil && rows == nil {
		err = fmt.Errorf("shuffle %d of question %d is not on the board", position, q)
	}
	return rows, err
}

// countedRows returns the K.5 rows of mixed question q of manifest m of
// every credential's counted ballot (SPEC.md V10, §11.1), in board order,
// read from st as sumCounted reads the aggregate's ballots: one read
// transaction lists the counted ballots (countedBallots), then the
// entries are read a chunk per read transaction and their rows decoded
// on workers goroutines (eachCountedEntry), each into its own place in
// board order. No read transaction lasts long.
//
// Only question q's ciphertexts are decoded (ballot.ParseMixRow), each
// strictly; the proofs, the credential, the other questions and the
// envelope's key and signature are read past. It is safe for the reasons
// sumCounted gives: the rows do not depend on the bytes skipped, every
// counted ballot was decoded strictly and verified before it was
// proposed, and a verifier's V8 still decodes them all. Decoding every
// ballot whole, in one read transaction, took minutes at 1,000,000
// ballots and kept bbolt from reusing pages meanwhile.
func countedRows(st store.Store, m *ballot.Manifest, q, workers int) ([]shuffle.Row, error) {
	var counted []countedBallot
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		counted, err = countedBallots(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	rows := make([]shuffle.Row, len(counted))
	err = eachCountedEntry(st, counted, workers, func(_, i int, raw []byte) error {
		body, err := countedBody(raw)
		if err != nil {
			return err
		}
		rows[i], err = ballot.ParseMixRow(m, q, body)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// checkMixedResult checks the mixed answers of a result (SPEC.md V16)
// before the node proposes it: for every mixed question, the last rows
// decrypted with the valid decryptions on the board are the answers listed.
func (s *Submitter) checkMixedResult(v *state, vk []*group.Element, res *tally.Result) error {
	m := v.manifest.m
	if len(res.Mixed) != len(v.rules.Mixes) {
		return fmt.Errorf("%w: the result lists %d mixed questions, the manifest has %d", bulletin.ErrInvalidBody, len(res.Mixed), len(v.rules.Mixes))
	}
	fp := m.Fingerprint()
	for k, mx := range v.rules.Mixes {
		q := int(mx.Question)
		rows, err := s.mixRows(v, q)
		if err != nil {
			return err
		}
		decs := map[int]*tally.MixDecryption{}
		err = s.st.View(context.Background(), func(tx store.ReadTx) error {
			return tallyEntries(tx, v.rules.Entries, bulletin.TypeMixDecryption, tally.ParseMixDecryption, func(md *tally.MixDecryption) {
				if md.Question == q && md.Trustee >= 1 && md.Trustee <= len(vk) &&
					tally.VerifyMixDecryption(fp, vk[md.Trustee-1], rows, md) == nil {
					decs[md.Trustee] = md
				}
			})
		})
		if err != nil {
			return fmt.Errorf("board: reading the mix decryptions: %w", err)
		}
		got, err := tally.DecryptMixed(m, tally.ManifestParams(m), q, rows, decs)
		if err != nil {
			return fmt.Errorf("%w: question %d: %v", bulletin.ErrInvalidProof, q, err)
		}
		if d := tally.DiffMixed(&res.Mixed[k], got); d != "" {
			return fmt.Errorf("%w: question %d: %s", bulletin.ErrInvalidProof, q, d)
		}
	}
	return nil
}

// backToClose calls fn on every entry from the newest (of n) back to the
// close, the close excluded: the tally's entries.
func backToClose(tx store.ReadTx, n uint64, fn func(e *bulletin.Entry) error) error {
	for seq := n; seq > 0; seq-- {
		e, err := storedEntry(tx, seq-1)
		if err != nil {
			return err
		}
		if e.Type == bulletin.TypeClose {
			return nil
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// tallyEntries calls fn on every entry of type t from the newest (of n)
// back to the close, decoded with parse.
func tallyEntries[T any](tx store.ReadTx, n uint64, t bulletin.EntryType, parse func([]byte) (T, error), fn func(T)) error {
	return backToClose(tx, n, func(e *bulletin.Entry) error {
		if e.Type != t {
			return nil
		}
		v, err := parse(e.Body)
		if err != nil {
			return err
		}
		fn(v)
		return nil
	})
}
