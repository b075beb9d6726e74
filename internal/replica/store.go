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

// boltStore is raft.db, a bbolt file fsynced on every commit: raft's stable
// store ([raft.StableStore]: term, vote) and the replica's membership
// metadata (server ID -> API address) in a bucket of its own. The Raft log
// is in the WAL (wal.go); a raft.db written before it holds the log too,
// in runs (below), which openRaftStore moves into the WAL.
//
// Runs were the log's layout in raft.db: each StoreLogs batch a nested
// bucket of bucketRuns named by the batch's first big-endian index,
// holding the entries keyed by their big-endian index (version-2 records,
// below). Before runs, every entry was in bucketLogs; openBoltStore still
// moves those into runs first.
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

var _ raft.StableStore = (*boltStore)(nil)

// openBoltStore opens or creates the store at path. Every write transaction is
// fsynced before it returns.
func openBoltStore(path string) (*boltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: time.Second,
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
