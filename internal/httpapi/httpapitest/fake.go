// Package httpapitest provides an in-memory httpapi.Backend, in the wire
// types of internal/api, for tests of the
// HTTP layer, the API client and the commands that use them.
package httpapitest

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/board"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/store"
)

// Fake is a scriptable httpapi.Backend. Set its fields before serving; Errs
// makes a method (named as in the interface, e.g. "Entries") fail.
type Fake struct {
	mu sync.Mutex

	Leader      string
	HealthV     api.Health
	ElectionV   *api.Election // nil: not found
	EntriesV    []api.Entry   // by seq, from 0
	BlocksV     []api.Block   // by height, from 0
	Trackers    map[string]api.Tracker
	CheckpointV api.Checkpoint
	Receipts    map[uint64]api.Receipt
	ResultsV    *api.Results // nil: Results fails with ResultsErr
	ResultsErr  error
	Record      []byte
	RecordErr   error // returned after Record was written
	ClusterV    api.Cluster
	Events      chan api.Block
	// ReadIndexV is the read index ReadIndex answers (make it fail with
	// SetErr("ReadIndex", a *replica.NotLeaderError) for a follower);
	// AppliedV the applied index WaitApplied waits for.
	ReadIndexV uint64
	AppliedV   uint64

	// Others are the board's other elections, by id (In); the Fake itself
	// is the default election, named by ElectionV.
	Others map[string]*Fake

	// SubmitFunc answers Submit; nil accepts every entry at the next seq.
	SubmitFunc func(ctx context.Context, entries [][]byte) ([]httpapi.SubmitResult, error)
	Errs       map[string]error

	Submitted [][]byte
	Joined    []api.JoinRequest
	Removed   []string
	Cosigns   [][]byte
	Archived  []string // Archive's ids
	Waited    []uint64 // WaitApplied's indexes
	// RecordAsked are WriteRecord's ranges (from, size).
	RecordAsked [][2]uint64
}

var _ httpapi.Backend = (*Fake)(nil)

// Elections lists the default election (if ElectionV is set) and Others,
// sorted by id.
func (f *Fake) Elections(context.Context) (*api.Elections, error) {
	if err := f.err("Elections"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &api.Elections{Elections: []api.ElectionSummary{}}
	if f.ElectionV != nil {
		out.Elections = append(out.Elections, api.ElectionSummary{ElectionID: f.ElectionV.ElectionID, Fingerprint: f.ElectionV.Fingerprint,
			Phase: f.ElectionV.Phase, Entries: uint64(len(f.EntriesV)), Default: true})
	}
	ids := make([]string, 0, len(f.Others))
	for id := range f.Others {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := f.Others[id]
		o.mu.Lock()
		sum := api.ElectionSummary{ElectionID: id, Entries: uint64(len(o.EntriesV))}
		if o.ElectionV != nil {
			sum.Fingerprint, sum.Phase = o.ElectionV.Fingerprint, o.ElectionV.Phase
		}
		o.mu.Unlock()
		out.Elections = append(out.Elections, sum)
	}
	return out, nil
}

// Archive records id (board.ErrUnknownElection unless it is the default
// election's or one of Others).
func (f *Fake) Archive(_ context.Context, id string) error {
	if err := f.err("Archive"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if (f.ElectionV == nil || f.ElectionV.ElectionID != id) && f.Others[id] == nil {
		return fmt.Errorf("%w: %q", board.ErrUnknownElection, id)
	}
	f.Archived = append(f.Archived, id)
	return nil
}

// In returns the Fake of election id: f for the default election's id,
// one of Others, or (create) a new empty one added to Others.
func (f *Fake) In(id string, create bool) (httpapi.Backend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ElectionV != nil && f.ElectionV.ElectionID == id {
		return f, nil
	}
	if o := f.Others[id]; o != nil {
		return o, nil
	}
	if !create {
		return nil, fmt.Errorf("%w: %q", board.ErrUnknownElection, id)
	}
	if f.Others == nil {
		f.Others = map[string]*Fake{}
	}
	o := &Fake{Leader: f.Leader}
	f.Others[id] = o
	return o, nil
}

func (f *Fake) err(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Errs[method]
}

func (f *Fake) Submit(ctx context.Context, entries [][]byte) ([]httpapi.SubmitResult, error) {
	if err := f.err("Submit"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.Submitted = append(f.Submitted, entries...)
	fn := f.SubmitFunc
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, entries)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]httpapi.SubmitResult, len(entries))
	for i, e := range entries {
		seq := uint64(len(f.EntriesV))
		f.EntriesV = append(f.EntriesV, api.Entry{Seq: seq, ID: fmt.Sprintf("%064x", seq), Type: "test", Entry: e})
		out[i] = httpapi.SubmitResult{Seq: seq, ID: fmt.Sprintf("%064x", seq)}
	}
	return out, nil
}

func (f *Fake) LeaderAPI() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Leader
}

// copyOf returns a copy of v unless method is set to fail.
func copyOf[V any](f *Fake, method string, v V) (*V, error) {
	if err := f.err(method); err != nil {
		return nil, err
	}
	return &v, nil
}

// lookup returns a copy of m[k] (store.ErrNotFound when absent) unless
// method is set to fail.
func lookup[K comparable, V any](f *Fake, method string, m map[K]V, k K) (*V, error) {
	if err := f.err(method); err != nil {
		return nil, err
	}
	v, ok := m[k]
	if !ok {
		return nil, fmt.Errorf("fake: %s %v: %w", method, k, store.ErrNotFound)
	}
	return &v, nil
}

func (f *Fake) Health(context.Context) (*api.Health, error) { return copyOf(f, "Health", f.HealthV) }

func (f *Fake) Election(context.Context) (*api.Election, error) {
	if err := f.err("Election"); err != nil {
		return nil, err
	}
	if f.ElectionV == nil {
		return nil, fmt.Errorf("fake: no manifest yet: %w", store.ErrNotFound)
	}
	return f.ElectionV, nil
}

func (f *Fake) Entries(_ context.Context, from uint64, limit int) ([]api.Entry, error) {
	if err := f.err("Entries"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if from >= uint64(len(f.EntriesV)) {
		return nil, nil
	}
	end := min(from+uint64(limit), uint64(len(f.EntriesV)))
	return append([]api.Entry(nil), f.EntriesV[from:end]...), nil
}

func (f *Fake) Blocks(_ context.Context, from uint64, limit int) ([]api.Block, error) {
	if err := f.err("Blocks"); err != nil {
		return nil, err
	}
	if from >= uint64(len(f.BlocksV)) {
		return nil, nil
	}
	end := min(from+uint64(limit), uint64(len(f.BlocksV)))
	return append([]api.Block(nil), f.BlocksV[from:end]...), nil
}

func (f *Fake) Tracker(_ context.Context, tracker string) (*api.Tracker, error) {
	return lookup(f, "Tracker", f.Trackers, tracker)
}

func (f *Fake) Checkpoint(context.Context) (*api.Checkpoint, error) {
	return copyOf(f, "Checkpoint", f.CheckpointV)
}

func (f *Fake) InclusionProof(_ context.Context, seq, size uint64) (*api.InclusionProof, error) {
	if err := f.err("InclusionProof"); err != nil {
		return nil, err
	}
	return &api.InclusionProof{Seq: seq, Size: size, LeafHash: fmt.Sprintf("%064x", seq),
		Proof: []string{fmt.Sprintf("%064x", size)}}, nil
}

func (f *Fake) ConsistencyProof(_ context.Context, from, to uint64) (*api.ConsistencyProof, error) {
	if err := f.err("ConsistencyProof"); err != nil {
		return nil, err
	}
	return &api.ConsistencyProof{From: from, To: to}, nil
}

func (f *Fake) Receipt(_ context.Context, seq uint64) (*api.Receipt, error) {
	return lookup(f, "Receipt", f.Receipts, seq)
}

func (f *Fake) Results(context.Context) (*api.Results, error) {
	if err := f.err("Results"); err != nil {
		return nil, err
	}
	if f.ResultsV == nil {
		return nil, f.ResultsErr
	}
	return f.ResultsV, nil
}

// WriteRecord writes Record, whatever the range asked (RecordAsked
// records it).
func (f *Fake) WriteRecord(_ context.Context, w io.Writer, from, size uint64) error {
	f.mu.Lock()
	f.RecordAsked = append(f.RecordAsked, [2]uint64{from, size})
	f.mu.Unlock()
	if err := f.err("WriteRecord"); err != nil {
		return err
	}
	if _, err := w.Write(f.Record); err != nil {
		return err
	}
	return f.RecordErr
}

func (f *Fake) Subscribe(ctx context.Context) (<-chan api.Block, func()) {
	if f.Events == nil {
		return make(chan api.Block), func() {}
	}
	return f.Events, func() {}
}

func (f *Fake) Cluster(context.Context) (*api.Cluster, error) {
	return copyOf(f, "Cluster", f.ClusterV)
}

func (f *Fake) Join(_ context.Context, id, raftAddr, apiAddr string) error {
	return logCall(f, "Join", &f.Joined, api.JoinRequest{ID: id, RaftAddr: raftAddr, APIAddr: apiAddr})
}

func (f *Fake) Remove(_ context.Context, id string) error {
	return logCall(f, "Remove", &f.Removed, id)
}

func (f *Fake) SubmitCosign(_ context.Context, cmd []byte) error {
	return logCall(f, "SubmitCosign", &f.Cosigns, cmd)
}

func (f *Fake) ReadIndex(context.Context) (uint64, error) {
	if err := f.err("ReadIndex"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ReadIndexV, nil
}

// WaitApplied succeeds when AppliedV reaches index (SetApplied), else
// when ctx ends it fails with board.ErrBehind.
func (f *Fake) WaitApplied(ctx context.Context, index uint64) error {
	if err := logCall(f, "WaitApplied", &f.Waited, index); err != nil {
		return err
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		f.mu.Lock()
		applied := f.AppliedV
		f.mu.Unlock()
		if applied >= index {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fake: applied %d, read index %d: %w: %w", applied, index, board.ErrBehind, ctx.Err())
		case <-t.C:
		}
	}
}

// SetApplied sets AppliedV, safely while serving.
func (f *Fake) SetApplied(index uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.AppliedV = index
}

// WaitedFor returns the indexes WaitApplied was called with.
func (f *Fake) WaitedFor() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint64(nil), f.Waited...)
}

// logCall fails as SetErr set for method, or appends v to *calls.
func logCall[T any](f *Fake, method string, calls *[]T, v T) error {
	if err := f.err(method); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	*calls = append(*calls, v)
	return nil
}

// SetErr makes method fail with err (nil clears it), safely while serving.
func (f *Fake) SetErr(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Errs == nil {
		f.Errs = map[string]error{}
	}
	if err == nil {
		delete(f.Errs, method)
		return
	}
	f.Errs[method] = err
}

// Sample returns a Fake filled with a small, self-consistent board: 3
// entries in 2 blocks, an election, a tracker, a receipt and a result.
func Sample() *Fake {
	f := &Fake{
		HealthV: api.Health{Status: "ok", Node: "n1", Leader: "n1", Role: "leader", Applied: 7},
		ElectionV: &api.Election{
			ElectionID: "e1", Title: "Test election", Fingerprint: fmt.Sprintf("%064x", 1), Phase: "voting",
			Manifest: []byte{0xfb, 0xff, 0x00, 0x01}, Counts: api.Counts{Entries: 3, Ballots: 1, Credentials: 5, VotersVoted: 1, Blocks: 2},
			JointKey: fmt.Sprintf("%064x", 2), Trustees: []api.TrusteeStatus{{Index: 1, Name: "t1", Dealt: true, Qualified: true}},
			Nodes: []string{"n1"}, View: []byte(`{"questions":[]}`),
			Types: map[string]api.TypeSpan{"manifest": {First: 0, Count: 1}, "credentials": {First: 1, Count: 1}, "ballot": {First: 2, Count: 1}},
		},
		Trackers:    map[string]api.Tracker{"K7QF-2MZX": {Seq: 2, ID: fmt.Sprintf("%064x", 2), Type: "ballot", Tracker: "K7QF-2MZX", Counts: true}},
		CheckpointV: api.Checkpoint{Size: 3, Root: fmt.Sprintf("%064x", 3), Note: "urna\n3\nroot\n\n— n1 sig\n", Signers: []string{"n1"}},
		Receipts:    map[uint64]api.Receipt{2: {Receipt: []byte{0xff, 0xfe, 0x3e}, Tracker: "K7QF-2MZX", Checkpoint: "note"}},
		ResultsV: &api.Results{Questions: []api.QuestionResult{{Text: "Q1", Options: []api.OptionResult{{Text: "yes", Count: 1}}}},
			Trustees: []int{1, 2}, ResultSeq: 9},
		Record:   []byte("URNA-RECORD\x00\x01\x02"),
		ClusterV: api.Cluster{Leader: "n1", Servers: []api.Server{{ID: "n1", RaftAddr: "127.0.0.1:7001", APIAddr: "http://127.0.0.1:8001", Suffrage: "voter", Leader: true}}},
	}
	for i := range 3 {
		f.EntriesV = append(f.EntriesV, api.Entry{Seq: uint64(i), ID: fmt.Sprintf("%064x", i+10), Type: "ballot",
			Author: fmt.Sprintf("%064x", i+20), Block: uint64(i / 2), Entry: []byte{byte(i), 0xfb, 0xff}, View: []byte(`{"i":1}`)})
	}
	for h := range 2 {
		f.BlocksV = append(f.BlocksV, api.Block{Height: uint64(h), Hash: fmt.Sprintf("%064x", h+30), Prev: fmt.Sprintf("%064x", h+29),
			Time: 1700000000000 + int64(h), FirstSeq: uint64(2 * h), Count: uint32(2 - h), LogSize: uint64(2 + h), LogRoot: fmt.Sprintf("%064x", h+40),
			Header: []byte{0xfe, byte(h)}})
	}
	return f
}
