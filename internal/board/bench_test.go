package board

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// BenchmarkBoard measures posts per second accepted by a 3-node cluster on
// loopback TCP with fsync on (bbolt store, bbolt Raft log), submitting
// ballot entries in-process to the leader's Board.Submit from many
// goroutines (batches of 16, as HTTP clients posting several entries
// would), and the latency from submission to a checkpoint signed by a
// quorum that covers the entry. Run with an explicit count, e.g.
//
//	go test ./internal/board -run '^$' -bench 'Board/nochecks' -benchtime 20000x
//	go test ./internal/board -run '^$' -bench 'Board/checks' -benchtime 3000x
//
// nochecks: SkipChecks (no signature or proof checks; the board alone).
// The entries are structurally valid ballot variants of real ballots.
// checks: real ballots, every signature and proof verified in batches.
func BenchmarkBoard(b *testing.B) {
	b.Run("nochecks", func(b *testing.B) { benchBoard(b, true) })
	b.Run("checks", func(b *testing.B) { benchBoard(b, false) })
}

func benchBoard(b *testing.B, skip bool) {
	const voters = 64
	// The manifest of the published numbers (bench/README.md): 2 questions, 5 options.
	qs := []ballot.Question{testonly.Questions()[0], {Text: "Budget", Options: []string{"yes", "no"}, Min: 0, Max: 1}}
	e := testonly.NewElection(b, "board test election", testonly.Config{Voters: voters, Questions: qs})
	c := &tcluster{t: b, tcp: true, nodes: map[string]*tnode{}, stopped: map[string]*tnode{}, base: b.TempDir(),
		keys: e.NodeKeys(), open: boltOpener, skip: skip, cosign: 50 * time.Millisecond}
	c.tweak = func(rc *replica.Config) {
		d := replica.DefaultConfig()
		rc.SnapshotThreshold = 1 << 30
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	}
	b.Cleanup(c.stopAll)
	c.startAll("n1", "n2", "n3")
	c.openElection(e)

	// Prepare b.N ballot entries (not timed).
	entries := make([][]byte, b.N)
	if skip {
		base := make([][]byte, voters)
		for v := range voters {
			base[v], _, _ = e.BallotEntry(v, testonly.Pick(v%3, v%2))
		}
		for i := range entries {
			entries[i] = e.Variant(base[i%voters], uint64(i))
		}
	} else {
		var wg sync.WaitGroup
		workers := 4
		for w := range workers {
			wg.Go(func() {
				rnd := seeded.New(fmt.Sprintf("bench %d", w))
				for i := w; i < len(entries); i += workers {
					entries[i] = e.BallotWith(rnd, i%voters, testonly.Pick(i%3, i%2))
				}
			})
		}
		wg.Wait()
	}
	size := len(entries[0])
	leader := c.leader()
	start0 := leader.board.current().entries

	// Watch the leader's quorum checkpoint to time when each entry is covered.
	type mark struct {
		at   time.Time
		size uint64
	}
	var marks []mark
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		last := uint64(0)
		for {
			if cp := leader.board.current().quorumCP; cp > last {
				marks = append(marks, mark{time.Now(), cp})
				last = cp
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(500 * time.Microsecond):
			}
		}
	}()

	const batch, clients = 16, 48
	type sub struct {
		at  time.Time
		seq []uint64
	}
	subs := make([]sub, (b.N+batch-1)/batch)
	var next sync.Mutex
	nextBatch := 0
	var failed sync.Once
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				next.Lock()
				k := nextBatch
				nextBatch++
				next.Unlock()
				if k*batch >= len(entries) {
					return
				}
				chunk := entries[k*batch : min((k+1)*batch, len(entries))]
				at := time.Now()
				var res []Posted
				var err error
				for try := 0; try < 50; try++ {
					res, err = leader.board.Submit(context.Background(), chunk)
					if !errors.Is(err, replica.ErrOverloaded) && !errors.Is(err, replica.ErrNotLeader) && !errors.Is(err, replica.ErrLeadershipLost) {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				if err != nil {
					failed.Do(func() { b.Errorf("submit: %v", err) })
					return
				}
				s := sub{at: at}
				for _, r := range res {
					if r.Err != nil && !errors.Is(r.Err, bulletin.ErrDuplicate) {
						failed.Do(func() { b.Errorf("entry rejected: %v", r.Err) })
						return
					}
					s.seq = append(s.seq, r.Seq)
				}
				subs[k] = s
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	// Wait for the checkpoint to cover everything, then compute latencies.
	want := start0 + uint64(b.N)
	deadline := time.Now().Add(20 * time.Second)
	for leader.board.current().quorumCP < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(stopWatch)
	<-watchDone
	var lat []time.Duration
	for _, s := range subs {
		for _, seq := range s.seq {
			i, _ := slices.BinarySearchFunc(marks, seq+1, func(m mark, x uint64) int {
				if m.size < x {
					return -1
				}
				if m.size > x {
					return 1
				}
				return 0
			})
			if i < len(marks) {
				lat = append(lat, marks[i].at.Sub(s.at))
			}
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "posts/s")
	b.ReportMetric(float64(size), "entry-bytes")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(0, "ns/op")
}
