package server

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestRestartWithJoinWhileJoinTargetDown restarts a member with the --join
// it was first started with while the node named there is down: the
// restart must not depend on that node (issue 10: it used to wait 60 s and
// exit), and once the other node is back the two form a cluster again.
func TestRestartWithJoinWhileJoinTargetDown(t *testing.T) {
	e, nodes := startElection(t, 2, 2, nil)
	hc := &http.Client{Timeout: 10 * time.Second}
	mustPost(t, hc, nodes[0].APIAddr, e.ManifestEntry())
	settled(t, nodes)
	cfg1, cfg2 := nodes[0].cfg, nodes[1].cfg
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	// n1's API is gone: the join target refuses connections.
	cfg2.HTTPListen, cfg2.RaftBind = hostPort(t, nodes[1].APIAddr), nodes[1].RaftAddr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	n2, err := Start(ctx, cfg2)
	if err != nil {
		t.Fatalf("restart with --join while the join target is down: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("restart took %v", d)
	}
	nodes[1] = n2
	cfg1.HTTPListen, cfg1.RaftBind = hostPort(t, nodes[0].APIAddr), nodes[0].RaftAddr
	n1, err := Start(context.Background(), cfg1)
	if err != nil {
		t.Fatal(err)
	}
	nodes[0] = n1
	if s := settled(t, nodes); s.Entries != 1 {
		t.Fatalf("after the restart: %+v", s)
	}
	leaderOf(t, nodes)
}

// hostPort returns the host:port of an http:// base URL.
func hostPort(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
