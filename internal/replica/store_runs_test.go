package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// checkStoreAgainst compares every index from 1 to hi of s with want
// (raft's in-memory store fed the same calls), and the first and last
// indexes.
func checkStoreAgainst(t *testing.T, s raft.LogStore, want *raft.InmemStore, hi uint64, step string) {
	t.Helper()
	for name, pair := range map[string][2]func() (uint64, error){
		"first": {s.FirstIndex, want.FirstIndex}, "last": {s.LastIndex, want.LastIndex},
	} {
		got, err := pair[0]()
		exp, _ := pair[1]()
		if err != nil || got != exp {
			t.Fatalf("%s: %s index = %d, %v; want %d", step, name, got, err, exp)
		}
	}
	for i := uint64(1); i <= hi; i++ {
		var got, exp raft.Log
		gerr := s.GetLog(i, &got)
		werr := want.GetLog(i, &exp)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%s: GetLog(%d) = %v, want %v", step, i, gerr, werr)
		}
		if gerr != nil {
			if !errors.Is(gerr, raft.ErrLogNotFound) {
				t.Fatalf("%s: GetLog(%d) = %v, want ErrLogNotFound", step, i, gerr)
			}
			continue
		}
		if got.Index != exp.Index || got.Term != exp.Term || !bytes.Equal(got.Data, exp.Data) || !got.AppendedAt.Equal(exp.AppendedAt) {
			t.Fatalf("%s: GetLog(%d) = %d/%d/%d bytes, want %d/%d/%d bytes", step, i, got.Index, got.Term, len(got.Data), exp.Index, exp.Term, len(exp.Data))
		}
	}
}

// TestStoreRunsModel drives the run layout with the calls raft makes
// (appends after the last index, suffix deletes on conflict, prefix
// deletes on compaction, a delete of everything and an append after a
// gap when a snapshot is installed), with entries small enough to be
// stored inline and larger than a page, reopening now and then, and
// compares it with raft's in-memory store after every call.
func TestStoreRunsModel(t *testing.T) {
	s, path := openTestStore(t)
	want := raft.NewInmemStore()
	rng := rand.New(rand.NewPCG(1, 2))
	data := func(i uint64) []byte {
		n := 10
		if rng.IntN(3) == 0 {
			n = 5000 + rng.IntN(20000) // larger than a 4 KiB page
		}
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(i) + byte(k)
		}
		return b
	}
	var hi uint64
	for step := 0; step < 400; step++ {
		first, _ := want.FirstIndex()
		last, _ := want.LastIndex()
		name := ""
		switch op := rng.IntN(10); {
		case op < 6 || last == 0: // append a batch after the last index
			start := last + 1
			if last == 0 {
				start = hi + 1 + uint64(rng.IntN(5)) // after a snapshot: anywhere
			}
			var logs []*raft.Log
			for i := range uint64(1 + rng.IntN(5)) {
				logs = append(logs, &raft.Log{Index: start + i, Term: uint64(step), Type: raft.LogCommand, Data: data(start + i)})
			}
			name = fmt.Sprintf("store %d..%d", start, logs[len(logs)-1].Index)
			if err := s.StoreLogs(logs); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_ = want.StoreLogs(logs)
			hi = max(hi, logs[len(logs)-1].Index)
		case op < 7: // conflict: delete a suffix
			lo := first + uint64(rng.IntN(int(last-first+1)))
			name = fmt.Sprintf("delete suffix %d..%d", lo, last)
			if err := s.DeleteRange(lo, last); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_ = want.DeleteRange(lo, last)
		case op < 9: // compaction: delete a prefix
			h := first + uint64(rng.IntN(int(last-first+1)))
			name = fmt.Sprintf("delete prefix %d..%d", first, h)
			if err := s.DeleteRange(first, h); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_ = want.DeleteRange(first, h)
		default: // snapshot installed: delete everything
			name = fmt.Sprintf("delete all %d..%d", first, last)
			if err := s.DeleteRange(first, last); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_ = want.DeleteRange(first, last)
		}
		if step%50 == 49 {
			s = reopenTestStore(t, s, path)
		}
		checkStoreAgainst(t, s, want, hi+2, fmt.Sprintf("step %d (%s)", step, name))
	}
}

// TestStoreRunsOverlap: a batch starting at or below the last index
// replaces the log from its first index on (raft never does this: it
// deletes a conflicting suffix first).
func TestStoreRunsOverlap(t *testing.T) {
	s, _ := openTestStore(t)
	for _, l := range [][]uint64{{1, 2, 3}, {4, 5, 6}} {
		var logs []*raft.Log
		for _, i := range l {
			logs = append(logs, testLog(i, "old"))
		}
		if err := s.StoreLogs(logs); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StoreLogs([]*raft.Log{testLog(2, "new"), testLog(3, "new")}); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 3 {
		t.Errorf("LastIndex = %d, want 3", last)
	}
	var l raft.Log
	if err := s.GetLog(2, &l); err != nil || string(l.Data) != "new" {
		t.Errorf("GetLog(2) = %q, %v", l.Data, err)
	}
	if err := s.GetLog(1, &l); err != nil || string(l.Data) != "old" {
		t.Errorf("GetLog(1) = %q, %v", l.Data, err)
	}
	if err := s.GetLog(5, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("GetLog(5) = %v, want ErrLogNotFound", err)
	}
	if err := s.StoreLogs([]*raft.Log{testLog(8, "x"), testLog(7, "y")}); err == nil {
		t.Error("StoreLogs with decreasing indexes succeeded")
	}
}

// TestStoreMigratesLegacyLog: a store written before runs (every entry in
// bucketLogs) reads the same after open, and its old bucket is empty.
func TestStoreMigratesLegacyLog(t *testing.T) {
	path := t.TempDir()
	b, err := openBoltStore(filepath.Join(path, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	s := &raftStore{boltStore: b, wal: &wal{}}
	want := raft.NewInmemStore()
	big := bytes.Repeat([]byte{7}, legacyMoveBytes/2+1) // two per transaction
	var logs []*raft.Log
	for i := uint64(10); i < 30; i++ {
		l := testLog(i, "cmd")
		if i%4 == 0 {
			l.Data = big
		}
		logs = append(logs, l)
	}
	_ = want.StoreLogs(logs)
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, l := range logs {
			if err := tx.Bucket(bucketLogs).Put(u64(l.Index), encodeLog(l)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s2 := reopenTestStore(t, s, path)
	checkStoreAgainst(t, s2, want, 32, "after migration")
	_ = s2.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLogs).Cursor().First(); k != nil {
			t.Errorf("legacy bucket still holds index %d", u64From(k))
		}
		return tx.Bucket(bucketRuns).ForEachBucket(func(k []byte) error {
			t.Errorf("runs bucket still holds run %d after the move into the WAL", u64From(k))
			return nil
		})
	})
	// Appends continue after the migrated entries.
	if err := s2.StoreLogs([]*raft.Log{testLog(30, "next")}); err != nil {
		t.Fatal(err)
	}
	if last, _ := s2.LastIndex(); last != 30 {
		t.Errorf("LastIndex = %d, want 30", last)
	}
}

func u64From(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// TestStoreLogsDataIsTheCallers: StoreLogs hands raft's Data to bbolt
// without copying it, but what it stored is a copy once it returned, and
// GetLog returns a copy of it.
func TestStoreLogsDataIsTheCallers(t *testing.T) {
	s, _ := openTestStore(t)
	buf := bytes.Repeat([]byte("d"), 10000)
	if err := s.StoreLogs([]*raft.Log{{Index: 1, Term: 1, Type: raft.LogCommand, Data: buf}}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXX")
	var l raft.Log
	if err := s.GetLog(1, &l); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.Data, bytes.Repeat([]byte("d"), 10000)) {
		t.Fatalf("stored data changed with the caller's buffer: %q...", l.Data[:8])
	}
	l.Data[0] = 'Z'
	var again raft.Log
	if err := s.GetLog(1, &again); err != nil || again.Data[0] != 'd' {
		t.Fatalf("GetLog's data aliases the store: %q, %v", again.Data[:1], err)
	}
}

// putLog stores l in run as a version-2 record, as raft.db's log store
// did before the WAL.
func putLog(run *bolt.Bucket, l *raft.Log) error {
	b := appendLogHeader(make([]byte, 0, logHeaderSize+4+len(l.Extensions)), logRecordV2, l)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Extensions)))
	b = append(b, l.Extensions...)
	if err := run.Put(u64(l.Index), b); err != nil {
		return err
	}
	if len(l.Data) == 0 {
		return nil
	}
	return run.Put(dataKey(l.Index), l.Data)
}

// logHeaderSize is the size of a record's header (appendLogHeader).
const logHeaderSize = 1 + 8 + 8 + 1 + 8

// appendLogHeader appends the header of both record versions: the
// version, then l's index, term, type and append time.
func appendLogHeader(b []byte, version byte, l *raft.Log) []byte {
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, l.Index)
	b = binary.BigEndian.AppendUint64(b, l.Term)
	b = append(b, byte(l.Type))
	return binary.BigEndian.AppendUint64(b, uint64(appendedAt(l)))
}

// encodeLog is the version-1 record of l, as stores before runs wrote it
// (a length-prefixed copy of the data inside the record).
func encodeLog(l *raft.Log) []byte {
	b := appendLogHeader(make([]byte, 0, logHeaderSize+4+len(l.Data)+4+len(l.Extensions)), logRecordV1, l)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Extensions)))
	return append(b, l.Extensions...)
}
