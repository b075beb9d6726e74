// Package client is Urna's offline verifier: the observer's and the voter's
// side of the protocol. It talks to no server (the HTTP client of the API is
// internal/apiclient); it takes data already fetched and verifies it without
// trusting the board, the authorities or the trustees: a complete election
// record (SPEC.md §10, steps V1–V16), a voter's receipt against fresh
// checkpoints (SPEC.md §3.10, V3.6–V3.7), and the election key a voter's
// device encrypts under (SPEC.md §10.6).
//
// VerifyElectionRecord reads a record (the format of SPEC.md §3.11, written
// by the board and read with package bulletin) in one pass and runs every
// step, each named by a Step constant (StepV1 … StepV16):
//
//	V1  every block header, entry and body decodes canonically
//	V2  the blocks form a hash-linked chain that covers every entry once
//	V3  the Merkle log recomputed from the entries matches every block's
//	    log size and root, and every checkpoint is signed by a quorum of the
//	    manifest's board nodes and names a block of the chain
//	V4  the manifest is valid, is the first entry, and is signed by the
//	    authority it names; every entry carries its fingerprint
//	V5  the election rules (bulletin.Rules) accept every entry in order:
//	    phases, author roles and keys
//	V6  the credential list is canonical and posted once by the CA
//	V7  the key ceremony: dealer proofs, complaints and reveals, QUAL, the
//	    joint key and verification keys, and the open entry's claims
//	V8  every cast ballot: envelope signature, well-formedness proofs and
//	    binding to the election, the credential and the manifest
//	V9  every audited ballot's opening re-encrypts to its ciphertexts
//	V10 the last valid ballot of each credential counts, nothing else
//	    (ballot.Counter, the one implementation of the counting rule)
//	V11 the aggregate of the counted ballots
//	V12 every partial decryption's Chaum–Pedersen proofs
//	V13 combination of the T smallest valid partial decryptions, discrete
//	    logs, and equality with the posted result
//	V14 each shuffle of a ranked, score or write-in question takes the
//	    cascade's current rows and its proof verifies (mix.go)
//	V15 each mix decryption's batched proof against the last rows
//	V16 the last rows decrypted and decoded are the result's mixed answers;
//	    Verified.Mixed counts them (IRV, STV, Schulze, grades, write-ins)
//
// VerifyElectionKey runs the same per-entry steps (V1, V4–V7, and V3
// against a signed checkpoint when given one) over the board's entries up
// to the open entry only, and returns the election key they establish: a
// voter's device encrypts under this key, never under one a node reports
// (SPEC.md §10.6).
//
// The report (Report) says for each step whether it passed, how many
// objects it checked and, for each failure, the entry sequence number or
// block height and the field (the sub-step, e.g. "V8.6 question 0 option
// 1"). A step the record does not reach (an election in progress, or
// everything after a failure the verifier cannot get past, such as a
// truncated record) did not run and did not fail: Ran is false and Skipped
// says why. The report's JSON form carries ReportSchemaVersion and the
// result labelled with the manifest's questions and options.
// VerifyElectionRecord streams: it holds the key-ceremony
// entries, one encoded ballot per credential (the one that currently
// counts, needed to take it out of the running aggregate when the voter
// votes again) and at most one chunk of ballots awaiting batch
// verification (ChunkSize); 100,000 ballots do not need 100,000 decoded
// ballots in memory.
//
// Parallelism. VerifyElectionRecord reads the record on one goroutine,
// decodes entries and checks ballots (signature and proofs, one batch per
// job of about 512 entries) on VerifyOptions.Workers goroutines, and runs
// the record-order steps on the caller's goroutine, which takes the
// decoded bodies and the verdicts in order (pipeline.go). A bounded number
// of jobs is in flight; the report does not depend on the number of
// workers.
//
// Batching. Ballot signatures and proofs are verified in chunks with
// random linear combinations (SPEC.md §2.5) whose weights come from
// VerifyOptions.Rand (crypto/rand by default). A false equation passes a
// chunk with probability about 1/ℓ. When a chunk fails, VerifyElectionRecord
// bisects it and names exactly the bad entries. Failures of proofs are reported with the
// V-sub-step that failed (ballot.Diagnose, tally.FailedFactors); the
// packages' errors stay opaque.
//
// Incremental verification (state.go). Follow hands back, with the
// verified state, what its record-order pass needs to go on
// (Verified.MarshalState, or WriteState as a stream); a later Follow
// given it (FollowOptions.State, or StateReader as a stream) proves the
// node's newest checkpoint consistent with the saved one and verifies only
// the blocks after it (SuffixSource), with the same verdict as a
// verification of the whole record. A state that cannot be used is not
// trusted: the whole record is verified, and Verified.StateUnused says why.
//
// Everything here is variable time: it only ever sees public data. The
// package is pure: no network, no files, no logging; the caller supplies
// the record as an io.Reader.
package client
