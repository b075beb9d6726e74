package board

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

var boardProfile = flag.String("board.cpuprofile", "", "BenchmarkBoard: write a CPU profile of the timed part alone (from the first submission until every node applied the last post) to this file")

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
// The posts are made before the timed part, and every one of them must
// be accepted (each a new entry: no duplicates) and applied by every node.
//
// Besides posts/s and the latencies it reports what holds on a shared
// machine, all counted from the first submission until every node applied
// the last post: cpu-µs/post (the whole process: three nodes, Raft, the
// submitting clients), commits/post (fsynced write transactions of the
// three state stores and the three Raft logs, each two fdatasync calls in
// bbolt) and posts/raft-entry (the leader's command entries).
// -board.cpuprofile=FILE profiles the same span.
func BenchmarkBoard(b *testing.B) {
	b.Run("nochecks", func(b *testing.B) { benchBoard(b, true) })
	b.Run("checks", func(b *testing.B) { benchBoard(b, false) })
}

func benchBoard(b *testing.B, skip bool) {
	const voters = 64
	// The manifest of the published numbers (bench/README.md): 2 questions, 5 options.
	qs := []ballot.Question{testonly.Questions()[0], {Text: "Budget", Options: []string{"yes", "no"}, Min: 0, Max: 1}}
	e := testonly.NewElection(b, "board test election", testonly.Config{Voters: voters, Questions: qs})

	var stateCommits atomic.Uint64
	c := &tcluster{t: b, tcp: true, nodes: map[string]*tnode{}, stopped: map[string]*tnode{}, base: b.TempDir(),
		keys: e.NodeKeys(), skip: skip, cosign: 50 * time.Millisecond,
		open: func(t testing.TB, id, dir string) store.Store {
			return countingStore{Store: boltOpener(t, id, dir), commits: &stateCommits}
		}}
	c.tweak = func(rc *replica.Config) {
		d := replica.DefaultConfig()
		rc.SnapshotThreshold = 1 << 30
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	}
	b.Cleanup(c.stopAll)
	c.startAll("n1", "n2", "n3")
	c.openElection(e)
	// The posts need the election's key: made now, while the cluster idles.
	entries := benchPosts(b, e, voters, b.N, skip)
	size := len(entries[0])
	leader := c.leader()
	start0 := leader.board.current().entries
	c.mu.Lock()
	var nodes []*tnode
	for _, n := range c.nodes {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()

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
	before := takeCounts(nodes, leader, &stateCommits)
	if *boardProfile != "" {
		f, err := os.Create(*boardProfile)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
	}
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
					if r.Err != nil {
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
	// Every node applies every post; the CPU and the commits count until then.
	want := start0 + uint64(b.N)
	deadline := time.Now().Add(2 * time.Minute)
	for _, n := range nodes {
		for n.board.current().entries < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := n.board.current().entries; got != want {
			b.Fatalf("node %s holds %d entries, want %d", n.id, got, want)
		}
	}
	after := takeCounts(nodes, leader, &stateCommits)
	if *boardProfile != "" {
		pprof.StopCPUProfile()
	}
	// Every post was accepted once, at its own position.
	var seqs []uint64
	for _, s := range subs {
		seqs = append(seqs, s.seq...)
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != start0+uint64(i) {
			b.Fatalf("accepted positions: %d posts, position %d is %d, want %d", len(seqs), i, s, start0+uint64(i))
		}
	}
	if len(seqs) != b.N {
		b.Fatalf("%d posts accepted, want %d", len(seqs), b.N)
	}
	// Wait for the checkpoint to cover everything, then compute latencies.
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
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "posts/s")
	b.ReportMetric(float64(size), "entry-bytes")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64((after.cpu-before.cpu).Microseconds())/n, "cpu-µs/post")
	b.ReportMetric(float64(after.commits-before.commits)/n, "commits/post")
	// The bytes allocated a post, all nodes together: steadier from run to
	// run than the CPU on a shared machine, and what each copy or
	// allocation cut removes.
	b.ReportMetric(float64(after.alloc-before.alloc)/n, "alloc-B/post")
	// The bytes all nodes sent to their disks a post (Raft logs and state
	// files): with three nodes on one disk, fsynced writes bind before
	// the CPU does (bench/README.md, "Where the ceiling is").
	if before.disk >= 0 && after.disk >= 0 {
		b.ReportMetric(float64(after.disk-before.disk)/n, "disk-B/post")
	}
	if d := after.entries - before.entries; d > 0 {
		b.ReportMetric(n/float64(d), "posts/raft-entry")
	}
	b.ReportMetric(0, "ns/op")
}

// benchPosts makes the n posts of a run: real ballots (checks), or for
// the board alone distinct variants of a few real ballots.
func benchPosts(b *testing.B, e *testonly.Election, voters, n int, skip bool) [][]byte {
	entries := make([][]byte, n)
	if skip {
		base := make([][]byte, voters)
		for v := range voters {
			base[v], _, _ = e.BallotEntry(v, testonly.Pick(v%3, v%2))
		}
		return ballotVariants(b, e, base, n)
	}
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
	return entries
}

// ballotVariants returns n distinct entries, entry i being
// e.Variant(base[i%len(base)], i) (the first ciphertext's alpha replaced by
// (i+2)·G) without parsing a ballot per entry: Variant finds the alpha's
// position once per base, and two of the results are checked against it.
func ballotVariants(b *testing.B, e *testonly.Election, base [][]byte, n int) [][]byte {
	point := func(k uint64) []byte {
		return group.NewElement().ScalarBaseMult(group.ScalarFromUint64(k + 2)).Bytes()
	}
	at := make([]int, len(base))
	for v, raw := range base {
		at[v] = bytes.Index(e.Variant(raw, 0), point(0))
		if at[v] < 0 {
			b.Fatalf("ballot %d: the variant's point is not in its bytes", v)
		}
	}
	out := make([][]byte, n)
	var wg sync.WaitGroup
	const workers = 2
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				v := i % len(base)
				out[i] = bytes.Clone(base[v])
				copy(out[i][at[v]:], point(uint64(i)))
			}
		})
	}
	wg.Wait()
	for _, i := range []int{0, n - 1} {
		if !bytes.Equal(out[i], e.Variant(base[i%len(base)], uint64(i))) {
			b.Fatalf("variant %d differs from testonly's", i)
		}
	}
	return out
}

// countingStore counts the committed write transactions of a store.
type countingStore struct {
	store.Store
	commits *atomic.Uint64
}

func (s countingStore) Update(ctx context.Context, fn func(store.WriteTx) error) error {
	err := s.Store.Update(ctx, fn)
	if err == nil {
		s.commits.Add(1)
	}
	return err
}

// benchCounts are the process's and the cluster's running totals.
type benchCounts struct {
	cpu     time.Duration // user + system CPU of the process
	commits uint64        // fsynced commits of every state store and Raft log
	entries uint64        // command entries the leader proposed
	alloc   uint64        // bytes the process allocated (runtime.MemStats.TotalAlloc)
	disk    int64         // bytes the process sent to the disk (/proc/self/io write_bytes; -1: unknown)
}

func takeCounts(nodes []*tnode, leader *tnode, stateCommits *atomic.Uint64) benchCounts {
	var c benchCounts
	c.cpu = testonly.CPUTime()
	c.commits = stateCommits.Load()
	for _, n := range nodes {
		c.commits += n.rep.Stats().LogCommits
	}
	c.entries = leader.rep.Stats().Entries
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c.alloc = ms.TotalAlloc
	c.disk = testonly.ProcIO("write_bytes")
	return c
}
