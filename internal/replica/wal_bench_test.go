package replica

import (
	"os"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkLogStoreAppend: the Raft log store alone, as the leader loop
// calls it in BenchmarkBoard: one ~275 KB command entry per StoreLogs,
// durable on return, the front cut every 4096 entries down to 2048
// (SnapshotThreshold, TrailingLogs). It reports the CPU per entry (user +
// system, of the whole process), the bytes the process wrote to the disk
// per entry (/proc/self/io write_bytes, when readable) and the store's
// size at the end.
//
//	go test ./internal/replica -run '^$' -bench LogStoreAppend -benchtime 3000x
func BenchmarkLogStoreAppend(b *testing.B) {
	dir := b.TempDir()
	s, err := openWAL(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, 275000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	wrote0, cpu0 := testonly.ProcIO("write_bytes"), testonly.CPUTime()
	b.ResetTimer()
	for i := range uint64(b.N) {
		l := &raft.Log{Index: i + 1, Term: 1, Type: raft.LogCommand, Data: data, AppendedAt: time.Now()}
		if err := s.StoreLogs([]*raft.Log{l}); err != nil {
			b.Fatal(err)
		}
		if (i+1)%4096 == 0 {
			if err := s.DeleteRange(1, i+1-2048); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(testonly.CPUTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/entry")
	if w := testonly.ProcIO("write_bytes"); w >= 0 && wrote0 >= 0 {
		b.ReportMetric(float64(w-wrote0)/float64(b.N), "disk-bytes/entry")
	}
	b.ReportMetric(float64(dirSize(dir)), "store-bytes")
}

func dirSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}
