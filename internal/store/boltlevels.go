package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The bbolt store's leveled namespaces: a write-optimised index for the
// namespaces whose keys are random (hashes, trackers, credentials) and that
// gain rows with every ballot.
//
// Why: a B+tree takes a row under a random key in a random leaf, and a
// bbolt commit rewrites every leaf it touched, whole (16 KiB). Once such an
// index is larger than a commit's rows, every row costs a leaf: at a
// million ballots, three rows per ballot made 48 KiB of page writes per
// post and node, against the entry's own 2.2 KB, and the board's cost per
// post grew with its size (bench/README.md, "The board's cost grows with
// its size").
//
// How: a leveled namespace is the namespace's bucket (the base, laid out
// as before: old files open unchanged) and up to boltLevels bounded level
// buckets in front of it, named nsBucket ‖ "/L" ‖ digit, in the same
// partition. Level 0 takes every Put and Delete, so a commit touches only
// its few leaves. When a commit leaves level i with at least levelCap(i)
// rows written, the same commit merges it, in key order, into level i+1
// (the last level into the base) and drops it: level i+1 is levelGrowth
// times larger, so a merge rewrites each of its leaves once for about
// 1/levelGrowth of them worth of rows. Reads look through level 0, 1, …
// and the base, the first holding the key deciding: a level's value is a
// tag byte (1: the value follows; 0: deleted) and the value. A merge into
// the base applies the deletions.
//
// Crash safety is bbolt's: a merge is part of the commit that triggered
// it, so the state after a crash is before or after both. The snapshot
// stream is the merged, logical view (the same stream as before levels,
// and as PostgreSQL's), and a Restore writes the bases only.

// boltLevels is the number of level buckets in front of a base.
const boltLevels = 4

// Level capacities, in rows written (an upper bound of the rows held: a
// key written twice counts twice). Variables so that tests exercise the
// merges with a few rows.
var (
	levelRows0  uint64 = 1024
	levelGrowth uint64 = 8
)

// levelCap is the number of rows written to level i that makes the commit
// merge it into the next.
func levelCap(i int) uint64 {
	c := levelRows0
	for range i {
		c *= levelGrowth
	}
	return c
}

// Level value tags.
const (
	levelDeleted byte = 0
	levelValue   byte = 1
)

// leveled reports whether ns is one of the leveled namespaces.
func leveled(ns Namespace) bool {
	return ns == NSTracker || ns == NSCredential || ns == NSEntryHash
}

// levelBuckets[ns][i] is the bucket name of level i of ns.
var levelBuckets = func() [][boltLevels][]byte {
	out := make([][boltLevels][]byte, nsMax+1)
	for _, ns := range Namespaces() {
		if leveled(ns) {
			for i := range boltLevels {
				out[ns][i] = fmt.Appendf(nil, "%s/L%d", nsBucket(ns), i)
			}
		}
	}
	return out
}()

// txLevels is what an Update's transaction wrote to level 0, so that its
// end merges what outgrew its level.
type txLevels struct {
	written []partNS // level 0s written, each once
}

type partNS struct {
	part Partition
	ns   Namespace
}

func (w *txLevels) wrote(p Partition, ns Namespace) {
	for _, d := range w.written {
		if d == (partNS{p, ns}) {
			return
		}
	}
	w.written = append(w.written, partNS{p, ns})
}

// merge runs, at the end of an Update whose fn succeeded, the merges its
// writes made due.
func (w *txLevels) merge(tx *bolt.Tx) error {
	for _, d := range w.written {
		t := &boltTx{tx: tx, part: d.part}
		for i := range boltLevels {
			b := t.bucket(levelBuckets[d.ns][i])
			if b == nil || b.Sequence() < levelCap(i) {
				break // the levels behind i are unchanged
			}
			if err := t.mergeLevel(d.ns, i, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeLevel writes level i of ns (src) into the next level, or into the
// base for the last, and drops it.
func (t *boltTx) mergeLevel(ns Namespace, i int, src *bolt.Bucket) error {
	last := i == boltLevels-1
	name := nsBucket(ns)
	if !last {
		name = levelBuckets[ns][i+1]
	}
	dst, err := t.writeBucket(name)
	if err != nil {
		return err
	}
	var n uint64
	c := src.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		val, live, err := t.levelRow(ns, i, k, v)
		if err != nil {
			return err
		}
		// k and v stay valid until the commit although src is dropped
		// below: bbolt reuses no page freed in the same transaction, and
		// copies what its nodes still reference before it remaps.
		switch {
		case !last:
			err = dst.Put(k, v)
		case !live:
			err = dst.Delete(k)
		default:
			err = dst.Put(k, val)
		}
		if err != nil {
			return fmt.Errorf("store: merging level %d of namespace %v, partition %d: %w", i, ns, t.part, err)
		}
		n++
	}
	if !last {
		if err := dst.SetSequence(dst.Sequence() + n); err != nil {
			return fmt.Errorf("store: merging level %d of namespace %v: %w", i, ns, err)
		}
	}
	parent := t.partitionBucket()
	if err := parent.DeleteBucket(levelBuckets[ns][i]); err != nil {
		return fmt.Errorf("store: dropping merged level %d of namespace %v, partition %d: %w", i, ns, t.part, err)
	}
	return nil
}

// bucketParent holds buckets: a partition's bucket, or the transaction for
// partition 0, whose buckets are top-level.
type bucketParent interface {
	DeleteBucket(name []byte) error
}

// partitionBucket is what holds the buckets of t's partition (which exists:
// t wrote to it).
func (t *boltTx) partitionBucket() bucketParent {
	if t.part == 0 {
		return t.tx
	}
	return t.tx.Bucket(partBucket(t.part))
}

// putLevel writes key's row (tag ‖ value) into level 0 of ns.
func (t *boltTx) putLevel(ns Namespace, key []byte, tag byte, value []byte) error {
	b, err := t.writeBucket(levelBuckets[ns][0])
	if err != nil {
		return err
	}
	row := make([]byte, 1+len(value))
	row[0] = tag
	copy(row[1:], value)
	if err := b.Put(clone(key), row); err != nil {
		return err
	}
	if err := b.SetSequence(b.Sequence() + 1); err != nil {
		return err
	}
	if t.levels == nil {
		return fmt.Errorf("store: writing namespace %v outside an Update", ns)
	}
	t.levels.wrote(t.part, ns)
	return nil
}

// getLevels returns key's value in ns and whether it has one, looking
// through the levels, newest first, then the base.
func (t *boltTx) getLevels(ns Namespace, key []byte) ([]byte, bool, error) {
	for i := range boltLevels {
		b := t.bucket(levelBuckets[ns][i])
		if b == nil {
			continue
		}
		if v := b.Get(key); v != nil {
			v, live, err := t.levelRow(ns, i, key, v)
			return v, live, err
		}
	}
	if b := t.bucket(nsBucket(ns)); b != nil {
		if v := b.Get(key); v != nil {
			return v, true, nil
		}
	}
	return nil, false, nil
}

// levelRow decodes the row of key in level i: its value, and false if the
// row records a deletion.
func (t *boltTx) levelRow(ns Namespace, i int, key, row []byte) ([]byte, bool, error) {
	if len(row) == 0 || row[0] > levelValue {
		return nil, false, fmt.Errorf("store: corrupt row %x in level %d of namespace %v, partition %d", key, i, ns, t.part)
	}
	return row[1:], row[0] == levelValue, nil
}

// levelCursor is one level's (or the base's) position in a merged scan.
type levelCursor struct {
	c     *bolt.Cursor
	k, v  []byte
	level int // boltLevels for the base
}

// scanLevels calls fn for each live key of ns starting with prefix, in
// key order, with the newest row of each key (the levels merged into one
// ordered view; deleted keys skipped). The slices passed are copies.
func (t *boltTx) scanLevels(ns Namespace, prefix []byte, fn func(key, value []byte) error) error {
	var cs []*levelCursor // newest first: on equal keys the first wins
	for i := 0; i <= boltLevels; i++ {
		name := nsBucket(ns)
		if i < boltLevels {
			name = levelBuckets[ns][i]
		}
		b := t.bucket(name)
		if b == nil {
			continue
		}
		lc := &levelCursor{c: b.Cursor(), level: i}
		lc.k, lc.v = lc.c.Seek(prefix)
		cs = append(cs, lc)
	}
	for {
		var win *levelCursor
		for _, lc := range cs {
			if lc.k == nil || !bytes.HasPrefix(lc.k, prefix) {
				continue
			}
			if win == nil || bytes.Compare(lc.k, win.k) < 0 {
				win = lc
			}
		}
		if win == nil {
			return nil
		}
		key, v, live := clone(win.k), win.v, true
		if win.level < boltLevels {
			var err error
			if v, live, err = t.levelRow(ns, win.level, key, v); err != nil {
				return err
			}
		}
		val := clone(v)
		for _, lc := range cs {
			if lc.k != nil && bytes.Equal(lc.k, key) {
				lc.k, lc.v = lc.c.Next()
			}
		}
		if !live {
			continue
		}
		if err := fn(key, val); err != nil {
			return err
		}
	}
}
