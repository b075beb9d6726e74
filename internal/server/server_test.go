package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestStartThreeNodes starts three in-process nodes (as `urna demo` does),
// joins them over HTTP, posts through a follower and waits for a
// checkpoint signed by a quorum, which needs the followers' cosignatures
// forwarded to the leader.
func TestStartThreeNodes(t *testing.T) {
	e, nodes := startElection(t, 4, 3, nil)
	defer func() {
		for _, n := range nodes {
			if err := n.Stop(); err != nil {
				t.Errorf("stop %s: %v", n.ID, err)
			}
		}
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	mustPost(t, hc, nodes[2].APIAddr, e.ManifestEntry())
	mustPost(t, hc, nodes[1].APIAddr, e.CredentialsEntry())

	note := waitQuorumCheckpoint(t, hc, nodes[1].APIAddr, 2, 15*time.Second)
	if _, err := e.Board().Open([]byte(note)); err != nil {
		t.Fatalf("checkpoint note: %v", err)
	}
	members(t, hc, nodes[0].APIAddr, 3)
}

// waitQuorumCheckpoint polls base's checkpoint until it covers exactly size
// entries with at least two signers, and returns its note.
func waitQuorumCheckpoint(t *testing.T, hc *http.Client, base string, size uint64, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var cp struct {
			Size    uint64   `json:"size"`
			Note    string   `json:"note"`
			Signers []string `json:"signers"`
		}
		err := getJSON(t.Context(), hc, base+"/api/v1/checkpoint", &cp)
		if err == nil && cp.Size == size && len(cp.Signers) >= 2 {
			return cp.Note
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quorum checkpoint of size %d at %s: %+v, %v", size, base, cp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterMember is a server of GET /cluster.
type clusterMember struct {
	ID      string `json:"id"`
	APIAddr string `json:"api_addr"`
}

// members returns the servers of base's GET /cluster, which MUST be n.
func members(t *testing.T, hc *http.Client, base string, n int) []clusterMember {
	t.Helper()
	var cl struct {
		Servers []clusterMember `json:"servers"`
	}
	if err := getJSON(t.Context(), hc, base+"/api/v1/cluster", &cl); err != nil || len(cl.Servers) != n {
		t.Fatalf("cluster: %+v, %v", cl, err)
	}
	return cl.Servers
}

// BenchmarkLargeCredentialList posts one credential list of
// URNA_BENCH_VOTERS voters (default 2²⁰, the SPEC.md §5.3 maximum: a
// 32 MiB entry) to a 3-node cluster through a follower's HTTP API, in
// binary (apiclient.SubmitOne), and waits until a quorum checkpoint covers
// it. URNA_BENCH_STORE=postgres puts the nodes' state in PostgreSQL
// (URNA_TEST_POSTGRES) instead of bbolt. It reports the post's wall time,
// the process's peak RSS growth and the Go heap's peak during the post
// (three nodes in one process: divide by three for a node).
//
//	go test ./internal/server -run '^$' -bench LargeCredentialList -benchtime 1x
func BenchmarkLargeCredentialList(b *testing.B) {
	voters := 1 << 20
	if v := os.Getenv("URNA_BENCH_VOTERS"); v != "" {
		var err error
		if voters, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	body := credentialListBody(b, voters)
	for range b.N {
		e := testonly.NewElection(b, "large credential list", testonly.Config{Voters: 2})
		entry := e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, body)
		pg := os.Getenv("URNA_BENCH_STORE") == "postgres"
		url := os.Getenv("URNA_TEST_POSTGRES")
		if pg && url == "" {
			b.Fatal("URNA_BENCH_STORE=postgres needs URNA_TEST_POSTGRES (source /work/pgenv.sh)")
		}
		tune := func(c *Config) {
			// A node's own Raft timing, not the tests' quicker one: a
			// 32 MiB log entry on a busy machine outlasts a 600 ms
			// heartbeat timeout.
			c.Replica = nil
			if pg {
				c.Store = url
				c.PostgresSchema = fmt.Sprintf("bench_%s_%d", c.ID, time.Now().UnixNano())
			}
		}
		nodes := startCluster(b, e, 3, tune)
		ctx := context.Background()
		follower, err := apiclient.New(nodes[2].APIAddr, apiclient.Options{Timeout: 10 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := follower.SubmitOne(ctx, e.ManifestEntry()); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		debug.FreeOSMemory()
		rss0 := readRSS()
		stop := sampleMemory()
		start := time.Now()
		res, err := follower.SubmitOne(ctx, entry)
		if err != nil {
			b.Fatalf("posting the %d-byte list: %v", len(entry), err)
		}
		posted := time.Since(start)
		for {
			cp, err := nodes[0].Board.Checkpoint(ctx)
			if err == nil && cp.Checkpoint.Size > res.Seq {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("no quorum checkpoint covers the list after %v", time.Since(start))
			}
			time.Sleep(20 * time.Millisecond)
		}
		covered := time.Since(start)
		rssPeak, heapPeak := stop()
		b.ReportMetric(float64(len(entry))/(1<<20), "MiB/entry")
		b.ReportMetric(posted.Seconds(), "s/commit")
		b.ReportMetric(covered.Seconds(), "s/quorum-checkpoint")
		b.ReportMetric(float64(rssPeak-rss0)/(1<<20), "MiB-RSS-growth")
		b.ReportMetric(float64(heapPeak)/(1<<20), "MiB-heap-peak")
		for _, n := range nodes {
			_ = n.Stop()
		}
	}
}

// credentialListBody returns the body of a credential list of n
// credentials (testonly.LargeCredentials), cached in the temporary directory.
func credentialListBody(b *testing.B, n int) []byte {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("urna-bench-credentials-%d.bin", n))
	if body, err := os.ReadFile(path); err == nil {
		return body
	}
	l, err := ballot.NewCredentialList(testonly.LargeCredentials(n))
	if err != nil {
		b.Fatal(err)
	}
	body := l.Bytes()
	if err := os.WriteFile(path, body, 0o600); err != nil {
		b.Fatal(err)
	}
	return body
}

// sampleMemory samples the RSS and the heap in use every 50 ms until the
// returned stop is called, which returns their peaks.
func sampleMemory() (stop func() (rss, heap uint64)) {
	var mu sync.Mutex
	var rss, heap uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r := readRSS()
		mu.Lock()
		rss, heap = max(rss, r), max(heap, ms.HeapInuse)
		mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-finished
		sample()
		mu.Lock()
		defer mu.Unlock()
		return rss, heap
	}
}

// readRSS is the process's resident set, 0 where it is unknown.
func readRSS() uint64 {
	n, _, _ := testonly.ProcStatus("VmRSS")
	return n
}
