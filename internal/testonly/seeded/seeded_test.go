package seeded

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// TestStream pins the construction the ballot, bulletin and tally vectors
// were generated with: block i is SHA-256(seed ‖ uint64be(i)), and New
// hashes its label into the seed.
func TestStream(t *testing.T) {
	block := func(seed []byte, i byte) []byte {
		h := sha256.Sum256(append(append([]byte{}, seed...), 0, 0, 0, 0, 0, 0, 0, i))
		return h[:]
	}
	want := append(block([]byte("urna"), 0), block([]byte("urna"), 1)...)
	if got := Raw("urna").Bytes(64); !bytes.Equal(got, want) {
		t.Fatalf("Raw stream %x, want %x", got, want)
	}
	label := sha256.Sum256([]byte("urna"))
	if got := New("urna").Bytes(40); !bytes.Equal(got, append(block(label[:], 0), block(label[:], 1)[:8]...)) {
		t.Fatalf("New stream %x", got)
	}
	// Reads of any size see the same stream.
	r, whole := Raw("split"), Raw("split").Bytes(100)
	var pieces []byte
	for _, n := range []int{1, 31, 0, 33, 35} {
		pieces = append(pieces, r.Bytes(n)...)
	}
	if !bytes.Equal(pieces, whole) {
		t.Fatal("reads in pieces differ from one read")
	}
}
