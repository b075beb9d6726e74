package client_test

import (
	"runtime"
	"testing"

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
