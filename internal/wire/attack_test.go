package wire

import (
	"errors"
	"math"
	"testing"
)

// TestAttackLengthOverflow: a u32 length or count of 2^32−1 must be
// rejected before it is turned into an int, so that on a 32-bit platform it
// cannot wrap to a negative length, and before anything is allocated. Run
// with GOARCH=386 too.
func TestAttackLengthOverflow(t *testing.T) {
	ff := []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}
	for name, read := range map[string]func(r *Reader){
		"Bytes, max MaxInt":  func(r *Reader) { r.Bytes("x", math.MaxInt) },
		"String, max MaxInt": func(r *Reader) { r.String("x", math.MaxInt) },
		"Count, max MaxInt":  func(r *Reader) { r.Count("x", math.MaxInt) },
		"Count, max -1":      func(r *Reader) { r.Count("x", -1) },
	} {
		r := NewReader(ff)
		allocs := testing.AllocsPerRun(5, func() { read(NewReader(ff)) })
		read(r)
		if !errors.Is(r.Err(), ErrMalformed) {
			t.Errorf("%s: err = %v", name, r.Err())
		}
		if allocs > 10 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
	}
	// The largest count that passes is MaxList, whatever max says.
	r := NewReader([]byte{0, 0x10, 0, 1})
	if n := r.Count("x", math.MaxInt); r.Err() == nil || n != 0 {
		t.Errorf("count 2^20+1 accepted: %d", n)
	}
}

// TestAttackBase64LineBreaks: encoding/base64 ignores CR and LF even in
// Strict mode, which would give a byte string several JSON transport forms
// (§2.4 wants one). DecodeB64 refuses them.
func TestAttackBase64LineBreaks(t *testing.T) {
	if b, err := DecodeB64("AQID"); err != nil || string(b) != "\x01\x02\x03" {
		t.Fatalf("AQID: %x %v", b, err)
	}
	for _, s := range []string{"AQ\nID", "AQID\n", "\rAQID", "AQ\r\nID"} {
		if _, err := DecodeB64(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q accepted: %v", s, err)
		}
	}
}
