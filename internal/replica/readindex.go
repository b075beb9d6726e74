package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// ReadIndex returns the read index of a linearizable read (the ReadIndex
// algorithm of the Raft thesis, §6.4): an index such that a state in which
// the FSM's AppliedIndex reaches it holds every command committed before
// ReadIndex was called, in particular every write acknowledged before.
// Only the leader answers; a follower gets the index from the leader and
// waits until its own FSM applied it.
//
// On the leader it:
//
//  1. makes sure an entry of the leader's current term is committed (a
//     raft Barrier, once per term): until then a new leader's commit
//     index may be behind entries the previous leader committed;
//  2. takes the commit index;
//  3. confirms it is still the leader (raft's VerifyLeader: a round of
//     heartbeats a quorum answers), so that no newer leader can have
//     committed anything this node does not have. A deposed leader that
//     still believes it leads fails here: it MUST NOT serve a read from
//     its stale state;
//  4. returns the index of the last FSM command entry at or below that
//     commit index. Raft's own entries (no-op, barrier, configuration) and
//     the replica's membership entries never reach the FSM, so its
//     AppliedIndex would never equal an index that names one of them;
//     the last command entry is what the FSM must have applied.
//
// Errors: a *NotLeaderError (errors.Is ErrNotLeader) on a follower or on a
// leader deposed meanwhile, ErrLeadershipLost, ErrShutdown, or ctx.Err().
// ReadIndex writes nothing but the barrier of step 1.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() != raft.Leader {
		return 0, n.notLeader()
	}
	select {
	case <-n.stop:
		return 0, ErrShutdown
	default:
	}
	if err := n.termCommitted(ctx); err != nil {
		return 0, err
	}
	commit := n.raft.CommitIndex()
	if err := n.await(ctx, n.raft.VerifyLeader()); err != nil {
		return 0, n.readErr(err)
	}
	return n.lastCommandAtOrBelow(commit)
}

// termCommitted commits a barrier in the current term unless one already
// was: raft advances a leader's commit index only once an entry of its own
// term is committed (commitment.go), so before that CommitIndex may lag
// what earlier leaders committed.
func (n *Node) termCommitted(ctx context.Context) error {
	term := n.raft.CurrentTerm()
	if n.readyTerm.Load() >= term {
		return nil
	}
	if err := n.await(ctx, n.raft.Barrier(n.cfg.ApplyTimeout)); err != nil {
		return n.readErr(err)
	}
	// The barrier committed in term or a later one (had leadership been
	// lost and won again in between): either way the commit index now
	// covers term's first entry. A later term compares greater and gets
	// its own barrier.
	for {
		old := n.readyTerm.Load()
		if old >= term || n.readyTerm.CompareAndSwap(old, term) {
			return nil
		}
	}
}

// lastCommandAtOrBelow is the index of the last FSM command entry at or
// below commit (committed, so the entries it reads are final). The walk
// stops at the FSM's applied index, itself the index of a command entry or
// 0: every command entry at or below it is applied, and an entry the log
// no longer holds is in a snapshot, hence applied too.
func (n *Node) lastCommandAtOrBelow(commit uint64) (uint64, error) {
	applied := n.fsm.fsm.AppliedIndex()
	for i := commit; i > applied; i-- {
		var l raft.Log
		if err := n.logs.GetLog(i, &l); err != nil {
			if errors.Is(err, raft.ErrLogNotFound) {
				break
			}
			return 0, fmt.Errorf("replica: read index: log entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand && isCommandEntry(l.Data) {
			return i, nil
		}
	}
	return applied, nil
}

// readErr maps raft's answers to a read barrier: a leader that lost its
// leadership while confirming it is no leader for this read.
func (n *Node) readErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrShutdown):
		return err
	}
	return n.mapRaftErr(err)
}
