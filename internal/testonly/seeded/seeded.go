// Package seeded is the deterministic randomness of Urna's tests: an
// io.Reader that expands a seed with SHA-256 in counter mode. It imports
// only the standard library, so the in-package tests of every Urna package
// (internal/group and internal/schnorr included) can use it; the election
// fixture built on it is package testonly. Production code MUST NOT import
// it (internal/deptest checks).
//
// circl's Ristretto random functions ignore their reader, so tests derive
// keys and scalars through group.RandomScalar(io.Reader), which reads it.
package seeded

import (
	"crypto/sha256"
	"encoding/binary"
)

// Reader is a deterministic randomness source: its i-th 32-byte block is
// SHA-256(seed ‖ uint64be(i)). It never fails and is not safe for
// concurrent use.
type Reader struct {
	seed []byte
	ctr  uint64
	buf  []byte
}

// New returns the reader for label, with seed SHA-256(label): block i is
// SHA-256(SHA-256(label) ‖ uint64be(i)). The tally known-answer vectors
// (tally/testdata/vectors.txt) were generated with it.
func New(label string) *Reader {
	h := sha256.Sum256([]byte(label))
	return &Reader{seed: h[:]}
}

// Raw returns the reader whose seed is seed itself: block i is
// SHA-256(seed ‖ uint64be(i)). The ballot and bulletin vectors
// (ballot/testdata, bulletin/testdata) were generated with it.
func Raw(seed string) *Reader { return &Reader{seed: []byte(seed)} }

// Read fills p with the next bytes of the stream; it always returns len(p), nil.
func (r *Reader) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(r.buf) == 0 {
			h := sha256.New()
			h.Write(r.seed)
			h.Write(binary.BigEndian.AppendUint64(nil, r.ctr))
			r.ctr++
			r.buf = h.Sum(nil)
		}
		k := copy(p, r.buf)
		p, r.buf = p[k:], r.buf[k:]
	}
	return n, nil
}

// Bytes returns the next n bytes of r.
func (r *Reader) Bytes(n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}
