// Package servertest starts in-process board nodes for the tests of the
// packages above internal/server (the commands, the role flows, the web
// client): on loopback, logging to the test, with Raft timers that hold on
// a loaded machine, stopped when the test ends. Production code MUST NOT
// import it.
package servertest

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
)

// RaftTiming makes elections quick enough for tests while leaving a margin
// for a machine whose cores are shared with other work (a 100 ms lease
// made leaders step down whenever a test process went unscheduled for a
// tenth of a second). It is the timing of internal/server's own tests.
func RaftTiming(rc *replica.Config) {
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 600*time.Millisecond, 600*time.Millisecond, 400*time.Millisecond
}

// Config is the configuration of the test node id: its state in dir
// (bolt), signing with key, Raft and HTTP on ephemeral loopback ports,
// logging errors to t, with [RaftTiming]. It neither bootstraps nor joins
// a cluster: the caller says which.
func Config(t testing.TB, id, dir string, key ed25519.PrivateKey) server.Config {
	cfg := server.DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.SigningKey = id, dir, key
	cfg.RaftBind, cfg.HTTPListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = testonly.Logger(t, slog.LevelError)
	cfg.Replica = RaftTiming
	return cfg
}

// Start starts the node of cfg and stops it when the test ends.
func Start(t testing.TB, cfg server.Config) *server.Node {
	t.Helper()
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start node %s: %v", cfg.ID, err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	return n
}
