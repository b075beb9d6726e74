// Package authority holds the election authority's decisions, shared by
// the command line (internal/roles) and the web console (web/wasm): the
// key files it reads and writes, completing a manifest from its authoring
// form (SPEC.md §4.4), and, from a board state verified by client.Follow
// (SPEC.md §10.7), the bodies of the entries it signs: open (QUAL and the
// joint key, §8.6 and V7) and the result (§9.3–§9.4).
//
// It does no I/O and never logs: callers read files and the board, verify
// the board, then ask this package what to sign. One copy of each rule, so
// that the console in the browser and `urna authority` cannot disagree.
package authority
