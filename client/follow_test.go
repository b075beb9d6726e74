package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// node is a board node as a party sees it: a record, a newest checkpoint
// and consistency proofs from the record's own log. A hostile node is the
// same thing built from a forged history, its checkpoints re-signed by the
// operators who hold the node keys.
type node struct {
	rec  []byte
	note []byte
	log  bulletin.MemoryLog
}

func newNode(t testing.TB, e *testonly.Election, entries [][]byte) *node {
	t.Helper()
	s := e.Seal(entries)
	n := &node{rec: s.Encode(), note: s.Notes[len(s.Notes)-1]}
	for _, en := range entries {
		if err := n.log.Append(en); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (n *node) Record(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(n.rec)), nil
}
func (n *node) CheckpointNote(context.Context) ([]byte, error) { return n.note, nil }
func (n *node) Consistency(_ context.Context, from, to uint64) (*bulletin.ConsistencyProof, error) {
	return bulletin.ProveConsistency(from, to, &n.log)
}

func follow(t *testing.T, src client.Source, opts client.FollowOptions) (*client.Verified, error) {
	t.Helper()
	opts.Rand = seeded.New("follow")
	return client.Follow(context.Background(), src, opts)
}

// closedEntries are the entries of the small election up to its close.
func closedEntries(e *testonly.Election) [][]byte { return e.Entries[:e.SeqClose+1] }

// withoutBallot returns entries without the counted ballot at seq: the
// view a node shows to hide that ballot (every later entry shifts).
func withoutBallot(entries [][]byte, seq int) [][]byte {
	return slices.Delete(slices.Clone(entries), seq, seq+1)
}

func TestFollowHonest(t *testing.T) {
	e := smallElection(t)
	honest := newNode(t, e, closedEntries(e))
	s, err := follow(t, honest, client.FollowOptions{Fingerprint: e.Manifest.Fingerprint(), Others: []client.Source{honest}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Closed || s.Aggregate == nil || s.Counted != len(e.SeqCounted) || !s.JointKey.Equal(e.JointKey) {
		t.Fatalf("verified state: closed %v, counted %d (want %d)", s.Closed, s.Counted, len(e.SeqCounted))
	}
	if s.Credentials != e.Config.Voters {
		t.Errorf("N = %d, want %d", s.Credentials, e.Config.Voters)
	}
	if !bytes.Equal(s.Newest, honest.note) || s.Checkpoint.Size != uint64(e.SeqClose+1) {
		t.Errorf("the newest checkpoint is not the record's")
	}
	for _, seq := range e.SeqCounted {
		en, _ := bulletin.ParseEntry(e.Entries[seq])
		if at, ok := s.CountedSeq(en.AuthorKey()); !ok || at != uint64(seq) {
			t.Errorf("ballot %d counts at %d, %v", seq, at, ok)
		}
	}
}

// TestAttackHiddenBallotSplitView (issue 9, findings 2 and 5): the node
// operators show a trustee a history without one counted ballot, re-signed.
// The record verifies on its own, but the trustee remembers a checkpoint of
// the honest board: the forged view contradicts it, Follow returns a
// *ForkError, and its evidence proves the fork offline.
func TestAttackHiddenBallotSplitView(t *testing.T) {
	e := smallElection(t)
	honest := e.SealWith(closedEntries(e), 1, nil)
	// What the trustee saw earlier: the checkpoint right after the ballot.
	hidden := e.SeqCounted[0]
	forged := newNode(t, e, withoutBallot(closedEntries(e), hidden))
	known := e.Checkpoint(honest.Blocks[hidden].Header, nil)
	_, err := follow(t, forged, client.FollowOptions{Known: [][]byte{known}})
	var fe *client.ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("Follow of a forked view: %v, want a *ForkError", err)
	}
	rep, err := client.CheckEvidence(fe.Evidence.Marshal())
	if err != nil || !rep.Proven {
		t.Fatalf("the evidence does not prove the fork: %+v, %v", rep, err)
	}
}

// TestAttackSplitViewAcrossNodes (finding 5): the node a party reads is
// honest, another node shows a forged history of the same size: comparing
// the nodes' checkpoints catches it.
func TestAttackSplitViewAcrossNodes(t *testing.T) {
	e := smallElection(t)
	honest := newNode(t, e, closedEntries(e))
	forgedEntries := withoutBallot(closedEntries(e), e.SeqCounted[0])
	forgedEntries = append(forgedEntries, e.Entries[e.SeqClose+1]) // same size again
	forged := newNode(t, e, forgedEntries)
	_, err := follow(t, honest, client.FollowOptions{Others: []client.Source{forged}})
	var fe *client.ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("Follow with a forked second node: %v, want a *ForkError", err)
	}
	if rep, err := client.CheckEvidence(fe.Evidence.Marshal()); err != nil || !rep.Proven {
		t.Fatalf("the evidence does not prove the fork: %+v, %v", rep, err)
	}
}

// TestAttackStaleCheckpoint (finding 4): a node serves an old state (the
// record and checkpoint of before the party's last contact). The party
// remembers the newer checkpoint, so it refuses with ErrStale.
func TestAttackStaleCheckpoint(t *testing.T) {
	e := smallElection(t)
	now := newNode(t, e, closedEntries(e))
	stale := newNode(t, e, e.Entries[:e.SeqOpen+2])
	_, err := follow(t, stale, client.FollowOptions{Known: [][]byte{now.note}})
	if !errors.Is(err, client.ErrStale) {
		t.Fatalf("Follow of a stale node: %v, want ErrStale", err)
	}
}

// TestAttackTamperedRecordRefused (finding 2): a proxy without keys hides
// a ballot in the record it relays (another ballot in its place). The record no longer verifies, and
// Follow refuses with the step that caught it.
func TestAttackTamperedRecordRefused(t *testing.T) {
	e := smallElection(t)
	s := e.Seal(closedEntries(e))
	for i := range s.Blocks {
		for k := range s.Blocks[i].Entries {
			if bytes.Equal(s.Blocks[i].Entries[k], e.Entries[e.SeqCounted[0]]) {
				s.Blocks[i].Entries = slices.Clone(s.Blocks[i].Entries)
				s.Blocks[i].Entries[k] = e.Entries[e.SeqCounted[1]] // another voter's ballot twice
			}
		}
	}
	n := &node{rec: s.Encode(), note: s.Notes[len(s.Notes)-1]}
	_, err := follow(t, n, client.FollowOptions{})
	if !errors.Is(err, client.ErrNotVerified) {
		t.Fatalf("Follow of a record with a ballot dropped: %v, want ErrNotVerified", err)
	}
}

func TestEvidenceUnprovenByBadProofAlone(t *testing.T) {
	e := smallElection(t)
	s := e.Seal(closedEntries(e))
	ev := &client.Evidence{Manifest: e.Manifest.Bytes(), Old: s.Notes[0], New: s.Notes[1],
		Proof: &bulletin.ConsistencyProof{OldSize: 1, NewSize: 2}, Reason: "test"}
	rep, err := client.CheckEvidence(ev.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Proven {
		t.Fatalf("two consistent checkpoints and a wrong proof were taken as proof of a fork: %s", rep.Why)
	}
	if _, err := client.ParseEvidence([]byte(`{"kind":"urna-evidence","version":1,"extra":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}
