package board

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/store"
)

// state is the in-memory summary of the committed state, rebuilt from the
// store at Open and Restore and replaced after every apply. A state is never
// modified once published: apply works on a copy (clone).
type state struct {
	part     store.Partition // the election's partition of the store
	entries  uint64
	blocks   uint64
	last     *bulletin.BlockHeader // nil before the first block
	manifest *election             // nil before the manifest
	quorumCP uint64                // newest checkpoint size with ≥ quorum cosignatures, 0 if none
	// witnessedCP is the newest quorum checkpoint size that also carries
	// the manifest's witness quorum of cosignatures, 0 if none.
	witnessedCP uint64
	rules       *bulletin.ElectionState // the election rules' state, never nil
	// archived is 1 + the log size at which the board operator archived
	// the election (SPEC.md §3.14.3), 0 while it is not.
	archived uint64
	// bytes is the sum of the byte lengths of the election's entries, B
	// of SPEC.md §3.14.5: the replicated counter of the byte cap.
	bytes uint64
}

// election is what the board needs from the manifest, decoded once when
// the manifest entry is applied (or the state loaded).
type election struct {
	m           *ballot.Manifest
	raw         []byte
	fingerprint [32]byte
	origin      string
	nodes       []bulletin.NodeKey
	quorum      int
	witnesses   []bulletin.WitnessKey
	wquorum     int // 0: the manifest names no witnesses
}

func newElection(m *ballot.Manifest, raw []byte) *election {
	b := bulletin.BoardFor(m)
	return &election{m: m, raw: raw, fingerprint: m.Fingerprint(), origin: b.Origin,
		nodes: b.Nodes, quorum: b.Quorum, witnesses: b.Witnesses, wquorum: b.WitnessQuorum}
}

func (e *election) node(id string) (bulletin.NodeKey, bool) {
	for _, n := range e.nodes {
		if n.ID == id {
			return n, true
		}
	}
	return bulletin.NodeKey{}, false
}

// attestedCP is the newest checkpoint size parties accept (SPEC.md §3.8,
// §3.13): a node quorum signed it and, if the manifest names witnesses, a
// witness quorum cosigned it. 0 if none.
func (v *state) attestedCP() uint64 {
	if v.manifest != nil && v.manifest.wquorum > 0 {
		return v.witnessedCP
	}
	return v.quorumCP
}

// electionID is the election's id, or "" before its manifest.
func (v *state) electionID() string {
	if v.manifest == nil {
		return ""
	}
	return v.manifest.m.ElectionID
}

func (v *state) clone() *state {
	c := *v
	c.rules = v.rules.Clone()
	return &c
}

func loadState(ctx context.Context, st store.Store) (*state, error) {
	v := &state{}
	err := st.View(ctx, func(tx store.ReadTx) error {
		var err error
		if v.entries, err = tx.EntryCount(); err != nil {
			return err
		}
		if v.blocks, err = tx.BlockCount(); err != nil {
			return err
		}
		if v.blocks > 0 {
			raw, err := tx.Block(v.blocks - 1)
			if err != nil {
				return err
			}
			if v.last, err = bulletin.ParseBlockHeader(raw); err != nil {
				return err
			}
		}
		raw, err := tx.Get(store.NSMeta, keyManifest)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			m, err := ballot.ParseManifest(raw)
			if err != nil {
				return err
			}
			v.manifest = newElection(m, raw)
		}
		if v.quorumCP, err = loadU64(tx, keyCheckpoint, "checkpoint size"); err != nil {
			return err
		}
		if v.witnessedCP, err = loadU64(tx, keyWitnessed, "witnessed checkpoint size"); err != nil {
			return err
		}
		if v.archived, err = loadU64(tx, keyArchived, "archive size"); err != nil {
			return err
		}
		if v.archived > 0 {
			v.archived++ // stored as the size, kept as 1 + the size
		}
		if v.bytes, err = loadBytes(tx, v.entries); err != nil {
			return err
		}
		v.rules, err = loadRules(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("board: load state: %w", err)
	}
	return v, nil
}

// findBlock returns the block containing entry seq (the first block with
// LogSize > seq), by binary search over the stored headers.
func findBlock(tx store.ReadTx, count, seq uint64) (*bulletin.BlockHeader, error) {
	var ferr error
	i := sort.Search(int(count), func(h int) bool {
		if ferr != nil {
			return true
		}
		hd, err := readBlock(tx, uint64(h))
		if err != nil {
			ferr = err
			return true
		}
		return hd.LogSize > seq
	})
	if ferr != nil {
		return nil, ferr
	}
	if i >= int(count) {
		return nil, fmt.Errorf("%w: entry %d is in no block", store.ErrNotFound, seq)
	}
	return readBlock(tx, uint64(i))
}

// blockEndingAt returns the block whose LogSize is size, or ErrNotFound.
func blockEndingAt(tx store.ReadTx, count, size uint64) (*bulletin.BlockHeader, error) {
	if size == 0 {
		return nil, fmt.Errorf("%w: no block ends at size 0", store.ErrNotFound)
	}
	h, err := findBlock(tx, count, size-1)
	if err != nil {
		return nil, err
	}
	if h.LogSize != size {
		return nil, fmt.Errorf("%w: no block ends at log size %d", store.ErrNotFound, size)
	}
	return h, nil
}

func readBlock(tx store.ReadTx, height uint64) (*bulletin.BlockHeader, error) {
	raw, err := tx.Block(height)
	if err != nil {
		return nil, err
	}
	return bulletin.ParseBlockHeader(raw)
}

// hashReader reads stored tlog hashes from a transaction.
type hashReader struct{ tx store.ReadTx }

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) { return r.tx.ReadHashes(indexes) }

// overlayHashes reads hashes from a write transaction plus the hashes
// computed in the current apply and not yet written (written once, in
// bulk, at the end of the batch).
type overlayHashes struct {
	tx    store.ReadTx
	start int64 // storage index of pending[0] (the store's HashCount)
	pend  []tlog.Hash
}

func (o *overlayHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var miss []int64
	var missAt []int
	for i, x := range indexes {
		if x >= o.start {
			if x-o.start >= int64(len(o.pend)) {
				return nil, fmt.Errorf("%w: hash %d not stored", store.ErrNotFound, x)
			}
			out[i] = o.pend[x-o.start]
			continue
		}
		miss = append(miss, x)
		missAt = append(missAt, i)
	}
	if len(miss) > 0 {
		hs, err := o.tx.ReadHashes(miss)
		if err != nil {
			return nil, err
		}
		for k, i := range missAt {
			out[i] = hs[k]
		}
	}
	return out, nil
}

// loadSize reads the log size stored under key in NSMeta (0 if none); what
// names it in errors.
func loadU64(tx store.ReadTx, key []byte, what string) (uint64, error) {
	b, err := tx.Get(store.NSMeta, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	case len(b) != 8:
		return 0, fmt.Errorf("stored %s of %d bytes", what, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// loadBytes reads an election's byte count B (SPEC.md §3.14.5). A store
// written before the byte cap has none: then B is counted from the
// election's n entries, once per load, so that every replica upgraded
// from the same log holds the same B.
func loadBytes(tx store.ReadTx, n uint64) (uint64, error) {
	b, err := tx.Get(store.NSMeta, keyBytes)
	switch {
	case err == nil && len(b) == 8:
		return binary.BigEndian.Uint64(b), nil
	case err == nil:
		return 0, fmt.Errorf("stored byte count of %d bytes", len(b))
	case !errors.Is(err, store.ErrNotFound):
		return 0, err
	}
	var sum uint64
	if n == 0 {
		return 0, nil
	}
	err = tx.Entries(0, n, func(_ uint64, data []byte) error {
		sum += uint64(len(data))
		return nil
	})
	return sum, err
}

// advanceOnQuorum runs after a signature at size was stored under prefix
// in ns: once quorum signatures are stored there, *mark (a newest quorum
// size) moves to size and is stored under metaKey in NSMeta.
func advanceOnQuorum(tx store.WriteTx, ns store.Namespace, prefix []byte, size uint64, quorum int, mark *uint64, metaKey []byte) error {
	if size <= *mark {
		return nil
	}
	n := 0
	if err := tx.Scan(ns, prefix, func(_, _ []byte) error { n++; return nil }); err != nil {
		return err
	}
	if n >= quorum {
		*mark = size
		return tx.Put(store.NSMeta, metaKey, u64(size))
	}
	return nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
