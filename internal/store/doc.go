// Package store is a bulletin-board node's durable state: the entries of the
// append-only election log, the Merkle tree's stored hashes
// (golang.org/x/mod/sumdb/tlog storage indexes), block headers, secondary
// indexes and metadata in a few fixed namespaces, and the last applied Raft
// index. Nothing is bounded by memory: reads, snapshots and restores stream.
//
// Two implementations sit behind the one [Store] interface and pass the same
// conformance suite (internal/store/storetest):
//
//   - [OpenBolt]: an embedded bbolt file, the default. One bucket per kind,
//     big-endian uint64 keys, every commit fsynced. The namespaces with
//     random keys that grow with every ballot (NSTracker, NSCredential,
//     NSEntryHash) are write-optimised: a small level 0 in front of the
//     bucket, then levels of sorted runs, each run written once in key
//     order with a Bloom filter of its keys, kept in the file and written
//     in the commit that writes the run, so that a read skips the runs
//     that cannot hold its key (boltlevels.go). The filters are the file's own: the
//     snapshot stream and a Restore know nothing of them. A damaged
//     filter is an error on the reads through it, never an "absent".
//   - [OpenPostgres]: PostgreSQL through pgx, one schema per node so several
//     nodes can share a server; numbered migrations run at open.
//
// # Contract
//
// Transactions:
//
//   - View runs fn against one consistent snapshot; it never sees part of a
//     concurrent Update. Any number of Views MAY run concurrently.
//   - Update commits iff fn returns nil, atomically and durably (fsync on
//     bbolt; a synchronous COMMIT on PostgreSQL). If fn returns an error or
//     panics, nothing it wrote is visible and Update returns fn's error (or
//     re-panics). Updates are serialized: one writer at a time.
//   - fn MAY be called more than once by the PostgreSQL backend, which
//     retries a transaction aborted by a serialization failure or deadlock;
//     fn MUST therefore have no effects outside the transaction that a
//     second run would repeat. With the single in-process writer this does
//     not happen in practice.
//   - fn MUST NOT keep or use the transaction after it returns, MUST NOT call
//     methods of the Store (nested transactions deadlock), and MUST NOT use
//     the transaction from several goroutines at once.
//   - Entries and Scan callbacks MAY call the transaction's read methods;
//     they MUST NOT write through it.
//   - Every slice a transaction returns or passes to a callback is a fresh
//     copy the caller owns; slices passed in MAY be reused by the caller as
//     soon as the method returns.
//
// Partitions (SPEC.md §3.14.8): the entries, hashes, blocks and
// namespaces exist once per [Partition], one per election on the board;
// ReadTx.In and WriteTx.WriteIn give views of one transaction on another
// partition, so an apply touching several elections commits atomically.
// The applied Raft index is the store's. Partition 0 is laid out as the
// store was before partitions (bbolt: the top-level buckets; PostgreSQL:
// rows with part = 0, migration 2), so old state opens unchanged as
// partition 0; a bbolt partition p > 0 is a bucket "part/" ‖ u32(p) holding
// the same buckets.
//
// Appends: the log has no gaps and no rewrites. AppendEntries,
// AppendHashes and AppendBlock MUST start exactly at the current count, else
// they fail with [ErrOutOfOrder] and write nothing; the caller decides
// whether its Update should still commit (usually it returns the error).
// Store the applied Raft index with the effects of applying it
// (SetAppliedIndex in the same Update), so a replay after a crash is
// harmless.
//
// Snapshots: Snapshot captures a point in time cheaply (a read transaction
// held open) and the returned handle streams it later with WriteTo, while
// Updates go on. Release MUST be called. On bbolt, a held snapshot pins the
// file's memory map: a write that must grow the map past
// [BoltOptions.InitialMmapSize] waits until the snapshot is released, so a
// goroutine MUST NOT hold a snapshot while it waits for its own Update. On
// PostgreSQL a held snapshot delays Restore (and Close) until it is
// released, so the goroutine holding it MUST NOT be the one restoring.
//
// One store per bbolt file (a file lock) and one per PostgreSQL schema (a
// session advisory lock): a second open fails with [ErrLocked]. Release
// every Snapshot before Close.
//
// Restore replaces the entire state with a stream written by WriteTo. It
// builds the new state on the side (bbolt: a new file renamed over the old;
// PostgreSQL: one transaction that truncates and copies) and only then makes
// it visible; if the stream is bad ([ErrBadSnapshot]) or anything fails, the
// old state stays. The stream format (snapshot.go) is the same for both
// backends, so a node MAY switch backends through a snapshot, and one state
// has exactly one encoding. [VerifySnapshot] checks a stream as Restore
// would without a store (backups are such streams, checked before a restore
// touches anything).
//
// Errors: sentinels callers branch on are in one var block ([ErrNotFound],
// [ErrOutOfOrder], [ErrInvalid], [ErrBadSnapshot], [ErrConflict],
// [ErrClosed], [ErrLocked]); test with errors.Is. All other errors carry a "store:"
// prefix and say what failed. The package never logs.
package store
