package httpapi

import (
	"context"
	"io"

	"github.com/urna-vote/urna/internal/api"
)

// Backend is what a board node offers the HTTP layer, in the API's wire
// types (internal/api). NewNode adapts an *internal/board.Board; tests use
// httpapitest.Fake. Handlers only translate HTTP to these calls and back
// (docs/API.md). Errors are mapped to status codes in one place (errors.go)
// from the sentinels of bulletin, board, replica and store.
type Backend interface {
	// Submit pre-checks the canonical entries (signatures and proofs, batched),
	// proposes the valid ones and waits until they are committed. It returns
	// one result per entry, in order. On a follower it returns an error
	// wrapping replica.ErrNotLeader and the handler forwards the request to
	// LeaderAPI().
	Submit(ctx context.Context, entries [][]byte) ([]SubmitResult, error)
	// LeaderAPI is the HTTP base URL of the current leader ("" when unknown).
	LeaderAPI() string

	// Elections lists the board's elections in creation order
	// (SPEC.md §3.14.6).
	Elections(ctx context.Context) (*api.Elections, error)
	// In returns the Backend of election id, whose per-election methods
	// (Submit, Election, Entries, ... Subscribe) answer for that election;
	// the Backend itself answers for the default election. Unless create,
	// an id naming no election fails with board.ErrUnknownElection.
	In(id string, create bool) (Backend, error)
	// Archive archives election id (SPEC.md §3.14.3) on the
	// leader (replica.ErrNotLeader on a follower); board.ErrUnknownElection
	// for an id of no election.
	Archive(ctx context.Context, id string) error

	Health(ctx context.Context) (*api.Health, error)
	Election(ctx context.Context) (*api.Election, error) // store.ErrNotFound before the manifest
	Entries(ctx context.Context, from uint64, limit int) ([]api.Entry, error)
	Blocks(ctx context.Context, from uint64, limit int) ([]api.Block, error)
	// Tracker looks a ballot up by its short form or full hex tracker.
	Tracker(ctx context.Context, tracker string) (*api.Tracker, error)
	Checkpoint(ctx context.Context) (*api.Checkpoint, error)
	InclusionProof(ctx context.Context, seq, size uint64) (*api.InclusionProof, error)
	ConsistencyProof(ctx context.Context, from, to uint64) (*api.ConsistencyProof, error)
	Receipt(ctx context.Context, seq uint64) (*api.Receipt, error)
	Results(ctx context.Context) (*api.Results, error)
	// WriteRecord streams the election record (bulletin record format):
	// the complete record for from = size = 0, else the blocks from height
	// from up to the one ending at log size size (0: the newest quorum
	// checkpoint's), then the node's signed checkpoint of that size
	// (SPEC.md §3.11, "Record suffix"). A range the node cannot serve
	// fails with store.ErrNotFound before anything is written.
	WriteRecord(ctx context.Context, w io.Writer, from, size uint64) error
	// Subscribe delivers blocks as they are committed until cancel is called.
	Subscribe(ctx context.Context) (blocks <-chan api.Block, cancel func())

	Cluster(ctx context.Context) (*api.Cluster, error)
	Join(ctx context.Context, id, raftAddr, apiAddr string) error
	Remove(ctx context.Context, id string) error
	// SubmitCosign proposes a cosign command a follower forwarded (the
	// leader's side of POST /api/v1/cluster/cosign). It fails with
	// board.ErrBadCommand, board.ErrCosignRejected or
	// board.ErrCosignDiverged, or replica.ErrNotLeader on a follower.
	SubmitCosign(ctx context.Context, cmd []byte) error

	// ReadIndex returns the read index of a consistent read (the leader's
	// side of api.ReadIndexPath; replica.Node.ReadIndex). On a follower,
	// or on a leader that could not confirm it still leads, it fails with
	// an error wrapping replica.ErrNotLeader.
	ReadIndex(ctx context.Context) (uint64, error)
	// WaitApplied returns once this node's state has applied index, or
	// fails with an error wrapping board.ErrBehind when ctx ends first.
	WaitApplied(ctx context.Context, index uint64) error
}

// SubmitResult is the outcome of one submitted entry: its position
// (Seq, Block; ID and Tracker in hex), or Err, a domain rejection
// (a bulletin sentinel, wrapped) that errors.go maps to an error body.
type SubmitResult struct {
	Seq     uint64
	ID      string
	Tracker string
	Block   uint64
	Err     error
}
