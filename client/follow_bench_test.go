package client_test

import (
	"fmt"
	"testing"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

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
