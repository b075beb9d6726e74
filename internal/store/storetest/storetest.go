// Package storetest is the conformance suite every store.Store
// implementation runs: the bbolt and PostgreSQL backends share it, so they
// behave the same down to error sentinels and snapshot bytes.
//
// It is a test helper (it imports testing) and MUST NOT be imported by
// production code.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/urna-vote/urna/internal/store"
	"golang.org/x/mod/sumdb/tlog"
)

// OpenFunc opens a fresh, empty store for one subtest and arranges (with
// t.Cleanup) for it to be closed and its backing state removed. reopen opens
// the same durable state again; the suite calls it only after closing s.
type OpenFunc func(t *testing.T) (s store.Store, reopen func(t *testing.T) store.Store)

// Opener builds what an OpenFunc returns from a function that opens the
// same durable state each time it is called: the first store, and reopen.
// Every store it opens is closed when the test that opened it ends.
func Opener(t *testing.T, open func() (store.Store, error)) (store.Store, func(t *testing.T) store.Store) {
	t.Helper()
	reopen := func(t *testing.T) store.Store {
		t.Helper()
		s, err := open()
		if err != nil {
			t.Fatalf("opening the store: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return reopen(t), reopen
}

// Run runs the whole suite against the implementation open returns.
func Run(t *testing.T, open OpenFunc) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenFunc)
	}{
		{"Empty", testEmpty},
		{"Entries", testEntries},
		{"Hashes", testHashes},
		{"Blocks", testBlocks},
		{"KV", testKV},
		{"InvalidArguments", testInvalid},
		{"ReadYourWrites", testReadYourWrites},
		{"WritesInOrder", testWritesInOrder},
		{"Rollback", testRollback},
		{"Copies", testCopies},
		{"CallbacksMayRead", testCallbacksMayRead},
		{"SnapshotRestore", testSnapshotRestore},
		{"RestoreRejectsBadStreams", testRestoreBad},
		{"ConcurrentReaders", testConcurrentReaders},
		{"Reopen", testReopen},
		{"ContextAndClose", testContextAndClose},
		{"LargeAppendStreams", testLarge},
		{"Partitions", testPartitions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var ctx = context.Background()

func view(t *testing.T, s store.Store, fn func(store.ReadTx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func update(t *testing.T, s store.Store, fn func(store.WriteTx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// entry returns deterministic, seq-dependent entry bytes of size n.
func entry(seq uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq*31 + uint64(i)*7 + seq>>8)
	}
	if n >= 8 {
		copy(b, fmt.Sprintf("%08d", seq%100000000))
	}
	return b
}

func hashOf(i int64) tlog.Hash {
	return tlog.RecordHash([]byte(fmt.Sprint("leaf", i)))
}

// Fill writes a deterministic sample state into s (which MUST be empty):
// every kind of record, all namespaces, empty and 0xff-heavy values, in
// partition 0.
func Fill(t *testing.T, s store.Store, seed int) {
	t.Helper()
	update(t, s, func(tx store.WriteTx) error {
		if err := fillPart(tx, seed); err != nil {
			return err
		}
		return tx.SetAppliedIndex(uint64(1000 + seed))
	})
}

// FillPartitions is Fill plus partitions 1 and 6 (partitions 2 to 5 are
// never written), each with its own deterministic sample state.
func FillPartitions(t *testing.T, s store.Store, seed int) {
	t.Helper()
	Fill(t, s, seed)
	update(t, s, func(tx store.WriteTx) error {
		for _, p := range []store.Partition{1, 6} {
			if err := fillPart(tx.WriteIn(p), seed+10*int(p)); err != nil {
				return err
			}
		}
		return tx.SetAppliedIndex(uint64(2000 + seed))
	})
}

// fillPart writes Fill's sample state for seed into tx's partition.
func fillPart(tx store.WriteTx, seed int) error {
	var data [][]byte
	for i := range 40 + seed {
		data = append(data, entry(uint64(i+seed*1000), 10+i*37))
	}
	data = append(data, []byte{})
	if err := tx.AppendEntries(0, data); err != nil {
		return err
	}
	var hs []tlog.Hash
	for i := range int64(70 + seed) {
		hs = append(hs, hashOf(i+int64(seed)*1000))
	}
	if err := tx.AppendHashes(0, hs); err != nil {
		return err
	}
	for h := range uint64(5 + seed) {
		if err := tx.AppendBlock(h, entry(h+99, 100)); err != nil {
			return err
		}
	}
	for _, ns := range store.Namespaces() {
		for i := range 9 + seed {
			key := []byte(fmt.Sprintf("%s/%03d/%d", ns, i, seed))
			if err := tx.Put(ns, key, entry(uint64(i), i*3)); err != nil {
				return err
			}
		}
		if err := tx.Put(ns, []byte{0xff, 0xff}, []byte("ff")); err != nil {
			return err
		}
		if err := tx.Put(ns, []byte{0}, nil); err != nil {
			return err
		}
	}
	return nil
}

// State is everything a store holds, for comparisons in tests: partition
// 0 in the top-level fields, every other partition listed by Partitions
// in Parts.
type State struct {
	Applied uint64
	Entries [][]byte
	Hashes  []tlog.Hash
	Blocks  [][]byte
	KV      map[store.Namespace][][2][]byte
	Parts   map[store.Partition]*State
}

// Dump reads the entire state of s through the ReadTx interface.
func Dump(t *testing.T, s store.Store) State {
	t.Helper()
	var st State
	view(t, s, func(tx store.ReadTx) error {
		var err error
		if st.Applied, err = tx.AppliedIndex(); err != nil {
			return err
		}
		if err := dumpPart(tx, &st); err != nil {
			return err
		}
		parts, err := tx.Partitions()
		if err != nil {
			return err
		}
		if len(parts) == 0 || parts[0] != 0 {
			return fmt.Errorf("Partitions() = %v, want partition 0 first", parts)
		}
		st.Parts = map[store.Partition]*State{}
		for i, p := range parts[1:] {
			if p <= parts[i] {
				return fmt.Errorf("Partitions() = %v, not ascending", parts)
			}
			ps := &State{}
			if err := dumpPart(tx.In(p), ps); err != nil {
				return fmt.Errorf("partition %d: %w", p, err)
			}
			st.Parts[p] = ps
		}
		return nil
	})
	return st
}

// dumpPart reads tx's partition into st.
func dumpPart(tx store.ReadTx, st *State) error {
	n, err := tx.EntryCount()
	if err != nil {
		return err
	}
	err = tx.Entries(0, n, func(seq uint64, data []byte) error {
		if seq != uint64(len(st.Entries)) {
			return fmt.Errorf("Entries gave seq %d, want %d", seq, len(st.Entries))
		}
		st.Entries = append(st.Entries, data)
		return nil
	})
	if err != nil {
		return err
	}
	hn, err := tx.HashCount()
	if err != nil {
		return err
	}
	idx := make([]int64, hn)
	for i := range idx {
		idx[i] = int64(i)
	}
	if st.Hashes, err = tx.ReadHashes(idx); err != nil {
		return err
	}
	bn, err := tx.BlockCount()
	if err != nil {
		return err
	}
	for h := range bn {
		b, err := tx.Block(h)
		if err != nil {
			return err
		}
		st.Blocks = append(st.Blocks, b)
	}
	st.KV = map[store.Namespace][][2][]byte{}
	for _, ns := range store.Namespaces() {
		err := tx.Scan(ns, nil, func(k, v []byte) error {
			st.KV[ns] = append(st.KV[ns], [2][]byte{k, v})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RequireSameState fails t unless a and b hold the same state.
func RequireSameState(t *testing.T, a, b store.Store) {
	t.Helper()
	if err := diffState(Dump(t, a), Dump(t, b)); err != nil {
		t.Fatal(err)
	}
}

func diffState(a, b State) error {
	if a.Applied != b.Applied {
		return fmt.Errorf("applied index %d != %d", a.Applied, b.Applied)
	}
	if err := diffPart(a, b); err != nil {
		return err
	}
	if len(a.Parts) != len(b.Parts) {
		return fmt.Errorf("%d partitions beside 0 != %d", len(a.Parts), len(b.Parts))
	}
	for p, x := range a.Parts {
		y, ok := b.Parts[p]
		if !ok {
			return fmt.Errorf("partition %d missing", p)
		}
		if err := diffPart(*x, *y); err != nil {
			return fmt.Errorf("partition %d: %w", p, err)
		}
	}
	return nil
}

// diffPart compares one partition's entries, hashes, blocks and keys.
func diffPart(a, b State) error {
	if len(a.Entries) != len(b.Entries) {
		return fmt.Errorf("entry count %d != %d", len(a.Entries), len(b.Entries))
	}
	for i := range a.Entries {
		if !bytes.Equal(a.Entries[i], b.Entries[i]) {
			return fmt.Errorf("entry %d differs", i)
		}
	}
	if len(a.Hashes) != len(b.Hashes) {
		return fmt.Errorf("hash count %d != %d", len(a.Hashes), len(b.Hashes))
	}
	for i := range a.Hashes {
		if a.Hashes[i] != b.Hashes[i] {
			return fmt.Errorf("hash %d differs", i)
		}
	}
	if len(a.Blocks) != len(b.Blocks) {
		return fmt.Errorf("block count %d != %d", len(a.Blocks), len(b.Blocks))
	}
	for i := range a.Blocks {
		if !bytes.Equal(a.Blocks[i], b.Blocks[i]) {
			return fmt.Errorf("block %d differs", i)
		}
	}
	for _, ns := range store.Namespaces() {
		x, y := a.KV[ns], b.KV[ns]
		if len(x) != len(y) {
			return fmt.Errorf("namespace %v: %d keys != %d", ns, len(x), len(y))
		}
		for i := range x {
			if !bytes.Equal(x[i][0], y[i][0]) || !bytes.Equal(x[i][1], y[i][1]) {
				return fmt.Errorf("namespace %v: pair %d differs: %x=%x vs %x=%x", ns, i, x[i][0], x[i][1], y[i][0], y[i][1])
			}
		}
	}
	return nil
}

// FilledSnapshot fills s (Fill with seed 1) and returns its state and a
// snapshot of it, which the caller releases.
func FilledSnapshot(t *testing.T, s store.Store) (State, store.Snapshot) {
	t.Helper()
	Fill(t, s, 1)
	want := Dump(t, s)
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return want, snap
}

// SnapshotBytes captures and streams a snapshot of s.
func SnapshotBytes(t *testing.T, s store.Store) []byte {
	t.Helper()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func testEmpty(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	view(t, s, func(tx store.ReadTx) error {
		if i, err := tx.AppliedIndex(); err != nil || i != 0 {
			t.Errorf("AppliedIndex = %d, %v; want 0", i, err)
		}
		if n, err := tx.EntryCount(); err != nil || n != 0 {
			t.Errorf("EntryCount = %d, %v; want 0", n, err)
		}
		if n, err := tx.HashCount(); err != nil || n != 0 {
			t.Errorf("HashCount = %d, %v; want 0", n, err)
		}
		if n, err := tx.BlockCount(); err != nil || n != 0 {
			t.Errorf("BlockCount = %d, %v; want 0", n, err)
		}
		_, err := tx.Entry(0)
		wantErr(t, "Entry(0)", err, store.ErrNotFound)
		_, err = tx.Entry(1<<64 - 1)
		wantErr(t, "Entry(max)", err, store.ErrNotFound)
		_, err = tx.Block(0)
		wantErr(t, "Block(0)", err, store.ErrNotFound)
		_, err = tx.ReadHashes([]int64{0})
		wantErr(t, "ReadHashes([0])", err, store.ErrNotFound)
		if hs, err := tx.ReadHashes(nil); err != nil || len(hs) != 0 {
			t.Errorf("ReadHashes(nil) = %v, %v", hs, err)
		}
		_, err = tx.Get(store.NSMeta, []byte("k"))
		wantErr(t, "Get", err, store.ErrNotFound)
		calls := 0
		if err := tx.Entries(0, 100, func(uint64, []byte) error { calls++; return nil }); err != nil {
			t.Errorf("Entries: %v", err)
		}
		if err := tx.Scan(store.NSMeta, nil, func(_, _ []byte) error { calls++; return nil }); err != nil {
			t.Errorf("Scan: %v", err)
		}
		if calls != 0 {
			t.Errorf("callbacks called %d times on an empty store", calls)
		}
		return nil
	})
}

func testEntries(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	update(t, s, func(tx store.WriteTx) error {
		if err := tx.AppendEntries(0, [][]byte{entry(0, 5)}); err != nil {
			return err
		}
		var batch [][]byte
		for i := uint64(1); i < 1300; i++ { // spans several pages of paged backends
			batch = append(batch, entry(i, int(i%200)))
		}
		if err := tx.AppendEntries(1, batch); err != nil {
			return err
		}
		return tx.AppendEntries(1300, nil) // empty append at the right place is fine
	})
	update(t, s, func(tx store.WriteTx) error {
		for _, first := range []uint64{0, 1299, 1301, 1 << 40, 1<<64 - 1} {
			err := tx.AppendEntries(first, [][]byte{{1}})
			wantErr(t, fmt.Sprintf("AppendEntries(%d)", first), err, store.ErrOutOfOrder)
		}
		return nil
	})
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.EntryCount(); err != nil || n != 1300 {
			t.Fatalf("EntryCount = %d, %v; want 1300", n, err)
		}
		for _, seq := range []uint64{0, 1, 199, 200, 1299} {
			got, err := tx.Entry(seq)
			want := entry(seq, int(seq%200))
			if seq == 0 {
				want = entry(0, 5)
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Entry(%d) = %x, %v; want %x", seq, got, err, want)
			}
		}
		if got, err := tx.Entry(200); err != nil || got == nil || len(got) != 0 {
			t.Errorf("Entry(200) (empty) = %#v, %v; want empty non-nil", got, err)
		}
		_, err := tx.Entry(1300)
		wantErr(t, "Entry(1300)", err, store.ErrNotFound)

		for _, r := range [][2]uint64{{0, 1300}, {5, 10}, {1000, 1<<64 - 1}, {1299, 1300}, {10, 10}, {20, 10}, {1300, 2000}, {0, 513}, {511, 1025}} {
			next := r[0]
			err := tx.Entries(r[0], r[1], func(seq uint64, data []byte) error {
				if seq != next {
					return fmt.Errorf("seq %d, want %d", seq, next)
				}
				next++
				return nil
			})
			if err != nil {
				t.Errorf("Entries(%d, %d): %v", r[0], r[1], err)
			}
			want := min(max(r[1], r[0]), 1300)
			if r[0] > 1300 {
				want = r[0]
			}
			if next != max(want, r[0]) {
				t.Errorf("Entries(%d, %d) stopped at %d, want %d", r[0], r[1], next, want)
			}
		}
		stop := errors.New("stop")
		calls := 0
		err = tx.Entries(0, 1300, func(uint64, []byte) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("Entries with failing callback: err = %v after %d calls; want stop after 1", err, calls)
		}
		return nil
	})
}

func testHashes(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	update(t, s, func(tx store.WriteTx) error {
		var hs []tlog.Hash
		for i := range int64(1000) {
			hs = append(hs, hashOf(i))
		}
		if err := tx.AppendHashes(0, hs[:1]); err != nil {
			return err
		}
		if err := tx.AppendHashes(1, hs[1:]); err != nil {
			return err
		}
		return tx.AppendHashes(1000, nil)
	})
	update(t, s, func(tx store.WriteTx) error {
		for _, start := range []int64{0, 999, 1001} {
			wantErr(t, fmt.Sprintf("AppendHashes(%d)", start), tx.AppendHashes(start, []tlog.Hash{{}}), store.ErrOutOfOrder)
		}
		if err := tx.AppendHashes(-1, []tlog.Hash{{}}); err == nil {
			t.Errorf("AppendHashes(-1) succeeded")
		}
		return nil
	})
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.HashCount(); err != nil || n != 1000 {
			t.Errorf("HashCount = %d, %v; want 1000", n, err)
		}
		idx := []int64{999, 0, 500, 0, 3}
		got, err := tx.ReadHashes(idx)
		if err != nil {
			t.Fatalf("ReadHashes: %v", err)
		}
		for i, x := range idx {
			if got[i] != hashOf(x) {
				t.Errorf("ReadHashes[%d] (index %d) wrong", i, x)
			}
		}
		_, err = tx.ReadHashes([]int64{1, 1000, 2})
		wantErr(t, "ReadHashes with one missing", err, store.ErrNotFound)
		if _, err := tx.ReadHashes([]int64{-1}); err == nil {
			t.Errorf("ReadHashes([-1]) succeeded")
		}
		return nil
	})
	// tlog builds a tree through the store and gets the same tree hash as
	// over an in-memory copy.
	s2, _ := open(t)
	var mem []tlog.Hash
	memReader := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for j, k := range ix {
			out[j] = mem[k]
		}
		return out, nil
	})
	const leaves = 100
	for i := range int64(leaves) {
		update(t, s2, func(tx store.WriteTx) error {
			hn, err := tx.HashCount()
			if err != nil {
				return err
			}
			hs, err := tlog.StoredHashes(i, []byte(fmt.Sprint("r", i)), tx)
			if err != nil {
				return err
			}
			return tx.AppendHashes(hn, hs)
		})
		hs, err := tlog.StoredHashes(i, []byte(fmt.Sprint("r", i)), memReader)
		if err != nil {
			t.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	want, err := tlog.TreeHash(leaves, memReader)
	if err != nil {
		t.Fatal(err)
	}
	view(t, s2, func(tx store.ReadTx) error {
		got, err := tlog.TreeHash(leaves, tx)
		if err != nil {
			return err
		}
		if got != want {
			t.Errorf("TreeHash through the store differs")
		}
		if n, _ := tx.HashCount(); n != int64(len(mem)) {
			t.Errorf("HashCount = %d, want %d", n, len(mem))
		}
		return nil
	})
}

func testBlocks(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	update(t, s, func(tx store.WriteTx) error {
		for h := range uint64(10) {
			if err := tx.AppendBlock(h, entry(h, int(h*10))); err != nil {
				return err
			}
		}
		for _, h := range []uint64{0, 9, 11} {
			wantErr(t, fmt.Sprintf("AppendBlock(%d)", h), tx.AppendBlock(h, []byte("x")), store.ErrOutOfOrder)
		}
		return nil
	})
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.BlockCount(); err != nil || n != 10 {
			t.Errorf("BlockCount = %d, %v; want 10", n, err)
		}
		for h := range uint64(10) {
			got, err := tx.Block(h)
			if err != nil || !bytes.Equal(got, entry(h, int(h*10))) {
				t.Errorf("Block(%d) = %x, %v", h, got, err)
			}
		}
		_, err := tx.Block(10)
		wantErr(t, "Block(10)", err, store.ErrNotFound)
		return nil
	})
}

func testKV(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	keys := [][]byte{{0}, {0, 0}, {0, 1}, {1}, []byte("a"), []byte("ab"), []byte("abc"), []byte("abd"), []byte("ac"), {0x7f}, {0x80}, {0xff}, {0xff, 0}, {0xff, 0xff}, {0xff, 0xff, 0xff}}
	update(t, s, func(tx store.WriteTx) error {
		// Insert in reverse so order comes from the store, not insertion.
		for i := len(keys) - 1; i >= 0; i-- {
			if err := tx.Put(store.NSTracker, keys[i], append([]byte("v"), keys[i]...)); err != nil {
				return err
			}
		}
		if err := tx.Put(store.NSCredential, []byte("a"), []byte("other namespace")); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, []byte("empty"), []byte{}); err != nil {
			return err
		}
		return tx.Put(store.NSMeta, []byte("nil"), nil)
	})
	scan := func(tx store.ReadTx, ns store.Namespace, prefix []byte) [][]byte {
		var out [][]byte
		err := tx.Scan(ns, prefix, func(k, v []byte) error {
			if !bytes.Equal(v, append([]byte("v"), k...)) && ns == store.NSTracker {
				t.Errorf("Scan value for %x = %x", k, v)
			}
			out = append(out, k)
			return nil
		})
		if err != nil {
			t.Fatalf("Scan(%v, %x): %v", ns, prefix, err)
		}
		return out
	}
	view(t, s, func(tx store.ReadTx) error {
		for _, c := range []struct {
			prefix []byte
			want   [][]byte
		}{
			{nil, keys},
			{[]byte{}, keys},
			{[]byte{0}, keys[:3]},
			{[]byte("a"), keys[4:9]},
			{[]byte("ab"), keys[5:8]},
			{[]byte("abc"), keys[6:7]},
			{[]byte("abcd"), nil},
			{[]byte{0xff}, keys[11:]},
			{[]byte{0xff, 0xff}, keys[13:]},
			{[]byte{0x7f}, keys[9:10]},
		} {
			got := scan(tx, store.NSTracker, c.prefix)
			if fmt.Sprintf("%x", got) != fmt.Sprintf("%x", c.want) {
				t.Errorf("Scan(prefix %x) = %x, want %x", c.prefix, got, c.want)
			}
		}
		if got := scan(tx, store.NSCredential, nil); len(got) != 1 {
			t.Errorf("NSCredential has %d keys, want 1", len(got))
		}
		if got := scan(tx, store.NSCheckpoint, nil); len(got) != 0 {
			t.Errorf("NSCheckpoint has %d keys, want 0", len(got))
		}
		for _, k := range []string{"empty", "nil"} {
			if v, err := tx.Get(store.NSMeta, []byte(k)); err != nil || len(v) != 0 {
				t.Errorf("Get(%s) = %x, %v; want empty", k, v, err)
			}
		}
		if v, err := tx.Get(store.NSCredential, []byte("a")); err != nil || string(v) != "other namespace" {
			t.Errorf("Get(NSCredential, a) = %q, %v", v, err)
		}
		_, err := tx.Get(store.NSEntryHash, []byte("a"))
		wantErr(t, "Get in empty namespace", err, store.ErrNotFound)
		stop := errors.New("stop")
		if err := tx.Scan(store.NSTracker, nil, func(_, _ []byte) error { return stop }); err != stop {
			t.Errorf("Scan with failing callback: %v, want stop", err)
		}
		return nil
	})
	update(t, s, func(tx store.WriteTx) error {
		if err := tx.Put(store.NSTracker, []byte("a"), []byte("new")); err != nil {
			return err
		}
		if err := tx.Delete(store.NSTracker, []byte("ab")); err != nil {
			return err
		}
		return tx.Delete(store.NSTracker, []byte("never there"))
	})
	view(t, s, func(tx store.ReadTx) error {
		if v, err := tx.Get(store.NSTracker, []byte("a")); err != nil || string(v) != "new" {
			t.Errorf("Get after overwrite = %q, %v", v, err)
		}
		_, err := tx.Get(store.NSTracker, []byte("ab"))
		wantErr(t, "Get after Delete", err, store.ErrNotFound)
		return nil
	})

	// Many keys under one prefix: crosses page boundaries of paged scans.
	update(t, s, func(tx store.WriteTx) error {
		for i := range 1500 {
			if err := tx.Put(store.NSEntryHash, []byte(fmt.Sprintf("p/%05d", i)), []byte{byte(i)}); err != nil {
				return err
			}
		}
		return tx.Put(store.NSEntryHash, []byte("q"), []byte{1})
	})
	view(t, s, func(tx store.ReadTx) error {
		got := scan(tx, store.NSEntryHash, []byte("p/"))
		if len(got) != 1500 {
			t.Fatalf("Scan over 1500 keys gave %d", len(got))
		}
		for i, k := range got {
			if string(k) != fmt.Sprintf("p/%05d", i) {
				t.Fatalf("Scan key %d = %q", i, k)
			}
		}
		return nil
	})
}

func testInvalid(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	for _, ns := range []store.Namespace{0, 7, 200, 255} {
		if ns.Valid() {
			t.Errorf("Namespace(%d).Valid() = true", ns)
		}
	}
	for _, ns := range store.Namespaces() {
		if !ns.Valid() || ns.String() == "" || ns.String()[0] == 'N' {
			t.Errorf("namespace %d: Valid %v String %q", uint8(ns), ns.Valid(), ns)
		}
	}
	update(t, s, func(tx store.WriteTx) error {
		for _, ns := range []store.Namespace{0, 7, 255} {
			wantErr(t, "Put bad ns", tx.Put(ns, []byte("k"), []byte("v")), store.ErrInvalid)
			_, err := tx.Get(ns, []byte("k"))
			wantErr(t, "Get bad ns", err, store.ErrInvalid)
			wantErr(t, "Delete bad ns", tx.Delete(ns, []byte("k")), store.ErrInvalid)
			wantErr(t, "Scan bad ns", tx.Scan(ns, nil, func(_, _ []byte) error { return nil }), store.ErrInvalid)
		}
		wantErr(t, "Put empty key", tx.Put(store.NSMeta, nil, []byte("v")), store.ErrInvalid)
		wantErr(t, "Put huge key", tx.Put(store.NSMeta, make([]byte, store.MaxKeySize+1), nil), store.ErrInvalid)
		if err := tx.Put(store.NSMeta, bytes.Repeat([]byte{0xff}, store.MaxKeySize), nil); err != nil {
			t.Errorf("Put max-size key: %v", err)
		}
		return nil
	})
}

func testReadYourWrites(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	update(t, s, func(tx store.WriteTx) error {
		if err := tx.AppendEntries(0, [][]byte{[]byte("e0"), []byte("e1")}); err != nil {
			return err
		}
		if err := tx.AppendHashes(0, []tlog.Hash{hashOf(0)}); err != nil {
			return err
		}
		if err := tx.AppendBlock(0, []byte("b0")); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, []byte("k"), []byte("v")); err != nil {
			return err
		}
		if err := tx.SetAppliedIndex(7); err != nil {
			return err
		}
		if n, _ := tx.EntryCount(); n != 2 {
			t.Errorf("EntryCount in tx = %d", n)
		}
		if n, _ := tx.HashCount(); n != 1 {
			t.Errorf("HashCount in tx = %d", n)
		}
		if n, _ := tx.BlockCount(); n != 1 {
			t.Errorf("BlockCount in tx = %d", n)
		}
		if i, _ := tx.AppliedIndex(); i != 7 {
			t.Errorf("AppliedIndex in tx = %d", i)
		}
		if v, err := tx.Entry(1); err != nil || string(v) != "e1" {
			t.Errorf("Entry(1) in tx = %q, %v", v, err)
		}
		if v, err := tx.Get(store.NSMeta, []byte("k")); err != nil || string(v) != "v" {
			t.Errorf("Get in tx = %q, %v", v, err)
		}
		// Appends chain inside one transaction.
		if err := tx.AppendEntries(2, [][]byte{[]byte("e2")}); err != nil {
			return err
		}
		return tx.AppendHashes(1, []tlog.Hash{hashOf(1), hashOf(2)})
	})
	view(t, s, func(tx store.ReadTx) error {
		if n, _ := tx.EntryCount(); n != 3 {
			t.Errorf("EntryCount = %d, want 3", n)
		}
		if n, _ := tx.HashCount(); n != 3 {
			t.Errorf("HashCount = %d, want 3", n)
		}
		return nil
	})
}

// testWritesInOrder: the Puts and Deletes of one transaction take effect
// in their order, whatever a store groups (PostgreSQL sends runs of Puts
// as one statement): a key put twice keeps its last value, a deleted then
// put key exists, a put then deleted key does not; across many thousands
// of writes (several of the store's round trips), partitions and
// namespaces.
func testWritesInOrder(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	const n = 20000
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%06d", i)) }
	update(t, s, func(tx store.WriteTx) error {
		p1 := tx.WriteIn(1)
		for i := range n {
			if err := tx.Put(store.NSMeta, key(i), []byte("v1")); err != nil {
				return err
			}
			if err := p1.Put(store.NSMeta, key(i), []byte("p1")); err != nil {
				return err
			}
			switch i % 5 {
			case 1: // put twice
				if err := tx.Put(store.NSMeta, key(i), []byte("v2")); err != nil {
					return err
				}
			case 2: // deleted
				if err := tx.Delete(store.NSMeta, key(i)); err != nil {
					return err
				}
			case 3: // deleted, then put again
				if err := tx.Delete(store.NSMeta, key(i)); err != nil {
					return err
				}
				if err := tx.Put(store.NSMeta, key(i), []byte("v3")); err != nil {
					return err
				}
			case 4: // another namespace, same key
				if err := tx.Put(store.NSTally, key(i), []byte("t")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	view(t, s, func(tx store.ReadTx) error {
		for i := range n {
			want, found := map[int]string{0: "v1", 1: "v2", 3: "v3", 4: "v1"}[i%5]
			v, err := tx.Get(store.NSMeta, key(i))
			switch {
			case !found && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("key %d: %q, %v; want it deleted", i, v, err)
			case found && (err != nil || string(v) != want):
				t.Fatalf("key %d: %q, %v; want %q", i, v, err, want)
			}
			if v, err := tx.In(1).Get(store.NSMeta, key(i)); err != nil || string(v) != "p1" {
				t.Fatalf("partition 1, key %d: %q, %v", i, v, err)
			}
			if v, err := tx.Get(store.NSTally, key(i)); (i%5 == 4) != (err == nil) || (err == nil && string(v) != "t") {
				t.Fatalf("namespace tally, key %d: %q, %v", i, v, err)
			}
		}
		return nil
	})
}

func testRollback(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	Fill(t, s, 0)
	before := Dump(t, s)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.WriteTx) error {
		n, _ := tx.EntryCount()
		if err := tx.AppendEntries(n, [][]byte{[]byte("x"), []byte("y")}); err != nil {
			return err
		}
		hn, _ := tx.HashCount()
		if err := tx.AppendHashes(hn, []tlog.Hash{{1}}); err != nil {
			return err
		}
		bn, _ := tx.BlockCount()
		if err := tx.AppendBlock(bn, []byte("b")); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, []byte("new"), []byte("v")); err != nil {
			return err
		}
		if err := tx.Delete(store.NSMeta, []byte{0}); err != nil {
			return err
		}
		if err := tx.SetAppliedIndex(999999); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	if err := diffState(before, Dump(t, s)); err != nil {
		t.Fatalf("failed Update left changes: %v", err)
	}
	// An ordering error returned by fn rolls back too.
	err = s.Update(ctx, func(tx store.WriteTx) error {
		if err := tx.Put(store.NSMeta, []byte("new"), []byte("v")); err != nil {
			return err
		}
		return tx.AppendEntries(0, [][]byte{{1}})
	})
	wantErr(t, "Update with stale append", err, store.ErrOutOfOrder)
	if err := diffState(before, Dump(t, s)); err != nil {
		t.Fatalf("failed Update left changes: %v", err)
	}
	// A panic in fn rolls back and propagates.
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("panic in Update did not propagate")
			}
		}()
		s.Update(ctx, func(tx store.WriteTx) error {
			tx.Put(store.NSMeta, []byte("panic"), []byte("v"))
			panic("fn panicked")
		})
	}()
	if err := diffState(before, Dump(t, s)); err != nil {
		t.Fatalf("panicking Update left changes: %v", err)
	}
	// The store still works.
	update(t, s, func(tx store.WriteTx) error { return tx.Put(store.NSMeta, []byte("after"), []byte("ok")) })
}

func testCopies(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	ebuf := []byte("entry-one")
	kbuf, vbuf := []byte("key"), []byte("value")
	hbuf := []byte("header")
	update(t, s, func(tx store.WriteTx) error {
		if err := tx.AppendEntries(0, [][]byte{ebuf}); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, kbuf, vbuf); err != nil {
			return err
		}
		if err := tx.AppendBlock(0, hbuf); err != nil {
			return err
		}
		// The caller may reuse its buffers before the commit, except
		// those of appended entries (WriteTx.AppendEntries).
		copy(kbuf, "XXX")
		copy(vbuf, "XXXXX")
		copy(hbuf, "XXXXXX")
		return nil
	})
	// An appended entry's bytes are the caller's again once the
	// transaction ended.
	copy(ebuf, "XXXXXXXXX")
	var e, v, b, scanK, scanV, streamed []byte
	view(t, s, func(tx store.ReadTx) error {
		var err error
		if e, err = tx.Entry(0); err != nil {
			return err
		}
		if v, err = tx.Get(store.NSMeta, []byte("key")); err != nil {
			return err
		}
		if b, err = tx.Block(0); err != nil {
			return err
		}
		if err := tx.Scan(store.NSMeta, nil, func(k, v []byte) error { scanK, scanV = k, v; return nil }); err != nil {
			return err
		}
		return tx.Entries(0, 1, func(_ uint64, d []byte) error { streamed = d; return nil })
	})
	// Overwrite the state, then check what we kept is unchanged.
	update(t, s, func(tx store.WriteTx) error {
		for i := range 200 {
			if err := tx.Put(store.NSMeta, []byte(fmt.Sprintf("key%d", i)), bytes.Repeat([]byte{0xee}, 4096)); err != nil {
				return err
			}
		}
		return tx.Put(store.NSMeta, []byte("key"), []byte("other"))
	})
	for _, c := range []struct{ name, got, want string }{
		{"Entry", string(e), "entry-one"},
		{"Get", string(v), "value"},
		{"Block", string(b), "header"},
		{"Scan key", string(scanK), "key"},
		{"Scan value", string(scanV), "value"},
		{"Entries", string(streamed), "entry-one"},
	} {
		if c.got != c.want {
			t.Errorf("%s after tx = %q, want %q", c.name, c.got, c.want)
		}
	}
	// Mutating a returned slice does not change the store.
	e[0] = 'Z'
	view(t, s, func(tx store.ReadTx) error {
		if got, _ := tx.Entry(0); string(got) != "entry-one" {
			t.Errorf("Entry after mutating a returned copy = %q", got)
		}
		return nil
	})
}

func testCallbacksMayRead(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	update(t, s, func(tx store.WriteTx) error {
		var data [][]byte
		for i := range uint64(1100) {
			data = append(data, entry(i, 16))
			if err := tx.Put(store.NSEntryHash, []byte(fmt.Sprintf("%05d", i)), []byte{byte(i)}); err != nil {
				return err
			}
		}
		return tx.AppendEntries(0, data)
	})
	view(t, s, func(tx store.ReadTx) error {
		n := 0
		err := tx.Entries(0, 1100, func(seq uint64, _ []byte) error {
			if _, err := tx.Get(store.NSEntryHash, []byte(fmt.Sprintf("%05d", seq))); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil || n != 1100 {
			t.Errorf("Entries with nested reads: %d, %v", n, err)
		}
		n = 0
		err = tx.Scan(store.NSEntryHash, nil, func(k, _ []byte) error {
			if _, err := tx.Entry(uint64(n)); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil || n != 1100 {
			t.Errorf("Scan with nested reads: %d, %v", n, err)
		}
		return nil
	})
}

func testSnapshotRestore(t *testing.T, open OpenFunc) {
	a, _ := open(t)
	want, snap := FilledSnapshot(t, a)
	// Writes after the capture are not in the snapshot.
	update(t, a, func(tx store.WriteTx) error {
		n, _ := tx.EntryCount()
		if err := tx.AppendEntries(n, [][]byte{[]byte("late")}); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, []byte("late"), []byte("x")); err != nil {
			return err
		}
		return tx.SetAppliedIndex(5000)
	})
	var buf1, buf2 bytes.Buffer
	if _, err := snap.WriteTo(&buf1); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if _, err := snap.WriteTo(&buf2); err != nil {
		t.Fatalf("second WriteTo: %v", err)
	}
	snap.Release()
	snap.Release() // idempotent
	if !bytes.Equal(buf1.Bytes(), buf2.Bytes()) {
		t.Fatalf("two WriteTo calls on one snapshot differ")
	}

	// Restore into a store that already has other data.
	b, _ := open(t)
	Fill(t, b, 3)
	if err := b.Restore(ctx, bytes.NewReader(buf1.Bytes())); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := diffState(want, Dump(t, b)); err != nil {
		t.Fatalf("restored state differs: %v", err)
	}
	// The snapshot of the restored store is byte-identical: the stream has
	// one encoding per state.
	if got := SnapshotBytes(t, b); !bytes.Equal(got, buf1.Bytes()) {
		t.Fatalf("snapshot after restore differs from the restored stream")
	}
	// The restored store keeps working: appends continue at the counts.
	update(t, b, func(tx store.WriteTx) error {
		return tx.AppendEntries(uint64(len(want.Entries)), [][]byte{[]byte("next")})
	})

	// Restore a into its own earlier state.
	if err := a.Restore(ctx, bytes.NewReader(buf1.Bytes())); err != nil {
		t.Fatalf("Restore into self: %v", err)
	}
	if err := diffState(want, Dump(t, a)); err != nil {
		t.Fatalf("self-restored state differs: %v", err)
	}

	// An empty store round-trips too.
	e, _ := open(t)
	emptySnap := SnapshotBytes(t, e)
	if err := b.Restore(ctx, bytes.NewReader(emptySnap)); err != nil {
		t.Fatalf("Restore empty: %v", err)
	}
	if err := diffState(Dump(t, e), Dump(t, b)); err != nil {
		t.Fatalf("restoring an empty snapshot: %v", err)
	}
}

func testRestoreBad(t *testing.T, open OpenFunc) {
	src, _ := open(t)
	Fill(t, src, 0)
	good := SnapshotBytes(t, src)

	s, _ := open(t)
	Fill(t, s, 2)
	before := Dump(t, s)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	cases := map[string][]byte{
		"empty":          {},
		"magic only":     good[:23],
		"truncated":      good[:len(good)/2],
		"no checksum":    good[:len(good)-32],
		"short checksum": good[:len(good)-1],
		"trailing byte":  append(bytes.Clone(good), 0),
		"bad magic":      flip(0),
		"bad version":    flip(21),
		"flipped data":   flip(len(good) / 2),
		"bad checksum":   flip(len(good) - 1),
		"bad count":      flip(len(good) - 33),
		"bad tag":        flip(23),
	}
	for name, stream := range cases {
		err := s.Restore(ctx, bytes.NewReader(stream))
		wantErr(t, "Restore "+name, err, store.ErrBadSnapshot)
		if err := diffState(before, Dump(t, s)); err != nil {
			t.Fatalf("Restore %s changed the state: %v", name, err)
		}
	}
	rerr := errors.New("disk on fire")
	err := s.Restore(ctx, io.MultiReader(bytes.NewReader(good[:100]), &errReader{rerr}))
	if !errors.Is(err, rerr) {
		t.Errorf("Restore from failing reader: %v, want the reader's error", err)
	}
	if err := diffState(before, Dump(t, s)); err != nil {
		t.Fatalf("failed Restore changed the state: %v", err)
	}
	// Still usable, and a good stream still restores.
	if err := s.Restore(ctx, bytes.NewReader(good)); err != nil {
		t.Fatalf("Restore good: %v", err)
	}
	RequireSameState(t, src, s)
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func testConcurrentReaders(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	const writes = 150
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				// Each commit sets applied = entry count = 3 * key count:
				// a reader sees all of a commit or none of it.
				err := s.View(ctx, func(tx store.ReadTx) error {
					applied, err := tx.AppliedIndex()
					if err != nil {
						return err
					}
					n, err := tx.EntryCount()
					if err != nil {
						return err
					}
					hn, err := tx.HashCount()
					if err != nil {
						return err
					}
					keys := 0
					if err := tx.Scan(store.NSTracker, nil, func(_, _ []byte) error { keys++; return nil }); err != nil {
						return err
					}
					if applied != n || uint64(hn) != n || uint64(keys)*3 != n {
						return fmt.Errorf("torn read: applied %d entries %d hashes %d keys %d", applied, n, hn, keys)
					}
					if n > 0 {
						if _, err := tx.Entry(n - 1); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range uint64(writes) {
		update(t, s, func(tx store.WriteTx) error {
			first := i * 3
			if err := tx.AppendEntries(first, [][]byte{entry(first, 64), entry(first+1, 64), entry(first+2, 64)}); err != nil {
				return err
			}
			if err := tx.AppendHashes(int64(first), []tlog.Hash{hashOf(1), hashOf(2), hashOf(3)}); err != nil {
				return err
			}
			if err := tx.Put(store.NSTracker, []byte(fmt.Sprint(i)), []byte("t")); err != nil {
				return err
			}
			return tx.SetAppliedIndex(first + 3)
		})
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testReopen(t *testing.T, open OpenFunc) {
	s, reopen := open(t)
	Fill(t, s, 4)
	want := Dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s2 := reopen(t)
	if err := diffState(want, Dump(t, s2)); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	update(t, s2, func(tx store.WriteTx) error {
		return tx.AppendEntries(uint64(len(want.Entries)), [][]byte{[]byte("more")})
	})
	// A restore survives a reopen too.
	e, _ := open(t)
	if err := s2.Restore(ctx, bytes.NewReader(SnapshotBytes(t, e))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s3 := reopen(t)
	RequireSameState(t, e, s3)
}

func testContextAndClose(t *testing.T, open OpenFunc) {
	s, _ := open(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	if err := s.View(cctx, func(store.ReadTx) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with canceled context: %v", err)
	}
	if err := s.Update(cctx, func(store.WriteTx) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with canceled context: %v", err)
	}
	if called {
		t.Errorf("fn ran under a canceled context")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantErr(t, "View after Close", s.View(ctx, func(store.ReadTx) error { return nil }), store.ErrClosed)
	wantErr(t, "Update after Close", s.Update(ctx, func(store.WriteTx) error { return nil }), store.ErrClosed)
	_, err := s.Snapshot(ctx)
	wantErr(t, "Snapshot after Close", err, store.ErrClosed)
}

// testLarge appends 50k entries of 1.7 KiB (85 MB) and checks that reading
// them back, snapshotting and restoring all stream: the Go heap never
// holds a sizable fraction of the data.
func testLarge(t *testing.T, open OpenFunc) {
	if testing.Short() {
		t.Skip("large append skipped in -short mode")
	}
	const (
		n     = 50000
		size  = 1700
		batch = 1000
		total = n * size
		// Generous bound: the data is 85 MB; a backend that buffers it all
		// blows through this, one that streams stays at a few MB.
		heapLimit = total / 3
	)
	s, _ := open(t)
	for first := uint64(0); first < n; first += batch {
		update(t, s, func(tx store.WriteTx) error {
			data := make([][]byte, batch)
			for i := range data {
				data[i] = entry(first+uint64(i), size)
			}
			if err := tx.AppendEntries(first, data); err != nil {
				return err
			}
			return tx.SetAppliedIndex(first + batch)
		})
	}
	var peak heapPeak
	peak.reset()
	view(t, s, func(tx store.ReadTx) error {
		next := uint64(0)
		return tx.Entries(0, n, func(seq uint64, data []byte) error {
			if seq != next || len(data) != size || !bytes.Equal(data[:8], []byte(fmt.Sprintf("%08d", seq))) {
				return fmt.Errorf("entry %d wrong (expected seq %d)", seq, next)
			}
			next++
			if seq%5000 == 0 {
				peak.sample()
			}
			return nil
		})
	})
	if p := peak.max(); p > heapLimit {
		t.Errorf("Entries over %d MB: heap grew by %d MB", total>>20, p>>20)
	} else {
		t.Logf("Entries over %d MB: live heap grew by at most %d KB", total>>20, p>>10)
	}

	path := filepath.Join(t.TempDir(), "snap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	peak.reset()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sw := &sampleWriter{w: f, peak: &peak}
	written, err := snap.WriteTo(sw)
	snap.Release()
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if written < total {
		t.Errorf("snapshot is %d bytes, less than the data", written)
	}
	if p := peak.max(); p > heapLimit {
		t.Errorf("Snapshot.WriteTo: heap grew by %d MB", p>>20)
	} else {
		t.Logf("Snapshot.WriteTo of %d MB: live heap grew by at most %d KB", written>>20, p>>10)
	}

	r, _ := open(t)
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	peak.reset()
	if err := r.Restore(ctx, &sampleReader{r: f, peak: &peak}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if p := peak.max(); p > heapLimit {
		t.Errorf("Restore: heap grew by %d MB", p>>20)
	} else {
		t.Logf("Restore: live heap grew by at most %d KB", p>>10)
	}
	view(t, r, func(tx store.ReadTx) error {
		c, err := tx.EntryCount()
		if err != nil || c != n {
			return fmt.Errorf("restored EntryCount = %d, %v", c, err)
		}
		last, err := tx.Entry(n - 1)
		if err != nil || !bytes.Equal(last, entry(n-1, size)) {
			return fmt.Errorf("restored last entry wrong: %v", err)
		}
		if a, _ := tx.AppliedIndex(); a != n {
			return fmt.Errorf("restored applied index %d", a)
		}
		return nil
	})
}

// heapPeak tracks the largest live-heap growth over a baseline. It samples
// after a GC so garbage does not count, only what is retained.
type heapPeak struct {
	base, top uint64
}

func heapNow() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (h *heapPeak) reset() { h.base, h.top = heapNow(), 0 }

func (h *heapPeak) sample() {
	if now := heapNow(); now > h.base && now-h.base > h.top {
		h.top = now - h.base
	}
}

func (h *heapPeak) max() uint64 { h.sample(); return h.top }

type sampleWriter struct {
	w    io.Writer
	peak *heapPeak
	n    int
}

func (s *sampleWriter) Write(p []byte) (int, error) {
	s.n += len(p)
	if s.n > 8<<20 {
		s.n = 0
		s.peak.sample()
	}
	return s.w.Write(p)
}

type sampleReader struct {
	r    io.Reader
	peak *heapPeak
	n    int
}

func (s *sampleReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += n
	if s.n > 8<<20 {
		s.n = 0
		s.peak.sample()
	}
	return n, err
}
