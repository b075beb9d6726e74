// Package deptest keeps the fence between Urna's pure packages (ballot, tally,
// bulletin, client and the crypto machinery under internal/) and the
// machinery that does I/O. It has no production code; see deptest_test.go.
package deptest
