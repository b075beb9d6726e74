package board

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestRecordRightAfterAPost: a record written the moment a post is
// committed, before the cosignatures catch up, still holds that post (the
// writer waits for the quorum checkpoint), and ends with a checkpoint that
// covers exactly its entries.
func TestRecordRightAfterAPost(t *testing.T) {
	e, c := newThreeNodes(t, 2)
	c.mustAccept("manifest", e.ManifestEntry())
	res := c.mustAccept("credentials", e.CredentialsEntry())
	for _, n := range []*tnode{c.leader()} {
		var buf bytes.Buffer
		if err := n.board.WriteRecord(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		blocks, cps := testonly.ReadRecord(t, &buf)
		entries := 0
		for _, blk := range blocks {
			entries += len(blk.Entries)
		}
		if want := int(res[0].Seq) + 1; entries != want {
			t.Fatalf("record written right after entry %d holds %d entries, want %d", res[0].Seq, entries, want)
		}
		if len(cps) != 1 {
			t.Fatalf("%d checkpoints in the record", len(cps))
		}
		cp, err := bulletin.ParseCheckpointText(cps[0][:bytes.Index(cps[0], []byte("\n\n"))+1])
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size != uint64(entries) {
			t.Fatalf("checkpoint of size %d ends a record of %d entries", cp.Size, entries)
		}
	}
}

// TestRecordSince: the record suffix from every height (SPEC.md §3.11,
// "Record suffix") holds exactly the blocks of the whole record from that
// height, up to the asked log size, then the node's signed checkpoint of
// that size (the newest quorum checkpoint's, and any other size the node
// holds a signed checkpoint of); a range the node cannot serve is
// store.ErrNotFound and writes nothing.
func TestRecordSince(t *testing.T) {
	ctx := context.Background()
	b := boardOfBlocks(t)
	var whole bytes.Buffer
	if err := b.WriteRecord(ctx, &whole); err != nil {
		t.Fatal(err)
	}
	blocks, _ := testonly.ReadRecord(t, &whole)
	if len(blocks) < 3 {
		t.Fatalf("%d blocks, want at least 3", len(blocks))
	}
	for from := range blocks {
		for to := from; to < len(blocks); to++ {
			size := blocks[to].Header.LogSize
			if to == len(blocks)-1 && from%2 == 0 {
				size = 0 // the newest quorum checkpoint's
			}
			var buf bytes.Buffer
			err := b.WriteRecordSince(ctx, &buf, uint64(from), size)
			if errors.Is(err, ErrNoCheckpoint) && errors.Is(err, store.ErrNotFound) && to < len(blocks)-1 && buf.Len() == 0 {
				continue // the nodes signed no checkpoint of this size
			}
			if err != nil {
				t.Fatalf("from %d, size %d: %v", from, size, err)
			}
			got, cps := testonly.ReadRecord(t, &buf)
			if len(got) != to-from+1 {
				t.Fatalf("from %d to %d: %d blocks", from, to, len(got))
			}
			for i, g := range got {
				w := blocks[from+i]
				if !bytes.Equal(g.Header.Bytes(), w.Header.Bytes()) || len(g.Raw) != len(w.Raw) {
					t.Fatalf("from %d: block %d differs from the whole record's", from, from+i)
				}
				for k := range g.Raw {
					if !bytes.Equal(g.Raw[k], w.Raw[k]) {
						t.Fatalf("from %d: block %d entry %d differs from the whole record's", from, from+i, k)
					}
				}
			}
			if len(cps) != 1 {
				t.Fatalf("from %d to %d: %d checkpoints", from, to, len(cps))
			}
			cp, err := bulletin.ParseCheckpointText(cps[0][:bytes.Index(cps[0], []byte("\n\n"))+1])
			if err != nil || cp.Size != blocks[to].Header.LogSize {
				t.Fatalf("from %d to %d: checkpoint %+v, %v; want log size %d", from, to, cp, err, blocks[to].Header.LogSize)
			}
		}
	}
	n := uint64(len(blocks))
	last := blocks[n-1].Header.LogSize
	type bad struct {
		name       string
		from, size uint64
	}
	cases := []bad{
		{"no block at that height", n, 0},
		{"far past the board", 1 << 40, 0},
		{"a size past the quorum checkpoint", 0, last + 1},
		{"a first block past the size", 2, blocks[1].Header.LogSize},
	}
	for _, b := range blocks {
		if b.Header.Count > 1 {
			cases = append(cases, bad{"a size inside a block", 0, b.Header.FirstSeq + 1})
			break
		}
	}
	if len(cases) == 4 {
		t.Fatal("no block of the fixture holds two entries: no size inside a block to ask for")
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		err := b.WriteRecordSince(ctx, &buf, tc.from, tc.size)
		if !errors.Is(err, store.ErrNotFound) || buf.Len() != 0 {
			t.Errorf("%s (from %d, size %d): %v after %d bytes, want store.ErrNotFound before any", tc.name, tc.from, tc.size, err, buf.Len())
		}
	}
}

// TestRecordReadInChunks: a record read one block per read transaction
// (the smallest recordChunk) is byte for byte the record read in one, for
// the whole record and for a suffix.
func TestRecordReadInChunks(t *testing.T) {
	ctx := context.Background()
	b := boardOfBlocks(t)
	write := func(chunk int, from uint64) []byte {
		t.Helper()
		old := recordChunk
		recordChunk = chunk
		defer func() { recordChunk = old }()
		var buf bytes.Buffer
		if err := b.WriteRecordSince(ctx, &buf, from, 0); err != nil {
			t.Fatalf("chunk %d, from %d: %v", chunk, from, err)
		}
		return buf.Bytes()
	}
	whole := write(1<<30, 0)
	if blocks, _ := testonly.ReadRecord(t, bytes.NewReader(whole)); len(blocks) < 3 {
		t.Fatalf("%d blocks, want at least 3", len(blocks))
	}
	for _, from := range []uint64{0, 1} {
		if one, many := write(1<<30, from), write(1, from); !bytes.Equal(one, many) {
			t.Fatalf("from %d: the record read one block per transaction differs from the one read in one transaction (%d and %d bytes)", from, len(many), len(one))
		}
	}
}

// boardOfBlocks returns the leader of a 3-node cluster whose board holds a
// manifest, a credential list and three deals in three posts, the last a
// block of two entries.
func boardOfBlocks(t *testing.T) *Board {
	e, c := newThreeNodes(t, 2)
	c.mustAccept("manifest", e.ManifestEntry())
	c.mustAccept("credentials", e.CredentialsEntry())
	deals := e.DealEntries()
	c.mustAccept("deal", deals[0])
	c.mustAccept("deals", deals[1:]...) // one post: a block of two entries
	return c.leader().board
}

// TestEntriesPageBytes: a page of entries ends after the entry that
// brings its bytes to the bound, holds one entry however large, and the
// pages read one after another give the board's entries in order.
func TestEntriesPageBytes(t *testing.T) {
	ctx := context.Background()
	b := boardOfBlocks(t)
	all, err := b.Entries(ctx, 0, 100, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("unbounded page: %d entries, %v; want 5", len(all), err)
	}
	for _, tc := range []struct {
		maxBytes int
		want     int
	}{
		{1, 1},                   // one entry, however small the bound
		{len(all[0].Raw), 1},     // the manifest reaches the bound
		{len(all[0].Raw) + 1, 2}, // the credential list brings the page over it
		{len(all[0].Raw) + len(all[1].Raw) + 1, 3}, // and so on
	} {
		got, err := b.Entries(ctx, 0, 100, tc.maxBytes)
		if err != nil || len(got) != tc.want {
			t.Fatalf("bound %d: %d entries, %v; want %d", tc.maxBytes, len(got), err, tc.want)
		}
	}
	var paged []Entry
	for from := uint64(0); ; {
		page, err := b.Entries(ctx, from, 100, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		from = page[len(page)-1].Seq + 1
	}
	if len(paged) != len(all) {
		t.Fatalf("one-entry pages gave %d entries, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].Seq != all[i].Seq || paged[i].Block != all[i].Block || !bytes.Equal(paged[i].Raw, all[i].Raw) {
			t.Fatalf("entry %d differs when read one per page", i)
		}
	}
}
