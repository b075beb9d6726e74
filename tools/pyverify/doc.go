// Package pyverify holds an independent verifier of Urna election records,
// written in Python 3 (standard library only) from SPEC.md alone, and a Go
// test that runs it on records built by internal/testonly.
//
// The package has no Go API: it exists for its test. See README.md and
// FINDINGS.md.
package pyverify
