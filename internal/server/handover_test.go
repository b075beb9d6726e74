package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// TestStopHandsOverLeadership: a leader that stops hands leadership to a
// follower first, so a new leader exists at once rather than after the
// followers' heartbeat timeout (3 s here, to tell the two apart).
func TestStopHandsOverLeadership(t *testing.T) {
	e, nodes := startElection(t, 2, 3, func(c *Config) {
		c.Replica = func(rc *replica.Config) {
			rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 3*time.Second, 3*time.Second, 2*time.Second
		}
	})
	mustPost(t, &http.Client{Timeout: 10 * time.Second}, nodes[0].APIAddr, e.ManifestEntry())
	settled(t, nodes)
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
