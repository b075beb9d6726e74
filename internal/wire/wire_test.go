package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/urna-vote/urna/internal/group"
)

func TestRoundTrip(t *testing.T) {
	g := group.Generator()
	s := group.ScalarFromUint64(9)
	enc := NewWriter(0).U8(1).U16(2).U32(3).U64(4).Bytes([]byte("xy")).String("é").Element(g).Scalar(s).Count(2).U8(1).Out()
	r := NewReader(enc)
	if r.U8("a") != 1 || r.U16("b") != 2 || r.U32("c") != 3 || r.U64("d") != 4 {
		t.Fatal("integers")
	}
	if string(r.Bytes("e", 10)) != "xy" || r.String("f", 10) != "é" {
		t.Fatal("strings")
	}
	if !r.Element("g").Equal(g) || !r.Scalar("h").Equal(s) || r.Count("i", 5) != 2 || !r.Flag("j") {
		t.Fatal("group values")
	}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
}

func TestRejects(t *testing.T) {
	cases := map[string]func(r *Reader){
		"trailing":      func(r *Reader) { r.U8("x") },
		"short":         func(r *Reader) { r.U64("x") },
		"too long":      func(r *Reader) { r.Bytes("x", 1) },
		"bad flag":      func(r *Reader) { r.Flag("x") },
		"bad utf8":      func(r *Reader) { r.String("x", 10) },
		"identity":      func(r *Reader) { r.NonIdentity("x") },
		"count too big": func(r *Reader) { r.Count("x", 1) },
	}
	inputs := map[string][]byte{
		"trailing":      {1, 2},
		"short":         {1, 2, 3},
		"too long":      {0, 0, 0, 2, 'a', 'b'},
		"bad flag":      {2},
		"bad utf8":      {0, 0, 0, 1, 0xff},
		"identity":      make([]byte, 32),
		"count too big": {0, 0, 0, 2},
	}
	for name, f := range cases {
		r := NewReader(inputs[name])
		f(r)
		if err := r.Done(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Done() = %v, want ErrMalformed", name, err)
		}
	}
}

func TestB64Strict(t *testing.T) {
	b := []byte{0xfb, 0xff}
	s := EncodeB64(b)
	if s != "-_8" {
		t.Fatalf("EncodeB64 = %q", s)
	}
	if got, err := DecodeB64(s); err != nil || !bytes.Equal(got, b) {
		t.Fatal("round trip")
	}
	for _, bad := range []string{"-_8=", "+/8", "-_9", "-_8 "} {
		if _, err := DecodeB64(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(NewWriter(0).Bytes([]byte("abc")).Element(group.Generator()).Out())
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(in)
		v := r.Bytes("v", 1<<16)
		e := r.Element("e")
		if r.Done() != nil {
			return
		}
		if out := NewWriter(0).Bytes(v).Element(e).Out(); !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs: %x vs %x", out, in)
		}
	})
}
