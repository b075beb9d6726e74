package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

// TestPrecompressed: the module's precompressed forms are used only when
// they decompress to the module; a stale one is left out, and a missing or
// stale gzip form is made on the spot.
func TestPrecompressed(t *testing.T) {
	module := bytes.Repeat([]byte("\x00asm the module "), 1000)
	other := bytes.Repeat([]byte("\x00asm an older module "), 1000)
	br := func(b []byte) []byte {
		var out bytes.Buffer
		w := brotli.NewWriter(&out)
		w.Write(b)
		w.Close()
		return out.Bytes()
	}
	a := newAsset("urna.wasm", module)
	gunzip := func(z []byte) []byte {
		r, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	fresh := fstest.MapFS{
		"urna.wasm.gz": {Data: gzipped(module, gzip.BestCompression)},
		"urna.wasm.br": {Data: br(module)},
	}
	c := precompressed(fresh, a)
	if !bytes.Equal(c.gzip, fresh["urna.wasm.gz"].Data) || !bytes.Equal(c.br, fresh["urna.wasm.br"].Data) {
		t.Errorf("fresh forms not used: gzip %d bytes, br %d bytes", len(c.gzip), len(c.br))
	}

	stale := fstest.MapFS{
		"urna.wasm.gz": {Data: gzipped(other, gzip.BestCompression)},
		"urna.wasm.br": {Data: br(other)},
	}
	c = precompressed(stale, a)
	if c.br != nil {
		t.Error("a stale brotli form is served")
	}
	if c.gzip == nil || !bytes.Equal(gunzip(c.gzip), module) {
		t.Error("a stale gzip form is served, or none made")
	}

	c = precompressed(fstest.MapFS{"urna.wasm.br": {Data: []byte("not brotli")}}, a)
	if c.br != nil || c.gzip == nil || !bytes.Equal(gunzip(c.gzip), module) {
		t.Errorf("without forms: br %v, gzip %d bytes", c.br != nil, len(c.gzip))
	}
}
