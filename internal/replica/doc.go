// Package replica replicates the bulletin board's state machine with Raft
// (hashicorp/raft). It is generic over the state machine: the board supplies
// an [FSM]; this package supplies durability, ordering, group commit,
// snapshots and membership.
//
// # Durability
//
// Each node keeps, under Config.DataDir:
//
//   - raft-log/: the Raft log, a write-ahead log of segment files (see wal):
//     each StoreLogs batch is one write and one fdatasync; records carry
//     CRC-32C checksums and are checked on open and on every read. A torn
//     tail of the last segment (a write never acknowledged) is cut on open;
//     damage anywhere else stops the node from starting, naming the file
//     and offset. The log has no gaps (raft.MonotonicLogStore): raft deletes
//     it whole when it installs a snapshot.
//   - raft.db: a bbolt file, fsynced on every commit, holding Raft's stable
//     store (term, vote) and the replica's membership metadata.
//   - snapshots/: raft's FileSnapshotStore, fsynced.
//
// A command is acknowledged by Submit only after a majority of servers
// stored the entry carrying it durably and the leader applied it.
//
// A raft.db written before raft-log/ holds the log too (in runs: one
// nested bucket per batch; before runs, in one bucket, which is moved into
// runs first). The first open moves it into raft-log/ crash-safely
// (raftstore.go). The move is one way: a binary from before raft-log/
// would find the log empty; entries it then wrote to raft.db make the
// next open fail (unless they end at the same index as raft-log/) rather
// than choose between two logs.
//
// # Group commit and framing
//
// Submit, SubmitBatch and SubmitCommands are called by many HTTP handlers
// at once. A single batcher goroutine packs queued commands into one Raft
// log entry per batch (bounded by Config.MaxBatch, MaxBatchBytes and
// MaxWait, with at most MaxInflight entries in flight) and hands each caller
// its own [Result]. The queue is bounded: when full, Submit fails fast with
// [ErrOverloaded]. A [Command] given in two parts (a caller's header and a
// payload it holds) is framed straight into the log entry, with no copy
// of the payload before it (the log store and the transport then write
// out that entry as for any other).
//
// Every entry this package writes is framed as
//
//	version:u8 kind:u8 count:u32 count*(len:u32 command)
//
// (big-endian, count >= 1, no trailing bytes; see framing.go). kind 1 carries
// FSM commands; kind 2 is reserved for the replica's membership metadata and
// never reaches the FSM.
//
// # Contracts
//
//   - An FSM that implements [EntriesFSM] gets several committed entries at
//     once (raft.BatchingFSM: raft hands over up to MaxAppendEntries
//     committed logs together; the replica passes each run of command
//     entries between membership entries), so that it can apply them in one
//     storage transaction: one disk sync per group instead of per entry.
//     The grouping depends on timing and differs between replicas, so it
//     MUST NOT change the FSM's state or results: ApplyEntries MUST be
//     equivalent to ApplyBatch on each entry in order. Other FSMs get one
//     ApplyBatch call per entry.
//   - The FSM's ApplyBatch MUST be deterministic (no clocks, randomness or map
//     iteration order), MUST store the Raft index atomically with its effects
//     and MUST treat an index <= AppliedIndex() as already applied: raft
//     replays the log after a restart and this package relies on the FSM to
//     make replay harmless. It MUST return exactly one Result per command.
//   - A domain rejection is a Result with Err set. Panicking in ApplyBatch
//     stops the node.
//   - A committed entry that does not decode, or an FSM that returns the wrong
//     number of results, MUST NOT be skipped: the replica panics, because
//     skipping or guessing would let replicas diverge. The decoder itself
//     never panics on garbage.
//   - Restore MUST replace all FSM state, including its applied index.
//   - At startup the replica reads the header of the latest snapshot and asks
//     raft to restore it only if the FSM's AppliedIndex (or the membership
//     metadata) is behind it; otherwise the FSM's own durable state is kept.
//   - Only the leader accepts writes. On a follower, Submit, Join and Remove
//     return a *[NotLeaderError] (errors.Is ErrNotLeader) naming the leader's
//     ID and API address so the caller can forward the request.
//   - [ErrLeadershipLost], [ErrShutdown] and a cancelled context leave the
//     outcome unknown: the entry may still commit. Commands SHOULD be
//     idempotent at the FSM level (e.g. keyed by content hash) so that a
//     retry is harmless.
//
// # Read index
//
// [Node.ReadIndex] is the leader's half of a linearizable read (the
// ReadIndex algorithm of the Raft thesis, §6.4): after a barrier committed
// once per term, it takes the commit index, confirms with a heartbeat round
// (raft's VerifyLeader) that it still leads, and returns the index of the
// last FSM command entry at or below that commit index. A node whose FSM
// AppliedIndex reaches it holds every write acknowledged before the call.
// A leader cut off from the majority fails with ErrNotLeader instead of
// answering from its stale state. Nothing is written but the barrier.
//
// # Membership metadata
//
// Raft's configuration knows each server's ID and Raft address, but followers
// must also name the leader's API (HTTP) address. The replica therefore
// replicates membership-metadata entries (kind 2: set or forget the API
// address of a server ID) through the same log. Each replica applies them to
// a bucket of raft.db in one transaction with the entry's index (so replay
// is harmless), keeps them in memory for Leader and Servers, and writes them
// at the head of every snapshot stream, before the FSM's own stream. Join
// commits the new server's API address before adding it as a voter; a node
// that becomes leader records its own API address if missing (this covers the
// bootstrap node).
//
// # Logging
//
// The package logs only through Config.Logger; raft's logs go through an
// hclog adapter to the same logger. Commands are never logged.
package replica
