package board

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
)

// keyResult holds the sequence number of the result entry in store.NSMeta.
var keyResult = []byte("result")

// parseTrackerQuery accepts the full hex tracker (64 digits) or the short
// form "XXXX-XXXX" (its first 40 bits), returning the key prefix to scan.
func parseTrackerQuery(q string) ([]byte, error) {
	if len(q) == 64 {
		b, err := hex.DecodeString(strings.ToLower(q))
		if err == nil {
			return b, nil
		}
	}
	s := strings.ToUpper(strings.ReplaceAll(q, "-", ""))
	if len(s) != 8 {
		return nil, fmt.Errorf("board: tracker %q is neither 64 hex digits nor XXXX-XXXX: %w", q, store.ErrNotFound)
	}
	var v uint64
	for _, c := range s {
		i := strings.IndexRune(ballot.CredentialAlphabet, c)
		if i < 0 {
			return nil, fmt.Errorf("board: tracker %q: bad symbol %q: %w", q, c, store.ErrNotFound)
		}
		v = v<<5 | uint64(i)
	}
	return binary.BigEndian.AppendUint64(nil, v<<24)[:5], nil
}

// Tracker implements httpapi.Backend.
func (b *Board) Tracker(ctx context.Context, q string) (*httpapi.TrackerInfo, error) {
	prefix, err := parseTrackerQuery(q)
	if err != nil {
		return nil, err
	}
	var info *httpapi.TrackerInfo
	err = b.st.View(ctx, func(tx store.ReadTx) error {
		var key, val []byte
		n := 0
		err := tx.Scan(store.NSTracker, prefix, func(k, v []byte) error {
			n++
			key, val = k, v
			if n > 1 {
				return errAmbiguous
			}
			return nil
		})
		if errors.Is(err, errAmbiguous) {
			return fmt.Errorf("board: short tracker %q matches several ballots; use the full tracker: %w", q, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if n == 0 || len(key) != 32 {
			return fmt.Errorf("board: tracker %q: %w", q, store.ErrNotFound)
		}
		rec, err := decodeTrackerRecord([32]byte(key), val)
		if err != nil {
			return err
		}
		data, err := tx.Entry(rec.Seq)
		if err != nil {
			return err
		}
		e, err := bulletin.ParseEntry(data)
		if err != nil {
			return err
		}
		id := bulletin.EntryID(data)
		info = &httpapi.TrackerInfo{Seq: rec.Seq, ID: hex.EncodeToString(id[:]), Type: e.Type.String(), Tracker: hex.EncodeToString(key), Audited: rec.Kind == bulletin.TrackerAudited}
		if rec.Kind == bulletin.TrackerCast {
			ak := e.AuthorKey()
			last, err := tx.Get(store.NSCredential, ak[:])
			if err != nil {
				return err
			}
			if l := binary.BigEndian.Uint64(last); l == rec.Seq {
				info.Counts = true
			} else if l != noBallot {
				info.SupersededBy = &l
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: tracker: %w", err)
	}
	return info, nil
}

var errAmbiguous = errors.New("ambiguous")

// Results implements httpapi.Backend: the decoded result entry.
func (b *Board) Results(ctx context.Context) (*httpapi.ResultsInfo, error) {
	v := b.currentView()
	if v.rules.st == nil || v.rules.st.Phase != bulletin.PhaseResult || v.manifest == nil {
		return nil, fmt.Errorf("board: no result yet: %w", bulletin.ErrWrongPhase)
	}
	var seq uint64
	var data []byte
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		raw, err := tx.Get(store.NSMeta, keyResult)
		if err != nil {
			return err
		}
		if len(raw) != 8 {
			return fmt.Errorf("stored result seq of %d bytes", len(raw))
		}
		seq = binary.BigEndian.Uint64(raw)
		data, err = tx.Entry(seq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("board: results: %w", err)
	}
	e, err := bulletin.ParseEntry(data)
	if err != nil {
		return nil, fmt.Errorf("board: results: %w", err)
	}
	res, err := tally.ParseResult(e.Body)
	if err != nil {
		return nil, fmt.Errorf("board: results: %w", err)
	}
	m := v.manifest.m
	out := &httpapi.ResultsInfo{Trustees: res.Trustees, ResultSeq: seq, Questions: []httpapi.QuestionResult{}}
	for q, qq := range m.Questions {
		qr := httpapi.QuestionResult{Text: qq.Text, Options: []httpapi.OptionResult{}}
		for o, opt := range qq.Options {
			var c uint64
			if q < len(res.Counts) && o < len(res.Counts[q]) {
				c = res.Counts[q][o]
			}
			qr.Options = append(qr.Options, httpapi.OptionResult{Text: opt, Count: c})
		}
		out.Questions = append(out.Questions, qr)
	}
	return out, nil
}

// recordWait bounds how long WriteRecord waits for the quorum checkpoint to
// catch up with the newest block: cosignatures trail a commit by a few tens
// of milliseconds, and a record written right after a post (say, `urna
// export` straight after `urna tally`) should hold it.
const recordWait = 2 * time.Second

// attestedView returns the current view once a quorum checkpoint covers its
// newest block, or the current view when max has passed or ctx is done.
func (b *Board) attestedView(ctx context.Context, max time.Duration) *view {
	deadline := time.Now().Add(max)
	for {
		v := b.currentView()
		if v.last == nil || v.quorumCP >= v.last.LogSize || time.Now().After(deadline) {
			return v
		}
		select {
		case <-ctx.Done():
			return v
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WriteRecord implements httpapi.Backend: every block with its entries up
// to the newest checkpoint a quorum of nodes signed, then that checkpoint,
// in the record format of bulletin (SPEC.md §3.11), from one consistent
// read. It first waits (at most recordWait) for that checkpoint to cover
// the newest block.
func (b *Board) WriteRecord(ctx context.Context, w io.Writer) error {
	v := b.attestedView(ctx, recordWait)
	if v.last == nil || v.manifest == nil {
		return fmt.Errorf("board: record: board is empty: %w", store.ErrNotFound)
	}
	// The record ends at the newest checkpoint a quorum of nodes signed
	// (SPEC.md §3.11): later blocks are not attested yet, and a record
	// must verify (V3) the moment it is written.
	size := v.quorumCP
	if size == 0 {
		return fmt.Errorf("board: record: %w: no checkpoint is signed by a quorum of nodes yet (%w)", ErrNoCheckpoint, store.ErrNotFound)
	}
	rw, err := bulletin.NewRecordWriter(w)
	if err != nil {
		return err
	}
	err = b.st.View(ctx, func(tx store.ReadTx) error {
		end := uint64(0)
		for h := uint64(0); h < v.blocks; h++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			hd, err := readBlock(tx, h)
			if err != nil {
				return err
			}
			if hd.LogSize > size {
				break
			}
			entries := make([][]byte, 0, hd.Count)
			if err := tx.Entries(hd.FirstSeq, hd.LogSize, func(_ uint64, d []byte) error {
				entries = append(entries, d)
				return nil
			}); err != nil {
				return err
			}
			if err := rw.WriteBlock(hd, entries); err != nil {
				return err
			}
			end = hd.LogSize
		}
		if end != size {
			return fmt.Errorf("quorum checkpoint of size %d does not end a block (last block ends at %d)", size, end)
		}
		note, signers, err := signedCheckpoint(tx, v, size)
		if err != nil {
			return err
		}
		if len(signers) == 0 {
			return fmt.Errorf("no signed checkpoint yet: %w", ErrNoCheckpoint)
		}
		return rw.WriteCheckpoint(note)
	})
	if err != nil {
		return fmt.Errorf("board: record: %w", err)
	}
	return rw.Close()
}
