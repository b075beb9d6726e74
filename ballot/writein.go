package ballot

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/urna-vote/urna/internal/group"
)

// writeInChunkSize is the encoded size of one write-in chunk in a ballot:
// α || β || t || s (docs/spec/kinds.md §K.2).
const writeInChunkSize = 4 * group.Size

// maxWriteInTries bounds try-and-increment: the counter j has 14 bits, 7 in
// byte 0 (above the sign bit) and 7 in byte 31.
const maxWriteInTries = 1 << 14

// errWriteInEncoding: no counter value makes a chunk a valid encoding. Each
// try succeeds with probability about 1/4 (measured in
// TestWriteInRetryRate), so this happens with probability about
// (3/4)^16384 < 2^-6800 per chunk.
var errWriteInEncoding = errors.New("ballot: write-in chunk has no element encoding")

// encodeChunk maps 30 bytes to a Ristretto255 element by try-and-increment
// (docs/spec/kinds.md §K.4): for j = 0, 1, ..., the candidate
//
//	byte 0 = (j mod 128)·2,  bytes 1..30 = data,  byte 31 = ⌊j / 128⌋
//
// is decoded as an element encoding (RFC 9496 §4.3.1); the first j that
// decodes gives the element. Byte 0 is even (a non-negative field element)
// and byte 31 ≤ 127 (below 2^255), so about a quarter of candidates decode.
// Variable time in data: only the voter's device runs it, on its own text.
func encodeChunk(data []byte) (*group.Element, error) {
	var c [group.Size]byte
	copy(c[1:31], data)
	for j := 0; j < maxWriteInTries; j++ {
		c[0], c[31] = byte(j%128)*2, byte(j/128)
		if e, err := group.DecodeElement(c[:]); err == nil {
			return e, nil
		}
	}
	return nil, errWriteInEncoding
}

// decodeChunk inverts encodeChunk: the data are bytes 1..30 of the
// element's canonical encoding, and the element MUST be the one encodeChunk
// gives for them (the first counter that decodes), so that every decoded
// text has exactly one plaintext.
func decodeChunk(e *group.Element) ([]byte, error) {
	data := e.Bytes()[1:31]
	if want, err := encodeChunk(data); err != nil || !want.Equal(e) {
		return nil, fmt.Errorf("%w: not the encoding of a write-in chunk", ErrInvalidAnswer)
	}
	return data, nil
}

// EncodeWriteIn encodes text for a write-in question of at most max bytes
// (docs/spec/kinds.md §K.4): the bytes u8 len(text) || text, padded with
// zeros to 30·WriteInChunks(max) bytes, cut into 30-byte chunks, each
// mapped to an element by try-and-increment. The map is injective and
// DecodeWriteIn inverts it.
func EncodeWriteIn(text string, max uint32) ([]*group.Element, error) {
	if max < 1 || max > MaxWriteIn || len(text) > int(max) || !utf8.ValidString(text) {
		return nil, fmt.Errorf("%w: a write-in must be at most %d bytes of UTF-8 (has %d bytes)", ErrInvalidChoice, min(max, MaxWriteIn), len(text))
	}
	w := WriteInChunks(max)
	buf := writeInBytes(text, w)
	out := make([]*group.Element, w)
	for k := range out {
		e, err := encodeChunk(buf[k*WriteInChunk : (k+1)*WriteInChunk])
		if err != nil {
			return nil, err
		}
		out[k] = e
	}
	return out, nil
}

// DecodeWriteIn decodes the plaintext elements of a write-in of at most max
// bytes (docs/spec/kinds.md §K.4, step D3): exactly WriteInChunks(max)
// elements, each a chunk encoding, a length ≤ max, zero padding and UTF-8
// text. It fails with ErrInvalidAnswer otherwise: a voter can encrypt any
// element, and such a write-in is reported as invalid, not guessed at.
func DecodeWriteIn(elems []*group.Element, max uint32) (string, error) {
	if max < 1 || max > MaxWriteIn || len(elems) != WriteInChunks(max) {
		return "", fmt.Errorf("%w: %d chunks for a write-in of at most %d bytes", ErrInvalidAnswer, len(elems), max)
	}
	buf := make([]byte, 0, len(elems)*WriteInChunk)
	for _, e := range elems {
		if e == nil {
			return "", fmt.Errorf("%w: missing chunk", ErrInvalidAnswer)
		}
		d, err := decodeChunk(e)
		if err != nil {
			return "", err
		}
		buf = append(buf, d...)
	}
	return writeInText(buf, int(max))
}

// writeInBytes returns the w chunks of text as one string of 30·w bytes:
// u8 len(text) || text || zero bytes (docs/spec/kinds.md §K.4). The caller
// has checked that text fits (len(text) ≤ 30·w − 1).
func writeInBytes(text string, w int) []byte {
	buf := make([]byte, w*WriteInChunk)
	buf[0] = byte(len(text))
	copy(buf[1:], text)
	return buf
}

// writeInText inverts writeInBytes (step D3 on the chunks' bytes): a
// length ≤ max, zero padding and UTF-8 text.
func writeInText(buf []byte, max int) (string, error) {
	n := int(buf[0])
	if n > max || 1+n > len(buf) {
		return "", fmt.Errorf("%w: write-in of %d bytes, at most %d allowed", ErrInvalidAnswer, n, max)
	}
	for _, b := range buf[1+n:] {
		if b != 0 {
			return "", fmt.Errorf("%w: write-in padding is not zero", ErrInvalidAnswer)
		}
	}
	text := string(buf[1 : 1+n])
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("%w: write-in is not UTF-8", ErrInvalidAnswer)
	}
	return text, nil
}
