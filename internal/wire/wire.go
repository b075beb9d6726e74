// Package wire holds the canonical binary encoding rules shared by every
// hashed or signed object in Urna (SPEC.md §2.4):
//
//   - integers are fixed-width big-endian (u8, u16, u32, u64);
//   - variable-length byte strings and UTF-8 strings are u32be(len) || bytes;
//   - lists are u32be(count) || items;
//   - group elements and scalars are their fixed 32-byte encodings (no prefix);
//   - booleans do not exist; flags are u8 0 or 1 and any other value is rejected.
//
// A decoder MUST consume its input exactly: trailing bytes are an error. The
// JSON transport form of an object is the unpadded base64url (RFC 4648 §5) of
// its canonical bytes; decoding rejects padding and non-canonical base64.
package wire

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/urna-vote/urna/internal/group"
)

// MaxList bounds every decoded list count, so a short malicious input cannot
// make a decoder allocate a huge slice.
const MaxList = 1 << 20

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("wire: malformed encoding")

// Writer builds a canonical encoding.
type Writer struct{ b []byte }

// NewWriter returns a Writer with capacity hint n.
func NewWriter(n int) *Writer { return &Writer{b: make([]byte, 0, n)} }

func (w *Writer) U8(v uint8) *Writer   { w.b = append(w.b, v); return w }
func (w *Writer) U16(v uint16) *Writer { w.b = binary.BigEndian.AppendUint16(w.b, v); return w }
func (w *Writer) U32(v uint32) *Writer { w.b = binary.BigEndian.AppendUint32(w.b, v); return w }
func (w *Writer) U64(v uint64) *Writer { w.b = binary.BigEndian.AppendUint64(w.b, v); return w }

// Bytes writes u32be(len(v)) || v.
func (w *Writer) Bytes(v []byte) *Writer { w.U32(uint32(len(v))); w.b = append(w.b, v...); return w }

// String writes a UTF-8 string as Bytes.
func (w *Writer) String(s string) *Writer { return w.Bytes([]byte(s)) }

// Fixed writes v with no length prefix (for fixed-size fields such as hashes).
func (w *Writer) Fixed(v []byte) *Writer { w.b = append(w.b, v...); return w }

// Element writes a group element (32 bytes).
func (w *Writer) Element(e *group.Element) *Writer { w.b = e.AppendBytes(w.b); return w }

// Scalar writes a scalar (32 bytes).
func (w *Writer) Scalar(s *group.Scalar) *Writer { w.b = s.AppendBytes(w.b); return w }

// Count writes a list count.
func (w *Writer) Count(n int) *Writer { return w.U32(uint32(n)) }

// Out returns the encoding.
func (w *Writer) Out() []byte { return w.b }

// Reader decodes a canonical encoding. The first error sticks: later reads
// return zero values, and Err / Done report it.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

func (r *Reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *Reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("%s: need %d bytes, have %d", what, n, len(r.b)-r.off)
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

func (r *Reader) U8(what string) uint8 {
	if v := r.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

// U16 reads a big-endian u16.
func (r *Reader) U16(what string) uint16 { return readUint(r, what, 2, binary.BigEndian.Uint16) }

// U32 reads a big-endian u32.
func (r *Reader) U32(what string) uint32 { return readUint(r, what, 4, binary.BigEndian.Uint32) }

// U64 reads a big-endian u64.
func (r *Reader) U64(what string) uint64 { return readUint(r, what, 8, binary.BigEndian.Uint64) }

// readUint reads n bytes and decodes them with dec; 0 once the reader failed.
func readUint[T uint16 | uint32 | uint64](r *Reader, what string, n int, dec func([]byte) T) T {
	if v := r.take(n, what); v != nil {
		return dec(v)
	}
	return 0
}

// Flag reads a u8 that must be 0 or 1.
func (r *Reader) Flag(what string) bool {
	v := r.U8(what)
	if v > 1 {
		r.fail("%s: flag %d is not 0 or 1", what, v)
	}
	return v == 1
}

// Bytes reads u32be(len) || bytes, with len at most max. The result is a copy.
func (r *Reader) Bytes(what string, max int) []byte {
	v := r.BytesView(what, max)
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}

// BytesView is Bytes without the copy: the result aliases the reader's
// input, for callers that own the input and keep it unchanged.
func (r *Reader) BytesView(what string, max int) []byte {
	n := r.U32(what)
	if r.err == nil && int64(n) > int64(max) {
		r.fail("%s: length %d exceeds %d", what, n, max)
		return nil
	}
	return r.take(int(n), what)
}

// String reads a UTF-8 string of at most max bytes.
func (r *Reader) String(what string, max int) string {
	v := r.Bytes(what, max)
	if r.err == nil && !utf8.Valid(v) {
		r.fail("%s: not valid UTF-8", what)
		return ""
	}
	return string(v)
}

// Fixed reads exactly n bytes (a copy).
func (r *Reader) Fixed(what string, n int) []byte {
	v := r.FixedView(what, n)
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}

// FixedView is Fixed without the copy: the result aliases the reader's
// input (see BytesView).
func (r *Reader) FixedView(what string, n int) []byte { return r.take(n, what) }

// Element reads a canonical group element (identity allowed).
func (r *Reader) Element(what string) *group.Element {
	return readGroup(r, what, group.DecodeElement)
}

// NonIdentity reads a canonical group element and rejects the identity.
func (r *Reader) NonIdentity(what string) *group.Element {
	e := r.Element(what)
	if e != nil && e.IsIdentity() {
		r.off -= group.Size
		r.fail("%s: identity element not allowed", what)
		return nil
	}
	return e
}

// Scalar reads a canonical scalar.
func (r *Reader) Scalar(what string) *group.Scalar {
	return readGroup(r, what, group.DecodeScalar)
}

// readGroup reads group.Size bytes and decodes them with decode (an element
// or a scalar); on error the reader fails at the start of the value.
func readGroup[T any](r *Reader, what string, decode func([]byte) (*T, error)) *T {
	v := r.take(group.Size, what)
	if v == nil {
		return nil
	}
	x, err := decode(v)
	if err != nil {
		r.off -= group.Size
		r.fail("%s: %v", what, err)
		return nil
	}
	return x
}

// Count reads a list count of at most max (and at most MaxList).
func (r *Reader) Count(what string, max int) int {
	n := r.U32(what)
	if max > MaxList {
		max = MaxList
	}
	if r.err == nil && int64(n) > int64(max) {
		r.fail("%s: count %d exceeds %d", what, n, max)
		return 0
	}
	return int(n)
}

// Failf records a semantic decoding error (for example an out-of-range value).
func (r *Reader) Failf(format string, args ...any) { r.fail(format, args...) }

// Err returns the first error, if any.
func (r *Reader) Err() error { return r.err }

// Done returns the first error, or an error if input remains unread.
func (r *Reader) Done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}

// Remaining reports how many bytes are left.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// EncodeB64 returns the unpadded base64url encoding of b (the JSON transport form).
func EncodeB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// DecodeB64 decodes unpadded base64url strictly: padding, other alphabets,
// non-zero trailing bits and line breaks are rejected, so every byte string
// has one text form.
func DecodeB64(s string) ([]byte, error) {
	// encoding/base64 skips CR and LF even in Strict mode: "AQ\nID" would be
	// a second spelling of "AQID".
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: base64url: line break", ErrMalformed)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: base64url: %v", ErrMalformed, err)
	}
	return b, nil
}
