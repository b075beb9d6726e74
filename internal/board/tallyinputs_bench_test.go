package board

import (
	"fmt"
	"testing"
)

// BenchmarkTallyInputs measures the node's tally inputs (SPEC.md §9.1):
// what the first partial decryption to check costs the leader
// (Submitter.tallyInputs), the aggregate of every counted ballot and the
// trustees' verification keys, on a closed 1-of-5 election (the shape of
// the 1,000,000-ballot demo) of n counted ballots and n/10 revotes on a
// bbolt board. Each iteration drops the node's cache first. Besides the
// wall time per ballot it reports the process's CPU time per ballot (user
// and system, GC included), which depends less on what else runs on a
// shared machine. Building the
// 100,000-ballot board takes tens of seconds; run with an explicit count:
//
//	go test ./internal/board -run '^$' -bench TallyInputs -benchtime 3x
func BenchmarkTallyInputs(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			bd, _ := tallyFixture{voters: n, revotes: n / 10, questions: oneOfFive}.build(b)
			v := bd.FSM.current()
			perItem(b, n, "ballot", func() {
				bd.Submitter.tally.reset()
				if _, _, err := bd.Submitter.tallyInputs(v); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
