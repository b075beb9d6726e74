package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// pageSize is the page size of the open bbolt file behind s.
func pageSize(t *testing.T, s Store) int {
	t.Helper()
	return s.(*boltStore).cur.db.Info().PageSize
}

// A new store gets BoltOptions.PageSize (default 16 KiB); a store made
// with another page size keeps it when opened again, with its data.
func TestBoltPageSize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "old.db")
	old, err := OpenBolt(path, BoltOptions{PageSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := pageSize(t, old); got != 4<<10 {
		t.Fatalf("page size %d, want 4096", got)
	}
	ctx := context.Background()
	if err := old.Update(ctx, func(tx WriteTx) error { return tx.Put(NSMeta, []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := pageSize(t, again); got != 4<<10 {
		t.Fatalf("reopened with the default: page size %d, want the file's 4096", got)
	}
	err = again.View(ctx, func(tx ReadTx) error {
		v, err := tx.Get(NSMeta, []byte("k"))
		if err == nil && string(v) != "v" {
			t.Errorf("value %q, want v", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := OpenBolt(filepath.Join(dir, "new.db"), BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got := pageSize(t, fresh); got != 16<<10 {
		t.Fatalf("new store: page size %d, want 16384", got)
	}
	for _, bad := range []int{-4096, 1024, 5000, 2 << 20} {
		if _, err := OpenBolt(filepath.Join(dir, "bad.db"), BoltOptions{PageSize: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("PageSize %d: err %v, want ErrInvalid", bad, err)
		}
	}
}
