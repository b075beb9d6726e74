package replica

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkSubmit3Nodes: three nodes on loopback TCP with fsync on, 1.7 KiB
// commands from many concurrent submitters (GOMAXPROCS*64 goroutines), with
// DefaultConfig batching.
//
//	go test ./internal/replica -run '^$' -bench Submit3Nodes -benchtime 100000x
func BenchmarkSubmit3Nodes(b *testing.B) {
	nodes, fsms := tcpCluster(b, "b", func(_ int, cfg *Config) {
		// DefaultConfig's timers and batching, not the tests' short ones.
		d := DefaultConfig()
		d.ID, d.DataDir, d.RaftBind, d.APIAddr, d.Bootstrap = cfg.ID, cfg.DataDir, cfg.RaftBind, cfg.APIAddr, cfg.Bootstrap
		d.Logger = testonly.Logger(b, slog.LevelWarn)
		*cfg = d
	})
	for _, f := range fsms {
		f.mu.Lock()
		f.countOnly = true
		f.mu.Unlock()
	}
	ctx := context.Background()
	l := nodes[0]
	cmd := make([]byte, 1740) // 1.7 KiB
	var overloaded atomic.Int64
	b.SetBytes(int64(len(cmd)))
	b.SetParallelism(64)
	before := l.Stats()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for {
				_, err := l.Submit(ctx, cmd)
				if errors.Is(err, ErrOverloaded) {
					overloaded.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					b.Error(err)
					return
				}
				break
			}
		}
	})
	b.StopTimer()
	after := l.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
	if e := after.Entries - before.Entries; e > 0 {
		b.ReportMetric(float64(after.Commands-before.Commands)/float64(e), "cmds/entry")
	}
	b.ReportMetric(float64(overloaded.Load()), "overloaded")
}
