package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"
)

// Errors that callers branch on. Every other error is wrapped with the
// "store:" prefix and says what failed; compare with [errors.Is].
var (
	// ErrNotFound: the entry, hash, block or key does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrOutOfOrder: an append did not start at the current count
	// (AppendEntries, AppendHashes, AppendBlock). The log has no gaps and
	// no rewrites, so the caller's view of the state is stale or wrong.
	ErrOutOfOrder = errors.New("store: append out of order")
	// ErrInvalid: an argument breaks the contract (unknown namespace, empty
	// or oversized key or value, index out of range).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrBadSnapshot: a Restore stream is truncated, corrupt, out of order
	// or from an unknown format version. The old state is kept.
	ErrBadSnapshot = errors.New("store: bad snapshot stream")
	// ErrConflict: PostgreSQL kept aborting the transaction with a
	// serialization failure or deadlock after several retries.
	ErrConflict = errors.New("store: transaction conflict")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrLocked: another open store (another node's process) holds the same
	// state: a bbolt file is held through its file lock (after
	// BoltOptions.LockTimeout) and a PostgreSQL schema through an advisory
	// lock, for as long as a store has it open.
	ErrLocked = errors.New("store: state in use by another store")
)

// Limits enforced by both backends, so a state valid in one is valid in the
// other and a snapshot of one restores into the other.
const (
	// MaxKeySize bounds Put keys (index keys are tracker, credential and
	// hash bytes: tens of bytes).
	MaxKeySize = 1024
	// MaxValueSize bounds entries, block headers and Put values. Most
	// entries are a few KiB, but the largest types are tens of MiB (a
	// credential list of 2^20 voters is 36 MiB, bulletin's registry allows
	// 40 MiB bodies and shuffles up to 64 MiB), so the bound is theirs with
	// room; it exists so a corrupt snapshot length cannot make Restore
	// allocate gigabytes. internal/board's tests hold it to
	// bulletin.MaxEntrySize.
	MaxValueSize = 80 << 20
	// maxSeq is the largest sequence number, index or height: PostgreSQL
	// stores them as bigint.
	maxSeq = 1<<63 - 1
)

// Store is a node's durable state. See the package documentation for the
// contract.
type Store interface {
	// View runs fn in a read-only, consistent snapshot transaction.
	View(ctx context.Context, fn func(ReadTx) error) error
	// Update runs fn in one read-write transaction, committed atomically
	// (durable, fsync) iff fn returns nil.
	Update(ctx context.Context, fn func(WriteTx) error) error
	// Snapshot captures a consistent point-in-time handle cheaply (for a
	// Raft snapshot); the handle streams later.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Restore replaces the entire state with the stream written by
	// Snapshot.WriteTo (build fresh, then swap; on error the old state stays).
	Restore(ctx context.Context, r io.Reader) error
	// Close releases the store. It MUST NOT be called while a View or
	// Update runs.
	Close() error
}

// Snapshot is a point-in-time handle returned by Store.Snapshot.
type Snapshot interface {
	// WriteTo streams the captured state in the snapshot format
	// (snapshot.go). It MAY be called more than once, not concurrently.
	WriteTo(w io.Writer) (int64, error)
	// Release frees the handle. It MUST be called exactly once, even after
	// WriteTo failed; later calls are no-ops.
	Release()
}

// Partition numbers one election's share of the state (SPEC.md
// §3.14.8): its entries, Merkle hashes, blocks and key-value namespaces. The
// partitions of a store are independent logs; only the applied Raft index
// is shared. Partition 0 is laid out exactly as the store was before
// partitions existed, so a one-election store needs no migration.
type Partition uint32

// MaxPartition is the largest partition number (PostgreSQL stores it as an
// integer).
const MaxPartition Partition = 1<<31 - 1

// Valid reports whether p is at most MaxPartition.
func (p Partition) Valid() bool { return p <= MaxPartition }

func checkPartition(p Partition) error {
	if !p.Valid() {
		return fmt.Errorf("%w: partition %d above the maximum %d", ErrInvalid, p, MaxPartition)
	}
	return nil
}

// ReadTx reads one consistent version of the state. Every returned slice is
// a copy owned by the caller. Its entry, hash, block and key-value methods
// read one partition: 0 for the transaction View and Update pass in, the
// one named for a view returned by In.
type ReadTx interface {
	// In returns a view of the same transaction that reads partition p;
	// every method of the view fails with ErrInvalid if p is not Valid. A
	// partition never written to reads as empty.
	In(p Partition) ReadTx
	// Partitions lists, ascending, partition 0 and every partition that
	// was written to (a Restore recreates those that hold data).
	Partitions() ([]Partition, error)
	// AppliedIndex is the last applied Raft index, 0 when nothing applied.
	// It is the store's, the same in every partition.
	AppliedIndex() (uint64, error)
	// EntryCount is the number of entries (the next sequence number).
	EntryCount() (uint64, error)
	// Entry returns entry seq, or ErrNotFound.
	Entry(seq uint64) ([]byte, error)
	// Entries calls fn for each entry in [from, to) in order, streaming;
	// to beyond EntryCount is clamped. An error from fn stops the
	// iteration and is returned as is.
	Entries(from, to uint64, fn func(seq uint64, data []byte) error) error
	// ReadHashes returns the tlog stored hashes at the given storage
	// indexes, in the same order; ErrNotFound if any is missing.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// HashCount is the number of stored hashes (the next storage index).
	HashCount() (int64, error)
	// BlockCount is the number of blocks (the next height).
	BlockCount() (uint64, error)
	// Block returns the header at height, or ErrNotFound.
	Block(height uint64) ([]byte, error)
	// Get returns the value at key in ns, or ErrNotFound.
	Get(ns Namespace, key []byte) ([]byte, error)
	// Scan calls fn for each key in ns starting with prefix, in bytewise
	// key order. An error from fn stops the scan and is returned as is.
	Scan(ns Namespace, prefix []byte, fn func(key, value []byte) error) error
}

// WriteTx is a read-write transaction: reads see its own writes.
type WriteTx interface {
	ReadTx
	// WriteIn returns a view of the same transaction that reads and
	// writes partition p (see In). Writes through it commit or roll back
	// with the transaction.
	WriteIn(p Partition) WriteTx
	// SetAppliedIndex records the last applied Raft index (the store's).
	SetAppliedIndex(i uint64) error
	// AppendEntries appends data[i] at sequence first+i. first MUST equal
	// EntryCount, else ErrOutOfOrder. The store may keep data[i] until
	// the transaction ends instead of copying it (bbolt writes it at the
	// commit): the caller MUST NOT modify them before. Why: an applied
	// entry aliases its committed Raft log entry, which nobody writes, and
	// the copy of every entry was a measurable part of an apply
	// (bench/README.md, "Board").
	AppendEntries(first uint64, data [][]byte) error
	// AppendHashes stores hashes at storage indexes start, start+1, ...
	// start MUST equal HashCount, else ErrOutOfOrder. As with
	// AppendEntries, the caller MUST NOT modify hashes before the
	// transaction ends.
	AppendHashes(start int64, hashes []tlog.Hash) error
	// AppendBlock stores header at height. height MUST equal BlockCount,
	// else ErrOutOfOrder.
	AppendBlock(height uint64, header []byte) error
	// Put sets key to value in ns.
	Put(ns Namespace, key, value []byte) error
	// Delete removes key from ns; deleting a missing key is not an error.
	Delete(ns Namespace, key []byte) error
}

// Namespace names one key-value space of Get, Put, Delete and Scan. The set
// is fixed: an unknown value is rejected with ErrInvalid, and a snapshot
// carrying one is rejected with ErrBadSnapshot.
type Namespace uint8

// The namespaces. Values are persisted (bbolt bucket names derive from
// String, PostgreSQL stores the number): never renumber or rename one.
const (
	// NSMeta holds node and election metadata (manifest, keys, phase).
	NSMeta Namespace = 1
	// NSTracker maps a ballot tracker to the entry sequence number.
	NSTracker Namespace = 2
	// NSCredential maps a voter credential to the entry sequence number.
	NSCredential Namespace = 3
	// NSEntryHash maps an entry's leaf hash to its sequence number.
	NSEntryHash Namespace = 4
	// NSCheckpoint maps a tree size to the signed checkpoint.
	NSCheckpoint Namespace = 5
	// NSTally holds tally state (trustee shares, partial decryptions).
	NSTally Namespace = 6

	nsMax = NSTally
)

// Namespaces lists every valid namespace in ascending order.
func Namespaces() []Namespace {
	out := make([]Namespace, 0, nsMax)
	for ns := Namespace(1); ns <= nsMax; ns++ {
		out = append(out, ns)
	}
	return out
}

// Valid reports whether ns is one of the defined namespaces.
func (ns Namespace) Valid() bool { return ns >= 1 && ns <= nsMax }

func (ns Namespace) String() string {
	switch ns {
	case NSMeta:
		return "meta"
	case NSTracker:
		return "tracker"
	case NSCredential:
		return "credential"
	case NSEntryHash:
		return "entryhash"
	case NSCheckpoint:
		return "checkpoint"
	case NSTally:
		return "tally"
	}
	return fmt.Sprintf("Namespace(%d)", uint8(ns))
}

func checkNS(ns Namespace) error {
	if !ns.Valid() {
		return fmt.Errorf("%w: unknown namespace %d", ErrInvalid, uint8(ns))
	}
	return nil
}

func checkKey(ns Namespace, key []byte) error {
	if err := checkNS(ns); err != nil {
		return err
	}
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key in namespace %v", ErrInvalid, ns)
	}
	if len(key) > MaxKeySize {
		return fmt.Errorf("%w: key of %d bytes in namespace %v exceeds %d", ErrInvalid, len(key), ns, MaxKeySize)
	}
	return nil
}

// checkKV checks a key and its value for Put.
func checkKV(ns Namespace, key, value []byte) error {
	if err := checkKey(ns, key); err != nil {
		return err
	}
	return checkValue("value", value)
}

func checkValue(what string, v []byte) error {
	if len(v) > MaxValueSize {
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrInvalid, what, len(v), MaxValueSize)
	}
	return nil
}

// checkAppend validates an append of n items at first given the current
// count.
func checkAppend(what string, first, count uint64, n int) error {
	if first != count {
		return fmt.Errorf("%w: %s append at %d, count is %d", ErrOutOfOrder, what, first, count)
	}
	if uint64(n) > maxSeq-first {
		return fmt.Errorf("%w: %s append of %d at %d overflows", ErrInvalid, what, n, first)
	}
	return nil
}

// checkBlockAppend validates the append of one block at height given the
// current block count: the rule both backends' AppendBlock enforce.
func checkBlockAppend(height, count uint64, header []byte) error {
	if err := checkAppend("block", height, count, 1); err != nil {
		return err
	}
	return checkValue("block header", header)
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil when there is none (empty or all-0xff prefix).
func prefixEnd(prefix []byte) []byte {
	end := clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
