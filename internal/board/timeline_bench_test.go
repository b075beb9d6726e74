package board

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkElectionStatus measures the election status's count of entry
// types (Reader.ElectionStatus) on a closed 1-of-5 election of n ballots
// and n/10 revotes on a bbolt board: "first" is the first status after
// the node starts (the whole log read, each iteration with a fresh
// cache), "next" a later one (nothing new to count). It reports the wall
// and CPU time per entry of the first count. Building the 100,000-ballot
// board takes tens of seconds; run with an explicit count:
//
//	go test ./internal/board -run '^$' -bench ElectionStatus -benchtime 3x
func BenchmarkElectionStatus(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		bd, _ := tallyFixture{voters: n, revotes: n / 10, questions: oneOfFive}.build(b)
		entries := bd.FSM.current().entries
		b.Run(fmt.Sprintf("first/%d", n), func(b *testing.B) {
			perItem(b, int(entries), "entry", func() {
				r := &Reader{cfg: bd.Reader.cfg, st: bd.Reader.st, src: bd.Reader.src, applied: bd.Reader.applied, tl: newTimelines(bd.st)}
				if _, err := r.ElectionStatus(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("next/%d", n), func(b *testing.B) {
			if _, err := bd.Reader.ElectionStatus(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := bd.Reader.ElectionStatus(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// perItem runs op b.N times, after a GC, and reports the wall and process
// CPU time (user and system, GC included: it depends less on what else
// runs on a shared machine) per item, op handling n items, besides the
// allocations.
func perItem(b *testing.B, n int, unit string, op func()) {
	runtime.GC()
	b.ReportAllocs()
	cpu0 := testonly.CPUTime()
	b.ResetTimer()
	for range b.N {
		op()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/"+unit)
	b.ReportMetric(float64((testonly.CPUTime()-cpu0).Microseconds())/float64(b.N)/float64(n), "cpu-µs/"+unit)
}
