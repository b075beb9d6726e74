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
func (p *InclusionProof) Bytes() []byte {
	w := wire.NewWriter(20 + 32*len(p.Hashes)).U64(p.Seq).U64(p.Size)
	return appendHashes(w, p.Hashes).Out()
}

// ParseInclusionProof decodes an inclusion proof strictly.
func ParseInclusionProof(b []byte) (*InclusionProof, error) {
	r := wire.NewReader(b)
	p := &InclusionProof{Seq: r.U64("seq"), Size: r.U64("size")}
	p.Hashes = readHashes(r)
	if r.Err() == nil && p.Seq >= p.Size {
		r.Failf("leaf %d not below size %d", p.Seq, p.Size)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: inclusion proof: %v", ErrMalformed, err)
	}
	return p, nil
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
func (p *ConsistencyProof) Bytes() []byte {
	w := wire.NewWriter(20 + 32*len(p.Hashes)).U64(p.OldSize).U64(p.NewSize)
	return appendHashes(w, p.Hashes).Out()
}

// ParseConsistencyProof decodes a consistency proof strictly.
func ParseConsistencyProof(b []byte) (*ConsistencyProof, error) {
	r := wire.NewReader(b)
	p := &ConsistencyProof{OldSize: r.U64("old size"), NewSize: r.U64("new size")}
	p.Hashes = readHashes(r)
	if r.Err() == nil && (p.OldSize == 0 || p.OldSize > p.NewSize) {
		r.Failf("sizes %d → %d", p.OldSize, p.NewSize)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: consistency proof: %v", ErrMalformed, err)
	}
	return p, nil
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
