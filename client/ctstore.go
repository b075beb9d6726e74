package client

// ctStore keeps the option ciphertexts of each credential's counted ballot,
// which a revote takes out of the running aggregate again (V10, V11). They
// live in large chunks without pointers, so a million voters cost their
// bytes (64 per option) and neither a million allocations nor a map of
// slices that the garbage collector must scan on every cycle. A revote's
// ciphertexts overwrite the superseded ones (verifier.count).
type ctStore struct {
	chunks [][]byte
}

// ctChunk is the size of one chunk.
const ctChunk = 1 << 20

// ctRef locates stored bytes: chunk index and offset.
type ctRef struct{ chunk, off uint32 }

// put stores a copy of b and returns where.
func (s *ctStore) put(b []byte) ctRef {
	n := len(s.chunks)
	if n == 0 || len(s.chunks[n-1])+len(b) > cap(s.chunks[n-1]) {
		s.chunks = append(s.chunks, make([]byte, 0, max(ctChunk, len(b))))
		n++
	}
	c := &s.chunks[n-1]
	off := len(*c)
	*c = append(*c, b...)
	return ctRef{uint32(n - 1), uint32(off)}
}

// get returns the n bytes stored at r.
func (s *ctStore) get(r ctRef, n int) []byte {
	return s.chunks[r.chunk][r.off : int(r.off)+n]
}
