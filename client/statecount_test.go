package client

import (
	"bytes"
	"testing"

	"github.com/urna-vote/urna/internal/wire"
)

// A state's growing lists are bounded by the bytes the state holds, not by
// wire.MaxList: a board of more than about 500,000 entries has more Merkle
// hashes than 2^20, and its saved state was refused (ErrState) until then.
func TestStateCountBeyondMaxList(t *testing.T) {
	n := wire.MaxList + 5
	w := wire.NewWriter(4 + 32*n + 32)
	w.Count(n)
	w.Fixed(make([]byte, 32*n))
	w.Fixed(make([]byte, 32)) // where the checksum goes
	state := w.Out()

	r := newStateReader(bytes.NewReader(state), int64(len(state)))
	if got := r.bigCount("hashes", 32); got != n || r.err != nil {
		t.Fatalf("bigCount = %d, %v; want %d, no error", got, r.err, n)
	}
	if !r.read(make([]byte, 32*n), "hashes") || r.done() != nil {
		t.Fatalf("reading the hashes: %v", r.done())
	}

	// One byte short of n items: refused before anything is allocated.
	short := append(bytes.Clone(state[:len(state)-33]), make([]byte, 32)...)
	r = newStateReader(bytes.NewReader(short), int64(len(short)))
	if got := r.bigCount("hashes", 32); got != 0 || r.err == nil {
		t.Fatalf("bigCount of a short state = %d, %v; want 0 and an error", got, r.err)
	}
	// wire's Count refuses the same list: the limit bigCount replaces.
	wr := wire.NewReader(state)
	if wr.Count("hashes", 1<<40); wr.Err() == nil {
		t.Fatalf("wire.Reader.Count accepted %d > MaxList", n)
	}
}
