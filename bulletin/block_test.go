package bulletin

import (
	"bytes"
	"errors"
	"testing"
)

func testChain(t *testing.T, n int) []*BlockHeader {
	t.Helper()
	var hs []*BlockHeader
	var prev *BlockHeader
	for i := 0; i < n; i++ {
		h, err := NextBlock(prev, 1_700_000_000_000+uint64(i)*1000, uint32(i+1), [32]byte{byte(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		prev = h
	}
	return hs
}

func TestBlockChain(t *testing.T) {
	hs := testChain(t, 4)
	var prev *BlockHeader
	for _, h := range hs {
		p, err := ParseBlockHeader(h.Bytes())
		if err != nil || *p != *h || len(h.Bytes()) != BlockHeaderSize {
			t.Fatalf("round trip: %v", err)
		}
		if err := CheckLink(prev, h); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	if hs[3].LogSize != 1+2+3+4 || hs[3].FirstSeq != 6 {
		t.Fatalf("seqs %+v", hs[3])
	}
}

func TestBlockTamper(t *testing.T) {
	hs := testChain(t, 3)
	g, h1, h2 := hs[0], hs[1], hs[2]
	mut := func(h *BlockHeader, f func(*BlockHeader)) *BlockHeader { c := *h; f(&c); return &c }
	// each mutated header of block 1, checked against block 0
	links := map[string]*BlockHeader{
		"height":     mut(h1, func(h *BlockHeader) { h.Height = 2 }),
		"prev":       mut(h1, func(h *BlockHeader) { h.Prev[0] ^= 1 }),
		"time back":  mut(h1, func(h *BlockHeader) { h.Time = g.Time - 1 }),
		"first seq":  mut(h1, func(h *BlockHeader) { h.FirstSeq++; h.LogSize++ }),
		"count":      mut(h1, func(h *BlockHeader) { h.Count++ }),
		"log size":   mut(h1, func(h *BlockHeader) { h.LogSize++ }),
		"zero prev":  mut(h1, func(h *BlockHeader) { h.Prev = [32]byte{} }),
		"no entries": mut(h1, func(h *BlockHeader) { h.Count = 0; h.LogSize = h.FirstSeq }),
	}
	for name, h := range links {
		if err := CheckLink(g, h); !errors.Is(err, ErrBadChain) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// a changed root changes the hash, so the next block no longer links
	if err := CheckLink(mut(h1, func(h *BlockHeader) { h.LogRoot[0] ^= 1 }), h2); !errors.Is(err, ErrBadChain) {
		t.Errorf("root: %v", err)
	}
	if err := CheckLink(nil, h1); !errors.Is(err, ErrBadChain) {
		t.Error("non-genesis accepted as first block")
	}
	if err := CheckLink(nil, mut(g, func(h *BlockHeader) { h.Prev[3] = 1 })); !errors.Is(err, ErrBadChain) {
		t.Error("genesis with prev accepted")
	}
	// decoding
	raw := h1.Bytes()
	for name, b := range map[string][]byte{
		"short":    raw[:99],
		"long":     append(bytes.Clone(raw), 0),
		"count 0":  mut(h1, func(h *BlockHeader) { h.Count = 0; h.LogSize = h.FirstSeq }).Bytes(),
		"size":     mut(h1, func(h *BlockHeader) { h.LogSize = 99 }).Bytes(),
		"genesis":  mut(g, func(h *BlockHeader) { h.FirstSeq = 1; h.LogSize = 2 }).Bytes(),
		"overflow": mut(h1, func(h *BlockHeader) { h.FirstSeq = ^uint64(0); h.LogSize = h.FirstSeq + uint64(h.Count) }).Bytes(),
	} {
		if _, err := ParseBlockHeader(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
