package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Packed runs (format 5).
//
// A run's rows are written in key order, once, and never changed, so a run
// stores them packed: its bucket holds blocks of consecutive rows, each
// under the key of its first row. Why: bbolt takes a row at a time, and a
// fresh bucket's rows all sit in one in-memory node until the commit, so
// each Put searched that node twice (Seek, then the insert) and grew it:
// writing a run of 65,536 rows cost 32 key comparisons a row, and the
// merges were 11 % of the board's CPU at 200,000 posts
// (bench/README.md, "Packed runs"). A block is one Put.
//
// A block is
//
//	count:u32  off[0] … off[count-1]:u32  item[0] … item[count-1]
//	item = keyLen:u16 key row
//
// big-endian, off[i] the offset of item[i] from the first item (off[0] =
// 0, increasing), item[i] ending where item[i+1] starts (the last at the
// block's end), row the level's row (tag ‖ value). The keys increase
// strictly, within a block and from one block to the next; the bucket key
// of a block is its first item's key.

// runBlockBytes is the size past which a run closes a block: a quarter of
// the default page, so that a leaf page holds several blocks, and a block
// of the indexes' small rows needs no overflow page.
const runBlockBytes = 4 << 10

// errBadBlock reports a block that is not one; the callers name the run.
var errBadBlock = errors.New("malformed block")

// blockWriter packs a run's rows, in key order, into blocks and puts each
// into the run's bucket when it is full.
type blockWriter struct {
	b     *bolt.Bucket
	first []byte   // the first key of the open block
	items []byte   // the open block's items
	offs  []uint32 // their offsets in items
}

// add appends key's row to the open block, first putting the open block if
// it is full.
func (w *blockWriter) add(key, row []byte) error {
	if len(key) > MaxKeySize {
		return fmt.Errorf("key of %d bytes in a run", len(key))
	}
	if len(w.items) >= runBlockBytes {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(w.offs) == 0 {
		w.first = append(w.first[:0], key...)
	}
	w.offs = append(w.offs, uint32(len(w.items)))
	w.items = appendItem(w.items, key, row)
	return nil
}

// appendItem appends the item of key and row (keyLen:u16 key row).
func appendItem(items, key, row []byte) []byte {
	items = binary.BigEndian.AppendUint16(items, uint16(len(key)))
	return append(append(items, key...), row...)
}

// flush puts the open block, if it holds rows, as a new value: bbolt keeps
// a reference to it until the commit.
func (w *blockWriter) flush() error {
	if len(w.offs) == 0 {
		return nil
	}
	blk := encodeBlock(w.offs, w.items)
	w.items, w.offs = w.items[:0], w.offs[:0]
	return w.b.Put(bytes.Clone(w.first), blk)
}

// encodeBlock returns, in a new slice, the block of the items at offsets
// offs.
func encodeBlock(offs []uint32, items []byte) []byte {
	blk := make([]byte, 0, 4+4*len(offs)+len(items))
	blk = binary.BigEndian.AppendUint32(blk, uint32(len(offs)))
	for _, o := range offs {
		blk = binary.BigEndian.AppendUint32(blk, o)
	}
	return append(blk, items...)
}

// block is one stored block, its header checked (blockOf).
type block struct {
	raw   []byte
	n     int
	items []byte
}

// blockOf checks blk's header: the count and that every offset lies in
// the items, increasing.
func blockOf(blk []byte) (block, error) {
	if len(blk) < 4 {
		return block{}, errBadBlock
	}
	n := binary.BigEndian.Uint32(blk)
	if n == 0 || uint64(n) > uint64(len(blk)-4)/4 {
		return block{}, errBadBlock
	}
	b := block{raw: blk, n: int(n), items: blk[4+4*int(n):]}
	prev := -1
	for i := range b.n {
		o := int(b.off(i))
		if o <= prev || o+2 > len(b.items) || (i == 0 && o != 0) {
			return block{}, errBadBlock
		}
		prev = o
	}
	return b, nil
}

func (b block) off(i int) uint32 { return binary.BigEndian.Uint32(b.raw[4+4*i:]) }

// item returns item i's key and row; an item whose key overruns it, or
// whose row is not a tag byte and a value, is errBadBlock.
func (b block) item(i int) (key, row []byte, err error) {
	lo, hi := int(b.off(i)), len(b.items)
	if i+1 < b.n {
		hi = int(b.off(i + 1))
	}
	it := b.items[lo:hi]
	if len(it) < 2 {
		return nil, nil, errBadBlock
	}
	kl := int(binary.BigEndian.Uint16(it))
	if 2+kl > len(it) {
		return nil, nil, errBadBlock
	}
	key, row = it[2:2+kl], it[2+kl:]
	if badRow(row) {
		return nil, nil, errBadBlock
	}
	return key, row, nil
}

// search returns the index of the first item whose key is at least key
// (b.n if none).
func (b block) search(key []byte) (int, error) {
	var err error
	i := sort.Search(b.n, func(i int) bool {
		k, _, e := b.item(i)
		if e != nil {
			err = e
			return true
		}
		return bytes.Compare(k, key) >= 0
	})
	return i, err
}

// runCursor reads a run's rows in key order.
type runCursor struct {
	c   *bolt.Cursor
	blk block
	i   int // the current item of blk
}

// load makes the block under the bbolt cursor, v, the current one at its
// item i; a nil v ends the run. It returns the item.
func (r *runCursor) load(v []byte, i int) (key, row []byte, err error) {
	if v == nil {
		r.blk = block{}
		return nil, nil, nil
	}
	if r.blk, err = blockOf(v); err != nil {
		return nil, nil, err
	}
	r.i = i
	return r.at()
}

// at returns the current item, moving to the next block past the last.
func (r *runCursor) at() (key, row []byte, err error) {
	if r.i >= r.blk.n {
		_, v := r.c.Next()
		return r.load(v, 0)
	}
	return r.blk.item(r.i)
}

// seek positions r at the first row whose key is at least key and returns
// it (a nil key past the end).
func (r *runCursor) seek(key []byte) ([]byte, []byte, error) {
	k, v := r.c.Seek(key)
	switch {
	case k == nil:
		k, v = r.c.Last()
	case !bytes.Equal(k, key):
		// The rows before the block found may be in the one before it.
		if pk, pv := r.c.Prev(); pk != nil {
			k, v = pk, pv
		} else {
			k, v = r.c.First()
		}
	}
	if k == nil {
		return r.load(nil, 0)
	}
	var err error
	if r.blk, err = blockOf(v); err != nil {
		return nil, nil, err
	}
	if r.i, err = r.blk.search(key); err != nil {
		return nil, nil, err
	}
	return r.at()
}

// next moves r to the next row and returns it.
func (r *runCursor) next() ([]byte, []byte, error) {
	if r.blk.n == 0 {
		return nil, nil, nil
	}
	r.i++
	return r.at()
}

// runGet returns key's row in the run b (nil if absent), through t's kept
// cursor of b.
func (t *boltTx) runGet(b *bolt.Bucket, key []byte) ([]byte, error) {
	r := runCursor{c: t.cursor(b)}
	k, row, err := r.seek(key)
	if err != nil || !bytes.Equal(k, key) {
		return nil, err
	}
	return row, nil
}
