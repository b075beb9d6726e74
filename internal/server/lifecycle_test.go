package server

// The lifecycle of a node: a failed start, a restart, a stop.

import (
	"context"
	"crypto/ed25519"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestFailedStartLeavesNoState (issue 13): a node whose start fails (here
// its HTTP port is taken) leaves a new data directory as it found it: not
// there, rather than a 16 MB state.db that makes the next attempt look
// like a restart. A directory that already held state is never touched.
func TestFailedStartLeavesNoState(t *testing.T) {
	busy := testonly.Listen(t)
	_, key, _ := ed25519.GenerateKey(nil)
	start := func(dir string) error {
		cfg := DefaultConfig()
		cfg.ID, cfg.DataDir, cfg.Bootstrap, cfg.SigningKey = "n1", dir, true, key
		cfg.RaftBind, cfg.HTTPListen = "127.0.0.1:0", busy.Addr().String()
		n, err := Start(context.Background(), cfg)
		if err == nil {
			n.Stop()
		}
		return err
	}

	fresh := filepath.Join(t.TempDir(), "n1")
	if err := start(fresh); err == nil {
		t.Fatal("start on a busy HTTP port succeeded")
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(fresh)
		t.Fatalf("failed start left %s behind (%v): %v", fresh, err, ents)
	}

	used := t.TempDir()
	keep := filepath.Join(used, "operator-notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := start(used); err == nil {
		t.Fatal("start on a busy HTTP port succeeded")
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Fatalf("failed start touched a directory in use: %v %q", err, b)
	}
}

// TestRestartWithJoinWhileJoinTargetDown restarts a member with the --join
// it was first started with while the node named there is down: the
// restart must not depend on that node (issue 10: it used to wait 60 s and
// exit), and once the other node is back the two form a cluster again.
func TestRestartWithJoinWhileJoinTargetDown(t *testing.T) {
	_, nodes := startWithManifest(t, 2, nil)
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

// TestStopHandsOverLeadership: a leader that stops hands leadership to a
// follower first, so a new leader exists at once rather than after the
// followers' heartbeat timeout (3 s here, to tell the two apart).
func TestStopHandsOverLeadership(t *testing.T) {
	_, nodes := startWithManifest(t, 3, func(c *Config) {
		c.Replica = func(rc *replica.Config) {
			rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 3*time.Second, 3*time.Second, 2*time.Second
		}
	})
	leader, rest := leaderOf(t, nodes)
	start := time.Now()
	if err := leader.Stop(); err != nil {
		t.Fatal(err)
	}
	for {
		if rest[0].Replica.IsLeader() || rest[1].Replica.IsLeader() {
			break
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Fatalf("no new leader %v after the leader began to stop (no hand-over?)", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("new leader %v after the old one began to stop", time.Since(start))
	if s := settled(t, rest); s.Entries != 1 {
		t.Fatalf("after the hand-over: %+v", s)
	}
}
