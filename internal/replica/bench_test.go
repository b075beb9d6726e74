package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/testonly"
)

// nopFSM records only its applied index: the benchmark measures replication.
type nopFSM struct {
	mu      sync.Mutex
	applied uint64
}

func (f *nopFSM) ApplyBatch(idx uint64, cmds [][]byte) []Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	if idx > f.applied {
		f.applied = idx
	}
	return make([]Result, len(cmds))
}

func (f *nopFSM) AppliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

func (f *nopFSM) Snapshot() (raft.FSMSnapshot, error) {
	return &nopSnapshot{applied: f.AppliedIndex()}, nil
}

func (f *nopFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var b [8]byte
	if _, err := io.ReadFull(rc, b[:]); err != nil {
		return err
	}
	f.mu.Lock()
	f.applied = binary.BigEndian.Uint64(b[:])
	f.mu.Unlock()
	return nil
}

type nopSnapshot struct{ applied uint64 }

func (s *nopSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(binary.BigEndian.AppendUint64(nil, s.applied)); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}
func (s *nopSnapshot) Release() {}

// BenchmarkSubmit3Nodes: three nodes on loopback TCP with fsync on, 1.7 KiB
// commands from many concurrent submitters (GOMAXPROCS*64 goroutines), with
// DefaultConfig batching.
//
//	go test ./internal/replica -run '^$' -bench Submit3Nodes -benchtime 100000x
func BenchmarkSubmit3Nodes(b *testing.B) {
	base := b.TempDir()
	var nodes []*Node
	for i := 1; i <= 3; i++ {
		cfg := DefaultConfig()
		cfg.ID = fmt.Sprintf("b%d", i)
		cfg.DataDir = filepath.Join(base, cfg.ID)
		cfg.RaftBind = "127.0.0.1:0"
		cfg.APIAddr = "http://" + cfg.ID
		cfg.Bootstrap = i == 1
		cfg.Logger = testonly.Logger(b, slog.LevelWarn)
		n, err := New(cfg, &nopFSM{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = n.Shutdown() })
		nodes = append(nodes, n)
	}
	joinAll(b, nodes)
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
