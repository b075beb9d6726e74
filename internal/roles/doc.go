// Package roles implements what each party of an Urna election does over
// the board (SPEC.md §1): the election authority, the credential authority,
// the trustees and the voters. It is the library behind the `urna`
// subcommands and `urna demo`: it takes an API client (internal/apiclient)
// and key material, and returns values and errors. It never prints, never
// logs and reads no flags.
//
// Flows, in board order (SPEC.md §1, the life of an election):
//
//   - Authority: InitAuthority makes the EA's Schnorr key; CreateElection
//     posts the manifest built from an authoring JSON file (ballot's
//     ManifestJSON) with keys filled in from the parties' public files;
//     Open recomputes QUAL and the joint key from the key-ceremony entries
//     and posts the open entry; Close posts close; Tally aggregates the
//     counted ballots, verifies the partial decryptions, combines T valid
//     ones and posts the result.
//   - Credential authority: InitCredentialAuthority, then IssueCredentials
//     draws N credentials, writes them to an owner-only file (one per line,
//     with a voter number) and posts the public list.
//   - Trustee: InitTrustee (signing and HPKE keys), Deal, Check (confirm or
//     complain), Answer (reveal shares for complaints against it) and
//     Decrypt, which runs its own verification of the whole board (package
//     client, V1–V11) and refuses to decrypt unless it passes.
//   - Voter: Cast encrypts, optionally challenges (Benaloh audit, SPEC.md §7)
//     and casts, and returns a receipt (entry, checkpoint, inclusion proof);
//     CheckReceipt checks a saved receipt against a node.
//
// Every flow reads the board only as a verified record (SPEC.md §10.7;
// observe.go): client.Follow over the first node's record, its newest
// checkpoint and every other node's proved consistent with it, and the
// party's memory of the board (MemoryFile, in its directory) extended. A
// step that depends on the whole board also refuses a record older than a
// checkpoint shown (a stale view). Nothing a node states outside signed,
// verified data (its status, its /entries pages, tracker statuses) is
// acted on; a fork leaves an evidence file (SPEC.md §10.8) beside the
// memory. The voter's device follows the prefix up to the open entry
// instead (FetchVerifiedElection, SPEC.md §10.6).
//
// A party verifies the board once: after each contact it saves the state
// its verification ended in (StateFile, beside the memory, 0600, replaced
// atomically), and the next contact reads and verifies only the blocks
// after it, framed from GET /blocks and /entries (suffix.go), after the
// node's checkpoint is proved consistent with the saved one. Pages that do
// not frame or do not verify send the party to the whole record.
//
// Secrets live only in local files with owner-only permissions (0600, in
// 0700 directories): key files, credential files and the trustee's dealer
// seed. They are never logged and never sent: only signed entries and
// public keys leave the machine.
//
// The trustee's dealer polynomial must survive between separate processes
// (deal, answer, decrypt) but tally.DealerState has no encoding; the
// trustee keeps instead a 32-byte dealer seed (0600) and re-derives the
// same polynomial by running tally.Deal on a deterministic SHAKE256 stream
// of that seed, checking that the commitments match its post on the board.
package roles
