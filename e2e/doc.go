// Package e2e holds the end-to-end test of Urna: a whole election held by
// separate `urna` processes (three board nodes, the election authority, the
// credential authority, three trustees and the voters), exported, verified
// with `urna verify`, and then tampered with in several ways, each of which
// `urna verify` must reject naming the right step of SPEC.md §10.
//
// Along the way (bolt only) `urna vote`, `urna check-receipt`, `urna
// trustee decrypt` and `urna tally` run through a hostile proxy that
// substitutes the election key, serves a stale view, hides ballots or
// serves a history forked with the board nodes' keys: each refuses, and a
// fork leaves evidence that `urna verify --evidence` proves (attack_test.go).
package e2e
