// Package trustee is what an Urna trustee decides and keeps, with no I/O:
// its key file and the state it carries between steps, and its key
// ceremony and decryption steps (SPEC.md §8, §9.2) computed from a board
// the caller verified (client.Follow or client.FollowRecord, SPEC.md
// §10.7). It is the one copy shared by `urna trustee` (internal/roles,
// which reads and writes the files in the trustee's directory and talks
// to the nodes) and the trustee web page (web/wasm, where the page fetches
// and posts and the state travels in the one key file the trustee saves).
//
// State between steps. tally.DealerState has no encoding, so a trustee
// keeps a 32-byte dealer seed and re-derives the same polynomial by
// running tally.Deal on a deterministic SHAKE256 stream of it
// (DealerStream), checking that the commitments match its deal on the
// board. It also keeps its memory of the board: the newest checkpoint
// seen per election (SPEC.md §10.7). The CLI keeps these in separate
// files of its directory (trustee.dealer-seed, board-memory.json); the
// page keeps them inside the key file (fields dealer_seed and
// board_memory, each exactly the content of the CLI's file), and the CLI
// reads them from there too.
//
// Secrets (the trustee's keys, the dealer seed) never leave the caller's
// memory except in the key file it writes for its owner; every value this
// package returns for posting is a public entry body.
package trustee
