package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// Server describes one member of the Raft configuration.
type Server struct {
	ID       string
	RaftAddr string
	// APIAddr is the member's API (HTTP) address from the replicated
	// membership metadata; empty if the member never recorded one.
	APIAddr string
	// Suffrage is "Voter", "Nonvoter" or "Staging".
	Suffrage string
	Leader   bool
}

// Join adds server id, reachable for Raft at raftAddr and for clients at
// apiAddr, as a voter. It MUST be called on the leader (else a
// *NotLeaderError). The API address is committed first, so every replica
// can name the new server's API address by the time it votes. Joining an
// existing member again updates its addresses.
func (n *Node) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	if id == "" || raftAddr == "" || apiAddr == "" {
		return errors.New("replica: join: id, raft address and API address are required")
	}
	if len(id) > 1<<16-1 || len(apiAddr) > 1<<16-1 {
		return errors.New("replica: join: id or API address too long")
	}
	if !n.IsLeader() {
		return n.notLeader()
	}
	if err := n.applyMembers(ctx, memberOp{op: opSetAPI, id: id, addr: apiAddr}); err != nil {
		return fmt.Errorf("replica: join %q: %w", id, err)
	}
	f := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, n.cfg.ApplyTimeout)
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("replica: join %q: %w", id, n.mapRaftErr(err))
	}
	n.log.Info("replica: server joined", "id", id, "raft_addr", raftAddr, "api_addr", apiAddr)
	return nil
}

// Remove removes server id from the cluster. It MUST be called on the
// leader. Removing the leader itself makes it step down; its metadata is
// then left in place (it is only shown for current members).
func (n *Node) Remove(ctx context.Context, id string) error {
	if id == "" || len(id) > 1<<16-1 {
		return errors.New("replica: remove: bad server id")
	}
	if !n.IsLeader() {
		return n.notLeader()
	}
	if err := n.await(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout)); err != nil {
		return fmt.Errorf("replica: remove %q: %w", id, n.mapRaftErr(err))
	}
	n.log.Info("replica: server removed", "id", id)
	if id == n.cfg.ID {
		return nil
	}
	if err := n.applyMembers(ctx, memberOp{op: opForget, id: id}); err != nil {
		return fmt.Errorf("replica: remove %q: forget API address: %w", id, err)
	}
	return nil
}

// Servers lists the current Raft configuration with API addresses and the
// leader flag.
func (n *Node) Servers() ([]Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("replica: configuration: %w", n.mapRaftErr(err))
	}
	leader, _ := n.Leader()
	members := n.fsm.memberMap()
	var out []Server
	for _, s := range f.Configuration().Servers {
		out = append(out, Server{
			ID:       string(s.ID),
			RaftAddr: string(s.Address),
			APIAddr:  members[string(s.ID)],
			Suffrage: s.Suffrage.String(),
			Leader:   string(s.ID) == leader,
		})
	}
	return out, nil
}

// applyMembers commits one membership-metadata entry.
func (n *Node) applyMembers(ctx context.Context, ops ...memberOp) error {
	cmds := make([][]byte, len(ops))
	for i, op := range ops {
		cmds[i] = encodeMemberOp(op)
	}
	f := n.raft.Apply(encodeEntry(kindMembership, wholeCommands(cmds)), n.cfg.ApplyTimeout)
	if err := n.await(ctx, f); err != nil {
		return n.mapRaftErr(err)
	}
	if err, _ := f.Response().(error); err != nil {
		return err
	}
	return nil
}

// TransferLeadership hands leadership to server id (empty: the voter raft
// finds most up to date) and waits until it took over or ctx ends. It MUST
// be called on the leader (else a *NotLeaderError). A one-server cluster
// has no one to hand over to: raft's error is returned.
func (n *Node) TransferLeadership(ctx context.Context, id string) error {
	if !n.IsLeader() {
		return n.notLeader()
	}
	var f raft.Future
	if id == "" {
		f = n.raft.LeadershipTransfer()
	} else {
		var addr raft.ServerAddress
		servers, err := n.Servers()
		if err != nil {
			return err
		}
		for _, s := range servers {
			if s.ID == id && s.Suffrage == raft.Voter.String() {
				addr = raft.ServerAddress(s.RaftAddr)
			}
		}
		if addr == "" {
			return fmt.Errorf("replica: transfer leadership: %q is not a voter of this cluster", id)
		}
		f = n.raft.LeadershipTransferToServer(raft.ServerID(id), addr)
	}
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("replica: transfer leadership: %w", n.mapRaftErr(err))
	}
	n.log.Info("replica: leadership handed over", "to", id)
	return nil
}

// Voters returns the number of voters in the current configuration.
func (n *Node) Voters() int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	v := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			v++
		}
	}
	return v
}
