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
// as before levels) and, in front of it in the same partition, level 0
// and levels 1 to boltLevels-1 of sorted runs:
//
//   - Level 0 (bucket nsBucket ‖ "/L0") takes every Put and Delete, so a
//     commit touches only its few leaves.
//   - When a commit leaves level 0 with at least levelRows0 rows written,
//     the same commit writes its rows, in key order and packed in blocks
//     (boltblocks.go), into a fresh bucket with full pages: a new run of
//     level 1, named nsBucket ‖ "/L1r" ‖ k for the level's k-th run (k
//     from 0). Level 0 is dropped.
//   - When level i then holds runsPerLevel runs, the same commit merges
//     them, in key order and the newest row of each key winning, into a
//     new run of level i+1, and drops them; the last level's runs are
//     merged into the base instead (a deletion row deletes).
//
// A run is written once and never changed, so a row is written once per
// level it passes through. (Format 3's levels were rewritten in place:
// each merge into a level rewrote its leaves, about growth/2 times per row
// and level; bench/README.md, "Sorted runs for levels 1–3".)
//
// Reads look through level 0, then the runs of level 1, 2, …, each
// level's newest run first, then the base, the first holding the key
// deciding: a level's value is a tag byte (1: the value follows; 0:
// deleted) and the value.
//
// Filters: a key absent from the board (every new entry hash and
// tracker) would be looked up in every run and the base. Each run has a
// Bloom filter of its keys (the deletion rows' too), written with it, so
// a read skips a run whose filter answers "absent" (see "Membership
// filters" below).
//
// Crash safety is bbolt's: a merge is part of the commit that triggered
// it, so the state after a crash is before or after both. The snapshot
// stream is the merged, logical view (the same stream as before levels,
// and as PostgreSQL's), and a Restore writes the bases only.

// boltLevels is the number of levels in front of a base: level 0, then
// levels 1 to boltLevels-1 of up to maxRuns sorted runs each.
const boltLevels = 4

// maxRuns bounds the runs a level holds (levelGrowth, at most this).
const maxRuns = 8

// numSlots is the number of level buckets: level 0 and every run.
const numSlots = 1 + (boltLevels-1)*maxRuns

// slotOf is the slot of run k of level i ≥ 1.
func slotOf(i, k int) int { return 1 + (i-1)*maxRuns + k }

// slotLevel is the level of slot s.
func slotLevel(s int) int {
	if s == 0 {
		return 0
	}
	return 1 + (s-1)/maxRuns
}

// slotName names slot s in errors: "level 0", or "run k of level i".
func slotName(s int) string {
	if s == 0 {
		return "level 0"
	}
	return fmt.Sprintf("run %d of level %d", (s-1)%maxRuns, slotLevel(s))
}

// runsPerLevel is how many runs make a level full.
func runsPerLevel() int { return int(min(levelGrowth, maxRuns)) }

// Level capacities, in rows written (an upper bound of the rows held: a
// key written twice counts twice). Variables so that tests exercise the
// merges with a few rows.
var (
	levelRows0  uint64 = 1024
	levelGrowth uint64 = 8
)

// bulkRows is the number of rows one transaction writes to a namespace
// past which it writes to the base directly (see levelWrites.bulk): as
// many as a full level 1 holds.
func bulkRows() uint64 { return levelRows0 * uint64(runsPerLevel()) }

// Level value tags.
const (
	levelDeleted byte = 0
	levelValue   byte = 1
)

// badRow reports a level's row that is not a tag byte and a value.
func badRow(row []byte) bool { return len(row) == 0 || row[0] > levelValue }

// leveled reports whether ns is one of the leveled namespaces.
func leveled(ns Namespace) bool {
	return ns == NSTracker || ns == NSCredential || ns == NSEntryHash
}

// levelBuckets[ns][s] is the bucket name of slot s of ns.
var levelBuckets = perLevelNames("L")

// perLevelNames returns, for each leveled namespace ns and slot s, the
// bucket name nsBucket(ns) ‖ "/" ‖ kind ‖ "0" for level 0, and
// nsBucket(ns) ‖ "/" ‖ kind ‖ level ‖ "r" ‖ run for a run.
func perLevelNames(kind string) [][numSlots][]byte {
	out := make([][numSlots][]byte, nsMax+1)
	for _, ns := range Namespaces() {
		if leveled(ns) {
			out[ns][0] = fmt.Appendf(nil, "%s/%s0", nsBucket(ns), kind)
			for s := 1; s < numSlots; s++ {
				out[ns][s] = fmt.Appendf(nil, "%s/%s%dr%d", nsBucket(ns), kind, slotLevel(s), (s-1)%maxRuns)
			}
		}
	}
	return out
}

// slotCap is the most rows slot s holds: level 0's capacity, or a run of
// level i: runsPerLevel runs of level i-1 merged.
func slotCap(s int) uint64 {
	c := levelRows0
	for range slotLevel(s) - 1 {
		c *= uint64(runsPerLevel())
	}
	return c
}

// levelRuns is how many runs each level of a namespace holds in one
// transaction (runs 0..n-1), and the order reads look through its slots,
// found once per transaction: a read looks for the first absent run of
// every level, and bbolt caches no absent bucket.
type levelRuns struct {
	n     [boltLevels]int
	order []int // level 0, then each level's runs from the newest
}

// levelRuns returns ns's runs in t's transaction, cached in t.cache()
// until a run is made or dropped (forgetRuns).
func (t *boltTx) levelRuns(ns Namespace) *levelRuns {
	pf := t.cache().of(t.part)
	if r := pf.runs[ns]; r != nil {
		return r
	}
	r := &levelRuns{order: []int{0}}
	for i := 1; i < boltLevels; i++ {
		for r.n[i] < maxRuns && t.bucket(levelBuckets[ns][slotOf(i, r.n[i])]) != nil {
			r.n[i]++
		}
		for k := r.n[i] - 1; k >= 0; k-- {
			r.order = append(r.order, slotOf(i, k))
		}
	}
	pf.runs[ns] = r
	return r
}

// forgetRuns drops the cached runs of ns: a run was made or dropped.
func (t *boltTx) forgetRuns(ns Namespace) { t.cache().of(t.part).runs[ns] = nil }

// runs is the number of runs level i of ns holds in t (runs 0..n-1).
func (t *boltTx) runs(ns Namespace, i int) int { return t.levelRuns(ns).n[i] }

// readOrder is ns's slots that may exist, newest first: level 0, then each
// level's runs from the newest. The slice is shared: callers MUST NOT
// change it.
func (t *boltTx) readOrder(ns Namespace) []int { return t.levelRuns(ns).order }

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
		if b := t.bucket(levelBuckets[d.ns][0]); b == nil || b.Sequence() < levelRows0 {
			continue
		}
		if err := t.newRun(d.ns, 1, []int{0}); err != nil {
			return err
		}
		for i := 1; i < boltLevels; i++ {
			n := t.runs(d.ns, i)
			if n < runsPerLevel() {
				break
			}
			src := make([]int, 0, n)
			for k := n - 1; k >= 0; k-- {
				src = append(src, slotOf(i, k))
			}
			var err error
			if i+1 < boltLevels {
				err = t.newRun(d.ns, i+1, src)
			} else {
				err = t.mergeIntoBase(d.ns, src)
			}
			if err != nil {
				return err
			}
		}
	}
	return filters.write(tx)
}

// newRun writes the rows of the slots src (newest first), merged in key
// order, as a new run of level i, packed in blocks into a fresh bucket
// whose pages are filled whole, and drops src.
func (t *boltTx) newRun(ns Namespace, i int, src []int) error {
	k := t.runs(ns, i)
	if k >= maxRuns {
		return fmt.Errorf("store: level %d of namespace %v, partition %d holds %d runs", i, ns, t.part, k)
	}
	dst := slotOf(i, k)
	// The filter is sized for the rows written to the sources, if more
	// than the run's capacity (a level 0 that one commit filled past it).
	var rows uint64
	for _, s := range src {
		if sb := t.bucket(levelBuckets[ns][s]); sb != nil {
			rows += sb.Sequence()
		}
	}
	f, err := t.newFilter(ns, dst, max(slotCap(dst), rows))
	if err != nil {
		return err
	}
	b, err := t.writeBucket(levelBuckets[ns][dst])
	if err != nil {
		return err
	}
	b.FillPercent = 1
	var n uint64
	w := &blockWriter{b: b}
	err = t.mergedRows(ns, nil, src, false, func(key, row []byte, _ int) error {
		h, err := t.hashKey(key)
		if err != nil {
			return err
		}
		f.add(&h)
		n++
		return w.add(key, row)
	})
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return fmt.Errorf("store: writing run %d of level %d of namespace %v, partition %d: %w", k, i, ns, t.part, err)
	}
	if err := b.SetSequence(n); err != nil {
		return err
	}
	return t.dropSlots(ns, src)
}

// mergeIntoBase applies the rows of the slots src (newest first), merged
// in key order, to the base (a deletion row deletes), and drops src.
func (t *boltTx) mergeIntoBase(ns Namespace, src []int) error {
	dst, err := t.writeBucket(nsBucket(ns))
	if err != nil {
		return err
	}
	// The values put stay valid until the commit although their buckets
	// are dropped below: bbolt reuses no page freed in the same
	// transaction, and copies what its nodes still reference before it
	// remaps.
	err = t.mergedRows(ns, nil, src, false, func(key, row []byte, _ int) error {
		return applyToBase(dst, key, row)
	})
	if err != nil {
		return fmt.Errorf("store: merging into the base of namespace %v, partition %d: %w", ns, t.part, err)
	}
	return t.dropSlots(ns, src)
}

// applyToBase applies a level's row of key (its tag checked) to the base:
// a deletion row deletes the key, a value row puts its value.
func applyToBase(base *bolt.Bucket, key, row []byte) error {
	if row[0] == levelDeleted {
		return base.Delete(key)
	}
	return base.Put(key, row[1:])
}

// dropSlots drops the slots src of ns and their filters. Every change to
// the runs ends here (newRun makes one, then drops its sources).
func (t *boltTx) dropSlots(ns Namespace, src []int) error {
	t.forgetRuns(ns) // and the run newRun made before it
	parent := t.partitionBucket()
	for _, s := range src {
		if filtered(s) {
			if err := t.dropFilter(parent, ns, s); err != nil {
				return err
			}
		}
		if t.bucket(levelBuckets[ns][s]) == nil {
			continue
		}
		if err := parent.DeleteBucket(levelBuckets[ns][s]); err != nil {
			return fmt.Errorf("store: dropping merged %s of namespace %v, partition %d: %w", slotName(s), ns, t.part, err)
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
	if w.rows++; w.rows > bulkRows() {
		w.bulk = true
		return t.mergeIntoBase(ns, t.readOrder(ns))
	}
	return nil
}

// getLevels returns key's value in ns and whether it has one, looking
// through the levels, newest first, then the base, skipping a level whose
// filter answers "absent".
func (t *boltTx) getLevels(ns Namespace, key []byte) ([]byte, bool, error) {
	var h keyHash
	hashed := false
	for _, i := range t.readOrder(ns) {
		if filtered(i) {
			f, err := t.filter(ns, i)
			if err != nil {
				return nil, false, err
			}
			if f.val == nil {
				continue
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
		row, err := t.slotGet(b, i, key)
		if err != nil {
			return nil, false, t.badRun(ns, i, err)
		}
		if row != nil {
			return t.levelRow(ns, i, key, row)
		}
	}
	if b := t.bucket(nsBucket(ns)); b != nil {
		if v := t.get(b, key); v != nil {
			return v, true, nil
		}
	}
	return nil, false, nil
}

// slotGet returns key's row in b, the bucket of slot i: level 0 holds a
// row per bbolt key, a run packs them in blocks.
func (t *boltTx) slotGet(b *bolt.Bucket, i int, key []byte) ([]byte, error) {
	if i == 0 {
		return t.get(b, key), nil
	}
	return t.runGet(b, key)
}

// levelRow decodes the row of key in level i: its value, and false if the
// row records a deletion.
func (t *boltTx) levelRow(ns Namespace, i int, key, row []byte) ([]byte, bool, error) {
	if badRow(row) {
		return nil, false, fmt.Errorf("store: corrupt row %x in %s of namespace %v, partition %d", key, slotName(i), ns, t.part)
	}
	return row[1:], row[0] == levelValue, nil
}

// levelCursor is one level's (or the base's) position in a merged scan.
type levelCursor struct {
	c     *bolt.Cursor // level 0 or the base (run nil)
	run   *runCursor   // a run (c nil)
	k, v  []byte
	level int // the slot; -1 for the base
}

// seek positions lc at the first row whose key is at least key.
func (lc *levelCursor) seek(key []byte) (err error) {
	if lc.run == nil {
		lc.k, lc.v = lc.c.Seek(key)
		return nil
	}
	lc.k, lc.v, err = lc.run.seek(key)
	return err
}

// next moves lc to the next row.
func (lc *levelCursor) next() (err error) {
	if lc.run == nil {
		lc.k, lc.v = lc.c.Next()
		return nil
	}
	lc.k, lc.v, err = lc.run.next()
	return err
}

// badRun names the run slot i of ns in the error err met reading it.
func (t *boltTx) badRun(ns Namespace, i int, err error) error {
	return fmt.Errorf("store: corrupt %s of namespace %v, partition %d: %w", slotName(i), ns, t.part, err)
}

// scanLevels calls fn for each live key of ns starting with prefix, in
// key order, with its newest value (the levels and the base merged into
// one ordered view). The slices passed are copies.
func (t *boltTx) scanLevels(ns Namespace, prefix []byte, fn func(key, value []byte) error) error {
	return t.mergedRows(ns, prefix, t.readOrder(ns), true, func(key, row []byte, slot int) error {
		switch {
		case slot < 0:
			return fn(clone(key), clone(row))
		case row[0] == levelDeleted:
			return nil
		}
		return fn(clone(key), clone(row[1:]))
	})
}

// mergedRows calls fn for each key of ns starting with prefix in the
// slots (newest first) and, with base, the base, in key order, with its
// newest row and its slot: a slot's row (tag ‖ value, the tag checked), or
// the base's value (slot -1). The slices passed are bbolt's, valid until
// the transaction ends; fn MUST NOT write to these slots.
func (t *boltTx) mergedRows(ns Namespace, prefix []byte, slots []int, base bool, fn func(key, row []byte, slot int) error) error {
	cs := make([]*levelCursor, 0, len(slots)+1) // newest first: on equal keys the first wins
	open := func(name []byte, slot int) error {
		b := t.bucket(name)
		if b == nil {
			return nil
		}
		lc := &levelCursor{level: slot}
		if slot > 0 {
			lc.run = &runCursor{c: b.Cursor()}
		} else {
			lc.c = b.Cursor()
		}
		cs = append(cs, lc)
		return lc.seek(prefix)
	}
	for _, s := range slots {
		if err := open(levelBuckets[ns][s], s); err != nil {
			return t.badRun(ns, s, err)
		}
	}
	if base {
		if err := open(nsBucket(ns), -1); err != nil {
			return err
		}
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
		key, row, slot := win.k, win.v, win.level
		if slot >= 0 && badRow(row) {
			return fmt.Errorf("store: corrupt row %x in %s of namespace %v, partition %d", key, slotName(win.level), ns, t.part)
		}
		for _, lc := range cs {
			if lc != win && lc.k != nil && bytes.Equal(lc.k, key) {
				if err := lc.next(); err != nil {
					return t.badRun(ns, lc.level, err)
				}
			}
		}
		if err := win.next(); err != nil {
			return t.badRun(ns, win.level, err)
		}
		if err := fn(key, row, slot); err != nil {
			return err
		}
	}
}

// Membership filters.
//
// Every run has a Bloom filter of its keys in the bucket nsBucket ‖ "/F" ‖
// level ‖ "r" ‖ run (filterBuckets), beside the run's bucket in the same
// partition, under the key "bits": one byte, the number of bit positions
// per key (filterHashes), then the filter's m bits (m a multiple of 64).
// Its own bucket so that writing one filter rewrites none of the others'
// pages. A key's positions come from SHA-256(salt ‖ key), the salt
// (meta/filter-salt, 16 random bytes made when the file is created or
// upgraded, never in an Update: no answer of the store depends on it, so
// replicas stay deterministic) keeping keys chosen by voters or
// authorities from aiming at the same bits: such keys could only make the
// filters answer "maybe" more often (slower reads), never "absent" for a
// key a run holds.
//
// Invariant, kept in the transaction that writes or drops the run (so any
// transaction, and the file after a crash, sees the filter of its own
// snapshot): a run exists iff its filter does, and every key of the run,
// a deletion row's too, is in the filter. Nothing is cached beyond one
// bbolt transaction (txFilters).
//
// Level 0 has no filter (firstFiltered is 1): with one, measured, neither
// the store's nor the board's CPU per post changed beyond the noise
// (bench/README.md, "Membership filters"). Level 0 is small and in memory,
// and its filter would cost a hash per Put and a rewrite per commit.
//
// Format 4 marked a file whose levels are level 0 and runs of a row per
// bbolt key, format 5 (boltFormat) one whose runs are packed in blocks
// (boltblocks.go). A format 4 file's runs are merged into the base when it
// is opened (upgradeOld); so are a format 2 or 3 file's levels 1 to 3
// (buckets nsBucket ‖ "/L" ‖ digit, each rewritten in place by merges;
// format 3 with filters nsBucket ‖ "/F" ‖ digit). Level 0 is laid out as
// before in all of them.

// firstFiltered is the first slot with a filter: every run's slot, not
// level 0's.
const firstFiltered = 1

func filtered(slot int) bool { return slot >= firstFiltered }

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

// levelFilter is one run's filter as one transaction sees it.
type levelFilter struct {
	loaded bool
	// val is the stored value (the header byte and the bits); nil: the
	// run does not exist. A stored filter's val is bbolt's (valid until
	// the transaction ends) and never changed: a run's filter is built
	// whole, in memory, by the transaction that makes the run (newFilter),
	// which writes it at its end (dirty).
	val   []byte
	dirty bool
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
	levels [nsMax + 1][numSlots]levelFilter
	runs   [nsMax + 1]*levelRuns // see levelRuns
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
			return nil, fmt.Errorf("store: corrupt membership filter of %s of namespace %v, partition %d: %w", slotName(i), ns, t.part, err)
		}
		f.val = v
	} else if t.bucket(levelBuckets[ns][i]) != nil {
		return nil, fmt.Errorf("store: %s of namespace %v, partition %d has no membership filter", slotName(i), ns, t.part)
	}
	f.loaded = true
	return f, nil
}

// newFilter returns an empty filter for rows rows as slot s's filter of
// ns, which t's transaction writes at its end. Slot s is a run being
// created: it MUST NOT exist.
func (t *boltTx) newFilter(ns Namespace, s int, rows uint64) (*levelFilter, error) {
	f, err := t.filter(ns, s)
	if err != nil {
		return nil, err
	}
	if f.val != nil {
		return nil, fmt.Errorf("store: %s of namespace %v, partition %d already has a membership filter", slotName(s), ns, t.part)
	}
	*f = levelFilter{loaded: true, val: newFilterValue(rows), dirty: true}
	return f, nil
}

// dropFilter deletes level i's filter of ns, merged away.
func (t *boltTx) dropFilter(parent bucketParent, ns Namespace, i int) error {
	t.cache().of(t.part).levels[ns][i] = levelFilter{loaded: true}
	if t.bucket(filterBuckets[ns][i]) == nil {
		return nil
	}
	if err := parent.DeleteBucket(filterBuckets[ns][i]); err != nil {
		return fmt.Errorf("store: dropping the filter of merged %s of namespace %v, partition %d: %w", slotName(i), ns, t.part, err)
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
					return fmt.Errorf("store: writing the filter of %s of namespace %v, partition %d: %w", slotName(i), Namespace(ns), pf.part, err)
				}
				f.dirty = false
			}
		}
	}
	return nil
}

// oldLayer is a bucket of an older format's levels 1 to 3, laid out a row
// per bbolt key, and its filter's bucket (if any).
type oldLayer struct {
	name, filter []byte
	what         string // in errors
}

// oldLevels is the layout of a format 2 or 3 file's levels 1 to 3 of ns,
// each rewritten in place by merges (format 3's with filters), oldest
// first.
func oldLevels(ns Namespace) (out []oldLayer) {
	for i := boltLevels - 1; i >= 1; i-- {
		out = append(out, oldLayer{fmt.Appendf(nil, "%s/L%d", nsBucket(ns), i), fmt.Appendf(nil, "%s/F%d", nsBucket(ns), i), fmt.Sprintf("level %d", i)})
	}
	return out
}

// oldRuns is the layout of a format 4 file's runs of ns, oldest first
// (the deepest level's first run).
func oldRuns(ns Namespace) (out []oldLayer) {
	for i := boltLevels - 1; i >= 1; i-- {
		for k := range maxRuns {
			s := slotOf(i, k)
			out = append(out, oldLayer{levelBuckets[ns][s], filterBuckets[ns][s], slotName(s)})
		}
	}
	return out
}

// upgradeOld merges the layers of an older format (oldLevels, oldRuns)
// into the base, in every partition, oldest first so that a newer layer's
// row wins, and drops them and their filters, in the transaction that
// marks the file format boltFormat. Level 0 is laid out as before.
func upgradeOld(tx *bolt.Tx, layers func(Namespace) []oldLayer) error {
	parts, err := (&boltTx{tx: tx}).Partitions()
	if err != nil {
		return err
	}
	for _, p := range parts {
		t := &boltTx{tx: tx, part: p}
		for _, ns := range Namespaces() {
			if !leveled(ns) {
				continue
			}
			for _, l := range layers(ns) {
				if err := t.foldOld(ns, l.name, l.filter); err != nil {
					return fmt.Errorf("store: upgrading %s of namespace %v, partition %d to format %d: %w", l.what, ns, p, boltFormat, err)
				}
			}
		}
	}
	return nil
}

// foldOld applies the rows of the bucket name of ns, laid out a row per
// bbolt key, to the base, and drops it and the bucket filter.
func (t *boltTx) foldOld(ns Namespace, name, filter []byte) error {
	parent := t.partitionBucket()
	if t.bucket(filter) != nil {
		if err := parent.DeleteBucket(filter); err != nil {
			return err
		}
	}
	old := t.bucket(name)
	if old == nil {
		return nil
	}
	base, err := t.writeBucket(nsBucket(ns))
	if err != nil {
		return err
	}
	err = old.ForEach(func(k, row []byte) error {
		if badRow(row) {
			return fmt.Errorf("corrupt row %x", k)
		}
		return applyToBase(base, k, row)
	})
	if err != nil {
		return err
	}
	return parent.DeleteBucket(name)
}
