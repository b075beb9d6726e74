// Package e2e holds the end-to-end test of Urna: a whole election held by
// separate `urna` processes (three board nodes, the election authority, the
// credential authority, three trustees and the voters), exported, verified
// with `urna verify`, and then tampered with in several ways, each of which
// `urna verify` must reject naming the right step of SPEC.md §10.
package e2e
