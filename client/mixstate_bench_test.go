package client_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/tally"
)

// BenchmarkTrusteeMixStepIncremental is a trustee's check before its turn
// in a mix cascade (SPEC.md §10.7, §11.2), with and without a saved state:
// n voters cast a ranked, a score and a write-in answer (KindQuestions),
// the trustee saved its state when the election closed, and trustee 2 has
// since posted the first shuffle of the first mixed question. "full" is
// Follow over the whole record (every ballot and the shuffle); "incremental"
// is Follow from the saved state (parsing it included), reading only the
// blocks after it and checking the shuffle:
//
//	go test -run '^$' -bench 'TrusteeMixStepIncremental/ballots=1000$' -benchtime 1x ./client
//
// Metrics are per contact: wall and process CPU seconds, and the state's
// size in bytes per counted ballot.
func BenchmarkTrusteeMixStepIncremental(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("ballots=%d", n), func(b *testing.B) {
			const bs = 64
			e := testonly.BuildKinds(b, fmt.Sprintf("mixstep-%d", n), testonly.Config{Voters: n, Ballots: n, N: 3, T: 2, Decrypt: []int{1, 3}, BlockSize: bs}, nil)
			q := e.MixQuestions()[0]
			in, err := tally.MixInput(e.Manifest, q, e.Counted)
			if err != nil {
				b.Fatal(err)
			}
			en, _ := e.ShuffleEntry(q, 2, 1, in)
			e.Post(en)
			// The earlier contact: the whole blocks up to the close.
			k := (e.SeqClose + 1) / bs * bs
			_, state := savedAfter(b, newSealedNode(b, e.Election, e.Entries[:k], bs))
			now := newSealedNode(b, e.Election, e.Entries, bs)
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, c := range []struct {
					name string
					opts client.FollowOptions
				}{{"full", client.FollowOptions{}}, {"incremental", client.FollowOptions{State: state}}} {
					runtime.GC()
					cpu0, t0 := testonly.CPUTime(), time.Now()
					s, err := client.Follow(b.Context(), now, c.opts)
					wall, cpu := time.Since(t0), testonly.CPUTime()-cpu0
					if err != nil {
						b.Fatal(err)
					}
					if len(s.Cascades) == 0 || s.Cascades[0].Position != 1 || s.Counted != n {
						b.Fatalf("%s: cascades %d, counted %d", c.name, len(s.Cascades), s.Counted)
					}
					b.ReportMetric(wall.Seconds(), c.name+"-wall-s")
					b.ReportMetric(cpu.Seconds(), c.name+"-cpu-s")
				}
			}
			if now.since == 0 {
				b.Fatal("the incremental contact read the whole record")
			}
			b.ReportMetric(float64(len(state))/float64(n), "state-B/ballot")
		})
	}
}
