// Package bulletin implements Urna's bulletin board as pure data and rules
// (SPEC.md §3): the signed entry envelope, hash-linked blocks, the RFC 6962
// Merkle log of all entries (golang.org/x/mod/sumdb/tlog), checkpoints as
// C2SP signed notes (golang.org/x/mod/sumdb/note), inclusion and
// consistency proofs and receipts for clients, the election-record file,
// and the election state machine that decides which entries the board
// accepts. It provides the building blocks of the verification steps V1
// (strict decoders, RecordReader), V2 (CheckLink), V3 (MemoryLog, Board.Open)
// and V5 (Rules, MemIndex) of SPEC.md §3.12; package client runs them, with
// the other steps, over a whole election record.
//
// # Objects
//
// An Entry is version u8 | type u8 | election fingerprint [32] | author role
// u8 | author key [32] | body (u32-prefixed) | Schnorr signature [64]. The
// body is the canonical encoding of an object owned by package ballot
// (manifest, credential list, ballot, audited ballot), tally (key-ceremony
// posts, partial decryption, result) or this package (open, close). The
// signature covers everything before it, prefixed by the tag
// "urna/v1/board-entry-signature". An entry's identifier is
// Digest("board-entry"; entry bytes) and its Merkle leaf is
// SHA-256(0x00 || entry bytes).
//
// A BlockHeader (100 bytes) groups consecutive entries, links to the
// previous header's hash and commits to the Merkle root after the block. A
// Checkpoint is the C2SP tlog-checkpoint body (origin, size, root) plus one
// extension line "block <height> <hash>", signed with Ed25519 by the board
// nodes the manifest lists; a client accepts it only with a quorum of
// distinct known signers.
//
// # Rules and fault model
//
// Rules.Apply (electionrules.go) is the deterministic state machine the
// replicated board runs on every committed entry: it reads only the entry,
// the small ElectionState and an Index over storage, never a clock or
// randomness, so every replica reaches the same state. Its Bodies extract
// the facts it needs from the typed bodies (bodyfacts.go). PreCheck
// (proofcheck.go) holds the expensive
// checks (envelope signatures, ballot and key-ceremony proofs, batched and
// randomised) and runs once, on the node that receives an entry, before it
// is proposed. The board's Raft cluster is crash-fault tolerant only:
// replicas trust each other's PreCheck, and a compromised node could append
// an entry that would fail it. That is why observers trust nothing: they
// re-run every check on the published record (V1–V13), including the
// replay of the rules (V5) over a MemIndex (client.VerifyElectionRecord),
// and a board that lies is caught by its own signed checkpoints
// (InconsistencyError carries the evidence).
//
// # Security notes
//
// Everything here handles public data and is variable time. Decoders are
// strict: one encoding per object, trailing bytes rejected, sizes bounded
// before allocation, errors wrapping ErrMalformed and a nil result. Failed
// signature and proof checks return one opaque error (ErrInvalidSignature,
// ErrInvalidProof); the verifier's report (package client) names the V-step
// that failed.
// The package does no I/O except through the io.Reader and io.Writer its
// record functions are given, and never logs.
package bulletin
