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

// txLevels is what an Update's transaction wrote to leveled namespaces,
// so that its end merges the levels it filled.
type txLevels struct {
	written []*levelWrites // each (partition, namespace) once
}

// levelWrites is one transaction's writes to one leveled namespace of a
// partition.
type levelWrites struct {
	part Partition
	ns   Namespace
	rows uint64 // rows this transaction wrote to level 0
	// bulk: the transaction wrote more rows than level 1 holds (a
	// credential list of a large election); its levels were merged into
	// the base, and its further rows go to the base directly, as before
	// levels: a write touching most leaves gains nothing from them, and
	// would be merged through every level.
	bulk bool
}

func (w *txLevels) of(p Partition, ns Namespace) *levelWrites {
	for _, d := range w.written {
		if d.part == p && d.ns == ns {
			return d
		}
	}
	d := &levelWrites{part: p, ns: ns}
	w.written = append(w.written, d)
	return d
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
			if err := t.mergeLevels(d.ns, i, i+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeLevels writes the levels [from, to) of ns, merged in key order (the
// newest row of each key), into level to, or into the base when to is
// boltLevels, and drops them.
func (t *boltTx) mergeLevels(ns Namespace, from, to int) error {
	name := nsBucket(ns)
	if to < boltLevels {
		name = levelBuckets[ns][to]
	}
	dst, err := t.writeBucket(name)
	if err != nil {
		return err
	}
	var n uint64
	// key and row stay valid until the commit although their levels are
	// dropped below: bbolt reuses no page freed in the same transaction,
	// and copies what its nodes still reference before it remaps.
	err = t.mergedRows(ns, nil, from, to, func(key, row []byte, _ bool) error {
		var err error
		switch {
		case to < boltLevels:
			err = dst.Put(key, row)
		case row[0] == levelDeleted:
			err = dst.Delete(key)
		default:
			err = dst.Put(key, row[1:])
		}
		n++
		return err
	})
	if err != nil {
		return fmt.Errorf("store: merging levels %d to %d of namespace %v, partition %d: %w", from, to-1, ns, t.part, err)
	}
	if to < boltLevels {
		if err := dst.SetSequence(dst.Sequence() + n); err != nil {
			return fmt.Errorf("store: merging into level %d of namespace %v: %w", to, ns, err)
		}
	}
	parent := t.partitionBucket()
	for i := from; i < to; i++ {
		if t.bucket(levelBuckets[ns][i]) == nil {
			continue
		}
		if err := parent.DeleteBucket(levelBuckets[ns][i]); err != nil {
			return fmt.Errorf("store: dropping merged level %d of namespace %v, partition %d: %w", i, ns, t.part, err)
		}
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

// putLevel writes key's row (tag ‖ value) into level 0 of ns, or, in a
// bulk transaction, applies it to the base. t is a view of an Update's
// transaction (the only WriteTx), so t.levels is set.
func (t *boltTx) putLevel(ns Namespace, key []byte, tag byte, value []byte) error {
	w := t.levels.of(t.part, ns)
	if w.bulk {
		b, err := t.writeBucket(nsBucket(ns))
		if err != nil {
			return err
		}
		if tag == levelDeleted {
			return b.Delete(key)
		}
		return b.Put(clone(key), clone(value))
	}
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
	if w.rows++; w.rows > levelCap(1) {
		w.bulk = true
		return t.mergeLevels(ns, 0, boltLevels)
	}
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
// key order, with its newest value (the levels and the base merged into
// one ordered view). The slices passed are copies.
func (t *boltTx) scanLevels(ns Namespace, prefix []byte, fn func(key, value []byte) error) error {
	return t.mergedRows(ns, prefix, 0, boltLevels+1, func(key, row []byte, base bool) error {
		switch {
		case base:
			return fn(clone(key), clone(row))
		case row[0] == levelDeleted:
			return nil
		}
		return fn(clone(key), clone(row[1:]))
	})
}

// mergedRows calls fn for each key of ns starting with prefix in the
// levels [from, to) (to boltLevels+1: and the base), in key order, with
// its newest row: a level's row (tag ‖ value, the tag checked), or the
// base's value (base true). The slices passed are bbolt's, valid until the
// transaction ends; fn MUST NOT write to these levels.
func (t *boltTx) mergedRows(ns Namespace, prefix []byte, from, to int, fn func(key, row []byte, base bool) error) error {
	var cs []*levelCursor // newest first: on equal keys the first wins
	for i := from; i < to; i++ {
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
		key, row, base := win.k, win.v, win.level == boltLevels
		if !base && (len(row) == 0 || row[0] > levelValue) {
			return fmt.Errorf("store: corrupt row %x in level %d of namespace %v, partition %d", key, win.level, ns, t.part)
		}
		for _, lc := range cs {
			if lc != win && lc.k != nil && bytes.Equal(lc.k, key) {
				lc.k, lc.v = lc.c.Next()
			}
		}
		win.k, win.v = win.c.Next()
		if err := fn(key, row, base); err != nil {
			return err
		}
	}
}
