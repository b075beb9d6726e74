package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/store"
)

// testPartitions: partitions are independent logs and key spaces inside
// one transaction, share the applied index, are listed, roll back with
// their transaction, and snapshot and restore with the rest (format v2).
func testPartitions(t *testing.T, open OpenFunc) {
	s, reopen := open(t)

	// A partition never written to reads as empty, and is not listed.
	view(t, s, func(tx store.ReadTx) error {
		p := tx.In(9)
		n, err := p.EntryCount()
		if err != nil || n != 0 {
			t.Errorf("EntryCount of an unwritten partition = %d, %v", n, err)
		}
		if hn, err := p.HashCount(); err != nil || hn != 0 {
			t.Errorf("HashCount of an unwritten partition = %d, %v", hn, err)
		}
		if bn, err := p.BlockCount(); err != nil || bn != 0 {
			t.Errorf("BlockCount of an unwritten partition = %d, %v", bn, err)
		}
		_, err = p.Entry(0)
		wantErr(t, "Entry in an unwritten partition", err, store.ErrNotFound)
		_, err = p.Block(0)
		wantErr(t, "Block in an unwritten partition", err, store.ErrNotFound)
		_, err = p.ReadHashes([]int64{0})
		wantErr(t, "ReadHashes in an unwritten partition", err, store.ErrNotFound)
		_, err = p.Get(store.NSMeta, []byte("k"))
		wantErr(t, "Get in an unwritten partition", err, store.ErrNotFound)
		if err := p.Scan(store.NSMeta, nil, func(_, _ []byte) error { return errors.New("a key") }); err != nil {
			t.Errorf("Scan of an unwritten partition: %v", err)
		}
		parts, err := tx.Partitions()
		if err != nil || len(parts) != 1 || parts[0] != 0 {
			t.Errorf("Partitions of a fresh store = %v, %v; want [0]", parts, err)
		}
		return nil
	})

	// The same positions and keys in three partitions hold different data.
	update(t, s, func(tx store.WriteTx) error {
		for _, p := range []store.Partition{0, 3, 1} {
			w := tx.WriteIn(p)
			tag := fmt.Sprintf("p%d", p)
			if err := w.AppendEntries(0, [][]byte{[]byte(tag + "e0"), []byte(tag + "e1")}); err != nil {
				return err
			}
			if err := w.AppendHashes(0, []tlog.Hash{tlog.RecordHash([]byte(tag))}); err != nil {
				return err
			}
			if err := w.AppendBlock(0, []byte(tag+"b0")); err != nil {
				return err
			}
			if err := w.Put(store.NSMeta, []byte("k"), []byte(tag)); err != nil {
				return err
			}
			// Reads through the view see its own writes, not the others'.
			if n, err := w.EntryCount(); err != nil || n != 2 {
				return fmt.Errorf("partition %d: EntryCount after append = %d, %v", p, n, err)
			}
		}
		// Appends are checked against the partition's own count.
		wantErr(t, "append at another partition's count", tx.WriteIn(1).AppendEntries(5, [][]byte{{1}}), store.ErrOutOfOrder)
		if err := tx.WriteIn(1).AppendEntries(2, [][]byte{[]byte("p1e2")}); err != nil {
			return err
		}
		return tx.WriteIn(3).SetAppliedIndex(42)
	})
	check := func(s store.Store) {
		t.Helper()
		view(t, s, func(tx store.ReadTx) error {
			if a, err := tx.In(1).AppliedIndex(); err != nil || a != 42 {
				t.Errorf("applied index through partition 1 = %d, %v; want 42 (shared)", a, err)
			}
			parts, err := tx.Partitions()
			if err != nil || fmt.Sprint(parts) != "[0 1 3]" {
				t.Errorf("Partitions = %v, %v; want [0 1 3]", parts, err)
			}
			for _, p := range []store.Partition{0, 1, 3} {
				r := tx.In(p)
				tag := fmt.Sprintf("p%d", p)
				want := 2
				if p == 1 {
					want = 3
				}
				if n, err := r.EntryCount(); err != nil || n != uint64(want) {
					t.Errorf("partition %d: EntryCount = %d, %v; want %d", p, n, err, want)
				}
				if e, err := r.Entry(1); err != nil || string(e) != tag+"e1" {
					t.Errorf("partition %d: Entry(1) = %q, %v", p, e, err)
				}
				var seen []string
				if err := r.Entries(0, 10, func(_ uint64, d []byte) error { seen = append(seen, string(d)); return nil }); err != nil {
					t.Errorf("partition %d: Entries: %v", p, err)
				}
				if len(seen) != want || seen[0] != tag+"e0" {
					t.Errorf("partition %d: Entries = %q", p, seen)
				}
				if hs, err := r.ReadHashes([]int64{0}); err != nil || hs[0] != tlog.RecordHash([]byte(tag)) {
					t.Errorf("partition %d: hash 0 = %v, %v", p, hs, err)
				}
				if b, err := r.Block(0); err != nil || string(b) != tag+"b0" {
					t.Errorf("partition %d: block 0 = %q, %v", p, b, err)
				}
				if v, err := r.Get(store.NSMeta, []byte("k")); err != nil || string(v) != tag {
					t.Errorf("partition %d: key k = %q, %v", p, v, err)
				}
				n := 0
				if err := r.Scan(store.NSMeta, nil, func(_, _ []byte) error { n++; return nil }); err != nil || n != 1 {
					t.Errorf("partition %d: Scan saw %d keys, %v; want 1", p, n, err)
				}
			}
			return nil
		})
	}
	check(s)

	// A rolled-back transaction leaves every partition as it was, and
	// creates none.
	errRollback := errors.New("roll back")
	err := s.Update(ctx, func(tx store.WriteTx) error {
		w := tx.WriteIn(7)
		if err := w.AppendEntries(0, [][]byte{[]byte("gone")}); err != nil {
			return err
		}
		if err := tx.WriteIn(1).Delete(store.NSMeta, []byte("k")); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, "rolled-back Update", err, errRollback)
	check(s)

	// Deleting in a partition touches no other.
	update(t, s, func(tx store.WriteTx) error { return tx.WriteIn(3).Delete(store.NSMeta, []byte("k")) })
	view(t, s, func(tx store.ReadTx) error {
		_, err := tx.In(3).Get(store.NSMeta, []byte("k"))
		wantErr(t, "Get after Delete", err, store.ErrNotFound)
		if v, err := tx.Get(store.NSMeta, []byte("k")); err != nil || string(v) != "p0" {
			t.Errorf("partition 0's key after partition 3's Delete = %q, %v", v, err)
		}
		return nil
	})
	update(t, s, func(tx store.WriteTx) error { return tx.WriteIn(3).Put(store.NSMeta, []byte("k"), []byte("p3")) })

	// Durable across a reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t)
	check(s)

	// An invalid partition is refused on every method, with ErrInvalid.
	bad := store.MaxPartition + 1
	view(t, s, func(tx store.ReadTx) error {
		r := tx.In(bad)
		_, err := r.EntryCount()
		wantErr(t, "EntryCount of an invalid partition", err, store.ErrInvalid)
		_, err = r.Entry(0)
		wantErr(t, "Entry of an invalid partition", err, store.ErrInvalid)
		_, err = r.Get(store.NSMeta, []byte("k"))
		wantErr(t, "Get of an invalid partition", err, store.ErrInvalid)
		wantErr(t, "Scan of an invalid partition", r.Scan(store.NSMeta, nil, func(_, _ []byte) error { return nil }), store.ErrInvalid)
		return nil
	})
	err = s.Update(ctx, func(tx store.WriteTx) error {
		return tx.WriteIn(bad).Put(store.NSMeta, []byte("k"), nil)
	})
	wantErr(t, "Put in an invalid partition", err, store.ErrInvalid)

	// Snapshot and restore carry every partition; the stream has one
	// encoding per state, across restores.
	a, _ := open(t)
	FillPartitions(t, a, 2)
	want := Dump(t, a)
	if len(want.Parts) != 2 {
		t.Fatalf("FillPartitions left partitions %v", want.Parts)
	}
	snap := SnapshotBytes(t, a)
	info, err := store.VerifySnapshot(bytes.NewReader(snap))
	if err != nil {
		t.Fatalf("VerifySnapshot of a partitioned store: %v", err)
	}
	if info.Entries != uint64(len(want.Entries)+len(want.Parts[1].Entries)+len(want.Parts[6].Entries)) {
		t.Errorf("VerifySnapshot counted %d entries", info.Entries)
	}
	// Restore over a store with other partitions: those vanish.
	if err := s.Restore(ctx, bytes.NewReader(snap)); err != nil {
		t.Fatalf("Restore of a partitioned snapshot: %v", err)
	}
	if err := diffState(want, Dump(t, s)); err != nil {
		t.Fatalf("restored partitions differ: %v", err)
	}
	if got := SnapshotBytes(t, s); !bytes.Equal(got, snap) {
		t.Fatal("snapshot after restore differs from the restored stream")
	}
	// The restored partitions go on at their counts.
	update(t, s, func(tx store.WriteTx) error {
		return tx.WriteIn(6).AppendEntries(uint64(len(want.Parts[6].Entries)), [][]byte{[]byte("next")})
	})
	// A one-partition state still streams as format v1, byte for byte as
	// before partitions existed.
	one, _ := open(t)
	Fill(t, one, 2)
	if b := SnapshotBytes(t, one); !bytes.HasPrefix(b, []byte("urna-store-snapshot/v1\n")) {
		t.Fatalf("a one-partition snapshot starts %q, want format v1", b[:min(len(b), 24)])
	}
}
