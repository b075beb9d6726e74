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
// Log entries are keyed by their big-endian index; StoreLogs writes a whole
// batch in one transaction. The stable store follows raft's convention for
// missing keys: Get and GetUint64 return an error whose text is "not found".
type boltStore struct {
	db *bolt.DB
	// commits counts the write transactions, each fsynced (bbolt syncs
	// the data pages and then the meta page: two fdatasync calls).
	commits atomic.Uint64
}

var (
	bucketLogs    = []byte("logs")
	bucketStable  = []byte("stable")
	bucketMembers = []byte("members")
	bucketReplica = []byte("replica")

	keyMembersIndex = []byte("members_index")
)

var (
	_ raft.LogStore    = (*boltStore)(nil)
	_ raft.StableStore = (*boltStore)(nil)
)

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
		for _, b := range [][]byte{bucketLogs, bucketStable, bucketMembers, bucketReplica} {
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
	return &boltStore{db: db}, nil
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
func (s *boltStore) FirstIndex() (uint64, error) {
	return s.edgeIndex((*bolt.Cursor).First)
}

// LastIndex returns the last index written, or 0 for an empty log.
func (s *boltStore) LastIndex() (uint64, error) {
	return s.edgeIndex((*bolt.Cursor).Last)
}

// edgeIndex returns the index of the log key that seek (First or Last)
// finds, or 0 for an empty log.
func (s *boltStore) edgeIndex(seek func(*bolt.Cursor) (key, value []byte)) (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := seek(tx.Bucket(bucketLogs).Cursor()); k != nil {
			idx = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return idx, err
}

// GetLog reads the entry at index into out, or returns raft.ErrLogNotFound.
func (s *boltStore) GetLog(index uint64, out *raft.Log) error {
	return s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLogs).Get(u64(index))
		if v == nil {
			return raft.ErrLogNotFound
		}
		// decodeLog copies: v is only valid inside the transaction.
		if err := decodeLog(v, out); err != nil {
			return fmt.Errorf("replica: log entry %d: %w", index, err)
		}
		return nil
	})
}

// StoreLog stores one entry.
func (s *boltStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores all entries in one fsynced transaction.
func (s *boltStore) StoreLogs(logs []*raft.Log) error {
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs)
		// Keys are appended in increasing order: fill pages completely.
		b.FillPercent = 1.0
		for _, l := range logs {
			if err := b.Put(u64(l.Index), encodeLog(l)); err != nil {
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
	err := s.update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLogs).Cursor()
		// Re-seek after each delete: bbolt cursors may skip an element when
		// Next follows Delete.
		for k, _ := c.Seek(u64(lo)); k != nil && binary.BigEndian.Uint64(k) <= hi; k, _ = c.Seek(u64(lo)) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replica: delete logs [%d,%d]: %w", lo, hi, err)
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

// Stored log record:
//
//	ver:u8=1 index:u64 term:u64 type:u8 appendedAt:i64(unix ns, 0 = zero time)
//	dataLen:u32 data extLen:u32 ext
const logRecordVersion = 1

func encodeLog(l *raft.Log) []byte {
	b := make([]byte, 0, 1+8+8+1+8+4+len(l.Data)+4+len(l.Extensions))
	b = append(b, logRecordVersion)
	b = binary.BigEndian.AppendUint64(b, l.Index)
	b = binary.BigEndian.AppendUint64(b, l.Term)
	b = append(b, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Extensions)))
	return append(b, l.Extensions...)
}

func decodeLog(b []byte, out *raft.Log) error {
	const fixed = 1 + 8 + 8 + 1 + 8
	if len(b) < fixed+4 || b[0] != logRecordVersion {
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
	if out.Data, rest, ok = readBytes32(rest); !ok {
		return errors.New("bad log record data")
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
