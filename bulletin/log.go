package bulletin

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/wire"
)

// The board's Merkle log (SPEC.md §3.7) is the RFC 6962 / RFC 9162 tree
// whose leaves are the canonical bytes of the entries in sequence order:
//
//	leaf hash  = SHA-256(0x00 || entry bytes)
//	node hash  = SHA-256(0x01 || left || right)
//
// as computed by golang.org/x/mod/sumdb/tlog. The log of size 0 is never
// checkpointed.

// MaxProofHashes bounds the hashes of an inclusion or consistency proof
// (2·63 for trees below 2^63 leaves).
const MaxProofHashes = 128

// LeafHash returns the Merkle leaf hash of an entry's canonical bytes.
func LeafHash(entryBytes []byte) tlog.Hash { return tlog.RecordHash(entryBytes) }

// StoredHashes returns the hashes the node MUST store when it appends the
// entry with sequence number seq, given the hashes already stored in r
// (tlog.StoredHashes; SPEC.md §3.7). The storage index of the first returned
// hash is tlog.StoredHashIndex(0, seq).
func StoredHashes(seq uint64, entryBytes []byte, r tlog.HashReader) ([]tlog.Hash, error) {
	return tlog.StoredHashes(int64(seq), entryBytes, r)
}

// TreeRoot returns the Merkle root of the first size entries.
func TreeRoot(size uint64, r tlog.HashReader) (tlog.Hash, error) {
	return tlog.TreeHash(int64(size), r)
}

// MemoryLog is an in-memory tlog.HashReader holding every stored hash of a
// log; verifiers rebuild the log of a record with it (V3).
type MemoryLog struct {
	hashes []tlog.Hash
	size   uint64
}

// ReadHashes implements tlog.HashReader.
func (m *MemoryLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("bulletin: hash index %d not stored", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

// Append adds the next entry's canonical bytes as a leaf.
func (m *MemoryLog) Append(entryBytes []byte) error {
	hs, err := StoredHashes(m.size, entryBytes, m)
	if err != nil {
		return err
	}
	m.hashes = append(m.hashes, hs...)
	m.size++
	return nil
}

// Size returns the number of leaves.
func (m *MemoryLog) Size() uint64 { return m.size }

// StoredHashes returns every hash the log stores, in tlog's storage order:
// with Size, all a verifier needs to save the log and continue it later
// (RestoreMemoryLog). The caller MUST NOT modify them.
func (m *MemoryLog) StoredHashes() []tlog.Hash { return m.hashes }

// RestoreMemoryLog returns the log of size leaves whose stored hashes are
// hashes (MemoryLog.StoredHashes); it fails unless there are exactly as
// many as a log of that size stores.
func RestoreMemoryLog(size uint64, hashes []tlog.Hash) (*MemoryLog, error) {
	if size > 1<<62 || int64(len(hashes)) != tlog.StoredHashCount(int64(size)) {
		return nil, fmt.Errorf("bulletin: %d stored hashes for a log of size %d", len(hashes), size)
	}
	return &MemoryLog{hashes: append([]tlog.Hash(nil), hashes...), size: size}, nil
}

// Root returns the root of the first size leaves.
func (m *MemoryLog) Root(size uint64) (tlog.Hash, error) { return TreeRoot(size, m) }

// InclusionProof proves that leaf Seq is in the tree of size Size (RFC 9162
// §2.1.3, in tlog's order).
type InclusionProof struct {
	Seq    uint64
	Size   uint64
	Hashes []tlog.Hash
}

// ProveInclusion builds the inclusion proof of leaf seq in the tree of size size.
func ProveInclusion(seq, size uint64, r tlog.HashReader) (*InclusionProof, error) {
	if seq >= size {
		return nil, fmt.Errorf("bulletin: leaf %d not in tree of size %d", seq, size)
	}
	p, err := tlog.ProveRecord(int64(size), int64(seq), r)
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Seq: seq, Size: size, Hashes: p}, nil
}

// Check verifies that entryBytes is leaf p.Seq of the tree of size p.Size
// with root root. It returns ErrInvalidProof on failure.
func (p *InclusionProof) Check(root tlog.Hash, entryBytes []byte) error {
	if p.Seq >= p.Size || p.Size > 1<<62 {
		return ErrInvalidProof
	}
	if tlog.CheckRecord(p.Hashes, int64(p.Size), root, int64(p.Seq), LeafHash(entryBytes)) != nil {
		return ErrInvalidProof
	}
	return nil
}

// Bytes returns u64 seq || u64 size || u32 count || count × hash (SPEC.md §3.7).
func (p *InclusionProof) Bytes() []byte { return proofBytes(p.Seq, p.Size, p.Hashes) }

// ParseInclusionProof decodes an inclusion proof strictly.
func ParseInclusionProof(b []byte) (*InclusionProof, error) {
	seq, size, hs, err := parseProof(b, "inclusion proof", "seq", "size", func(r *wire.Reader, seq, size uint64) {
		if seq >= size {
			r.Failf("leaf %d not below size %d", seq, size)
		}
	})
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Seq: seq, Size: size, Hashes: hs}, nil
}

// ConsistencyProof proves that the tree of size OldSize is a prefix of the
// tree of size NewSize (RFC 9162 §2.1.4, in tlog's order).
type ConsistencyProof struct {
	OldSize uint64
	NewSize uint64
	Hashes  []tlog.Hash
}

// ProveConsistency builds the consistency proof between two tree sizes.
func ProveConsistency(oldSize, newSize uint64, r tlog.HashReader) (*ConsistencyProof, error) {
	if oldSize == 0 || oldSize > newSize {
		return nil, fmt.Errorf("bulletin: no consistency proof from size %d to %d", oldSize, newSize)
	}
	p, err := tlog.ProveTree(int64(newSize), int64(oldSize), r)
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{OldSize: oldSize, NewSize: newSize, Hashes: p}, nil
}

// Check verifies the proof between oldRoot and newRoot. It returns
// ErrInvalidProof on failure.
func (p *ConsistencyProof) Check(oldRoot, newRoot tlog.Hash) error {
	if p.OldSize == 0 || p.OldSize > p.NewSize || p.NewSize > 1<<62 {
		return ErrInvalidProof
	}
	if tlog.CheckTree(p.Hashes, int64(p.NewSize), newRoot, int64(p.OldSize), oldRoot) != nil {
		return ErrInvalidProof
	}
	return nil
}

// Bytes returns u64 old size || u64 new size || u32 count || count × hash (SPEC.md §3.7).
func (p *ConsistencyProof) Bytes() []byte { return proofBytes(p.OldSize, p.NewSize, p.Hashes) }

// ParseConsistencyProof decodes a consistency proof strictly.
func ParseConsistencyProof(b []byte) (*ConsistencyProof, error) {
	old, size, hs, err := parseProof(b, "consistency proof", "old size", "new size", func(r *wire.Reader, old, size uint64) {
		if old == 0 || old > size {
			r.Failf("sizes %d → %d", old, size)
		}
	})
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{OldSize: old, NewSize: size, Hashes: hs}, nil
}

// proofBytes encodes the layout both proofs share (SPEC.md §3.7): u64 a ||
// u64 b || u32 count || count × hash.
func proofBytes(a, b uint64, hs []tlog.Hash) []byte {
	w := wire.NewWriter(20 + 32*len(hs)).U64(a).U64(b)
	return appendHashes(w, hs).Out()
}

// parseProof decodes that layout strictly; check fails r on a pair of
// numbers the kind of proof forbids (it runs only if all was read).
func parseProof(raw []byte, what, aName, bName string, check func(r *wire.Reader, a, b uint64)) (uint64, uint64, []tlog.Hash, error) {
	r := wire.NewReader(raw)
	a, b := r.U64(aName), r.U64(bName)
	hs := readHashes(r)
	if r.Err() == nil {
		check(r, a, b)
	}
	if err := r.Done(); err != nil {
		return 0, 0, nil, fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	return a, b, hs, nil
}

func appendHashes(w *wire.Writer, hs []tlog.Hash) *wire.Writer {
	w.Count(len(hs))
	for _, h := range hs {
		w.Fixed(h[:])
	}
	return w
}

func readHashes(r *wire.Reader) []tlog.Hash {
	n := r.Count("hashes", MaxProofHashes)
	hs := make([]tlog.Hash, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var h tlog.Hash
		copy(h[:], r.Fixed("hash", 32))
		hs = append(hs, h)
	}
	return hs
}
