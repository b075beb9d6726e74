package board

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally/shuffle"
)

// BenchmarkCountedRows measures the mix inputs of a ranked question
// (SPEC.md §11.1): what the first shuffle or mix decryption to check costs
// the leader, the K.5 rows of every counted ballot, on a closed election
// of bench/manifest-ranked5.json's shape (rank 5 options) of n counted
// ballots and n/10 revotes on a bbolt board. "full" is the node before
// ballot.ParseMixRow (fullParseRows: every ballot decoded whole in one
// read transaction, on one core), "chunked" the node's countedRows. Besides the
// wall time per ballot it reports the process's CPU time per ballot (user
// and system, GC included), which depends less on what else runs on a
// shared machine. Building the board takes about a second per 2,000
// ballots; run with an explicit count:
//
//	go test ./internal/board -run '^$' -bench CountedRows -benchtime 3x
func BenchmarkCountedRows(b *testing.B) {
	const n = 20_000
	bd, e := tallyFixture{voters: n, revotes: n / 10, questions: ranked5, answers: ranked5Answers}.build(b)
	for _, c := range []struct {
		name string
		rows func(st store.Store, m *ballot.Manifest) ([]shuffle.Row, error)
	}{
		{"full", func(st store.Store, m *ballot.Manifest) ([]shuffle.Row, error) { return fullParseRows(st, m, 0) }},
		{"chunked", func(st store.Store, m *ballot.Manifest) ([]shuffle.Row, error) {
			return countedRows(st, m, 0, runtime.GOMAXPROCS(0))
		}},
	} {
		b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
			perItem(b, n, "ballot", func() {
				rows, err := c.rows(bd.st, e.Manifest)
				if err != nil || len(rows) != n {
					b.Fatalf("%d rows: %v", len(rows), err)
				}
			})
		})
	}
}
