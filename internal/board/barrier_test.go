package board

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/replica"
)

// TestWaitApplied: a follower cut off from the leader has not applied the
// leader's read index, so WaitApplied fails with ErrBehind (a read from its
// state would miss the acknowledged manifest); once the link is back it
// catches up, WaitApplied returns and the read sees the write.
func TestWaitApplied(t *testing.T) {
	e, c := newThreeNodes(t, 2)
	l := c.leader()
	var f *tnode
	for _, n := range c.nodes {
		if n != l {
			f = n
		}
	}
	if _, err := f.board.ReadIndex(context.Background()); !errors.Is(err, replica.ErrNotLeader) {
		t.Fatalf("follower ReadIndex: %v, want ErrNotLeader", err)
	}

	// Cut f off: the leader and the third node still commit.
	faddr := raft.ServerAddress("inmem-" + f.id + ":7000")
	c.mu.Lock()
	for id, tr := range c.trans {
		if id == f.id {
			tr.DisconnectAll()
		} else {
			tr.Disconnect(faddr)
		}
	}
	c.mu.Unlock()
	c.mustAccept("manifest", e.ManifestEntry())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	idx, err := l.board.ReadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.board.WaitApplied(ctx, idx); err != nil {
		t.Fatalf("leader: %v", err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	if err := f.board.WaitApplied(short, idx); !errors.Is(err, ErrBehind) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cut-off follower: WaitApplied = %v, want ErrBehind", err)
	}
	if _, err := f.board.Election(ctx); err == nil {
		t.Fatal("the cut-off follower has the manifest: the test cut nothing")
	}

	// Heal: f catches up and the wait ends.
	c.mu.Lock()
	for id, tr := range c.trans {
		if id != f.id {
			tr.Connect(faddr, c.trans[f.id])
			c.trans[f.id].Connect(tr.LocalAddr(), tr)
		}
	}
	c.mu.Unlock()
	if err := f.board.WaitApplied(ctx, idx); err != nil {
		t.Fatalf("healed follower: %v", err)
	}
	if _, err := f.board.Election(ctx); err != nil {
		t.Fatalf("after WaitApplied the follower does not have the manifest: %v", err)
	}
}
