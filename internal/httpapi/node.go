package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/board"
	"github.com/urna-vote/urna/internal/store"
)

// node adapts a board to Backend: every hex string and JSON view of the API
// is made here, from the board's domain values. e is the election the
// per-election methods answer for: the board itself (its default election,
// the un-prefixed routes) or one election's scope (In).
type node struct {
	b *board.Board
	e election
}

// election is what *board.Board (for its default election) and
// *board.Scoped both offer: one election's reads, posts and blocks.
type election interface {
	Submit(ctx context.Context, entries [][]byte) ([]board.Posted, error)
	ElectionStatus(ctx context.Context) (*board.ElectionStatus, error)
	Entries(ctx context.Context, from uint64, limit, maxBytes int) ([]board.Entry, error)
	Blocks(ctx context.Context, from uint64, limit int) ([]board.Block, error)
	Tracker(ctx context.Context, prefix []byte) (*board.TrackerStatus, error)
	Checkpoint(ctx context.Context) (*board.SignedCheckpoint, error)
	InclusionProof(ctx context.Context, seq, size uint64) (*board.Inclusion, error)
	ConsistencyProof(ctx context.Context, from, to uint64) ([]tlog.Hash, error)
	Receipt(ctx context.Context, seq uint64) (*bulletin.Receipt, error)
	Result(ctx context.Context) (*board.Result, error)
	WriteRecordSince(ctx context.Context, w io.Writer, from, size uint64) error
	Subscribe(ctx context.Context) (<-chan board.Block, func())
}

var (
	_ election = (*board.Board)(nil)
	_ election = (*board.Scoped)(nil)
)

// NewNode returns the Backend of a board node.
func NewNode(b *board.Board) Backend { return node{b, b} }

// Elections lists the board's elections (SPEC.md §3.14.6).
func (n node) Elections(context.Context) (*api.Elections, error) {
	out := &api.Elections{Elections: []api.ElectionSummary{}}
	for _, e := range n.b.Elections() {
		out.Elections = append(out.Elections, api.ElectionSummary{
			ElectionID: e.ID, Fingerprint: hexOf(e.Fingerprint[:]), Origin: e.Origin, Phase: e.Phase.String(),
			Entries: e.Entries, Attested: e.Attested, Default: e.Default, Archived: e.Archived, ArchivedAt: e.ArchivedAt,
		})
	}
	return out, nil
}

func (n node) Archive(ctx context.Context, id string) error { return n.b.Archive(ctx, id) }

// In returns the Backend of election id; unless create, an id that names
// no election of the board is board.ErrUnknownElection.
func (n node) In(id string, create bool) (Backend, error) {
	if !create && !n.b.HasElection(id) {
		return nil, fmt.Errorf("%w: %q", board.ErrUnknownElection, id)
	}
	s, err := n.b.Scope(id)
	if err != nil {
		return nil, err
	}
	return node{n.b, s}, nil
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func hexHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hexOf(h[:])
	}
	return out
}

func (n node) Submit(ctx context.Context, entries [][]byte) ([]SubmitResult, error) {
	posted, err := n.e.Submit(ctx, entries)
	if err != nil {
		return nil, err
	}
	out := make([]SubmitResult, len(posted))
	for i, p := range posted {
		out[i] = SubmitResult{Seq: p.Seq, ID: hexOf(p.ID[:]), Tracker: hexOf(p.Tracker), Block: p.Block, Err: p.Err}
	}
	return out, nil
}

func (n node) LeaderAPI() string { return n.b.LeaderAPI() }

func (n node) ReadIndex(ctx context.Context) (uint64, error) { return n.b.ReadIndex(ctx) }

func (n node) WaitApplied(ctx context.Context, index uint64) error {
	return n.b.WaitApplied(ctx, index)
}

func (n node) Health(context.Context) (*api.Health, error) {
	s := n.b.Status()
	return &api.Health{Status: "ok", Node: s.Node, Leader: s.Leader, Role: s.Role, Applied: s.Applied}, nil
}

func (n node) Election(ctx context.Context) (*api.Election, error) {
	el, err := n.e.ElectionStatus(ctx)
	if err != nil {
		return nil, err
	}
	return electionOf(el), nil
}

func electionOf(es *board.ElectionStatus) *api.Election {
	el := es.Election
	m, st := el.Manifest, el.Rules
	fp := m.Fingerprint()
	out := &api.Election{
		ElectionID: m.ElectionID, Title: m.Title, Fingerprint: hexOf(fp[:]), Manifest: el.Raw,
		Counts: api.Counts{Entries: el.Entries, Blocks: es.Blocks}, Phase: bulletin.PhaseSetup.String(),
		Trustees: []api.TrusteeStatus{}, Nodes: []string{}, Types: make(map[string]api.TypeSpan, len(es.Types)),
	}
	for typ, s := range es.Types {
		out.Types[typ.String()] = api.TypeSpan{First: s.First, Count: s.Count}
	}
	for _, bn := range m.BoardNodes {
		out.Nodes = append(out.Nodes, bn.ID)
	}
	if st.Phase != bulletin.PhaseEmpty {
		out.Phase = st.Phase.String()
		out.Counts.Ballots, out.Counts.Audited, out.Counts.Credentials = st.Ballots, st.Audited, st.Credentials
		out.Counts.VotersVoted = el.Voted
		if st.JointKey != [32]byte{} {
			out.JointKey = hexOf(st.JointKey[:])
		}
	}
	qualified := map[int]bool{}
	for _, q := range st.Qualified {
		qualified[int(q)] = true
	}
	for i, t := range m.Trustees {
		ts := api.TrusteeStatus{Index: i + 1, Name: t.Name, Qualified: qualified[i+1]}
		if i < len(st.Trustees) {
			ts.Dealt, ts.Decrypted = st.Trustees[i].Dealt, st.Trustees[i].Partial
		}
		out.Trustees = append(out.Trustees, ts)
	}
	if j, err := json.Marshal(m.JSON()); err == nil {
		out.View = j
	}
	return out
}

// mapAll converts a list of the board's values with to, stopping at the
// first error.
func mapAll[T, U any](list []T, err error, to func(T) (U, error)) ([]U, error) {
	if err != nil {
		return nil, err
	}
	out := make([]U, len(list))
	for i, v := range list {
		if out[i], err = to(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (n node) Entries(ctx context.Context, from uint64, limit int) ([]api.Entry, error) {
	list, err := n.e.Entries(ctx, from, limit, api.MaxPageBytes)
	return mapAll(list, err, entryOf)
}

// entryOf is the API form of a committed entry, its view included. The
// view's author is hex, like the entry's: one encoding per field.
func entryOf(be board.Entry) (api.Entry, error) {
	e, err := bulletin.ParseEntry(be.Raw)
	if err != nil {
		return api.Entry{}, fmt.Errorf("httpapi: stored entry %d: %w", be.Seq, err)
	}
	id := bulletin.EntryID(be.Raw)
	ak := e.AuthorKey()
	out := api.Entry{Seq: be.Seq, ID: hexOf(id[:]), Type: e.Type.String(), Author: hexOf(ak[:]), Block: be.Block, Entry: be.Raw}
	seq := be.Seq
	v := e.View(&seq, bodyViewer)
	v.Author = out.Author
	if j, err := json.Marshal(v); err == nil {
		out.View = j
	}
	return out, nil
}

// bodyViewer decodes bodies for the entries' JSON views: the tracker of
// ballots and audited ballots.
func bodyViewer(t bulletin.EntryType, body []byte) ([]byte, any, error) {
	switch t {
	case bulletin.TypeBallot:
		b, err := ballot.ParseBallot(body)
		if err != nil {
			return nil, nil, err
		}
		tr := b.Tracker()
		return tr[:], map[string]any{"tracker": tr.Short(), "questions": b.NumQuestions()}, nil
	case bulletin.TypeAuditedBallot:
		a, err := ballot.ParseAuditedBallot(body)
		if err != nil {
			return nil, nil, err
		}
		tr := a.Ballot.Tracker()
		return tr[:], map[string]any{"tracker": tr.Short(), "audited": true}, nil
	case bulletin.TypeAudit:
		a, err := ballot.ParseAudit(body)
		if err != nil {
			return nil, nil, err
		}
		tr := a.Tracker()
		return tr[:], map[string]any{"tracker": tr.Short(), "audited": true}, nil
	}
	return nil, nil, nil
}

func (n node) Blocks(ctx context.Context, from uint64, limit int) ([]api.Block, error) {
	list, err := n.e.Blocks(ctx, from, limit)
	return mapAll(list, err, func(b board.Block) (api.Block, error) { return blockOf(b), nil })
}

func blockOf(b board.Block) api.Block {
	h := b.Header
	hash := h.Hash()
	return api.Block{
		Height: h.Height, Hash: hexOf(hash[:]), Prev: hexOf(h.Prev[:]),
		Time: int64(h.Time), FirstSeq: h.FirstSeq, Count: h.Count, LogSize: h.LogSize,
		LogRoot: hexOf(h.LogRoot[:]), Header: b.Raw,
	}
}

func (n node) Tracker(ctx context.Context, q string) (*api.Tracker, error) {
	prefix, err := parseTrackerQuery(q)
	if err != nil {
		return nil, err
	}
	ts, err := n.e.Tracker(ctx, prefix)
	if err != nil {
		return nil, err
	}
	h, err := bulletin.ReadHeader(ts.Entry)
	if err != nil {
		return nil, fmt.Errorf("httpapi: stored entry %d: %w", ts.Seq, err)
	}
	return &api.Tracker{Seq: ts.Seq, ID: hexOf(h.ID[:]), Type: h.Type.String(), Tracker: hexOf(ts.Tracker[:]),
		Counts: ts.Counts, SupersededBy: ts.SupersededBy, Audited: ts.Audited}, nil
}

// parseTrackerQuery reads a tracker as a person typed or pasted it, by
// the one rule of ballot.ParseTrackerQuery (SPEC.md §7.1), and returns the
// key prefix to look up. An unreadable tracker names no ballot: not found.
func parseTrackerQuery(q string) ([]byte, error) {
	tq, err := ballot.ParseTrackerQuery(q)
	if err != nil {
		return nil, fmt.Errorf("httpapi: tracker %q: %w: %w", q, err, store.ErrNotFound)
	}
	return tq.Prefix(), nil
}

func (n node) Checkpoint(ctx context.Context) (*api.Checkpoint, error) {
	sc, err := n.e.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	c := sc.Checkpoint
	return &api.Checkpoint{Size: c.Size, Root: hexOf(c.Root[:]), Note: string(sc.Note), Signers: sc.Signers}, nil
}

func (n node) InclusionProof(ctx context.Context, seq, size uint64) (*api.InclusionProof, error) {
	in, err := n.e.InclusionProof(ctx, seq, size)
	if err != nil {
		return nil, err
	}
	return &api.InclusionProof{Seq: in.Seq, Size: in.Size, LeafHash: hexOf(in.Leaf[:]), Proof: hexHashes(in.Proof)}, nil
}

func (n node) ConsistencyProof(ctx context.Context, from, to uint64) (*api.ConsistencyProof, error) {
	p, err := n.e.ConsistencyProof(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return &api.ConsistencyProof{From: from, To: to, Proof: hexHashes(p)}, nil
}

func (n node) Receipt(ctx context.Context, seq uint64) (*api.Receipt, error) {
	rc, err := n.e.Receipt(ctx, seq)
	if err != nil {
		return nil, err
	}
	out := &api.Receipt{Receipt: rc.Bytes(), Checkpoint: string(rc.Checkpoint)}
	if e, err := bulletin.ParseEntry(rc.Entry); err == nil {
		if tr, _, err := bodyViewer(e.Type, e.Body); err == nil && tr != nil {
			out.Tracker = hexOf(tr)
		}
	}
	return out, nil
}

func (n node) Results(ctx context.Context) (*api.Results, error) {
	r, err := n.e.Result(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.Results{Trustees: r.Result.Trustees, ResultSeq: r.Seq, Questions: []api.QuestionResult{}}
	counts := r.Result.Counts
	for q, qq := range r.Manifest.Questions {
		qr := api.QuestionResult{Text: qq.Text, Options: []api.OptionResult{}}
		for o, opt := range qq.Options {
			var c uint64
			if q < len(counts) && o < len(counts[q]) {
				c = counts[q][o]
			}
			qr.Options = append(qr.Options, api.OptionResult{Text: opt, Count: c})
		}
		out.Questions = append(out.Questions, qr)
	}
	return out, nil
}

func (n node) WriteRecord(ctx context.Context, w io.Writer, from, size uint64) error {
	return n.e.WriteRecordSince(ctx, w, from, size)
}

func (n node) Subscribe(ctx context.Context) (<-chan api.Block, func()) {
	in, cancel := n.e.Subscribe(ctx)
	out := make(chan api.Block)
	stop := make(chan struct{})
	go func() {
		defer close(out)
		for {
			select {
			case b, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- blockOf(b):
				case <-stop:
					return
				}
			case <-stop:
				return
			}
		}
	}()
	var once sync.Once
	return out, func() { once.Do(func() { stopSub(stop, in, cancel) }) }
}

// stopSub ends an adapted subscription.
func stopSub(stop chan struct{}, in <-chan board.Block, cancel func()) {
	{
		close(stop)
		// Drain so that the board's delivery goroutine, which cancel
		// waits for, is never stuck handing us a block.
		go func() {
			for range in {
			}
		}()
		cancel()
	}
}

func (n node) Cluster(ctx context.Context) (*api.Cluster, error) {
	leader, servers, err := n.b.Cluster(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.Cluster{Leader: leader, Servers: []api.Server{}}
	for _, s := range servers {
		out.Servers = append(out.Servers, api.Server{ID: s.ID, RaftAddr: s.RaftAddr, APIAddr: s.APIAddr, Suffrage: s.Suffrage, Leader: s.Leader})
	}
	return out, nil
}

func (n node) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	return n.b.Join(ctx, id, raftAddr, apiAddr)
}

func (n node) Remove(ctx context.Context, id string) error { return n.b.Remove(ctx, id) }

func (n node) SubmitCosign(ctx context.Context, cmd []byte) error { return n.b.SubmitCosign(ctx, cmd) }
