package client_test

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

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
	cpu0 := cpuTime()
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
	cpu := cpuTime() - cpu0
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	if counted > 0 {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(counted), "wall-µs/ballot")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/float64(counted), "cpu-µs/ballot")
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
