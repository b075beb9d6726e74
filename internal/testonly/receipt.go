package testonly

import (
	"testing"

	"github.com/urna-vote/urna/bulletin"
)

// MemLog returns the log of entries (SPEC.md §3.5), to prove inclusion and
// consistency from.
func MemLog(t testing.TB, entries [][]byte) *bulletin.MemoryLog {
	t.Helper()
	var l bulletin.MemoryLog
	for _, e := range entries {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return &l
}

// Receipt returns the receipt (SPEC.md §3.10) of entry seq of entries
// under the checkpoint note, whose tree holds the first size entries.
func Receipt(t testing.TB, entries [][]byte, seq int, note []byte, size uint64) *bulletin.Receipt {
	t.Helper()
	p, err := bulletin.ProveInclusion(uint64(seq), size, MemLog(t, entries[:size]))
	if err != nil {
		t.Fatal(err)
	}
	return &bulletin.Receipt{Entry: entries[seq], Seq: uint64(seq), Checkpoint: note, Proof: p.Hashes}
}

// Consistency returns the proof (SPEC.md §3.5) that the tree of the first
// from entries is a prefix of the tree of the first to.
func Consistency(t testing.TB, entries [][]byte, from, to uint64) *bulletin.ConsistencyProof {
	t.Helper()
	p, err := bulletin.ProveConsistency(from, to, MemLog(t, entries))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
