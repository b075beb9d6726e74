package client_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkVerifyElection1000 is the observer's full check (V1–V13) of an
// election with 900 voters, 1,000 cast ballots (100 revotes), 10 audits,
// 3 trustees with threshold 2 and blocks of 64 entries:
//
//	go test -run '^$' -bench VerifyElection1000 -benchmem -benchtime 3x ./client
func BenchmarkVerifyElection1000(b *testing.B) {
	cfg := testonly.Config{Voters: 900, Ballots: 1000, Audits: 10, N: 3, T: 2, Decrypt: []int{1, 3}, Complaint: true, Nodes: 3, BlockSize: 64}
	e := testonly.Build(b, "bench-1000", cfg)
	rec := e.Record()
	b.SetBytes(int64(len(rec)))
	// Peak heap, sampled as Verify reports progress (every 64 entries).
	var peak uint64
	var ms runtime.MemStats
	sample := func(string, int, int) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := client.VerifyElectionRecord(bytesReader(rec), client.VerifyOptions{Progress: sample})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counted != 900 {
			b.Fatalf("counted %d", rep.Counted)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(len(rec))/(1<<20), "record-MB")
}

// BenchmarkVerify1of5 is the observer's full check (V1–V13) of elections of
// the shape measured against Belenios (testonly.OneOfFive: one 1-of-5
// question, 3 trustees with threshold 2, one ballot per voter):
//
//	go test ./client -run '^$' -bench 'Verify1of5/ballots=1000$' -benchtime 5x -count 6
//
// URNA_BENCH_RECORD=FILE (written by bench/genrecord) verifies that record
// instead, as sub-benchmark "file".
func BenchmarkVerify1of5(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("ballots=%d", n), func(b *testing.B) {
			e := testonly.Build(b, fmt.Sprintf("bench-1of5-%d", n), testonly.OneOfFive(n))
			benchVerify(b, e.Record(), n)
		})
	}
	if f := os.Getenv("URNA_BENCH_RECORD"); f != "" {
		b.Run("file", func(b *testing.B) {
			rec, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			benchVerify(b, rec, -1)
		})
	}
}

func benchVerify(b *testing.B, rec []byte, counted int) {
	b.SetBytes(int64(len(rec)))
	runtime.GC()
	cpu0 := testonly.CPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := client.VerifyElectionRecord(bytesReader(rec), client.VerifyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if counted >= 0 && rep.Counted != counted {
			b.Fatalf("counted %d, want %d", rep.Counted, counted)
		}
	}
	b.StopTimer()
	// On the shared machine wall time mostly measures the other processes;
	// the CPU time of the whole process (every goroutine) is the work.
	cpu := testonly.CPUTime() - cpu0
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	if counted > 0 {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(counted), "wall-µs/ballot")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/float64(counted), "cpu-µs/ballot")
	}
}

// BenchmarkTrusteeFollow is what `urna trustee decrypt` costs before it
// decrypts anything (SPEC.md §10.7): Follow over the record of a closed
// election (V1–V11, the aggregate recomputed) and the comparison of two
// nodes' checkpoints and a remembered one. Sizes are cast ballots:
//
//	go test -run '^$' -bench TrusteeFollow/ballots=10000 -benchtime 1x ./client
func BenchmarkTrusteeFollow(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("ballots=%d", n), func(b *testing.B) {
			cfg := testonly.Config{Voters: n, Ballots: n, N: 3, T: 2, Decrypt: []int{1, 2}, Nodes: 3, BlockSize: 256}
			e := testonly.Build(b, fmt.Sprintf("follow-%d", n), cfg)
			src := newNode(b, e, e.Entries[:e.SeqClose+1])
			b.SetBytes(int64(len(src.rec)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := client.Follow(b.Context(), src, client.FollowOptions{Others: []client.Source{src}, Known: [][]byte{src.note}})
				if err != nil {
					b.Fatal(err)
				}
				if !s.Closed || s.Counted != n {
					b.Fatalf("closed %v, counted %d", s.Closed, s.Counted)
				}
			}
			b.ReportMetric(float64(len(src.rec))/(1<<20), "record-MB")
		})
	}
}

// BenchmarkTrusteeFollowIncremental is the trustee's check before it
// decrypts (SPEC.md §10.7) with and without a saved state: n voters have
// cast a ballot when the trustee last followed the board (it saved its
// state, Verified.MarshalState); then 1% more vote and the election
// closes. "full" is Follow over the whole closed record (the first
// contact, or a party without a state); "incremental" is Follow from the
// saved state (parsing it included), reading only the new blocks:
//
//	go test -run '^$' -bench 'TrusteeFollowIncremental/ballots=10000$' -benchtime 1x ./client
//
// Metrics are per contact: wall and process CPU seconds, the state's size
// and the time to save it (MarshalState).
func BenchmarkTrusteeFollowIncremental(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("ballots=%d", n), func(b *testing.B) {
			const bs = 256
			m := n + n/100
			cfg := testonly.Config{Voters: m, Ballots: m, N: 3, T: 2, Decrypt: []int{1, 2}, Nodes: 3, BlockSize: bs}
			e := testonly.Build(b, fmt.Sprintf("follow-incr-%d", n), cfg)
			closed := e.Entries[:e.SeqClose+1]
			// The earlier contact: the whole blocks up to the n-th ballot.
			k := (e.SeqCounted[n-1] + 1) / bs * bs
			_, state := savedAfter(b, newSealedNode(b, e, closed[:k], bs))
			now := newSealedNode(b, e, closed, bs)
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				measure := func(name string, opts client.FollowOptions) {
					runtime.GC()
					cpu0, t0 := testonly.CPUTime(), time.Now()
					s, err := client.Follow(b.Context(), now, opts)
					wall, cpu := time.Since(t0), testonly.CPUTime()-cpu0
					if err != nil {
						b.Fatal(err)
					}
					if !s.Closed || s.Counted != m {
						b.Fatalf("closed %v, counted %d", s.Closed, s.Counted)
					}
					b.ReportMetric(wall.Seconds(), name+"-wall-s")
					b.ReportMetric(cpu.Seconds(), name+"-cpu-s")
					if name == "incremental" {
						t0 := time.Now()
						st, err := s.MarshalState()
						if err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(time.Since(t0).Seconds(), "save-state-s")
						b.ReportMetric(float64(len(st))/(1<<20), "state-MB")
					}
				}
				records := now.records
				measure("full", client.FollowOptions{})
				measure("incremental", client.FollowOptions{State: state})
				if now.records != records+1 || now.since == 0 {
					b.Fatalf("the incremental contact read the whole record")
				}
			}
			b.ReportMetric(float64(len(now.rec))/(1<<20), "record-MB")
			b.ReportMetric(float64(k), "entries-before")
		})
	}
}
