package board

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkElectionStatus measures the election status's count of entry
// types (Reader.ElectionStatus) on a closed 1-of-5 election of n ballots
// and n/10 revotes on a bbolt board:
//   - "first": a status on a fresh count, the whole log read (the first
//     status after a start, before the warm-up counted anything; also the
//     warm-up's own work); wall and CPU time per entry;
//   - "started": the first status once a board opened on the store and
//     started (Board.Start) has warmed up, with the warm-up's wall time;
//   - "atstart": a status asked the moment such a board starts (it takes
//     over the warm-up's count: a request racing the warm-up);
//   - "next": a later status, nothing new to count.
//
// Building the 100,000-ballot board takes tens of seconds; run with an
// explicit count:
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
		b.Run(fmt.Sprintf("started/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var warm time.Duration
			for range b.N {
				b.StopTimer()
				nb, err := Open(Config{NodeID: "n1", Store: bd.st, SkipChecks: true})
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				nb.Start()
				<-nb.warmed
				warm += time.Since(t0)
				b.StartTimer()
				if _, err := nb.ElectionStatus(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = nb.Close()
			}
			b.ReportMetric(float64(warm.Milliseconds())/float64(b.N), "warmup-ms")
		})
		b.Run(fmt.Sprintf("atstart/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				nb, err := Open(Config{NodeID: "n1", Store: bd.st, SkipChecks: true})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				nb.Start()
				if _, err := nb.ElectionStatus(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				<-nb.warmed
				_ = nb.Close()
			}
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
