package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"

	"github.com/urna-vote/urna/internal/durable"
)

// raftStore is a node's durable Raft state under its data directory: the
// log in the write-ahead log raft-log/ (wal), raft's stable store and the
// replica's membership metadata in raft.db (boltStore).
type raftStore struct {
	*boltStore
	*wal
}

const (
	raftDBName = "raft.db"
	walDirName = "raft-log"
)

// openRaftStore opens the node's stores in dataDir (which MUST exist).
// A raft.db that still holds log entries (written before the WAL) has them
// moved into raft-log first (moveLogToWAL). Until raft.db carries
// walMarker (the first open by a binary with the WAL, or one a crash
// interrupted), it is then compacted (compactBoltFile) and marked.
func openRaftStore(dataDir string) (*raftStore, error) {
	path := filepath.Join(dataDir, raftDBName)
	if err := os.Remove(path + compactSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("replica: remove an unfinished compaction: %w", err)
	}
	b, err := openBoltStore(path)
	if err != nil {
		return nil, err
	}
	if err := b.moveLogToWAL(dataDir); err != nil {
		_ = b.Close()
		return nil, err
	}
	marked, err := b.logMarked()
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	if !marked {
		if err := b.Close(); err != nil {
			return nil, fmt.Errorf("replica: close %s: %w", raftDBName, err)
		}
		if err := compactBoltFile(path); err != nil {
			return nil, err
		}
		if b, err = openBoltStore(path); err != nil {
			return nil, err
		}
		if err := b.markLogMoved(); err != nil {
			_ = b.Close()
			return nil, err
		}
	}
	w, err := openWAL(filepath.Join(dataDir, walDirName))
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	return &raftStore{boltStore: b, wal: w}, nil
}

// Close closes the log and raft.db.
func (s *raftStore) Close() error { return errors.Join(s.wal.Close(), s.boltStore.Close()) }

// commits counts the fsynced writes of both stores: WAL appends, cuts and
// file creations, and raft.db's transactions.
func (s *raftStore) commits() uint64 { return s.boltStore.commits.Load() + s.wal.syncs.Load() }

// walMoveBytes bounds one StoreLogs batch of moveLogToWAL.
const walMoveBytes = 64 << 20

// moveLogToWAL moves the log entries of raft.db (bucket log_runs; the
// legacy bucket logs was moved into it by openBoltStore) into the WAL at
// dataDir/raft-log, crash-safely: the WAL is written under a temporary
// name, synced, renamed into place and the data directory synced; only
// then are the entries deleted from raft.db. An open that finds both a
// raft-log and entries in raft.db (a crash between the last two steps)
// deletes the entries in raft.db: raft-log has them all, and ends where
// they end (nothing is appended before they are deleted). A raft-log that
// ends elsewhere means raft.db got entries after the move (a binary from
// before the WAL ran on this directory): the open fails rather than
// choose between the two logs.
//
// raft.db's runs may have gaps: raft left one when it installed a snapshot
// into a log that could have them. Only the entries after the last gap are
// moved: those before it are below that snapshot, which raft never reads
// back from the log.
func (s *boltStore) moveLogToWAL(dataDir string) error {
	dir := filepath.Join(dataDir, walDirName)
	lo, hi, ok, err := s.runsSpan()
	if err != nil || !ok {
		return err
	}
	switch _, err := os.Stat(dir); {
	case err == nil:
		w, err := openWAL(dir)
		if err != nil {
			return err
		}
		last, _ := w.LastIndex()
		if err := w.Close(); err != nil {
			return err
		}
		if last != hi {
			return fmt.Errorf("replica: %s holds log entries up to index %d, and %s ends at %d: "+
				"was this directory used by a version from before %s?", raftDBName, hi, walDirName, last, walDirName)
		}
		return s.dropRuns()
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("replica: move log into %s: %w", walDirName, err)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("replica: move log into %s: %w", walDirName, err)
	}
	if err := s.copyRuns(tmp, lo); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("replica: move log into %s: %w", walDirName, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("replica: move log into %s: %w", walDirName, err)
	}
	if err := durable.SyncDir(dataDir); err != nil {
		return fmt.Errorf("replica: move log into %s: %w", walDirName, err)
	}
	return s.dropRuns()
}

// runsSpan returns the first index after the last gap between runs (the
// first index of all when there is none), the last index, and whether
// there are any.
func (s *boltStore) runsSpan() (uint64, uint64, bool, error) {
	var start, prevLast uint64
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEachBucket(func(name []byte) error {
			run := tx.Bucket(bucketRuns).Bucket(name)
			var lo, hi uint64
			c := run.Cursor()
			k, _ := c.First()
			if k == nil {
				return fmt.Errorf("log run %x is empty", name)
			}
			lo = binary.BigEndian.Uint64(k)
			k, _ = c.Last()
			hi = binary.BigEndian.Uint64(k)
			if !found || lo != prevLast+1 {
				start = lo
			}
			found, prevLast = true, hi
			return nil
		})
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("replica: read log runs: %w", err)
	}
	return start, prevLast, found, nil
}

// copyRuns writes the entries of raft.db from index lo on into a new WAL
// in dir, synced.
func (s *boltStore) copyRuns(dir string, lo uint64) error {
	w, err := openWAL(dir)
	if err != nil {
		return err
	}
	var batch []*raft.Log
	size := 0
	flush := func() error {
		err := w.StoreLogs(batch)
		batch, size = nil, 0
		return err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		runs := tx.Bucket(bucketRuns)
		return runs.ForEachBucket(func(name []byte) error {
			run := runs.Bucket(name)
			return run.ForEach(func(k, v []byte) error {
				if len(k) != 8 { // a version-2 record's data, read with it
					return nil
				}
				index := binary.BigEndian.Uint64(k)
				if index < lo {
					return nil
				}
				l := new(raft.Log)
				if err := decodeLog(v, run.Get(dataKey(index)), l); err != nil {
					return fmt.Errorf("log entry %d: %w", index, err)
				}
				if l.Index != index {
					return fmt.Errorf("log entry %d holds index %d", index, l.Index)
				}
				batch = append(batch, l)
				if size += len(l.Data); size >= walMoveBytes {
					return flush()
				}
				return nil
			})
		})
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return errors.Join(err, w.Close())
}

// walMarker is the one key of raft.db's bucket log_runs once the log
// lives in raft-log: a value, not a bucket. A binary from before the WAL
// reads every key there as a run, so it refuses to start on this
// directory ("log run 0000000000000000 is not a bucket") instead of
// starting on an empty log, which would lose the entries committed but
// not yet in a snapshot.
var walMarker = make([]byte, 8)

// logMarked reports whether log_runs holds walMarker.
func (s *boltStore) logMarked() (bool, error) {
	var there bool
	err := s.db.View(func(tx *bolt.Tx) error {
		there = tx.Bucket(bucketRuns).Get(walMarker) != nil
		return nil
	})
	return there, err
}

// markLogMoved puts walMarker in log_runs.
func (s *boltStore) markLogMoved() error {
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).Put(walMarker, []byte("the log is in "+walDirName))
	})
	if err != nil {
		return fmt.Errorf("replica: mark the log moved into %s: %w", walDirName, err)
	}
	return nil
}

// compactSuffix names the copy compactBoltFile writes beside raft.db.
const compactSuffix = ".compact"

// compactBoltFile rewrites the bbolt file at path without its free pages:
// bbolt reuses freed pages but never shrinks its file, and the runs of a
// busy node's log took up to gigabytes that the stable store and the
// membership (a few kilobytes) would never use again. The copy is written
// beside it (path + compactSuffix, each transaction fsynced), renamed over
// it and the directory synced, so a crash leaves one whole file or the
// other; openRaftStore removes a copy left unfinished.
func compactBoltFile(path string) error {
	tmp := path + compactSuffix
	fail := func(err error) error {
		_ = os.Remove(tmp)
		return fmt.Errorf("replica: compact %s: %w", filepath.Base(path), err)
	}
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fail(err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		_ = src.Close()
		return fail(err)
	}
	err = bolt.Compact(dst, src, 64<<20)
	err = errors.Join(err, dst.Close(), src.Close())
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("replica: compact %s: %w", filepath.Base(path), err)
	}
	return nil
}

// dropRuns deletes every log entry from raft.db.
func (s *boltStore) dropRuns() error {
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketRuns); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketRuns)
		return err
	})
	if err != nil {
		return fmt.Errorf("replica: delete log entries moved into %s: %w", walDirName, err)
	}
	return nil
}
