package store_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
)

func openBolt(t *testing.T) (store.Store, func(*testing.T) store.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node.db")
	return storetest.Opener(t, func() (store.Store, error) { return store.OpenBolt(path, store.BoltOptions{}) })
}

func TestBolt(t *testing.T) {
	storetest.Run(t, openBolt)
}

func TestBoltSecondOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := store.OpenBolt(path, store.BoltOptions{LockTimeout: 50_000_000}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second OpenBolt of a locked file: %v, want ErrLocked", err)
	}
}

func TestBoltRestoreWhileSnapshotHeld(t *testing.T) {
	s, _ := openBolt(t)
	old, snap := storetest.FilledSnapshot(t, s)
	e, _ := openBolt(t)
	// Restore swaps the file while the snapshot still reads the old one.
	if err := s.Restore(t.Context(), bytesOf(t, e)); err != nil {
		t.Fatal(err)
	}
	r, _ := openBolt(t)
	if err := r.Restore(t.Context(), writeToReader(t, snap)); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	storetest.RequireSameState(t, e, s)
	if got := storetest.Dump(t, r); got.Applied != old.Applied || len(got.Entries) != len(old.Entries) {
		t.Fatalf("snapshot taken before the restore streamed the wrong state")
	}
}

func TestBoltOptionsValidate(t *testing.T) {
	for _, o := range []store.BoltOptions{{LockTimeout: -1}, {InitialMmapSize: -1}} {
		if _, err := store.OpenBolt(filepath.Join(t.TempDir(), "x.db"), o); err == nil {
			t.Errorf("OpenBolt accepted %+v", o)
		}
	}
}
