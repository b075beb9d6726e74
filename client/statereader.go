package client

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/urna-vote/urna/internal/wire"
)

// checkStateSum reads the saved state src of size bytes once and checks
// that it ends with the SHA-256 of what precedes it, then rewinds it.
// restore decodes nothing before this pass: a damaged file is refused
// before any of it reaches the verifier, as when the state was read whole.
func checkStateSum(src io.ReadSeeker, size int64) error {
	if size < int64(len(stateMagic)+1+sha256.Size) {
		return fmt.Errorf("not a saved state")
	}
	h := sha256.New()
	if _, err := io.CopyN(h, src, size-sha256.Size); err != nil {
		return fmt.Errorf("reading it: %v", err)
	}
	var sum [sha256.Size]byte
	if _, err := io.ReadFull(src, sum[:]); err != nil {
		return fmt.Errorf("reading it: %v", err)
	}
	if string(h.Sum(nil)) != string(sum[:]) {
		return fmt.Errorf("checksum mismatch (a damaged file)")
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewinding it: %v", err)
	}
	return nil
}

// stateReader reads a saved state (whose checksum checkStateSum checked)
// as a stream, in the pieces restore decodes. A state is as large as the
// board's sets (770 MB at 1,000,000 voters): reading it whole would hold
// that much beside the verifier it rebuilds. Every count is bounded by the
// bytes left.
type stateReader struct {
	br   *bufio.Reader
	left int64 // bytes before the checksum
	err  error
	buf  [8]byte
}

func newStateReader(r io.Reader, size int64) *stateReader {
	return &stateReader{br: bufio.NewReaderSize(r, 1<<16), left: size - sha256.Size}
}

func (sr *stateReader) fail(format string, args ...any) {
	if sr.err == nil {
		sr.err = fmt.Errorf(format, args...)
	}
}

// read fills b from the stream, or fails (b is then zeros).
func (sr *stateReader) read(b []byte, what string) bool {
	if sr.err != nil {
		return false
	}
	if int64(len(b)) > sr.left {
		sr.fail("%s: need %d bytes, %d left", what, len(b), sr.left)
		return false
	}
	if _, err := io.ReadFull(sr.br, b); err != nil {
		sr.fail("%s: %v", what, err)
		clear(b)
		return false
	}
	sr.left -= int64(len(b))
	return true
}

// fixed reads n bytes into a new slice (nil on failure).
func (sr *stateReader) fixed(what string, n int) []byte {
	if n < 0 || int64(n) > sr.left {
		sr.fail("%s: need %d bytes, %d left", what, n, sr.left)
		return nil
	}
	b := make([]byte, n)
	if !sr.read(b, what) {
		return nil
	}
	return b
}

// section reads n bytes as a wire.Reader (an empty one, failed, on error).
func (sr *stateReader) section(what string, n int) *wire.Reader {
	b := sr.fixed(what, n)
	if b == nil && n > 0 {
		r := wire.NewReader(nil)
		r.Failf("%s: %v", what, sr.err)
		return r
	}
	return wire.NewReader(b)
}

func (sr *stateReader) u8(what string) uint8 {
	sr.read(sr.buf[:1], what)
	return sr.buf[0]
}

func (sr *stateReader) u32(what string) uint32 {
	if !sr.read(sr.buf[:4], what) {
		return 0
	}
	return binary.BigEndian.Uint32(sr.buf[:4])
}

func (sr *stateReader) u64(what string) uint64 {
	if !sr.read(sr.buf[:8], what) {
		return 0
	}
	return binary.BigEndian.Uint64(sr.buf[:8])
}

// count reads a list count of at most max (wire.Writer.Count).
func (sr *stateReader) count(what string, max int) int {
	n := sr.u32(what)
	if sr.err == nil && int64(n) > int64(max) {
		sr.fail("%s: count %d exceeds %d", what, n, max)
		return 0
	}
	return int(n)
}

// bigCount reads the count of a list that grows with the board and whose
// items take at least size bytes each. Such a list outgrows wire.MaxList
// (2^20) past about 500,000 entries, which made every saved state of a
// larger board unusable; the bytes left bound it instead.
func (sr *stateReader) bigCount(what string, size int) int {
	n := sr.u32(what)
	if sr.err == nil && int64(n)*int64(size) > sr.left {
		sr.fail("%s: count %d exceeds what the state holds", what, n)
		return 0
	}
	return int(n)
}

// bytes reads a length-prefixed byte string of at most max bytes
// (wire.Writer.Bytes).
func (sr *stateReader) bytes(what string, max int) []byte {
	n := sr.u32(what)
	if sr.err == nil && int64(n) > int64(max) {
		sr.fail("%s: length %d exceeds %d", what, n, max)
		return nil
	}
	return sr.fixed(what, int(n))
}

// sub reads the length of a length-prefixed part (wire.Writer.Bytes) read
// field by field, and returns the bytes left after it, for endSub.
func (sr *stateReader) sub(what string) int64 {
	n := int64(sr.u32(what + " length"))
	if sr.err == nil && n > sr.left {
		sr.fail("%s: length %d, %d bytes left", what, n, sr.left)
	}
	if sr.err != nil {
		return sr.left
	}
	return sr.left - n
}

// endSub checks that the part that sub began ends exactly here.
func (sr *stateReader) endSub(what string, end int64) error {
	if sr.err != nil {
		return fmt.Errorf("%s: %w", what, sr.err)
	}
	if sr.left != end {
		return fmt.Errorf("%s: %d bytes off its length", what, sr.left-end)
	}
	return nil
}

// done checks that everything before the checksum was read.
func (sr *stateReader) done() error {
	if sr.err != nil {
		return sr.err
	}
	if sr.left != 0 {
		return fmt.Errorf("%d unread bytes before the checksum", sr.left)
	}
	return nil
}
