package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
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
// Filters: a key absent from the board (every new entry hash and
// tracker) would be looked up in every level and the base. Each level
// from firstFiltered on has a Bloom filter of its keys (the deletion rows'
// too), so a read skips a level whose filter answers "absent" (see
// "Membership filters" below).
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
var levelBuckets = perLevelNames("L")

// perLevelNames returns, for each leveled namespace ns and level i, the
// bucket name nsBucket(ns) ‖ "/" ‖ kind ‖ digit i.
func perLevelNames(kind string) [][boltLevels][]byte {
	out := make([][boltLevels][]byte, nsMax+1)
	for _, ns := range Namespaces() {
		if leveled(ns) {
			for i := range boltLevels {
				out[ns][i] = fmt.Appendf(nil, "%s/%s%d", nsBucket(ns), kind, i)
			}
		}
	}
	return out
}

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
// writes made due, then writes the filters they changed.
func (w *txLevels) merge(tx *bolt.Tx, filters *txFilters) error {
	for _, d := range w.written {
		t := &boltTx{tx: tx, part: d.part, filters: filters}
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
	return filters.write(tx)
}

// mergeLevels writes the levels [from, to) of ns, merged in key order (the
// newest row of each key), into level to, or into the base when to is
// boltLevels, and drops them.
func (t *boltTx) mergeLevels(ns Namespace, from, to int) error {
	name := nsBucket(ns)
	if to < boltLevels {
		name = levelBuckets[ns][to]
	}
	// Level to's filter, the merged keys added; taken before level to is
	// made, which would then lack one.
	var f *levelFilter
	if to < boltLevels && filtered(to) {
		var err error
		if f, err = t.filterForWrite(ns, to); err != nil {
			return err
		}
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
		if f != nil {
			h, err := t.hashKey(key)
			if err != nil {
				return err
			}
			f.add(&h)
		}
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
		if filtered(i) {
			if err := t.dropFilter(parent, ns, i); err != nil {
				return err
			}
		}
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
	if filtered(0) { // before level 0 is made, which would then lack a filter
		f, err := t.filterForWrite(ns, 0)
		if err != nil {
			return err
		}
		h, err := t.hashKey(key)
		if err != nil {
			return err
		}
		f.add(&h)
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
// through the levels, newest first, then the base, skipping a level whose
// filter answers "absent".
func (t *boltTx) getLevels(ns Namespace, key []byte) ([]byte, bool, error) {
	var h keyHash
	hashed := false
	for i := range boltLevels {
		if filtered(i) {
			f, err := t.filter(ns, i)
			if err != nil {
				return nil, false, err
			}
			if f.val == nil {
				continue // no level i
			}
			if !hashed {
				if h, err = t.hashKey(key); err != nil {
					return nil, false, err
				}
				hashed = true
			}
			if !f.has(&h) {
				continue
			}
		}
		b := t.bucket(levelBuckets[ns][i])
		if b == nil {
			continue
		}
		if v := t.get(b, key); v != nil {
			v, live, err := t.levelRow(ns, i, key, v)
			return v, live, err
		}
	}
	if b := t.bucket(nsBucket(ns)); b != nil {
		if v := t.get(b, key); v != nil {
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

// Membership filters.
//
// Level i ≥ firstFiltered of a namespace has a Bloom filter in the bucket
// nsBucket ‖ "/F" ‖ digit (filterBuckets), beside the level's bucket in
// the same partition, under the key "bits": one byte, the number of bit
// positions per key (filterHashes), then the filter's m bits (m a
// multiple of 64). Its own bucket so that a commit rewriting one filter
// rewrites none of the others' pages. A key's positions come from
// SHA-256(salt ‖ key), the salt (meta/filter-salt, 16 random bytes made
// when the file is created or upgraded, never in an Update: no answer of
// the store depends on it, so replicas stay deterministic) keeping keys
// chosen by voters or authorities from aiming at the same bits: such keys
// could only make the filters answer "maybe" more often (slower reads),
// never "absent" for a key a level holds.
//
// Invariant, kept in the transaction that changes the level (so any
// transaction, and the file after a crash, sees the filter of its own
// snapshot): level i exists iff its filter does, and every key of the
// level, a deletion row's too, is in the filter. A merge into level i
// adds the merged keys to i's filter (made empty when the merge creates
// the level); a level merged away loses its filter. Nothing is cached
// beyond one bbolt transaction (txFilters).
//
// Level 0 has no filter (firstFiltered is 1): with one, measured, neither
// the store's nor the board's CPU per post changed beyond the noise
// (bench/README.md, "Membership filters"). Level 0 is small and in memory,
// and its filter would cost a hash per Put and a rewrite per commit.
//
// Format 3 (boltFormat) marks a file whose levels all have filters; a
// format 2 file's levels get theirs when it is opened (upgradeFilters).

// firstFiltered is the first level with a filter.
const firstFiltered = 1

func filtered(level int) bool { return level >= firstFiltered }

const (
	// filterBitsPerRow bounds the false positive rate near 1 % (7
	// positions) for a level holding its capacity in rows.
	filterBitsPerRow = 10
	filterHashes     = 7 // positions per key, ≤ 8: each is a 32-bit word of the hash
	filterSaltSize   = 16
)

var (
	keyFilterSalt = []byte("filter-salt")
	keyFilterBits = []byte("bits")
)

// filterBuckets[ns][i] is the bucket name of level i's filter of ns.
var filterBuckets = perLevelNames("F")

// newFilterValue is an empty filter value for rows rows (at most 2³²
// bits: a position is a 32-bit word scaled to the filter).
func newFilterValue(rows uint64) []byte {
	words := min((max(rows, 1)*filterBitsPerRow+63)/64, 1<<26)
	v := make([]byte, 1+8*words)
	v[0] = filterHashes
	return v
}

// keyHash is SHA-256(salt ‖ key) as eight 32-bit words, one per position.
type keyHash [8]uint32

// levelFilter is one level's filter as one transaction sees it.
type levelFilter struct {
	loaded bool
	// val is the stored value (the header byte and the bits); nil: the
	// level does not exist. A read transaction's val is bbolt's (valid
	// until the transaction ends); a write transaction that changes the
	// filter first makes its own copy (owned) and writes it at its end
	// (dirty).
	val          []byte
	owned, dirty bool
}

// pos returns the byte and the bit of position j of h in f's bits.
func (f *levelFilter) pos(h *keyHash, j int) (int, byte) {
	bits := f.val[1:]
	p := uint64(h[j]) * uint64(len(bits)*8) >> 32 // h[j]·m/2³², uniform on [0, m)
	return int(p >> 3), 1 << (p & 7)
}

func (f *levelFilter) has(h *keyHash) bool {
	for j := range filterHashes {
		i, bit := f.pos(h, j)
		if f.val[1+i]&bit == 0 {
			return false
		}
	}
	return true
}

func (f *levelFilter) add(h *keyHash) {
	for j := range filterHashes {
		i, bit := f.pos(h, j)
		f.val[1+i] |= bit
	}
}

// checkFilterValue reports a filter value that is not one.
func checkFilterValue(v []byte) error {
	switch {
	case len(v) < 9 || (len(v)-1)%8 != 0 || len(v)-1 > 1<<29:
		return fmt.Errorf("%d bytes", len(v))
	case v[0] != filterHashes:
		return fmt.Errorf("%d positions per key, want %d", v[0], filterHashes)
	}
	return nil
}

// txFilters caches, for one bbolt transaction only, the filters it has
// read or changed and the salt: a transaction never sees another
// version's filter.
type txFilters struct {
	salt  []byte
	parts []*partFilters
}

type partFilters struct {
	part   Partition
	levels [nsMax + 1][boltLevels]levelFilter
}

func (c *txFilters) of(p Partition) *partFilters {
	for _, pf := range c.parts {
		if pf.part == p {
			return pf
		}
	}
	pf := &partFilters{part: p}
	c.parts = append(c.parts, pf)
	return pf
}

// cache returns t's transaction's filters, made on first use.
func (t *boltTx) cache() *txFilters {
	if t.filters == nil {
		t.filters = &txFilters{}
	}
	return t.filters
}

// hashKey returns key's positions under the file's salt.
func (t *boltTx) hashKey(key []byte) (keyHash, error) {
	c := t.cache()
	if c.salt == nil {
		s := t.tx.Bucket(bktMeta).Get(keyFilterSalt)
		if len(s) != filterSaltSize {
			return keyHash{}, fmt.Errorf("store: corrupt membership filter salt (%d bytes, want %d)", len(s), filterSaltSize)
		}
		c.salt = s
	}
	var buf [filterSaltSize + MaxKeySize]byte
	n := copy(buf[:], c.salt)
	n += copy(buf[n:], key)
	sum := sha256.Sum256(buf[:n])
	var h keyHash
	for j := range h {
		h[j] = binary.LittleEndian.Uint32(sum[4*j:])
	}
	return h, nil
}

// filter returns level i's filter of ns in t's partition (val nil if the
// level does not exist). A level without a filter, or a filter that is not
// one, is an error: reading past the level could miss its rows.
func (t *boltTx) filter(ns Namespace, i int) (*levelFilter, error) {
	f := &t.cache().of(t.part).levels[ns][i]
	if f.loaded {
		return f, nil
	}
	if fb := t.bucket(filterBuckets[ns][i]); fb != nil {
		v := fb.Get(keyFilterBits)
		if err := checkFilterValue(v); err != nil {
			return nil, fmt.Errorf("store: corrupt membership filter of level %d of namespace %v, partition %d: %w", i, ns, t.part, err)
		}
		f.val = v
	} else if t.bucket(levelBuckets[ns][i]) != nil {
		return nil, fmt.Errorf("store: level %d of namespace %v, partition %d has no membership filter", i, ns, t.part)
	}
	f.loaded = true
	return f, nil
}

// filterForWrite returns level i's filter of ns, as a copy of t's own that
// t's transaction writes at its end; empty if the level does not exist
// yet (the caller is creating it).
func (t *boltTx) filterForWrite(ns Namespace, i int) (*levelFilter, error) {
	f, err := t.filter(ns, i)
	if err != nil {
		return nil, err
	}
	if !f.owned {
		if f.val == nil {
			f.val = newFilterValue(levelCap(i))
		} else {
			f.val = clone(f.val)
		}
		f.owned = true
	}
	f.dirty = true
	return f, nil
}

// dropFilter deletes level i's filter of ns, merged away.
func (t *boltTx) dropFilter(parent bucketParent, ns Namespace, i int) error {
	t.cache().of(t.part).levels[ns][i] = levelFilter{loaded: true}
	if t.bucket(filterBuckets[ns][i]) == nil {
		return nil
	}
	if err := parent.DeleteBucket(filterBuckets[ns][i]); err != nil {
		return fmt.Errorf("store: dropping the filter of merged level %d of namespace %v, partition %d: %w", i, ns, t.part, err)
	}
	return nil
}

// write stores the filters the transaction changed.
func (c *txFilters) write(tx *bolt.Tx) error {
	if c == nil {
		return nil
	}
	for _, pf := range c.parts {
		t := &boltTx{tx: tx, part: pf.part, filters: c}
		for ns := range pf.levels {
			for i := range pf.levels[ns] {
				f := &pf.levels[ns][i]
				if !f.dirty {
					continue
				}
				b, err := t.writeBucket(filterBuckets[ns][i])
				if err == nil {
					err = b.Put(keyFilterBits, f.val)
				}
				if err != nil {
					return fmt.Errorf("store: writing the filter of level %d of namespace %v, partition %d: %w", i, Namespace(ns), pf.part, err)
				}
				f.dirty = false
			}
		}
	}
	return nil
}

// upgradeFilters builds the filter of every level of a format 2 file,
// whose levels have none, in the transaction that marks it format 3.
func upgradeFilters(tx *bolt.Tx) error {
	parts, err := (&boltTx{tx: tx}).Partitions()
	if err != nil {
		return err
	}
	c := &txFilters{}
	for _, p := range parts {
		t := &boltTx{tx: tx, part: p, filters: c}
		for _, ns := range Namespaces() {
			if !leveled(ns) {
				continue
			}
			for i := firstFiltered; i < boltLevels; i++ {
				b := t.bucket(levelBuckets[ns][i])
				if b == nil {
					continue
				}
				if t.bucket(filterBuckets[ns][i]) != nil {
					return fmt.Errorf("store: format 2 file with a filter for level %d of namespace %v, partition %d", i, ns, p)
				}
				// Sized for the rows it holds, if more than its capacity.
				f := &c.of(p).levels[ns][i]
				*f = levelFilter{loaded: true, val: newFilterValue(max(levelCap(i), b.Sequence())), owned: true, dirty: true}
				err := b.ForEach(func(k, _ []byte) error {
					h, err := t.hashKey(k)
					if err == nil {
						f.add(&h)
					}
					return err
				})
				if err != nil {
					return fmt.Errorf("store: building the filter of level %d of namespace %v, partition %d: %w", i, ns, p, err)
				}
			}
		}
	}
	return c.write(tx)
}
