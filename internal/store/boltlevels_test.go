package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
)

// The whole conformance suite with levels of 2, 4, 8 and 16 rows, so that
// nearly every commit merges (the default, 1,024 rows at level 0, is
// never reached by the suite's small states).
func TestBoltTinyLevels(t *testing.T) {
	store.SetLevels(t, 2, 2)
	storetest.Run(t, openBolt)
}

// model is what a leveled namespace must read as: a map per partition.
type model map[store.Partition]map[string]string

func (m model) clone() model {
	out := model{}
	for p, kv := range m {
		out[p] = map[string]string{}
		for k, v := range kv {
			out[p][k] = v
		}
	}
	return out
}

// TestBoltLevelsAgreeWithAMap writes random rows (puts, overwrites,
// deletions, across partitions, some transactions rolled back) through
// tiny levels, and after every transaction compares Get and prefix Scans
// of the three leveled namespaces with a map; then the snapshot, its
// restore into a fresh store and a reopen must read the same. The levels'
// filters are checked in every transaction, in the middle of its writes
// too, and a read transaction held open from round 100 to 300 must still
// read round 99's state, through its own filters.
func TestBoltLevelsAgreeWithAMap(t *testing.T) {
	store.SetLevels(t, 3, 3)
	ctx := context.Background()
	s, reopen := openBolt(t)
	rng := rand.New(rand.NewPCG(7, 11))
	namespaces := []store.Namespace{store.NSTracker, store.NSCredential, store.NSEntryHash}
	want := map[store.Namespace]model{}
	for _, ns := range namespaces {
		want[ns] = model{}
	}
	// Keys from a small alphabet, so that overwrites, deletions of live
	// keys and shared prefixes are common.
	key := func() []byte {
		k := make([]byte, 1+rng.IntN(3))
		for i := range k {
			k[i] = "abcd"[rng.IntN(4)]
		}
		return k
	}
	parts := []store.Partition{0, 0, 3}
	rolledBack := errors.New("rolled back on purpose")
	absent := 0 // filter answers "absent" to keys of the alphabet's length 4
	probes := [][]byte{[]byte("abcda"), []byte("bbbbb"), []byte("dcbad"), []byte("caca")}
	maxBlocks := 0 // the most blocks a run held
	checkFilters := func(tx store.ReadTx) error {
		n, err := store.CheckFilters(tx, probes)
		absent += n
		if err != nil {
			return err
		}
		blocks, err := store.MaxRunBlocks(tx)
		maxBlocks = max(maxBlocks, blocks)
		return err
	}
	held := make(chan error, 2)
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	defer releaseOnce() // a failed round must not leave the reader holding the file
	for round := range 400 {
		if round == 100 {
			go func(want map[store.Namespace]model) {
				held <- s.View(ctx, func(tx store.ReadTx) error {
					held <- nil
					<-release
					if err := checkModelTx(tx, want); err != nil {
						return err
					}
					_, err := store.CheckFilters(tx, nil)
					return err
				})
			}(want)
			if err := <-held; err != nil {
				t.Fatal(err)
			}
		}
		if round == 300 {
			releaseOnce()
			if err := <-held; err != nil {
				t.Fatalf("a read transaction held open from round 100 to 300: %v", err)
			}
		}
		next := map[store.Namespace]model{}
		for ns, m := range want {
			next[ns] = m.clone()
		}
		abort := rng.IntN(5) == 0
		err := s.Update(ctx, func(tx store.WriteTx) error {
			for range 1 + rng.IntN(12) + 30*rng.IntN(2)*rng.IntN(2) {
				ns := namespaces[rng.IntN(len(namespaces))]
				p := parts[rng.IntN(len(parts))]
				w := tx.WriteIn(p)
				m := next[ns]
				if m[p] == nil {
					m[p] = map[string]string{}
				}
				k := key()
				if rng.IntN(4) == 0 {
					if err := w.Delete(ns, k); err != nil {
						return err
					}
					delete(m[p], string(k))
					continue
				}
				v := fmt.Appendf(nil, "v%d", round)
				switch rng.IntN(10) {
				case 0:
					v = []byte{} // an empty value is a value
				case 1:
					// Values of a few KiB: a run spans several blocks, so
					// reads and merges cross blocks.
					v = fmt.Appendf(bytes.Repeat([]byte{'x'}, 1000+rng.IntN(3000)), "v%d", round)
				}
				if err := w.Put(ns, k, v); err != nil {
					return err
				}
				m[p][string(k)] = string(v)
				// Reads see the transaction's own writes.
				got, err := w.Get(ns, k)
				if err != nil || !bytes.Equal(got, v) {
					return fmt.Errorf("Get(%v, %q) in its own transaction = %q, %v; want %q", ns, k, got, err, v)
				}
				// So do reads of other keys, found or not, through the
				// cursors the transaction keeps over buckets it changed.
				k2 := key()
				got2, err := w.Get(ns, k2)
				if want2, ok := m[p][string(k2)]; ok && (err != nil || string(got2) != want2) {
					return fmt.Errorf("Get(%v, %q) after writes in its transaction = %q, %v; want %q", ns, k2, got2, err, want2)
				} else if !ok && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("Get(%v, %q) after writes in its transaction = %q, %v; want not found", ns, k2, got2, err)
				}
			}
			if err := checkFilters(tx); err != nil {
				return err
			}
			if abort {
				return rolledBack
			}
			return nil
		})
		if abort {
			if !errors.Is(err, rolledBack) {
				t.Fatalf("round %d: Update = %v, want the rollback", round, err)
			}
		} else {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			want = next
		}
		checkModel(t, s, want, fmt.Sprintf("round %d", round))
		if err := s.View(ctx, func(tx store.ReadTx) error { return checkFilters(tx) }); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if absent == 0 {
		t.Error("no filter ever answered absent: the test did not exercise them")
	}
	if maxBlocks < 3 {
		t.Errorf("no run ever held more than %d blocks: the test did not read across blocks", maxBlocks)
	}
	// A snapshot is the logical state, whatever the levels: restored into a
	// fresh store (whose rows are all in the bases) it reads the same, and
	// both stores dump the same.
	fresh, _ := openBolt(t)
	snap := storetest.SnapshotBytes(t, s)
	if err := fresh.Restore(ctx, bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	checkModel(t, fresh, want, "restored")
	storetest.RequireSameState(t, s, fresh)
	if !bytes.Equal(storetest.SnapshotBytes(t, fresh), snap) {
		t.Error("the restored store's snapshot differs from the one it was restored from")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := reopen(t)
	checkModel(t, reopened, want, "reopened")
	if err := reopened.View(ctx, func(tx store.ReadTx) error { return checkFilters(tx) }); err != nil {
		t.Fatalf("reopened: %v", err)
	}
}

// checkModel compares every key and every one- and two-byte prefix scan of
// the leveled namespaces with want.
func checkModel(t *testing.T, s store.Store, want map[store.Namespace]model, when string) {
	t.Helper()
	err := s.View(context.Background(), func(tx store.ReadTx) error { return checkModelTx(tx, want) })
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

// checkModelTx is checkModel in one read transaction.
func checkModelTx(tx store.ReadTx, want map[store.Namespace]model) error {
	for ns, m := range want {
		for _, p := range []store.Partition{0, 3} {
			kv := m[p]
			r := tx.In(p)
			var prefixes []string
			for _, a := range "abcd" {
				prefixes = append(prefixes, string(a))
				for _, b := range "abcd" {
					prefixes = append(prefixes, string(a)+string(b))
				}
			}
			for _, prefix := range append(prefixes, "") {
				var got, exp []string
				err := r.Scan(ns, []byte(prefix), func(k, v []byte) error {
					got = append(got, string(k)+"="+string(v))
					if _, err := r.Get(ns, k); err != nil { // callbacks may read
						return err
					}
					return nil
				})
				if err != nil {
					return err
				}
				for k, v := range kv {
					if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
						exp = append(exp, k+"="+v)
					}
				}
				slices.Sort(exp)
				if !slices.Equal(got, exp) {
					return fmt.Errorf("%v partition %d: Scan(%q) = %q, want %q", ns, p, prefix, got, exp)
				}
			}
			for _, k := range prefixes {
				v, err := r.Get(ns, []byte(k))
				exp, ok := kv[k]
				switch {
				case !ok && !errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("%v partition %d: Get(%q) = %q, %v; want ErrNotFound", ns, p, k, v, err)
				case ok && (err != nil || string(v) != exp):
					return fmt.Errorf("%v partition %d: Get(%q) = %q, %v; want %q", ns, p, k, v, err, exp)
				}
			}
		}
	}
	return nil
}

// TestBoltLevelsMerge checks the levels' shape, reading the file with
// bbolt itself: after N puts level 0 holds fewer rows than its capacity,
// each level 1 to 3 fewer runs than make it full, numbered from 0, each
// run at most its capacity in rows and with its filter; every row written
// reached level 0, a run or the base; and a level's row is the tag byte
// and the value.
func TestBoltLevelsMerge(t *testing.T) {
	store.SetLevels(t, 4, 2)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200 // past the last level's capacity (2 runs of 4·2² = 16 rows)
	for i := range n {
		err := s.Update(ctx, func(tx store.WriteTx) error {
			return tx.Put(store.NSTracker, fmt.Appendf(nil, "%03d", (i*37)%n), []byte{byte(i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		base := tx.Bucket([]byte("ns.tracker"))
		if base == nil {
			return errors.New("no base bucket ns.tracker")
		}
		keys := map[string]bool{}
		base.ForEach(func(k, v []byte) error { keys[string(k)] = true; return nil })
		if len(keys) == 0 {
			return errors.New("nothing was merged into the base")
		}
		rows := func(name string, b *bolt.Bucket) (int, error) {
			n := 0
			forEach := store.ForEachRunRow
			if name == "level 0" {
				forEach = (*bolt.Bucket).ForEach
			}
			err := forEach(b, func(k, v []byte) error {
				if len(v) != 2 || v[0] != 1 {
					return fmt.Errorf("%s row %q = %x, want 01 and one byte", name, k, v)
				}
				keys[string(k)] = true
				n++
				return nil
			})
			return n, err
		}
		named := map[string]bool{"ns.tracker/L0": true}
		if l0 := tx.Bucket([]byte("ns.tracker/L0")); l0 != nil {
			if l0.Sequence() >= 4 {
				return fmt.Errorf("level 0 holds %d rows written, at or past its capacity 4 after the commit", l0.Sequence())
			}
			if _, err := rows("level 0", l0); err != nil {
				return err
			}
		}
		runs := 0
		for i := 1; i < store.BoltLevels; i++ {
			for k := range 8 {
				name := fmt.Sprintf("ns.tracker/L%dr%d", i, k)
				named[name], named[fmt.Sprintf("ns.tracker/F%dr%d", i, k)] = true, true
				b := tx.Bucket([]byte(name))
				if b == nil {
					continue
				}
				runs++
				if k >= 2 {
					return fmt.Errorf("level %d holds run %d: at or past the 2 runs that make it full after the commit", i, k)
				}
				if k > 0 && tx.Bucket(fmt.Appendf(nil, "ns.tracker/L%dr%d", i, k-1)) == nil {
					return fmt.Errorf("level %d holds run %d but not run %d", i, k, k-1)
				}
				if tx.Bucket(fmt.Appendf(nil, "ns.tracker/F%dr%d", i, k)) == nil {
					return fmt.Errorf("run %d of level %d has no filter", k, i)
				}
				got, err := rows(name, b)
				if err != nil {
					return err
				}
				if capacity := 4 << (i - 1); got > capacity || uint64(got) != b.Sequence() {
					return fmt.Errorf("run %d of level %d holds %d rows (sequence %d), want at most %d and its sequence", k, i, got, b.Sequence(), capacity)
				}
			}
		}
		if runs == 0 {
			return errors.New("no runs in levels 1 to 3 after 200 puts")
		}
		err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if bytes.HasPrefix(name, []byte("ns.tracker/")) && !named[string(name)] {
				return fmt.Errorf("unexpected bucket %q", name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(keys) != n {
			return fmt.Errorf("%d distinct keys in the levels and base, want %d", len(keys), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A format 1 file (before levels) opens, keeps its rows and is marked
// format 5; an unknown format is refused.
func TestBoltFormatUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Fill(t, s, 3)
	want := storetest.SnapshotBytes(t, s)
	s.Close()
	setFormat := func(v byte) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte{0, 0, 0, 0, 0, 0, 0, v})
		}); err != nil {
			t.Fatal(err)
		}
	}
	format := func() []byte {
		t.Helper()
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v []byte
		db.View(func(tx *bolt.Tx) error { v = bytes.Clone(tx.Bucket([]byte("meta")).Get([]byte("format"))); return nil })
		return v
	}
	setFormat(1)
	s, err = store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatalf("opening a format 1 file: %v", err)
	}
	if !bytes.Equal(storetest.SnapshotBytes(t, s), want) {
		t.Errorf("a format 1 file reads differently after the upgrade (its snapshot differs)")
	}
	s.Close()
	if got := format(); !bytes.Equal(got, []byte{0, 0, 0, 0, 0, 0, 0, 5}) {
		t.Errorf("format after opening a format 1 file = %x, want 5", got)
	}
	setFormat(6)
	if s, err := store.OpenBolt(path, store.BoltOptions{}); err == nil {
		s.Close()
		t.Fatal("a format 6 file opened")
	}
}

// A level row that is neither a value nor a deletion (a corrupt file) is
// an error on every read of it, never read as a value or as absent.
func TestBoltLevelsCorruptRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx store.WriteTx) error {
		return tx.Put(store.NSTracker, []byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("ns.tracker/L0")).Put([]byte("k"), []byte{7, 'v'})
	})
	s, err = store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	requireCorrupt(t, s, []byte("k"), "corrupt row 6b in level 0 of namespace tracker, partition 0")
}

// requireCorrupt checks that every read of the tracker namespace of s
// through key's damaged row fails with an error saying want: a Get of key,
// a Scan, and a snapshot.
func requireCorrupt(t *testing.T, s store.Store, key []byte, want string) {
	t.Helper()
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		if v, err := tx.Get(store.NSTracker, key); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Get of %q = %q, %v; want an error saying %q", key, v, err, want)
		}
		if err := tx.Scan(store.NSTracker, nil, func(k, v []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Scan: %v, want an error saying %q", err, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	if _, err := snap.WriteTo(io.Discard); err == nil {
		t.Error("a snapshot over the damaged row was written")
	}
}

// A run's block that is not one (a corrupt file) is an error on every read
// through it, naming the run, never read as a row or as absent: a Get of a
// key the run holds, a Scan over it, and a snapshot.
func TestBoltLevelsCorruptBlock(t *testing.T) {
	store.SetLevels(t, 4, 8)
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 { // six commits of one row: level 0 becomes run 0 of level 1
		if err := s.Update(context.Background(), func(tx store.WriteTx) error {
			return tx.Put(store.NSTracker, fmt.Appendf(nil, "k%d", i), []byte("v"))
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var key []byte
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		run := tx.Bucket([]byte("ns.tracker/L1r0"))
		if run == nil {
			return errors.New("no run 0 of level 1 after 6 rows with levels of 4")
		}
		k, _ := run.Cursor().First()
		key = bytes.Clone(k)
		return run.Put(key, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 9, 'k'}) // a key past its item
	})
	s, err = store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	requireCorrupt(t, s, key, "run 0 of level 1 of namespace tracker, partition 0: malformed block")
}
