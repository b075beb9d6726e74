package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// packedRun writes rows (sorted, distinct keys) as a run into a fresh bucket
// of a new bbolt file and returns the file, open.
func packedRun(t *testing.T, keys [][]byte, row func(i int) []byte) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "run.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("run"))
		if err != nil {
			return err
		}
		w := &blockWriter{b: b}
		for i, k := range keys {
			if err := w.add(k, row(i)); err != nil {
				return err
			}
		}
		return w.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// A packed run reads back every row in order, finds each key it holds and
// none it does not (before its first key, between two, past its last, at
// a block's boundary), and seeks to the first key at least the one asked.
func TestPackedRunReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	seen := map[string]bool{}
	var keys [][]byte
	for len(keys) < 3000 {
		k := make([]byte, 1+rng.IntN(40))
		for i := range k {
			k[i] = byte('b' + rng.IntN(24)) // never 'a', never past 'y': room before and after
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	row := func(i int) []byte {
		if i%7 == 0 {
			return []byte{levelDeleted}
		}
		return fmt.Appendf([]byte{levelValue}, "v%d", i)
	}
	db := packedRun(t, keys, row)
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("run"))
		if n := b.Stats().KeyN; n < 10 {
			return fmt.Errorf("%d blocks for 3,000 rows, want several", n)
		}
		i := 0
		err := ForEachRunRow(b, func(k, r []byte) error {
			if !bytes.Equal(k, keys[i]) || !bytes.Equal(r, row(i)) {
				return fmt.Errorf("row %d = %q %x, want %q %x", i, k, r, keys[i], row(i))
			}
			i++
			return nil
		})
		if err != nil {
			return err
		}
		if i != len(keys) {
			return fmt.Errorf("%d rows read, want %d", i, len(keys))
		}
		for _, kept := range []bool{false, true} {
			view := &boltTx{tx: tx}
			if kept {
				view.cursors = txCursors{}
			}
			for i, k := range keys {
				if r, err := view.runGet(b, k); err != nil || !bytes.Equal(r, row(i)) {
					return fmt.Errorf("runGet(%q) = %x, %v; want %x", k, r, err, row(i))
				}
			}
			probes := [][]byte{{'a'}, {'z'}, append(bytes.Clone(keys[len(keys)-1]), 0)}
			for _, k := range keys[:300] {
				probes = append(probes, append(bytes.Clone(k), 0), k[:len(k)-1])
			}
			for _, p := range probes {
				at, found := slices.BinarySearchFunc(keys, p, bytes.Compare)
				r, err := view.runGet(b, p)
				if err != nil || (r != nil) != found {
					return fmt.Errorf("runGet(%q) = %x, %v; held: %v", p, r, err, found)
				}
				c := runCursor{c: b.Cursor()}
				k, got, err := c.seek(p)
				switch {
				case err != nil:
					return err
				case at == len(keys) && k != nil:
					return fmt.Errorf("seek(%q) = %q, want the end", p, k)
				case at < len(keys) && (!bytes.Equal(k, keys[at]) || !bytes.Equal(got, row(at))):
					return fmt.Errorf("seek(%q) = %q, want %q", p, k, keys[at])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A block that is not one (cut short, a count or an offset out of its
// bounds, a key running past its item, a row that is no level row) is an
// error, never a panic and never a row: every single-byte change and
// every truncation of real blocks is read without panicking, and either
// reads the same rows or fails with errBadBlock.
func TestPackedRunBadBlocks(t *testing.T) {
	keys := [][]byte{[]byte("k1"), []byte("k2"), []byte("k3")}
	db := packedRun(t, keys, func(i int) []byte { return []byte{levelValue, byte('a' + i)} })
	var blk []byte
	db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket([]byte("run")).Cursor().First()
		blk = bytes.Clone(v)
		return nil
	})
	read := func(v []byte) ([][2][]byte, error) {
		b, err := blockOf(v)
		if err != nil {
			return nil, err
		}
		var out [][2][]byte
		for i := range b.n {
			k, r, err := b.item(i)
			if err != nil {
				return nil, err
			}
			out = append(out, [2][]byte{k, r})
		}
		return out, nil
	}
	want, err := read(blk)
	if err != nil || len(want) != 3 {
		t.Fatalf("the real block reads %d rows, %v", len(want), err)
	}
	for _, bad := range [][]byte{
		nil,
		{0, 0, 0},
		{0, 0, 0, 0},                         // no rows
		{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, // a count past the block
		binary.BigEndian.AppendUint32([]byte{0, 0, 0, 1}, 1), // the first offset not 0
		{0, 0, 0, 1, 0, 0, 0, 0, 0},                          // an item of one byte
		{0, 0, 0, 1, 0, 0, 0, 0, 0, 9, 'k', levelValue},      // a key past its item
		{0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 'k', 7},               // not a level row
		{0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 'k'},                  // no row at all
	} {
		if _, err := read(bad); !errors.Is(err, errBadBlock) {
			t.Errorf("block %x read with %v, want errBadBlock", bad, err)
		}
	}
	changed := 0
	for i := range blk {
		for _, x := range []byte{1, 0x80, 0xff} {
			v := bytes.Clone(blk)
			v[i] ^= x
			got, err := read(v)
			if err == nil && !slices.EqualFunc(got, want, func(a, b [2][]byte) bool {
				return bytes.Equal(a[0], b[0]) && bytes.Equal(a[1], b[1])
			}) {
				changed++ // a changed key or value byte: still a block
			} else if err != nil && !errors.Is(err, errBadBlock) {
				t.Fatalf("byte %d ^ %x: %v, want errBadBlock", i, x, err)
			}
		}
	}
	// Cut by one byte, the last row loses its one-byte value and is still
	// a row (a tag and an empty value); cut by more, it is not.
	for n := range len(blk) - 1 {
		if _, err := read(blk[:n]); err == nil {
			t.Errorf("the block cut to %d of %d bytes reads", n, len(blk))
		}
	}
	if changed == 0 {
		t.Error("no single-byte change left a readable block: the check above checks nothing")
	}
}

// FuzzRunBlock: any bytes read as a block either fail with errBadBlock
// or are a block: its items, encoded again (appendItem, encodeBlock), give
// the same bytes, so reading skips and invents nothing. Searching it never
// panics, sorted or not. Seeded with a real block; `go test -fuzz
// FuzzRunBlock` explores further.
func FuzzRunBlock(f *testing.F) {
	var offs []uint32
	var items []byte
	for i := range 5 {
		offs = append(offs, uint32(len(items)))
		items = appendItem(items, fmt.Appendf(nil, "key%d", i), []byte{levelValue, byte(i)})
	}
	f.Add(encodeBlock(offs, items), []byte("key3"))
	f.Fuzz(func(t *testing.T, v, probe []byte) {
		b, err := blockOf(v)
		if err != nil {
			if !errors.Is(err, errBadBlock) {
				t.Fatalf("blockOf: %v, want errBadBlock", err)
			}
			return
		}
		var offs []uint32
		var items []byte
		for i := range b.n {
			k, r, err := b.item(i)
			if err != nil {
				if !errors.Is(err, errBadBlock) {
					t.Fatalf("item %d: %v, want errBadBlock", i, err)
				}
				return
			}
			offs = append(offs, uint32(len(items)))
			items = appendItem(items, k, r)
		}
		if again := encodeBlock(offs, items); !bytes.Equal(again, v) {
			t.Fatalf("block %x reads as items that encode to %x", v, again)
		}
		_, _ = b.search(probe)
	})
}
