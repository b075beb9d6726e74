package client

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/bulletin"
)

// frontier is the right edge of a Merkle log (SPEC.md §3.10, RFC 9162):
// the roots of its perfect subtrees, largest first, at most 64 of them.
// It gives the root of the whole log after every append, which is all V3
// asks of a verifier that reads a record once (the log roots of the
// blocks and the checkpoints, compared at their sizes), in O(log n) memory
// where bulletin.MemoryLog keeps every hash (64 bytes an entry). Follow
// keeps the MemoryLog: a party's saved state and its consistency proofs
// need the hashes of earlier sizes.
type frontier struct {
	size  uint64
	roots []tlog.Hash // roots[i] spans 2^levels[i] leaves
	level []uint8
}

// Append adds the next entry's canonical bytes as a leaf.
func (f *frontier) Append(entryBytes []byte) {
	h, lv := tlog.RecordHash(entryBytes), uint8(0)
	for n := len(f.roots); n > 0 && f.level[n-1] == lv; n-- {
		h, lv = tlog.NodeHash(f.roots[n-1], h), lv+1
		f.roots, f.level = f.roots[:n-1], f.level[:n-1]
	}
	f.roots, f.level = append(f.roots, h), append(f.level, lv)
	f.size++
}

// Size returns the number of leaves.
func (f *frontier) Size() uint64 { return f.size }

// Root returns the root of the log; size MUST be Size.
func (f *frontier) Root(size uint64) (tlog.Hash, error) {
	if size != f.size {
		return tlog.Hash{}, fmt.Errorf("client: root of %d leaves asked of a log of %d", size, f.size)
	}
	if len(f.roots) == 0 {
		return bulletin.TreeRoot(0, nil)
	}
	h := f.roots[len(f.roots)-1]
	for i := len(f.roots) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.roots[i], h)
	}
	return h, nil
}
