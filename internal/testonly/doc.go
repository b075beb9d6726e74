// Package testonly is Urna's test support: one election fixture that every
// package's tests share, built with the real ballot, tally and bulletin
// code, plus the small helpers the node's tests repeat (a logger that
// writes to t.Log, a free loopback address, a TestMain that builds the
// urna binary). Its deterministic randomness
// lives in the leaf package testonly/seeded, and the check of pinned
// known-answer files in the leaf package testonly/golden, which the
// in-package tests of ballot, tally, bulletin, group and schnorr can import
// (this package imports them, so their own tests cannot import it).
//
// It is for tests only: every key it draws comes from a seed, and failures
// stop the test. Production code MUST NOT import it; internal/deptest
// fails if a non-test package depends on it.
//
// An Election is a small real election: a manifest with two questions
// (Questions), credentials, N trustees with threshold T and a Pedersen key
// ceremony (optionally with one complaint answered by a reveal), board
// nodes n1…nK with quorum K/2+1. Tests that drive a board post its entries
// step by step (ManifestEntry, CredentialsEntry, DealEntries, …); tests of
// the verifier take a whole election from Build, with the entries in board
// order and where the interesting ones are, and seal them into a record
// (Seal, Record) whose blocks and checkpoints they can change and re-sign.
package testonly
