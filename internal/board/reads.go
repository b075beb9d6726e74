package board

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/cover"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
)

// Reader answers questions about the committed board from consistent reads
// of the store. It hands out domain values (bulletin's types and the small
// structs below); how they are shown to clients is the API's business.
type Reader struct {
	cfg *Config
	st  store.Store
	src stateSource
	// applied wakes WaitApplied (barrier.go) after every apply; one
	// signal per board, shared by every election's Reader.
	applied *appliedSignal
	// tl are ElectionStatus's counts of the entry types (timeline.go);
	// one per board, shared by every election's Reader.
	tl *timelines
}

// Entry is one committed entry.
type Entry struct {
	Seq   uint64
	Block uint64 // height of the block holding it
	Raw   []byte // the canonical entry
}

// Block is one committed block.
type Block struct {
	Header *bulletin.BlockHeader
	Raw    []byte // the canonical header
}

// Election is the election as the board holds it.
type Election struct {
	Manifest *ballot.Manifest
	Raw      []byte // the canonical manifest
	Entries  uint64 // entries on the board
	Voted    uint64 // credentials that cast at least one ballot
	// Rules is a copy of the election rules' state (phase, counters,
	// trustees' progress, joint key).
	Rules *bulletin.ElectionState
}

// TrackerStatus is what the board knows of a ballot tracker.
type TrackerStatus struct {
	Tracker      [32]byte
	Seq          uint64 // the entry carrying the ballot
	Entry        []byte // that canonical entry
	Counts       bool   // a cast ballot that is its credential's latest
	SupersededBy *uint64
	Audited      bool
}

// SignedCheckpoint is a checkpoint with the cosignatures the board holds.
type SignedCheckpoint struct {
	Checkpoint *bulletin.Checkpoint
	Note       []byte   // the signed note
	Signers    []string // sorted node IDs
	Cosigners  []string // sorted witness names (SPEC.md §3.13)
}

// Inclusion is the proof that entry Seq is leaf Seq of the log of size Size.
type Inclusion struct {
	Seq, Size uint64
	Leaf      tlog.Hash
	Proof     []tlog.Hash
}

// Result is the election result entry with the manifest that names its
// questions and options.
type Result struct {
	Seq      uint64
	Result   *tally.Result
	Manifest *ballot.Manifest
}

// Election returns the election (store.ErrNotFound before the manifest).
func (r *Reader) Election(ctx context.Context) (*Election, error) {
	return r.electionAt(ctx, r.src.current())
}

// electionAt is Election in state v.
func (r *Reader) electionAt(ctx context.Context, v *state) (*Election, error) {
	if v.manifest == nil {
		return nil, fmt.Errorf("board: no manifest yet: %w", store.ErrNotFound)
	}
	el := &Election{Manifest: v.manifest.m, Raw: v.manifest.raw, Entries: v.entries, Rules: v.rules.Clone()}
	if err := r.st.View(ctx, func(tx store.ReadTx) (err error) {
		el.Voted, err = loadU64(tx, keyVoted, "voter count")
		return err
	}); err != nil {
		return nil, fmt.Errorf("board: election: %w", err)
	}
	return el, nil
}

// Entries returns up to limit entries from seq from.
//
// The page also ends after the entry that brings its entries' bytes to
// maxBytes or more (0: no such bound), so that a page is never many large
// entries (credential lists, shuffles) at once: a page holds at least one
// entry when there is one, and a shorter page does not mean the end.
func (r *Reader) Entries(ctx context.Context, from uint64, limit, maxBytes int) ([]Entry, error) {
	v := r.src.current()
	return readPage(ctx, r.st, "entries", from, limit, v.entries, func(tx store.ReadTx, to uint64, out *[]Entry) error {
		blk, err := findBlock(tx, v.blocks, from)
		if err != nil {
			return err
		}
		size := 0
		err = tx.Entries(from, to, func(seq uint64, data []byte) error {
			for seq >= blk.LogSize {
				if blk, err = readBlock(tx, blk.Height+1); err != nil {
					return err
				}
			}
			*out = append(*out, Entry{Seq: seq, Block: blk.Height, Raw: data})
			if size += len(data); maxBytes > 0 && size >= maxBytes {
				return errPageFull // before the store copies another entry
			}
			return nil
		})
		if errors.Is(err, errPageFull) {
			return nil
		}
		return err
	})
}

// errPageFull ends a page of entries at its byte bound.
var errPageFull = errors.New("page full")

// Blocks returns up to limit blocks from height from.
func (r *Reader) Blocks(ctx context.Context, from uint64, limit int) ([]Block, error) {
	v := r.src.current()
	return readPage(ctx, r.st, "blocks", from, limit, v.blocks, func(tx store.ReadTx, to uint64, out *[]Block) error {
		for h := from; h < to; h++ {
			raw, err := tx.Block(h)
			if err != nil {
				return err
			}
			hd, err := bulletin.ParseBlockHeader(raw)
			if err != nil {
				return err
			}
			*out = append(*out, Block{Header: hd, Raw: raw})
		}
		return nil
	})
}

// readPage reads the page [from, to) of at most limit of count items (an
// empty, non-nil page when there is none) in one read transaction: read
// appends items from to to-1 to out. what names the items in errors.
func readPage[T any](ctx context.Context, st store.Store, what string, from uint64, limit int, count uint64,
	read func(tx store.ReadTx, to uint64, out *[]T) error) ([]T, error) {
	to := from
	if limit > 0 && from < count {
		to = min(from+uint64(limit), count)
	}
	out := make([]T, 0, to-from)
	if to == from {
		return out, nil
	}
	if err := st.View(ctx, func(tx store.ReadTx) error { return read(tx, to, &out) }); err != nil {
		return nil, fmt.Errorf("board: %s: %w", what, err)
	}
	return out, nil
}

// Tracker looks up the ballot whose tracker starts with prefix (the full
// 32 bytes, or the 5 bytes of the short form). store.ErrNotFound when no
// ballot or more than one matches.
func (r *Reader) Tracker(ctx context.Context, prefix []byte) (*TrackerStatus, error) {
	var ts *TrackerStatus
	err := r.st.View(ctx, func(tx store.ReadTx) error {
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
			return fmt.Errorf("short tracker %x matches several ballots; use the full tracker: %w", prefix, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if n == 0 || len(key) != 32 {
			return fmt.Errorf("tracker %x: %w", prefix, store.ErrNotFound)
		}
		rec, err := decodeTrackerRecord([32]byte(key), val)
		if err != nil {
			return err
		}
		data, err := tx.Entry(rec.Seq)
		if err != nil {
			return err
		}
		ts = &TrackerStatus{Tracker: rec.Tracker, Seq: rec.Seq, Entry: data, Audited: rec.Kind == bulletin.TrackerAudited}
		if rec.Kind != bulletin.TrackerCast {
			return nil
		}
		h, err := bulletin.ReadHeader(data)
		if err != nil {
			return err
		}
		last, err := tx.Get(store.NSCredential, h.Author[:])
		if err != nil {
			return err
		}
		if l := binary.BigEndian.Uint64(last); l == rec.Seq {
			ts.Counts = true
		} else if l != noBallot {
			ts.SupersededBy = &l
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: tracker: %w", err)
	}
	return ts, nil
}

var errAmbiguous = errors.New("ambiguous")

// Checkpoint returns the newest attested checkpoint (SPEC.md §3.8: signed
// by a quorum of nodes, and cosigned by a quorum of witnesses when the
// manifest names witnesses) with every signature collected, and
// store.ErrNotFound before there is one. It never falls back to a less
// attested, newer checkpoint: what a node serves only ever grows, so a
// party that saw a checkpoint never sees a smaller one from the same node.
func (r *Reader) Checkpoint(ctx context.Context) (*SignedCheckpoint, error) {
	v := r.src.current()
	size := v.attestedCP()
	if v.manifest == nil || size == 0 {
		return nil, fmt.Errorf("board: no checkpoint signed by a quorum yet: %w", store.ErrNotFound)
	}
	var sc *SignedCheckpoint
	err := r.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		sc, err = signedCheckpoint(tx, v, size)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("board: checkpoint: %w", err)
	}
	return sc, nil
}

// InclusionProof proves entry seq in the log of size size.
func (r *Reader) InclusionProof(ctx context.Context, seq, size uint64) (*Inclusion, error) {
	v := r.src.current()
	if size == 0 || size > v.entries || seq >= size {
		return nil, fmt.Errorf("board: no inclusion proof of %d in size %d (log size %d): %w", seq, size, v.entries, store.ErrNotFound)
	}
	var in *Inclusion
	err := r.st.View(ctx, func(tx store.ReadTx) error {
		data, err := tx.Entry(seq)
		if err != nil {
			return err
		}
		p, err := bulletin.ProveInclusion(seq, size, hashReader{tx})
		if err != nil {
			return err
		}
		in = &Inclusion{Seq: seq, Size: size, Leaf: bulletin.LeafHash(data), Proof: p.Hashes}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: inclusion proof: %w", err)
	}
	return in, nil
}

// ConsistencyProof proves that the log of size from is a prefix of the log
// of size to.
func (r *Reader) ConsistencyProof(ctx context.Context, from, to uint64) ([]tlog.Hash, error) {
	return consistencyProof(ctx, r.st, r.src.current().entries, from, to)
}

// consistencyProof proves the log of st, of size entries, at size to
// consistent with itself at size from.
func consistencyProof(ctx context.Context, st store.Store, entries, from, to uint64) ([]tlog.Hash, error) {
	if from == 0 || from > to || to > entries {
		return nil, fmt.Errorf("board: no consistency proof from %d to %d (log size %d): %w", from, to, entries, store.ErrNotFound)
	}
	var proof []tlog.Hash
	err := st.View(ctx, func(tx store.ReadTx) error {
		p, err := bulletin.ProveConsistency(from, to, hashReader{tx})
		if err != nil {
			return err
		}
		proof = p.Hashes
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: consistency proof: %w", err)
	}
	return proof, nil
}

// Receipt returns the receipt of entry seq (SPEC.md §3.10): the entry, the
// newest checkpoint signed by a quorum, which covers the entry, and the
// inclusion proof. ErrNoCheckpoint (wrapping store.ErrNotFound) until the
// quorum checkpoint covers seq.
func (r *Reader) Receipt(ctx context.Context, seq uint64) (*bulletin.Receipt, error) {
	v := r.src.current()
	if seq >= v.entries {
		return nil, fmt.Errorf("board: entry %d: %w", seq, store.ErrNotFound)
	}
	if !cover.Covers(v.attestedCP(), seq) {
		return nil, fmt.Errorf("%w covering entry %d: %w", ErrNoCheckpoint, seq, store.ErrNotFound)
	}
	var rc *bulletin.Receipt
	err := r.st.View(ctx, func(tx store.ReadTx) error {
		data, err := tx.Entry(seq)
		if err != nil {
			return err
		}
		sc, err := signedCheckpoint(tx, v, v.attestedCP())
		if err != nil {
			return err
		}
		p, err := bulletin.ProveInclusion(seq, v.attestedCP(), hashReader{tx})
		if err != nil {
			return err
		}
		rc = &bulletin.Receipt{Entry: data, Seq: seq, Checkpoint: sc.Note, Proof: p.Hashes}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: receipt: %w", err)
	}
	return rc, nil
}

// Result returns the decoded result entry (bulletin.ErrWrongPhase before it).
func (r *Reader) Result(ctx context.Context) (*Result, error) {
	v := r.src.current()
	if v.rules.Phase != bulletin.PhaseResult || v.manifest == nil {
		return nil, fmt.Errorf("board: no result yet: %w", bulletin.ErrWrongPhase)
	}
	var seq uint64
	var data []byte
	err := r.st.View(ctx, func(tx store.ReadTx) error {
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
	return &Result{Seq: seq, Result: res, Manifest: v.manifest.m}, nil
}

// recordWait bounds how long WriteRecord waits for the quorum checkpoint to
// catch up with the newest block: cosignatures trail a commit by a few tens
// of milliseconds, and a record written right after a post (say, `urna
// export` straight after `urna tally`) should hold it.
const recordWait = 2 * time.Second

// WriteRecord writes every block with its entries up to the newest
// checkpoint a quorum of nodes signed, then that checkpoint, in the record
// format of bulletin (SPEC.md §3.11), from one consistent read. It first
// waits (at most recordWait) for that checkpoint to cover the newest block.
func (r *Reader) WriteRecord(ctx context.Context, w io.Writer) error {
	return r.WriteRecordSince(ctx, w, 0, 0)
}

// WriteRecordSince writes the part of the record that a party holding the
// blocks below height from reads (SPEC.md §3.11, "Record suffix"): the
// blocks from height from up to the one that ends at log size size, with
// their entries, then this node's signed checkpoint of that size, framed
// as a record. size 0 means the newest checkpoint a quorum signed (and,
// with from 0, it is WriteRecord). size MUST be at most that checkpoint's
// size, end a block at or after height from, and be a size the node holds
// a signed checkpoint of (the sizes served by GET /checkpoint are);
// anything else fails with an error wrapping store.ErrNotFound before a
// byte is written.
func (r *Reader) WriteRecordSince(ctx context.Context, w io.Writer, from, size uint64) error {
	if last := r.src.current().last; last != nil && size == 0 {
		// A timeout is no error here: the record ends at the newest quorum
		// checkpoint, whatever it covers.
		_, _ = cover.Wait(ctx, last.LogSize-1, recordWait, func(context.Context) (uint64, error) {
			return r.src.current().attestedCP(), nil
		})
	}
	v := r.src.current()
	if v.last == nil || v.manifest == nil {
		return fmt.Errorf("board: record: board is empty: %w", store.ErrNotFound)
	}
	// The record ends at the newest checkpoint a quorum of nodes signed
	// (SPEC.md §3.11): later blocks are not attested yet, and a record
	// must verify (V3) the moment it is written.
	attested := v.attestedCP()
	if attested == 0 {
		return fmt.Errorf("board: record: %w: no checkpoint is signed by a quorum of nodes (and cosigned by the witness quorum, if the manifest names witnesses) yet (%w)", ErrNoCheckpoint, store.ErrNotFound)
	}
	if size == 0 {
		size = attested
	}
	if size > attested {
		return fmt.Errorf("board: record: log size %d is past the newest quorum checkpoint (%d): %w", size, attested, store.ErrNotFound)
	}
	if from >= v.blocks {
		return fmt.Errorf("board: record: no block at height %d (the board has %d): %w", from, v.blocks, store.ErrNotFound)
	}
	var note []byte
	err := r.st.View(ctx, func(tx store.ReadTx) error {
		first, err := readBlock(tx, from)
		if err != nil {
			return err
		}
		if first.LogSize > size {
			return fmt.Errorf("block %d ends at log size %d, past %d: %w", from, first.LogSize, size, store.ErrNotFound)
		}
		if _, err := blockEndingAt(tx, v.blocks, size); err != nil {
			return fmt.Errorf("no block ends at log size %d: %w", size, store.ErrNotFound)
		}
		sc, err := signedCheckpoint(tx, v, size)
		if err != nil {
			return err
		}
		if len(sc.Signers) == 0 {
			return fmt.Errorf("this node holds no signed checkpoint of log size %d: %w (%w)", size, ErrNoCheckpoint, store.ErrNotFound)
		}
		note = sc.Note
		return nil
	})
	if err != nil {
		return fmt.Errorf("board: record: %w", err)
	}
	if err := r.writeBlocks(ctx, w, from, v.blocks, size, note); err != nil {
		return fmt.Errorf("board: record: %w", err)
	}
	return nil
}

// recordChunk bounds the entry bytes WriteRecordSince reads in one read
// transaction before it writes them out. Blocks below a checkpoint never
// change, so the record needs no single transaction; and a transaction
// held while a slow reader (a party verifying as it reads) takes the
// stream would keep the store from reusing the pages freed meanwhile:
// a 100,000-ballot demo's serving node grew its state file 3.4-fold
// (897 MB against 265 MB on a node that served no record).
var recordChunk = 4 << 20

// writeBlocks writes the blocks from height from up to the one ending at
// log size size (below height blocks), then note, as a record. It reads
// them in chunks of about recordChunk bytes (at least one block), each in
// its own read transaction, and writes a chunk only once its transaction
// has ended.
func (r *Reader) writeBlocks(ctx context.Context, w io.Writer, from, blocks, size uint64, note []byte) error {
	rw, err := bulletin.NewRecordWriter(w)
	if err != nil {
		return err
	}
	type block struct {
		hd      *bulletin.BlockHeader
		entries [][]byte
	}
	var chunk []block
	h, end := from, uint64(0)
	for h < blocks && end < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk = chunk[:0]
		err := r.st.View(ctx, func(tx store.ReadTx) error {
			n := 0
			for ; h < blocks && end < size && n < recordChunk; h++ {
				hd, err := readBlock(tx, h)
				if err != nil {
					return err
				}
				var entries [][]byte
				if err := tx.Entries(hd.FirstSeq, hd.LogSize, func(_ uint64, d []byte) error {
					entries = append(entries, d)
					n += len(d)
					return nil
				}); err != nil {
					return err
				}
				chunk = append(chunk, block{hd, entries})
				end = hd.LogSize
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, b := range chunk {
			if err := rw.WriteBlock(b.hd, b.entries); err != nil {
				return err
			}
		}
	}
	if end != size {
		return fmt.Errorf("checkpoint of size %d does not end a block (the blocks written end at %d)", size, end)
	}
	if err := rw.WriteCheckpoint(note); err != nil {
		return err
	}
	return rw.Close()
}
