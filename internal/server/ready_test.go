package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func getRaw(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := rawDo(t, req)
	return a.status, a.body
}

type readiness struct {
	Ready    bool     `json:"ready"`
	Role     string   `json:"role"`
	StoreOK  bool     `json:"store_ok"`
	ApplyLag uint64   `json:"apply_lag"`
	Problems []string `json:"problems"`
}

func readyOf(t *testing.T, n *Node) (int, readiness) {
	t.Helper()
	status, body := getRaw(t, n.APIAddr+"/api/v1/ready")
	var r readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("ready: %d %s", status, body)
	}
	return status, r
}

// TestReadiness: every node of a working cluster is ready; a node that
// cannot write its data directory (here: the probe's file is a directory,
// as good as a full disk for the probe) is live (/health 200) but not
// ready (/ready 503, saying why), and ready again once it can write.
func TestReadiness(t *testing.T) {
	_, nodes := startWithManifest(t, 3, nil)
	for _, n := range nodes {
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, r := readyOf(t, n)
			if status == 200 && r.Ready && r.StoreOK && len(r.Problems) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready: %d %+v", n.ID, status, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	n := nodes[1]
	blocker := filepath.Join(n.cfg.DataDir, probeFile)
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	n.probe.probe(context.Background())
	status, r := readyOf(t, n)
	if status != 503 || r.Ready || r.StoreOK || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "cannot write") {
		t.Fatalf("a node that cannot write: %d %+v", status, r)
	}
	if status, body := getRaw(t, n.APIAddr+"/api/v1/health"); status != 200 {
		t.Fatalf("liveness of a node that cannot write: %d %s", status, body)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	n.probe.probe(context.Background())
	if status, r := readyOf(t, n); status != 200 || !r.Ready {
		t.Fatalf("after the disk recovered: %d %+v", status, r)
	}
}

// TestMetrics: /metrics serves the text exposition format with the HTTP,
// board, store and Raft series, Raft's own metrics included.
func TestMetrics(t *testing.T) {
	e, nodes := startElection(t, 2, 3, nil)
	mustPost(t, &http.Client{Timeout: 10 * time.Second}, nodes[1].APIAddr, e.ManifestEntry())
	settled(t, nodes)
	leader, _ := leaderOf(t, nodes)
	status, body := getRaw(t, leader.APIAddr+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	text := string(body)
	for _, want := range []string{
		"# TYPE urna_http_requests_total counter",
		`urna_http_requests_total{route="/api/v1/entries",method="POST",code="200"}`,
		`urna_http_request_duration_seconds_bucket{route="/api/v1/entries",le="+Inf"}`,
		`urna_raft_state{state="leader"} 1`,
		"urna_board_entries 1",
		"urna_store_probe_ok 1",
		"urna_ready 1",
		"# TYPE raft_commitTime_ms summary", // raft's own, through go-metrics
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) != 2 {
			t.Errorf("not a sample line: %q", line)
		}
	}
	if t.Failed() {
		t.Logf("%s", text)
	}
}
