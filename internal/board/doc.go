// Package board is a node's replicated bulletin board (SPEC.md §3), on top
// of internal/store and the election rules of package bulletin. It knows
// nothing of HTTP: it hands out domain values (bulletin's types and its own
// small structs), which internal/httpapi turns into the API's wire types.
//
// Board composes five parts with one job each, sharing the committed state
// (an immutable snapshot replaced after each apply) through a small
// interface: FSM (the replica.EntriesFSM), Submitter (pre-check and
// proposal), Reader (reads), Hub (committed blocks to subscribers) and
// Cosigner (checkpoint signatures).
//
// # Commands
//
// Every Raft command is one type byte and a canonical body (command.go):
// "entry" (the proposer's unix-ms time and ONE canonical entry already
// pre-checked by the proposing node; a Raft entry groups many commands) and
// "cosign" (a board node's Ed25519 note signature on a checkpoint). A
// committed command that does not decode panics: skipping it could let
// replicas diverge. Domain rejections (rule sentinels of bulletin,
// ErrCosignRejected) are the per-command replica.Result.Err; an accepted
// entry's Result.Seq is its sequence number (the Submitter reads its block
// from the store, its tracker from the entry itself).
//
// # Apply
//
// ApplyEntries (replica.EntriesFSM) applies a run of committed Raft entries
// that raft delivered together, in ONE store transaction; ApplyBatch is the
// same for one entry. It is deterministic: no clocks, randomness or map
// iteration. The rules decode a manifest or a deal once (applyBodies keeps
// the object for Apply). For each Raft entry it writes the accepted entries, their tlog
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
// that receives the post (Submitter, SPEC.md §3.9.1); Apply re-runs only the
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
// stores it under (size, node) in store.NSCheckpoint. Reader.Checkpoint
// returns the newest checkpoint signed by a quorum with every stored
// signature; a receipt (SPEC.md §3.10) carries that checkpoint, which covers
// the entry (cover.Covers), and WriteRecord first waits (cover.Wait, at most
// 2 s) for it to cover the newest block.
//
// # Storage layout
//
// Entries, hashes and blocks use the store's append-only tables. Key-value
// namespaces (this list is authoritative; the one-line comments on the
// store.NS constants are older and looser):
//
//   - NSEntryHash: entry id (SHA-256 of the canonical entry) → seq u64;
//   - NSCredential: public credential → seq u64 of its latest cast ballot
//     (2^64-1 before the first);
//   - NSTracker: ballot tracker → kind u8 (1 cast, 2 audited) || seq u64;
//   - NSCheckpoint: size u64 || node id → that node's raw note signature
//     on the checkpoint of that size;
//   - NSTally: "deal/" || dealer u16 → seq u64 of the dealer's deal entry;
//   - NSMeta: "manifest" (canonical manifest), "state" (canonical
//     bulletin.ElectionState), "checkpoint" (u64 size of the newest
//     checkpoint a quorum signed), "result" (u64 seq of the result entry),
//     "voted" (u64 number of credentials that cast a ballot), "witnessed"
//     and "wcosig/" (witness cosignatures, §3.13).
//
// The package never logs entries, ballots or keys.
package board
