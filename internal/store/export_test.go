package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PgMigrations exposes the migration list to the external tests, which
// build a database at an older schema version and check the upgrade.
var PgMigrations = pgMigrations

// SetPgPageBytes sets the byte bound of a page of the PostgreSQL store's
// Entries until the test ends.
func SetPgPageBytes(t interface{ Cleanup(func()) }, n int64) {
	old := pgPageBytes
	pgPageBytes = n
	t.Cleanup(func() { pgPageBytes = old })
}

// SetLevels sets the bbolt store's level 0 capacity and growth factor
// (boltlevels.go) until the test ends: tiny levels merge at every few rows.
func SetLevels(t interface{ Cleanup(func()) }, rows0, growth uint64) {
	oldRows, oldGrowth := levelRows0, levelGrowth
	levelRows0, levelGrowth = rows0, growth
	t.Cleanup(func() { levelRows0, levelGrowth = oldRows, oldGrowth })
}

// BoltLevels is the number of level buckets of a leveled namespace.
const BoltLevels = boltLevels

// CheckFilters checks, in tx (a bbolt transaction, possibly an Update's
// in the middle of its writes), the levels' filters as its reads see
// them: every level has one, no filter outlives its level, and every key
// of a level, deletion rows included, is in it. It returns how many of
// the probe keys the filters answered "absent" for, level by level (a
// filter that never does skips nothing).
func CheckFilters(tx ReadTx, probes [][]byte) (absent int, err error) {
	t := tx.(*boltTx)
	parts, err := t.Partitions()
	if err != nil {
		return 0, err
	}
	for _, p := range parts {
		v := t.In(p).(*boltTx)
		for _, ns := range Namespaces() {
			if !leveled(ns) {
				continue
			}
			for i := firstFiltered; i < numSlots; i++ {
				f, err := v.filter(ns, i)
				if err != nil {
					return 0, err
				}
				b := v.bucket(levelBuckets[ns][i])
				switch {
				case b == nil && f.val != nil:
					return 0, fmt.Errorf("%v partition %d: level %d has a filter but no bucket", ns, p, i)
				case b == nil:
					continue
				}
				err = ForEachRunRow(b, func(k, row []byte) error {
					h, err := v.hashKey(k)
					if err == nil && !f.has(&h) {
						err = fmt.Errorf("%v partition %d: the filter of level %d answers absent for its key %q (row %x)", ns, p, i, k, row)
					}
					return err
				})
				if err != nil {
					return 0, err
				}
				for _, k := range probes {
					h, err := v.hashKey(k)
					if err != nil {
						return 0, err
					}
					if !f.has(&h) {
						absent++
					}
				}
			}
		}
	}
	return absent, nil
}

// ForEachRunRow calls fn with each row of the run b, in key order.
func ForEachRunRow(b *bolt.Bucket, fn func(key, row []byte) error) error {
	r := runCursor{c: b.Cursor()}
	_, v := r.c.First()
	k, row, err := r.load(v, 0)
	for ; err == nil && k != nil; k, row, err = r.next() {
		if err = fn(k, row); err != nil {
			return err
		}
	}
	return err
}

// MaxRunBlocks is the most blocks a run of tx holds, in any partition and
// leveled namespace.
func MaxRunBlocks(tx ReadTx) (int, error) {
	t := tx.(*boltTx)
	parts, err := t.Partitions()
	if err != nil {
		return 0, err
	}
	most := 0
	for _, p := range parts {
		v := t.In(p).(*boltTx)
		for _, ns := range Namespaces() {
			for s := 1; leveled(ns) && s < numSlots; s++ {
				if b := v.bucket(levelBuckets[ns][s]); b != nil {
					most = max(most, b.Stats().KeyN)
				}
			}
		}
	}
	return most, nil
}
