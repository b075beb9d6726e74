package replica

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTTPToRaftPort: an HTTP GET sent to a node's Raft address (`--node`
// given the Raft port) is closed with one log line naming the mistake,
// never reaches raft ("unknown rpc type 71"), and the cluster keeps
// replicating.
func TestHTTPToRaftPort(t *testing.T) {
	// s2's log, kept to look for the line.
	var mu sync.Mutex
	var lines []string
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "")
	}
	nodes, fsms := tcpCluster(t, "s", func(i int, cfg *Config) {
		if i == 1 {
			cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
				mu.Lock()
				lines = append(lines, string(p))
				mu.Unlock()
				return len(p), nil
			}), nil))
		}
	})
	submitMany(t, nodes[0], "before", 20)

	addr := nodes[1].RaftAddr()
	c := &http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Get("http://" + addr + "/api/v1/election"); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("GET on the Raft port answered %s", resp.Status)
	}
	want := "replica: an HTTP client connected to the Raft port " + addr + "; the API is at --http"
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logged(), want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := logged()
	if strings.Count(got, want) != 1 {
		t.Fatalf("want one line %q in the log of s2:\n%s", want, got)
	}
	if strings.Contains(got, "unknown rpc type") {
		t.Fatalf("the HTTP request reached raft:\n%s", got)
	}

	all := submitMany(t, nodes[0], "after", 20)
	deadline = time.Now().Add(10 * time.Second)
	for len(fsms[1].list()) < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := fsms[1].list(); len(got) != 40 || !bytes.Equal(got[39], all[19]) {
		t.Fatalf("s2 holds %d commands after the GET, want 40", len(got))
	}
}

// TestMisdirected pins which first bytes are turned away: HTTP methods on
// any Raft port, a TLS ClientHello only on a plaintext one, and never
// Raft's own first byte (its RPC type).
func TestMisdirected(t *testing.T) {
	for _, tc := range []struct {
		first   string
		tlsPort bool
		want    string
	}{
		{"GET ", false, "an HTTP client"},
		{"POST", true, "an HTTP client"},
		{"HEAD", false, "an HTTP client"},
		{"PUT ", false, "an HTTP client"},
		{"\x16\x03\x01\x02", false, "a TLS (https) client"},
		{"\x16\x03\x01\x02", true, ""},
		{"\x00\x82\xa1R", false, ""},
		{"\x01", false, ""},
	} {
		if got := misdirected([]byte(tc.first), tc.tlsPort); got != tc.want {
			t.Errorf("misdirected(%q, tls %v) = %q, want %q", tc.first, tc.tlsPort, got, tc.want)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
