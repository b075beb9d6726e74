// Package board is a node's replicated bulletin-board state machine
// (SPEC.md §3): it implements replica.FSM on top of internal/store and the
// election rules of package bulletin, and httpapi.Backend for the node's
// HTTP API.
//
// # Commands
//
// Every Raft command is one type byte and a canonical body (command.go):
// "entries" (the proposer's unix-ms time and canonical entries already
// pre-checked by the proposing node) and "cosign" (a board node's Ed25519
// note signature on a checkpoint). A committed command that does not decode
// panics: skipping it could let replicas diverge. Domain rejections (rule
// sentinels of bulletin, ErrCosignRejected) are the per-command
// replica.Result.Err.
//
// # Apply
//
// ApplyEntries (replica.EntriesFSM) applies a run of committed Raft entries
// that raft delivered together, in ONE store transaction; ApplyBatch is the
// same for one entry. It is deterministic: no clocks, randomness or map
// iteration. For each Raft entry it writes the accepted entries, their tlog
// stored hashes (SPEC.md §3.7), the rules' effects (entry id, credentials,
// trackers, each credential's latest ballot), at most ONE block (SPEC.md
// §3.6; its time is the largest proposer time of the entry's commands, never
// below the previous block's) and the cosignatures; then, once per
// transaction, the rules' state and the last entry's Raft index. A block
// never spans two Raft entries, so block boundaries, hashes and roots do not
// depend on how raft grouped the entries, which is timing-dependent and
// differs between replicas. A Raft index at or below the stored applied
// index is a replay after a restart: nothing is applied and every result is
// ErrReplayed; the later entries of the same group are applied. Restore
// replaces the store wholesale (store.Restore).
//
// The expensive checks (strict decoding of ballots, envelope signatures,
// ballot proofs, dealer proofs) run before proposal, batched, on the node
// that receives the post (preCheck, SPEC.md §3.9.1); Apply re-runs only the
// cheap deterministic rules. In particular Apply reads a ballot's credential
// and tracker at fixed offsets rather than decoding its group elements, so a
// leader that skipped the pre-check (Config.SkipChecks, benchmarks only)
// could commit a ballot a verifier rejects (V8).
//
// # Checkpoints
//
// After applies, every node that is a board node of the manifest signs the
// newest checkpoint (bulletin.Checkpoint, C2SP signed-note form) with its
// Ed25519 key, at most once per Config.CosignInterval and always for the
// newest size, and submits a cosign command (a follower forwards it to the
// leader through Config.ForwardCosign). The FSM verifies the signature
// against the manifest's node key and the root it stores for that size (a
// different root is ErrCosignDiverged: evidence that a node diverged), and
// stores it under (size, node) in store.NSCheckpoint. /checkpoint serves the
// newest checkpoint signed by a quorum with every stored signature; a
// receipt (SPEC.md §3.10) carries that checkpoint, which covers the entry.
//
// # Storage layout
//
// Entries, hashes and blocks use the store's append-only tables. Key-value
// namespaces: NSEntryHash id → seq; NSCredential credential → seq of its
// latest ballot (2^64-1 before the first); NSTracker tracker → kind u8 ||
// seq u64; NSCheckpoint u64 size || node id → note signature; NSMeta
// "manifest", "state" (bulletin.ElectionState), "checkpoint" (newest quorum
// size), "result" (seq of the result entry).
//
// The package never logs entries, ballots or keys.
package board
