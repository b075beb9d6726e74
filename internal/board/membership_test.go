package board

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestMembershipReplayAndSnapshot adds a 4th node, removes one, restarts a
// node (raft replays its log: nothing may be applied twice) and installs a
// snapshot on a node that joins after the log was compacted.
func TestMembershipReplayAndSnapshot(t *testing.T) {
	e, c := newElectionCluster(t, testonly.Config{Voters: 8}, func(rc *replica.Config) { rc.TrailingLogs = 2 }, "n1", "n2", "n3")
	c.mustAccept("manifest", e.ManifestEntry())
	c.mustAccept("credentials", e.CredentialsEntry())
	c.mustAccept("deals", e.DealEntries()...)

	// Add n4 (not a manifest node: it replicates but never cosigns).
	c.start("n4", false)
	c.join("n4")
	c.mustAccept("confirmations", e.ConfirmationEntries()...)
	c.waitAgree(false)

	// Remove n2; the others go on.
	ctx := context.Background()
	if err := c.leader().rep.Remove(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	c.stop("n2")
	c.mustAccept("open", e.OpenEntry())
	for v := range 4 {
		en, _, _ := e.BallotEntry(v, testonly.Pick(v%3, -1))
		c.mustAccept("ballot", en)
	}
	before := c.waitAgree(true)

	// Restart a follower: raft replays entries it already applied.
	var follower string
	for id, n := range c.nodes {
		if !n.rep.IsLeader() {
			follower = id
			break
		}
	}
	applied := c.nodes[follower].board.AppliedIndex()
	c.stop(follower)
	n := c.start(follower, false)
	if got := n.board.AppliedIndex(); got != applied {
		t.Fatalf("restarted %s at applied index %d, want %d", follower, got, applied)
	}
	en, _, _ := e.BallotEntry(5, testonly.Pick(1, 0))
	c.mustAccept("ballot after restart", en)
	after := c.waitAgree(true)
	if after.entries != before.entries+1 {
		t.Fatalf("entries %d after one more ballot, want %d (something applied twice?)", after.entries, before.entries+1)
	}

	// Snapshot and compact the leader's log; a fresh node must install it.
	l := c.leader()
	en, _, _ = e.BallotEntry(6, testonly.Pick(2, 1))
	c.mustAccept("ballot", en)
	if err := l.rep.Snapshot(); err != nil {
		t.Fatal(err)
	}
	for v := 7; v < 8; v++ {
		en, _, _ := e.BallotEntry(v, testonly.Pick(0, 0))
		c.mustAccept("ballot", en)
	}
	if err := l.rep.Snapshot(); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(c.base + "/n5")
	n5 := c.start("n5", false)
	c.join("n5")
	final := c.waitAgree(true)
	if n5.board.restores.Load() == 0 {
		t.Fatal("n5 caught up without installing a snapshot")
	}
	if n5.board.current().entries != final.entries {
		t.Fatalf("snapshot-installed node has %d entries, want %d", n5.board.current().entries, final.entries)
	}
	c.compareBlocks()
	// The restored node answers reads from its restored store.
	if _, err := n5.board.Tracker(ctx, trackerOfEntry(t, n5, final.entries-1)); err != nil {
		t.Fatalf("tracker on snapshot-installed node: %v", err)
	}
	_ = time.Second
}

// trackerOfEntry reads entry seq's tracker through the receipt path.
func trackerOfEntry(t *testing.T, n *tnode, seq uint64) []byte {
	t.Helper()
	var tr []byte
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc, err := n.board.Receipt(context.Background(), seq)
		if err == nil {
			e, err := bulletin.ParseEntry(rc.Entry)
			if err != nil {
				t.Fatal(err)
			}
			b := ballot.TrackerOf(e.Body)
			tr = b[:]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return tr
}
