package client_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/client/clienttest"
)

// BenchmarkVerify1of5 is the observer's full check (V1–V13) of elections of
// the shape measured against Belenios (clienttest.OneOfFive: one 1-of-5
// question, 3 trustees with threshold 2, one ballot per voter):
//
//	go test ./client -run '^$' -bench 'Verify1of5/ballots=1000$' -benchtime 5x -count 6
//
// URNA_BENCH_RECORD=FILE (written by bench/genrecord) verifies that record
// instead, as sub-benchmark "file".
func BenchmarkVerify1of5(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("ballots=%d", n), func(b *testing.B) {
			e, err := clienttest.Build(fmt.Sprintf("bench-1of5-%d", n), clienttest.OneOfFive(n))
			if err != nil {
				b.Fatal(err)
			}
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
	if rep := b.Elapsed(); b.N > 0 && counted > 0 {
		b.ReportMetric(float64(rep.Microseconds())/float64(b.N)/float64(counted), "µs/ballot")
	}
}
