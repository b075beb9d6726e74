package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/urna-vote/urna/internal/api"
)

// TestRoleReadsAreConsistent: a role reads the board through its first
// --node with consistent reads (?consistent=1), so it never acts on a
// node's view that lags behind a committed post; the other nodes, whose
// checkpoints are only compared, are read as they are.
func TestRoleReadsAreConsistent(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	srv := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[name] = r.URL.Query().Get(api.ConsistentParam)
			mu.Unlock()
			http.Error(w, `{"error":{"code":"not_found","message":"test"}}`, http.StatusNotFound)
		}))
		t.Cleanup(s.Close)
		return s
	}
	primary, other := srv("primary"), srv("other")
	ca, election := "", ""
	l := &nodeList{urls: []string{primary.URL, other.URL}, ca: &ca, election: &election}
	cl, others, err := l.clients("test")
	if err != nil || len(others) != 1 {
		t.Fatal(err)
	}
	_, _ = cl.Checkpoint(context.Background())
	_, _ = others[0].Checkpoint(context.Background())
	if got["primary"] != "1" || got["other"] != "" {
		t.Fatalf("consistent parameter: primary %q, other %q; want 1 and none", got["primary"], got["other"])
	}
}
