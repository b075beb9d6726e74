package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// boltStore is the durable Raft log and stable store, one bbolt file with fsync
// on every commit. It implements [raft.LogStore] and [raft.StableStore] and
// also keeps the replica's membership metadata (server ID -> API address)
// in a bucket of its own, so that Raft's data and the replica's metadata
// share one file and one fsync discipline.
//
// Log entries are stored in runs: each StoreLogs call writes its batch, in
// one transaction, into a new nested bucket of bucketRuns named by the
// batch's first big-endian index, holding the entries keyed by their
// big-endian index. Why runs: with all entries in one bucket, appending an
// entry rewrote the leaf page it joined, and bbolt keeps at least two and
// up to four entries in a leaf however large they are, so each ~300 KB
// command entry was copied, written and fsynced about three times (the
// profile of BenchmarkBoard: a third of all CPU, bench/README.md). A run's
// pages are written once; an append rewrites only the parent's small leaf
// of run headers. Runs hold disjoint, increasing index ranges and are never
// empty, so an index lives in the run with the largest name at or below it.
//
// The stable store follows raft's convention for missing keys: Get and
// GetUint64 return an error whose text is "not found".
type boltStore struct {
	db *bolt.DB
	// commits counts the write transactions, each fsynced (bbolt syncs
	// the data pages and then the meta page: two fdatasync calls).
	commits atomic.Uint64
}

var (
	// bucketLogs is the layout before runs: index -> record. openBoltStore
	// moves what it holds into runs.
	bucketLogs    = []byte("logs")
	bucketRuns    = []byte("log_runs")
	bucketStable  = []byte("stable")
	bucketMembers = []byte("members")
	bucketReplica = []byte("replica")

	keyMembersIndex = []byte("members_index")
)

var (
	_ raft.LogStore    = (*boltStore)(nil)
	_ raft.StableStore = (*boltStore)(nil)
)

// logMmapSize is the log store's initial memory map: address space, not
// memory. bbolt remaps when the file outgrows the map, copying every
// node's keys and values off the old map first; with a map sized up front
// that never happens below it (it did several times in each benchmark run).
const logMmapSize = 1 << 30

// openBoltStore opens or creates the store at path. Every write transaction is
// fsynced before it returns.
func openBoltStore(path string) (*boltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         time.Second,
		InitialMmapSize: logMmapSize,
		// The freelist is rebuilt on open instead of written on every
		// commit: fewer pages per fsync on the hot path.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("replica: open log store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLogs, bucketRuns, bucketStable, bucketMembers, bucketReplica} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("replica: init log store: %w", err)
	}
	s := &boltStore{db: db}
	if err := s.migrateLegacyLogs(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// legacyMoveBytes bounds one transaction of migrateLegacyLogs.
const legacyMoveBytes = 64 << 20

// migrateLegacyLogs moves the entries of a store written before runs
// (bucketLogs) into runs, lowest indexes first, at most legacyMoveBytes
// per transaction. Each transaction moves a run atomically, and the
// entries left behind are all above the moved ones, so a crash halfway
// leaves a store the next open finishes migrating.
func (s *boltStore) migrateLegacyLogs() error {
	for {
		done := false
		err := s.update(func(tx *bolt.Tx) error {
			old := tx.Bucket(bucketLogs)
			c := old.Cursor()
			k, v := c.First()
			if k == nil {
				done = true
				return nil
			}
			runs := tx.Bucket(bucketRuns)
			runs.FillPercent = 1.0
			run, err := runs.CreateBucket(bytes.Clone(k))
			if err != nil {
				return fmt.Errorf("run %d: %w", binary.BigEndian.Uint64(k), err)
			}
			run.FillPercent = 1.0
			var moved [][]byte
			for size := 0; k != nil && size < legacyMoveBytes; k, v = c.Next() {
				if err := run.Put(bytes.Clone(k), bytes.Clone(v)); err != nil {
					return err
				}
				moved = append(moved, bytes.Clone(k))
				size += len(v)
			}
			for _, k := range moved {
				if err := old.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("replica: move log entries into runs: %w", err)
		}
		if done {
			return nil
		}
	}
}

// Close closes the underlying database.
func (s *boltStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("replica: close log store: %w", err)
	}
	return nil
}

// update runs fn in a write transaction and counts the commit.
func (s *boltStore) update(fn func(*bolt.Tx) error) error {
	if err := s.db.Update(fn); err != nil {
		return err
	}
	s.commits.Add(1)
	return nil
}

// FirstIndex returns the first index written, or 0 for an empty log.
func (s *boltStore) FirstIndex() (uint64, error) { return s.edge((*bolt.Cursor).First) }

// LastIndex returns the last index written, or 0 for an empty log.
func (s *boltStore) LastIndex() (uint64, error) { return s.edge((*bolt.Cursor).Last) }

// edge is edgeIndex in a read transaction.
func (s *boltStore) edge(seek func(*bolt.Cursor) ([]byte, []byte)) (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		idx, err = edgeIndex(tx.Bucket(bucketRuns), seek)
		return err
	})
	return idx, err
}

// edgeIndex returns the index that seek (First or Last) finds in the
// first or last run, or 0 for an empty log.
func edgeIndex(runs *bolt.Bucket, seek func(*bolt.Cursor) (key, value []byte)) (uint64, error) {
	rk, _ := seek(runs.Cursor())
	if rk == nil {
		return 0, nil
	}
	run := runs.Bucket(rk)
	if run == nil {
		return 0, fmt.Errorf("replica: log run %x is not a bucket", rk)
	}
	k, _ := seek(run.Cursor())
	if k == nil {
		return 0, fmt.Errorf("replica: log run %d is empty", binary.BigEndian.Uint64(rk))
	}
	return binary.BigEndian.Uint64(k), nil
}

// runOf returns the run that would hold index (the one with the largest
// name at or below it), or nil.
func runOf(runs *bolt.Bucket, index uint64) *bolt.Bucket {
	k := runAtOrBelow(runs.Cursor(), index)
	if k == nil {
		return nil
	}
	return runs.Bucket(k)
}

// runAtOrBelow positions c at the run with the largest name at or below
// index and returns that name, or nil when every run is above index.
func runAtOrBelow(c *bolt.Cursor, index uint64) []byte {
	k, _ := c.Seek(u64(index))
	switch {
	case k == nil:
		k, _ = c.Last()
	case binary.BigEndian.Uint64(k) > index:
		k, _ = c.Prev()
	}
	return k
}

// GetLog reads the entry at index into out, or returns raft.ErrLogNotFound.
func (s *boltStore) GetLog(index uint64, out *raft.Log) error {
	return s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		run := runOf(tx.Bucket(bucketRuns), index)
		if run != nil {
			v = run.Get(u64(index))
		}
		if v == nil {
			return raft.ErrLogNotFound
		}
		// decodeLog copies: v is only valid inside the transaction.
		if err := decodeLog(v, run.Get(dataKey(index)), out); err != nil {
			return fmt.Errorf("replica: log entry %d: %w", index, err)
		}
		return nil
	})
}

// StoreLog stores one entry.
func (s *boltStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores all entries in one fsynced transaction, as one new run.
// The indexes MUST increase. Raft stores only above the last index (after
// deleting a conflicting suffix with DeleteRange); should a batch start at
// or below the last stored index, the stored entries from its first index
// on are deleted first, in the same transaction, so that runs stay
// disjoint.
func (s *boltStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	for i := 1; i < len(logs); i++ {
		if logs[i].Index <= logs[i-1].Index {
			return fmt.Errorf("replica: store logs: index %d after %d", logs[i].Index, logs[i-1].Index)
		}
	}
	first := logs[0].Index
	err := s.update(func(tx *bolt.Tx) error {
		runs := tx.Bucket(bucketRuns)
		// Run names are appended in increasing order: fill pages completely.
		runs.FillPercent = 1.0
		last, err := edgeIndex(runs, (*bolt.Cursor).Last)
		if err != nil {
			return err
		}
		if last >= first {
			if err := deleteRange(runs, first, last); err != nil {
				return err
			}
		}
		run, err := runs.CreateBucket(u64(first))
		if err != nil {
			return fmt.Errorf("run %d: %w", first, err)
		}
		run.FillPercent = 1.0
		for _, l := range logs {
			if err := putLog(run, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replica: store logs: %w", err)
	}
	return nil
}

// DeleteRange deletes entries min..max inclusive.
func (s *boltStore) DeleteRange(lo, hi uint64) error {
	if lo > hi {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error { return deleteRange(tx.Bucket(bucketRuns), lo, hi) })
	if err != nil {
		return fmt.Errorf("replica: delete logs [%d,%d]: %w", lo, hi, err)
	}
	return nil
}

// deleteRange deletes entries lo..hi inclusive: the runs inside the range
// whole, the entries inside it of the runs it cuts. A run left empty is
// deleted.
func deleteRange(runs *bolt.Bucket, lo, hi uint64) error {
	// The runs to visit: the one holding lo, if any, and those named up to hi.
	var names [][]byte
	c := runs.Cursor()
	k := runAtOrBelow(c, lo)
	if k == nil {
		k, _ = c.First()
	}
	for ; k != nil && binary.BigEndian.Uint64(k) <= hi; k, _ = c.Next() {
		names = append(names, bytes.Clone(k))
	}
	for _, name := range names {
		run := runs.Bucket(name)
		if run == nil {
			return fmt.Errorf("log run %x is not a bucket", name)
		}
		rc := run.Cursor()
		fk, _ := rc.First()
		lk, _ := rc.Last()
		if fk == nil || (binary.BigEndian.Uint64(fk) >= lo && binary.BigEndian.Uint64(lk) <= hi) {
			if err := runs.DeleteBucket(name); err != nil {
				return err
			}
			continue
		}
		// Re-seek after each delete: bbolt cursors may skip an element when
		// Next follows Delete.
		for k, _ := rc.Seek(u64(lo)); k != nil && binary.BigEndian.Uint64(k) <= hi; k, _ = rc.Seek(u64(lo)) {
			if err := rc.Delete(); err != nil {
				return err
			}
		}
		if k, _ := rc.First(); k == nil {
			if err := runs.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Set stores val under key.
func (s *boltStore) Set(key, val []byte) error {
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStable).Put(key, val)
	})
}

// Get returns the value for key, or an error reading "not found".
func (s *boltStore) Get(key []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketStable).Get(key)
		if v == nil {
			return errKeyNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// SetUint64 stores val under key.
func (s *boltStore) SetUint64(key []byte, val uint64) error { return s.Set(key, u64(val)) }

// GetUint64 returns the value for key, or an error reading "not found".
func (s *boltStore) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("replica: stable key %q: bad uint64 length %d", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// members returns the membership metadata and the Raft index of the last
// membership entry applied.
func (s *boltStore) members() (map[string]string, uint64, error) {
	m := make(map[string]string)
	var idx uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketReplica).Get(keyMembersIndex); len(v) == 8 {
			idx = binary.BigEndian.Uint64(v)
		}
		return tx.Bucket(bucketMembers).ForEach(func(k, v []byte) error {
			m[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("replica: read membership metadata: %w", err)
	}
	return m, idx, nil
}

// applyMembers applies ops at raftIndex in one transaction together with the
// index. It reports false (and changes nothing) when raftIndex was already
// applied.
func (s *boltStore) applyMembers(raftIndex uint64, ops []memberOp) (bool, error) {
	applied := false
	err := s.update(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketReplica)
		if v := r.Get(keyMembersIndex); len(v) == 8 && binary.BigEndian.Uint64(v) >= raftIndex {
			return nil
		}
		b := tx.Bucket(bucketMembers)
		for _, op := range ops {
			var err error
			switch op.op {
			case opSetAPI:
				err = b.Put([]byte(op.id), []byte(op.addr))
			case opForget:
				err = b.Delete([]byte(op.id))
			}
			if err != nil {
				return err
			}
		}
		applied = true
		return r.Put(keyMembersIndex, u64(raftIndex))
	})
	if err != nil {
		return false, fmt.Errorf("replica: apply membership metadata: %w", err)
	}
	return applied, nil
}

// replaceMembers swaps in the metadata restored from a snapshot.
func (s *boltStore) replaceMembers(m map[string]string, idx uint64) error {
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketMembers); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		b, err := tx.CreateBucket(bucketMembers)
		if err != nil {
			return err
		}
		for _, id := range sortedKeys(m) {
			if err := b.Put([]byte(id), []byte(m[id])); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketReplica).Put(keyMembersIndex, u64(idx))
	})
	if err != nil {
		return fmt.Errorf("replica: restore membership metadata: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// Stored log record, at key u64(index) of its run:
//
//	version 1 (written before runs, moved into them unchanged):
//	  ver:u8=1 index:u64 term:u64 type:u8 appendedAt:i64(unix ns, 0 = zero time)
//	  dataLen:u32 data extLen:u32 ext
//	version 2:
//	  ver:u8=2 index:u64 term:u64 type:u8 appendedAt:i64 extLen:u32 ext
//	  with the data, when not empty, as the value of key dataKey(index)
//
// Why version 2 keeps the data apart: bbolt holds a value until the
// commit instead of copying it, so StoreLogs hands it raft's own Data
// (raft never writes to it) and a ~300 KB command entry is not copied into
// a record first.
const (
	logRecordV1 = 1
	logRecordV2 = 2
)

// dataKey is the key of a version-2 record's data: the index and one byte
// 'd', which sorts after the record's key and before the next index's.
func dataKey(index uint64) []byte { return append(u64(index), 'd') }

// putLog stores l in run as a version-2 record. l.Data MUST NOT change
// until the transaction ends.
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

func appendedAt(l *raft.Log) int64 {
	if l.AppendedAt.IsZero() {
		return 0
	}
	return l.AppendedAt.UnixNano()
}

// decodeLog reads record b into out; data is the value at the record's
// dataKey (nil when absent), used by version 2. It copies: b and data are
// only valid inside the transaction.
func decodeLog(b, data []byte, out *raft.Log) error {
	const fixed = 1 + 8 + 8 + 1 + 8
	if len(b) < fixed+4 || (b[0] != logRecordV1 && b[0] != logRecordV2) {
		return errors.New("bad log record header")
	}
	out.Index = binary.BigEndian.Uint64(b[1:])
	out.Term = binary.BigEndian.Uint64(b[9:])
	out.Type = raft.LogType(b[17])
	out.AppendedAt = time.Time{}
	if at := int64(binary.BigEndian.Uint64(b[18:])); at != 0 {
		out.AppendedAt = time.Unix(0, at)
	}
	rest := b[fixed:]
	var ok bool
	if b[0] == logRecordV1 {
		if data != nil {
			return errors.New("data beside a version-1 record")
		}
		if out.Data, rest, ok = readBytes32(rest); !ok {
			return errors.New("bad log record data")
		}
	} else {
		out.Data = nil
		if len(data) > 0 {
			out.Data = bytes.Clone(data)
		}
	}
	if out.Extensions, rest, ok = readBytes32(rest); !ok || len(rest) != 0 {
		return errors.New("bad log record extensions")
	}
	return nil
}

// readBytes32 reads a u32-length-prefixed field and returns a copy (nil when
// empty, as raft writes it).
func readBytes32(b []byte) ([]byte, []byte, bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, false
	}
	if n == 0 {
		return nil, b, true
	}
	return bytes.Clone(b[:n]), b[n:], true
}
