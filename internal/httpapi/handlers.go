package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/store"
)

func (s *server) routes(e *echo.Echo) {
	g := e.Group(api.Prefix, apiHeaders)
	t := s.withTimeout

	rc := s.consistent // ?consistent=1 (consistent.go)

	// The per-election routes, twice: un-prefixed, for the default
	// election (SPEC.md §3.14.6), and under each election's id.
	perElection := func(g *echo.Group, m ...echo.MiddlewareFunc) {
		with := func(h ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
			return append(append([]echo.MiddlewareFunc{}, m...), h...)
		}
		g.POST("/entries", s.submit, with(s.holdLarge)...) // its own timeout (submit)
		g.GET("/election", s.election, with(t, rc)...)
		g.GET("/entries", s.entries, with(t, rc)...)
		g.GET("/entries/:seq", s.entry, with(t, rc)...)
		g.GET("/blocks", s.blocks, with(t, rc)...)
		g.GET("/blocks/:height", s.block, with(t, rc)...)
		g.GET("/trackers/:tracker", s.tracker, with(t, rc)...)
		g.GET("/checkpoint", s.checkpoint, with(t, rc)...)
		g.GET("/proofs/inclusion", s.inclusion, with(t, rc)...)
		g.GET("/proofs/consistency", s.consistency, with(t, rc)...)
		g.GET("/receipts/:seq", s.receipt, with(t, rc)...)
		g.GET("/results", s.results, with(t, rc)...)
		g.GET("/record", s.record, with(s.limitStreams, rc)...) // streams: no request timeout
		g.GET("/events", s.events, with(s.limitStreams)...)     // streams: no request timeout
		// The code of the pages that serve the election: one for the
		// board, addressed per election too (docs/spec/elections.md E.6),
		// so that a page's footer stays in its election.
		g.GET("/booth", s.booth, with(t)...)
	}
	perElection(g)
	g.GET(strings.TrimPrefix(api.ElectionsPath, api.Prefix), s.elections, t, rc)
	perElection(g.Group(strings.TrimPrefix(api.ElectionsPath, api.Prefix)+"/:election"), s.inElection)
	g.POST(strings.TrimPrefix(api.ElectionsPath, api.Prefix)+"/:election/archive", s.archive, s.clusterGuard, t)
	g.GET("/health", s.health, t)
	g.GET("/cluster", s.cluster, t)
	g.POST("/cluster/join", s.join, s.clusterGuard, t)
	g.POST("/cluster/remove", s.remove, s.clusterGuard, t)
	g.POST(strings.TrimPrefix(api.CosignPath, api.Prefix), s.cosign, s.clusterGuard, t)
	g.GET(strings.TrimPrefix(api.ReadIndexPath, api.Prefix), s.readIndexRoute, s.clusterGuard, t)
	g.Any("/*", func(echo.Context) error { return echo.ErrNotFound })

	if s.opts.Static != nil {
		files := echo.WrapHandler(staticHandler(s.opts.Static))
		e.GET("/*", files)
		e.HEAD("/*", files)
	}
}

func (s *server) submit(c echo.Context) error {
	if isRawEntry(c.Request()) {
		entry, err := s.readRawEntry(c)
		if err != nil {
			return err
		}
		return s.submitEntries(c, [][]byte{entry})
	}
	var req api.SubmitRequest
	if err := bindStrict(c, s.opts.MaxEntriesBody, &req); err != nil {
		return err
	}
	switch n := len(req.Entries); {
	case n == 0:
		return malformed("no entries: post 1 to %d", api.MaxEntriesPerPost)
	case n > api.MaxEntriesPerPost:
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: api.CodeTooLarge,
			Message: fmt.Sprintf("%d entries: post at most %d at once", n, api.MaxEntriesPerPost)}
	}
	entries := make([][]byte, len(req.Entries))
	for i, s := range req.Entries {
		b, err := api.DecodeBytes(s)
		if err != nil || len(b) == 0 {
			return malformed("entry %d: not unpadded base64url of a canonical entry", i)
		}
		entries[i] = b
	}
	return s.submitEntries(c, entries)
}

// submitEntries submits the posted entries and answers their results,
// within submitTimeout; a post given longer than the write timeout may
// also answer after it.
func (s *server) submitEntries(c echo.Context, entries [][]byte) error {
	d := s.submitTimeout(entries)
	if d > s.opts.WriteTimeout {
		_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(d + 10*time.Second))
	}
	return s.bounded(c, d, func(c echo.Context) error { return s.answerSubmit(c, entries) })
}

func (s *server) answerSubmit(c echo.Context, entries [][]byte) error {
	results, err := s.be(c).Submit(c.Request().Context(), entries)
	if err != nil {
		return err
	}
	if len(results) != len(entries) {
		return fmt.Errorf("httpapi: backend returned %d results for %d entries", len(results), len(entries))
	}
	resp := api.SubmitResponse{Results: make([]api.SubmitItem, len(results))}
	for i, r := range results {
		if r.Err != nil {
			resp.Results[i] = api.SubmitItem{Error: s.itemError(c.Request(), i, r.Err)}
			continue
		}
		resp.Results[i] = api.SubmitItem{Seq: r.Seq, ID: r.ID, Tracker: r.Tracker, Block: r.Block}
	}
	return c.JSON(http.StatusOK, resp)
}

// answer calls get and sends its value, or returns its error.
func answer[T any](c echo.Context, get func(context.Context) (*T, error), fix func(*T)) error {
	v, err := get(c.Request().Context())
	if err != nil {
		return err
	}
	out := *v
	if fix != nil {
		fix(&out)
	}
	return c.JSON(http.StatusOK, out)
}

// backendKey is where inElection keeps the route's election Backend.
const backendKey = "urna.election"

// be is the Backend of the request's election: the route's (inElection)
// or the default election's.
func (s *server) be(c echo.Context) Backend {
	if b, ok := c.Get(backendKey).(Backend); ok {
		return b
	}
	return s.b
}

// inElection resolves the route's election id (SPEC.md
// §3.14.6): an id naming no election answers 404 unknown_election, except for
// a post, whose manifest may create it (§3.14.2); which election each posted
// entry belongs to is still its own election field's business (§3.14.6.2).
func (s *server) inElection(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := s.b.In(c.Param("election"), c.Request().Method == http.MethodPost)
		if err != nil {
			return err
		}
		c.Set(backendKey, b)
		return next(c)
	}
}

// archive archives the route's election (§3.14.3): an operator's action,
// guarded as the cluster routes are.
func (s *server) archive(c echo.Context) error {
	if err := s.b.Archive(c.Request().Context(), c.Param("election")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.StatusResponse{Status: "ok"})
}

func (s *server) elections(c echo.Context) error {
	return answer(c, s.b.Elections, nil)
}

func (s *server) health(c echo.Context) error {
	return answer(c, func(ctx context.Context) (*api.Health, error) {
		h, err := s.b.Health(ctx)
		if h != nil {
			h.Version = s.opts.Version
		}
		return h, err
	}, nil)
}

func (s *server) election(c echo.Context) error {
	return answer(c, s.be(c).Election, func(e *api.Election) {
		e.Trustees, e.Nodes, e.View = nonNil(e.Trustees), nonNil(e.Nodes), rawOrNull(e.View)
		if e.Types == nil {
			e.Types = map[string]api.TypeSpan{}
		}
	})
}

// page reads the from and limit query parameters and returns the backend's
// page, cut to the limit.
func page[T any](c echo.Context, list func(context.Context, uint64, int) ([]T, error)) ([]T, uint64, error) {
	from, err := queryUint(c, "from", 0)
	if err != nil {
		return nil, 0, err
	}
	limit, err := queryLimit(c, api.DefaultPageLimit, api.MaxPageLimit)
	if err != nil {
		return nil, 0, err
	}
	items, err := list(c.Request().Context(), from, limit)
	if err != nil {
		return nil, 0, err
	}
	return items[:min(len(items), limit)], from, nil
}

// item answers the one element at the path parameter name, or not_found.
func item[T any](c echo.Context, name string, list func(context.Context, uint64, int) ([]T, error), key func(T) uint64, fix func(*T)) error {
	at, err := pathUint(c, name)
	if err != nil {
		return err
	}
	items, err := list(c.Request().Context(), at, 1)
	if err != nil {
		return err
	}
	if len(items) == 0 || key(items[0]) != at {
		return fmt.Errorf("httpapi: %s %d: %w", name, at, store.ErrNotFound)
	}
	fix(&items[0])
	return c.JSON(http.StatusOK, items[0])
}

func entrySeq(e api.Entry) uint64    { return e.Seq }
func blockHeight(b api.Block) uint64 { return b.Height }
func fixEntry(e *api.Entry)          { e.View = rawOrNull(e.View) }
func (s *server) entry(c echo.Context) error {
	release := func() {}
	defer func() { release() }()
	return item(c, "seq", func(ctx context.Context, at uint64, n int) ([]api.Entry, error) {
		list, err := s.be(c).Entries(ctx, at, n)
		if err != nil {
			return nil, err
		}
		r, err := s.holdLargeRead(list)
		if err != nil {
			return nil, err
		}
		release = r
		return list, nil
	}, entrySeq, fixEntry)
}
func (s *server) block(c echo.Context) error {
	return item(c, "height", s.be(c).Blocks, blockHeight, func(*api.Block) {})
}

func (s *server) entries(c echo.Context) error {
	list, from, err := page(c, s.be(c).Entries)
	if err != nil {
		return err
	}
	release, err := s.holdLargeRead(list)
	if err != nil {
		return err
	}
	defer release()
	resp := api.EntriesResponse{Entries: nonNil(list), Next: from}
	for i := range list {
		fixEntry(&list[i])
		resp.Next = list[i].Seq + 1
	}
	if _, pretty := c.QueryParams()["pretty"]; pretty {
		return c.JSON(http.StatusOK, resp)
	}
	return writeEntries(c, &resp)
}

// holdLargeRead takes a large-entry token (takeLarge) for an answer whose
// entries' bytes exceed MaxEntriesBody, until release: its JSON (base64, a
// view) is larger still, so such answers are built a few at a time, as
// large posts are read.
func (s *server) holdLargeRead(list []api.Entry) (release func(), err error) {
	var n int64
	for i := range list {
		n += int64(len(list[i].Entry))
	}
	if n <= s.opts.MaxEntriesBody {
		return func() {}, nil
	}
	return s.takeLarge()
}

// writeEntries writes resp as c.JSON would, byte for byte, one entry at a
// time: a page of MaxPageLimit ballots with their views is megabytes of
// JSON, which c.JSON builds whole in a buffer that doubles as it grows
// (the largest heap item of the node's read path while parties follow a
// large board).
func writeEntries(c echo.Context, resp *api.EntriesResponse) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, `{"entries":[`); err != nil {
		return nil // the client went away
	}
	for i := range resp.Entries {
		b, err := json.Marshal(&resp.Entries[i])
		if err != nil {
			// The status is sent: cut the answer rather than end it as
			// valid JSON with entries missing.
			panic(http.ErrAbortHandler)
		}
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return nil
			}
		}
		if _, err := w.Write(b); err != nil {
			return nil
		}
	}
	_, _ = fmt.Fprintf(w, `],"next":%d}`+"\n", resp.Next)
	return nil
}

func (s *server) blocks(c echo.Context) error {
	list, _, err := page(c, s.be(c).Blocks)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.BlocksResponse{Blocks: nonNil(list)})
}

func (s *server) tracker(c echo.Context) error {
	tr := c.Param("tracker")
	if tr == "" || len(tr) > api.MaxTrackerQuery {
		return malformed("tracker: expected the short form or the full hex tracker")
	}
	return answer(c, func(ctx context.Context) (*api.Tracker, error) { return s.be(c).Tracker(ctx, tr) }, nil)
}

func (s *server) checkpoint(c echo.Context) error {
	return answer(c, s.be(c).Checkpoint, func(cp *api.Checkpoint) { cp.Signers = nonNil(cp.Signers) })
}

func (s *server) inclusion(c echo.Context) error {
	seq, size, err := requireUints(c, "seq", "size")
	if err != nil {
		return err
	}
	if seq >= size {
		return malformed("seq %d is not below size %d", seq, size)
	}
	return answer(c, func(ctx context.Context) (*api.InclusionProof, error) { return s.be(c).InclusionProof(ctx, seq, size) },
		func(p *api.InclusionProof) { p.Proof = nonNil(p.Proof) })
}

func (s *server) consistency(c echo.Context) error {
	from, to, err := requireUints(c, "from", "to")
	if err != nil {
		return err
	}
	if from > to {
		return malformed("from %d is above to %d", from, to)
	}
	return answer(c, func(ctx context.Context) (*api.ConsistencyProof, error) {
		return s.be(c).ConsistencyProof(ctx, from, to)
	},
		func(p *api.ConsistencyProof) { p.Proof = nonNil(p.Proof) })
}

func (s *server) receipt(c echo.Context) error {
	seq, err := pathUint(c, "seq")
	if err != nil {
		return err
	}
	return answer(c, func(ctx context.Context) (*api.Receipt, error) { return s.be(c).Receipt(ctx, seq) }, nil)
}

func (s *server) results(c echo.Context) error {
	return answer(c, s.be(c).Results, func(r *api.Results) {
		r.Questions, r.Trustees = nonNil(r.Questions), nonNil(r.Trustees)
	})
}

func rawOrNull(r []byte) []byte {
	if len(r) == 0 {
		return []byte("null")
	}
	return r
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
