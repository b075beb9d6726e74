package replica

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// writeRunsDB makes dir/raft.db as the store before the WAL left it: the
// log in runs (one per [lo, hi] pair given), a term and a member.
func writeRunsDB(t *testing.T, dir string, runs ...[2]uint64) {
	t.Helper()
	b, err := openBoltStore(filepath.Join(dir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.db.Update(func(tx *bolt.Tx) error {
		for _, r := range runs {
			run, err := tx.Bucket(bucketRuns).CreateBucket(u64(r[0]))
			if err != nil {
				return err
			}
			for i := r[0]; i <= r[1]; i++ {
				if err := putLog(run, walEntry(i, walEntrySize(i))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetUint64(keyCurrentTerm, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := b.applyMembers(3, []memberOp{{op: opSetAPI, id: "n1", addr: "http://n1"}}); err != nil {
		t.Fatal(err)
	}
}

// checkMoved checks that the store in dir holds first..last in its WAL,
// no log entries in raft.db, and raft.db's other contents.
func checkMoved(t *testing.T, dir string, first, last uint64) {
	t.Helper()
	s, err := openRaftStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkWALHolds(t, s.wal, first, last)
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEachBucket(func(k []byte) error {
			t.Errorf("raft.db still holds log run %d", u64From(k))
			return nil
		})
	})
	if term, err := s.GetUint64(keyCurrentTerm); err != nil || term != 7 {
		t.Errorf("current term = %d, %v; want 7", term, err)
	}
	if m, idx, err := s.members(); err != nil || idx != 3 || m["n1"] != "http://n1" {
		t.Errorf("members = %v, %d, %v", m, idx, err)
	}
	if _, err := os.Stat(filepath.Join(dir, walDirName+".tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s.tmp left behind: %v", walDirName, err)
	}
	// Appends continue the moved log.
	if err := s.StoreLogs([]*raft.Log{walEntry(last+1, walEntrySize(last+1))}); err != nil {
		t.Fatal(err)
	}
}

// TestStoreMovesRunsIntoWAL: the log of a raft.db written before the WAL
// moves into raft-log on open; of runs with a gap (left by raft installing
// a snapshot), the entries after the gap.
func TestStoreMovesRunsIntoWAL(t *testing.T) {
	dir := t.TempDir()
	writeRunsDB(t, dir, [2]uint64{5, 9}, [2]uint64{10, 30}, [2]uint64{31, 31})
	checkMoved(t, dir, 5, 31)
	checkMoved(t, dir, 5, 32) // and again: nothing left to move

	dir = t.TempDir()
	writeRunsDB(t, dir, [2]uint64{1, 4}, [2]uint64{90, 95}, [2]uint64{96, 99})
	checkMoved(t, dir, 90, 99)
}

// TestStoreMoveCrashes: an open after a crash at each step of the move
// ends with the whole log in the WAL: a half-written raft-log.tmp is
// discarded and the move done again; a raft-log renamed into place with
// the entries still in raft.db has them deleted there.
func TestStoreMoveCrashes(t *testing.T) {
	dir := t.TempDir()
	writeRunsDB(t, dir, [2]uint64{3, 20})
	tmp := filepath.Join(dir, walDirName+".tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, segmentName(3)), []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkMoved(t, dir, 3, 20)

	// Crash after the rename, before the entries left raft.db.
	dir = t.TempDir()
	writeRunsDB(t, dir, [2]uint64{3, 20})
	b, err := openBoltStore(filepath.Join(dir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	tmp = filepath.Join(dir, walDirName+".tmp")
	if err := b.copyRuns(tmp, 3); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, walDirName)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkMoved(t, dir, 3, 20)
}

// TestStoreRefusesTwoLogs: a raft-log beside raft.db entries that it does
// not end with (raft.db written again by a binary from before the WAL)
// fails the open instead of dropping either.
func TestStoreRefusesTwoLogs(t *testing.T) {
	dir := t.TempDir()
	s, err := openRaftStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	storeRange(t, s.wal, 1, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	writeRunsDB(t, dir, [2]uint64{1, 8})
	_, err = openRaftStore(dir)
	if err == nil || !strings.Contains(err.Error(), "up to index 8") || !strings.Contains(err.Error(), "ends at 5") {
		t.Fatalf("open with two logs: %v", err)
	}
}

// TestStoreRefusesOldBinaries: once the log is in raft-log (moved, or a
// new directory), the first key of raft.db's log_runs is not a bucket, so
// a binary from before the WAL (whose FirstIndex and LastIndex read that
// key as the first and last run) fails to open the log instead of
// starting on an empty one.
func TestStoreRefusesOldBinaries(t *testing.T) {
	moved := t.TempDir()
	writeRunsDB(t, moved, [2]uint64{1, 5})
	for name, dir := range map[string]string{"moved": moved, "new": t.TempDir()} {
		s, err := openRaftStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		_ = s.db.View(func(tx *bolt.Tx) error {
			runs := tx.Bucket(bucketRuns)
			for _, seek := range []func(*bolt.Cursor) ([]byte, []byte){(*bolt.Cursor).First, (*bolt.Cursor).Last} {
				k, _ := seek(runs.Cursor())
				if k == nil || runs.Bucket(k) != nil {
					t.Errorf("%s: log_runs shows an old binary the run %x: it would start on an empty log", name, k)
				}
			}
			return nil
		})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Reopening keeps one marker and the log.
		s, err = openRaftStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		if name == "moved" {
			checkWALHolds(t, s.wal, 1, 5)
		}
		_ = s.Close()
	}
}

// TestStoreMoveShrinksRaftDB: once the log has moved, raft.db is rewritten
// without the pages its runs took (bbolt never shrinks a file), keeping
// the term and the membership; a compaction left unfinished by a crash is
// removed on open. An open that a crash stopped after the move, before
// the compaction, has it done by the next open.
func TestStoreMoveShrinksRaftDB(t *testing.T) {
	for _, crashed := range []bool{false, true} {
		t.Run(fmt.Sprintf("crashed=%v", crashed), func(t *testing.T) { testMoveShrinks(t, crashed) })
	}
}

func testMoveShrinks(t *testing.T, crashed bool) {
	dir := t.TempDir()
	path := filepath.Join(dir, raftDBName)
	writeRunsDB(t, dir, [2]uint64{1, 3})
	b, err := openBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	err = b.db.Update(func(tx *bolt.Tx) error {
		run, err := tx.Bucket(bucketRuns).CreateBucket(u64(4))
		if err != nil {
			return err
		}
		for i := uint64(4); i <= 203; i++ {
			if err := putLog(run, walEntry(i, 50_000)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if crashed { // the move done, then the crash: no compaction, no mark
		if err := b.moveLogToWAL(dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	if before < 10<<20 {
		t.Fatalf("raft.db is %d bytes with 10 MB of log: the test wants a large file", before)
	}
	// A compaction a crash left behind.
	if err := os.WriteFile(path+compactSuffix, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openRaftStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := s.GetLog(100, &l); err != nil || len(l.Data) != 50_000 {
		t.Fatalf("entry 100 after the move: %d bytes, %v", len(l.Data), err)
	}
	if f, _ := s.FirstIndex(); f != 1 {
		t.Fatalf("first index %d, want 1", f)
	}
	if last, _ := s.LastIndex(); last != 203 {
		t.Fatalf("last index %d, want 203", last)
	}
	if term, err := s.GetUint64(keyCurrentTerm); err != nil || term != 7 {
		t.Fatalf("current term = %d, %v; want 7", term, err)
	}
	if m, idx, err := s.members(); err != nil || idx != 3 || m["n1"] != "http://n1" {
		t.Fatalf("members = %v, %d, %v", m, idx, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := fileSize(t, path); after > 1<<20 {
		t.Fatalf("raft.db is %d bytes after the move (%d before): not compacted", after, before)
	}
	if _, err := os.Stat(path + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the unfinished compaction is still there: %v", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
