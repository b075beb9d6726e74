package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/urna-vote/urna/internal/store"
)

// writeRandom writes rounds transactions of random puts and deletions to
// the leveled namespaces of partitions 0 and 3 of the bbolt store at path
// (through the levels SetLevels made) and returns what they must read as.
func writeRandom(t *testing.T, path string, seed uint64, rounds int) map[store.Namespace]model {
	t.Helper()
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(seed, 1))
	namespaces := []store.Namespace{store.NSTracker, store.NSCredential, store.NSEntryHash}
	want := map[store.Namespace]model{}
	for _, ns := range namespaces {
		want[ns] = model{0: {}, 3: {}}
	}
	for round := range rounds {
		err := s.Update(context.Background(), func(tx store.WriteTx) error {
			for range 1 + rng.IntN(6) {
				ns := namespaces[rng.IntN(len(namespaces))]
				p := []store.Partition{0, 3}[rng.IntN(2)]
				k := make([]byte, 1+rng.IntN(2))
				for i := range k {
					k[i] = "abcd"[rng.IntN(4)]
				}
				if rng.IntN(4) == 0 {
					delete(want[ns][p], string(k))
					if err := tx.WriteIn(p).Delete(ns, k); err != nil {
						return err
					}
					continue
				}
				v := fmt.Sprintf("v%d", round)
				want[ns][p][string(k)] = v
				if err := tx.WriteIn(p).Put(ns, k, []byte(v)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// rawUpdate runs fn in a bbolt write transaction on the file at path.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// eachFilterBucket calls fn with the parent (nil: the transaction) and the
// name of every filter bucket of partitions 0 and 3.
func eachFilterBucket(tx *bolt.Tx, fn func(parent *bolt.Bucket, name []byte) error) error {
	pb := tx.Bucket([]byte("part/\x00\x00\x00\x03"))
	if pb == nil {
		return errors.New("no bucket of partition 3")
	}
	for _, parent := range []*bolt.Bucket{nil, pb} {
		var names [][]byte
		collect := func(name []byte) error {
			if bytes.Contains(name, []byte("/F")) {
				names = append(names, bytes.Clone(name))
			}
			return nil
		}
		if parent == nil {
			tx.ForEach(func(name []byte, _ *bolt.Bucket) error { return collect(name) })
		} else {
			parent.ForEachBucket(collect)
		}
		for _, n := range names { // not inside ForEach: fn may delete
			if err := fn(parent, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func setRawFormat(tx *bolt.Tx, v byte) error {
	return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte{0, 0, 0, 0, 0, 0, 0, v})
}

// checkAll compares the store at path with want and checks its filters.
func checkAll(t *testing.T, path string, want map[store.Namespace]model, when string) {
	t.Helper()
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	defer s.Close()
	checkModel(t, s, want, when)
	err = s.View(context.Background(), func(tx store.ReadTx) error {
		_, err := store.CheckFilters(tx, nil)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A format 2 or 3 file (levels 1 to 3 rewritten in place by merges,
// format 3's each with a filter) or a format 4 file (levels 1 to 3 of
// runs, a row per bbolt key, each with a filter) opens: its levels 1 to 3
// are merged into the bases, oldest first, in the transaction that marks
// it format 5, and it reads as before. The older layout is written here by
// hand, as those binaries laid it out, under level 0 as this one writes
// it.
func TestBoltLevelsFormatUpgrade(t *testing.T) {
	namespaces := []string{"tracker", "credential", "entryhash"}
	// oldLayers is the layout of format's levels 1 to 3, oldest first:
	// each bucket's name and its filter's ("" for none).
	oldLayers := func(name string, format byte) (layers [][2]string) {
		for level := 3; level >= 1; level-- {
			switch format {
			case 2:
				layers = append(layers, [2]string{fmt.Sprintf("ns.%s/L%d", name, level), ""})
			case 3:
				layers = append(layers, [2]string{fmt.Sprintf("ns.%s/L%d", name, level), fmt.Sprintf("ns.%s/F%d", name, level)})
			case 4:
				for k := range 2 {
					layers = append(layers, [2]string{fmt.Sprintf("ns.%s/L%dr%d", name, level, k), fmt.Sprintf("ns.%s/F%dr%d", name, level, k)})
				}
			}
		}
		return layers
	}
	for _, format := range []byte{2, 3, 4} {
		t.Run(fmt.Sprintf("format %d", format), func(t *testing.T) {
			store.SetLevels(t, 1<<20, 8) // nothing leaves level 0 while the file is made
			path := filepath.Join(t.TempDir(), "node.db")
			want := writeRandom(t, path, uint64(format), 60)
			rng := rand.New(rand.NewPCG(uint64(format), 2))
			oldRows := 0
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				pb := tx.Bucket([]byte("part/\x00\x00\x00\x03"))
				if pb == nil {
					return errors.New("no bucket of partition 3")
				}
				for pi, p := range []store.Partition{0, 3} {
					bucket := func(name string) (*bolt.Bucket, error) {
						if pi == 0 {
							return tx.CreateBucketIfNotExists([]byte(name))
						}
						return pb.CreateBucketIfNotExists([]byte(name))
					}
					for nsi, name := range namespaces {
						ns := []store.Namespace{store.NSTracker, store.NSCredential, store.NSEntryHash}[nsi]
						l0, err := bucket("ns." + name + "/L0")
						if err != nil {
							return err
						}
						// Oldest first: the base, then levels 3, 2, 1. A key in
						// level 0 reads as level 0 says; any other, as the newest
						// old row.
						for li, layer := range append([][2]string{{"ns." + name, ""}}, oldLayers(name, format)...) {
							isBase := li == 0
							b, err := bucket(layer[0])
							if err != nil {
								return err
							}
							if layer[1] != "" {
								f, err := bucket(layer[1])
								if err != nil {
									return err
								}
								if err := f.Put([]byte("bits"), append([]byte{7}, make([]byte, 64)...)); err != nil {
									return err
								}
							}
							for range 12 {
								k := make([]byte, 1+rng.IntN(2))
								for i := range k {
									k[i] = "abcdef"[rng.IntN(6)]
								}
								v := fmt.Sprintf("old%d-%d", li, rng.IntN(1000))
								row := append([]byte{1}, v...)
								if !isBase && rng.IntN(4) == 0 {
									row = []byte{0}
								}
								if isBase {
									row = row[1:]
								}
								if err := b.Put(k, row); err != nil {
									return err
								}
								oldRows++
								if l0.Get(k) != nil {
									continue
								}
								if !isBase && row[0] == 0 {
									delete(want[ns][p], string(k))
								} else {
									want[ns][p][string(k)] = v
								}
							}
						}
					}
				}
				if format == 2 {
					if err := tx.Bucket([]byte("meta")).Delete([]byte("filter-salt")); err != nil {
						return err
					}
				}
				return setRawFormat(tx, format)
			})
			if oldRows == 0 {
				t.Fatal("no old rows written")
			}
			checkAll(t, path, want, "upgraded")

			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.View(func(tx *bolt.Tx) error {
				meta := tx.Bucket([]byte("meta"))
				if got := meta.Get([]byte("format")); !bytes.Equal(got, []byte{0, 0, 0, 0, 0, 0, 0, 5}) {
					t.Errorf("format after the upgrade = %x, want 5", got)
				}
				if got := meta.Get([]byte("filter-salt")); len(got) != 16 {
					t.Errorf("filter salt after the upgrade = %x, want 16 bytes", got)
				}
				pb := tx.Bucket([]byte("part/\x00\x00\x00\x03"))
				for _, parent := range []func(name []byte) *bolt.Bucket{tx.Bucket, pb.Bucket} {
					for _, name := range namespaces {
						for _, layer := range oldLayers(name, format) {
							for _, b := range layer {
								if b != "" && parent([]byte(b)) != nil {
									t.Errorf("bucket %s of the old layout is still there after the upgrade", b)
								}
							}
						}
						if parent([]byte("ns."+name+"/L0")) == nil {
							t.Errorf("level 0 of ns.%s is gone after the upgrade", name)
						}
					}
				}
				return nil
			})
		})
	}
}

// A filter that is not one, a level without its filter and a missing salt
// are errors that say so on every read through them: never "absent". They
// are not rebuilt on read: a read transaction cannot write, and a damaged
// file is for the operator to restore from a snapshot (the stream has no
// filters).
func TestBoltFiltersCorrupt(t *testing.T) {
	store.SetLevels(t, 2, 2)
	dir := t.TempDir()
	pristine := filepath.Join(dir, "pristine.db")
	writeRandom(t, pristine, 5, 150)
	for _, c := range []struct {
		name, want string
		damage     func(tx *bolt.Tx, name []byte, filter *bolt.Bucket) error
	}{
		{"header", "corrupt membership filter", func(_ *bolt.Tx, _ []byte, f *bolt.Bucket) error {
			v := bytes.Clone(f.Get([]byte("bits")))
			v[0] = 9
			return f.Put([]byte("bits"), v)
		}},
		{"truncated", "corrupt membership filter", func(_ *bolt.Tx, _ []byte, f *bolt.Bucket) error {
			return f.Put([]byte("bits"), f.Get([]byte("bits"))[:8])
		}},
		{"missing value", "corrupt membership filter", func(_ *bolt.Tx, _ []byte, f *bolt.Bucket) error {
			return f.Delete([]byte("bits"))
		}},
		{"level without filter", "no membership filter", func(tx *bolt.Tx, name []byte, _ *bolt.Bucket) error {
			return tx.DeleteBucket(name)
		}},
		{"salt", "corrupt membership filter salt", func(tx *bolt.Tx, _ []byte, _ *bolt.Bucket) error {
			return tx.Bucket([]byte("meta")).Put([]byte("filter-salt"), []byte("short"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "node.db")
			copyFile(t, pristine, path)
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				for i := 1; i < store.BoltLevels; i++ {
					name := fmt.Appendf(nil, "ns.tracker/F%dr0", i)
					if f := tx.Bucket(name); f != nil {
						return c.damage(tx, name, f)
					}
				}
				return errors.New("no filtered level of the tracker namespace in partition 0")
			})
			s, err := store.OpenBolt(path, store.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.View(context.Background(), func(tx store.ReadTx) error {
				_, err := tx.Get(store.NSTracker, []byte("absent"))
				return err
			})
			if err == nil || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Get through a damaged filter: %v; want an error saying %q", err, c.want)
			}
			if c.name != "salt" && err != nil && !strings.Contains(err.Error(), " run 0 of level ") {
				t.Errorf("Get through a damaged run filter: %v; want an error naming the run", err)
			}
		})
	}
}

// TestAttackChosenKeysOnlySlowTheFilters: keys are chosen by voters and
// authorities (credentials), and could be ground to fall on the same
// filter bits. The most such keys can do is set every bit: with every
// filter saturated the store reads exactly the same (only every level is
// looked up again). And each file has its own salt, so keys ground
// against one file's filters fall at random on another's.
func TestAttackChosenKeysOnlySlowTheFilters(t *testing.T) {
	store.SetLevels(t, 2, 2)
	dir := t.TempDir()
	path := filepath.Join(dir, "node.db")
	want := writeRandom(t, path, 9, 150)
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		return eachFilterBucket(tx, func(parent *bolt.Bucket, name []byte) error {
			var f *bolt.Bucket
			if parent == nil {
				f = tx.Bucket(name)
			} else {
				f = parent.Bucket(name)
			}
			v := bytes.Clone(f.Get([]byte("bits")))
			for i := 1; i < len(v); i++ {
				v[i] = 0xff
			}
			return f.Put([]byte("bits"), v)
		})
	})
	checkAll(t, path, want, "saturated filters")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx store.ReadTx) error {
		n, err := store.CheckFilters(tx, [][]byte{[]byte("zz"), []byte("zzz")})
		if err == nil && n != 0 {
			err = fmt.Errorf("a saturated filter answered absent %d times", n)
		}
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	salt := func(path string) []byte {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v []byte
		db.View(func(tx *bolt.Tx) error {
			v = bytes.Clone(tx.Bucket([]byte("meta")).Get([]byte("filter-salt")))
			return nil
		})
		return v
	}
	other := filepath.Join(dir, "other.db")
	writeRandom(t, other, 9, 1)
	if a, b := salt(path), salt(other); len(a) != 16 || bytes.Equal(a, b) {
		t.Errorf("filter salts %x and %x: want 16 bytes, different per file", a, b)
	}
}
