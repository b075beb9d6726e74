package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/wire"
)

// Prefix is the path prefix of API version 1.
const Prefix = "/api/v1"

func (s *server) routes(e *echo.Echo) {
	api := e.Group(Prefix, apiHeaders)
	t := s.withTimeout

	api.POST("/entries", s.submit, t)
	api.GET("/health", s.health, t)
	api.GET("/election", s.election, t)
	api.GET("/entries", s.entries, t)
	api.GET("/entries/:seq", s.entry, t)
	api.GET("/blocks", s.blocks, t)
	api.GET("/blocks/:height", s.block, t)
	api.GET("/trackers/:tracker", s.tracker, t)
	api.GET("/checkpoint", s.checkpoint, t)
	api.GET("/proofs/inclusion", s.inclusion, t)
	api.GET("/proofs/consistency", s.consistency, t)
	api.GET("/receipts/:seq", s.receipt, t)
	api.GET("/results", s.results, t)
	api.GET("/record", s.record) // streams: no request timeout
	api.GET("/events", s.events) // streams: no request timeout
	api.GET("/cluster", s.cluster, t)
	api.POST("/cluster/join", s.join, s.clusterGuard, t)
	api.POST("/cluster/remove", s.remove, s.clusterGuard, t)
	api.Any("/*", func(echo.Context) error { return echo.ErrNotFound })

	if s.opts.Static != nil {
		files := echo.WrapHandler(http.FileServerFS(s.opts.Static))
		e.GET("/*", files)
		e.HEAD("/*", files)
	}
}

func (s *server) submit(c echo.Context) error {
	var req SubmitRequest
	if err := bindStrict(c, s.opts.MaxEntriesBody, &req); err != nil {
		return err
	}
	switch n := len(req.Entries); {
	case n == 0:
		return malformed("no entries: post 1 to %d", MaxEntriesPerPost)
	case n > MaxEntriesPerPost:
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Message: fmt.Sprintf("%d entries: post at most %d at once", n, MaxEntriesPerPost)}
	}
	entries := make([][]byte, len(req.Entries))
	for i, s := range req.Entries {
		// Why the CR/LF check: Go's base64 decoders skip CR and LF even in
		// strict mode, so "AQ\nID" would pass as a second spelling of "AQID".
		if strings.ContainsAny(s, "\r\n") {
			return malformed("entry %d: not unpadded base64url of a canonical entry", i)
		}
		b, err := wire.DecodeB64(s)
		if err != nil || len(b) == 0 {
			return malformed("entry %d: not unpadded base64url of a canonical entry", i)
		}
		entries[i] = b
	}
	results, err := s.b.Submit(c.Request().Context(), entries)
	if err != nil {
		return err
	}
	if len(results) != len(entries) {
		return fmt.Errorf("httpapi: backend returned %d results for %d entries", len(results), len(entries))
	}
	resp := SubmitResponse{Results: make([]SubmitItem, len(results))}
	for i, r := range results {
		if r.Err != nil {
			resp.Results[i] = SubmitItem{Error: s.itemError(c.Request(), i, r.Err)}
			continue
		}
		resp.Results[i] = SubmitItem{Seq: r.Seq, ID: r.ID, Tracker: r.Tracker, Block: r.Block}
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *server) health(c echo.Context) error {
	h, err := s.b.Health(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

func (s *server) election(c echo.Context) error {
	st, err := s.b.Election(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ElectionToJSON(st))
}

func (s *server) entries(c echo.Context) error {
	from, err := queryUint(c, "from", 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, DefaultPageLimit, MaxPageLimit)
	if err != nil {
		return err
	}
	list, err := s.b.Entries(c.Request().Context(), from, limit)
	if err != nil {
		return err
	}
	if len(list) > limit {
		list = list[:limit]
	}
	resp := EntriesResponse{Entries: make([]EntryJSON, len(list)), Next: from}
	for i, e := range list {
		resp.Entries[i] = EntryToJSON(e)
		resp.Next = e.Seq + 1
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *server) entry(c echo.Context) error {
	seq, err := pathUint(c, "seq")
	if err != nil {
		return err
	}
	list, err := s.b.Entries(c.Request().Context(), seq, 1)
	if err != nil {
		return err
	}
	if len(list) == 0 || list[0].Seq != seq {
		return fmt.Errorf("httpapi: entry %d: %w", seq, store.ErrNotFound)
	}
	return c.JSON(http.StatusOK, EntryToJSON(list[0]))
}

func (s *server) blocks(c echo.Context) error {
	from, err := queryUint(c, "from", 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, DefaultPageLimit, MaxPageLimit)
	if err != nil {
		return err
	}
	list, err := s.b.Blocks(c.Request().Context(), from, limit)
	if err != nil {
		return err
	}
	if len(list) > limit {
		list = list[:limit]
	}
	resp := BlocksResponse{Blocks: make([]BlockJSON, len(list))}
	for i, b := range list {
		resp.Blocks[i] = BlockToJSON(b)
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *server) block(c echo.Context) error {
	h, err := pathUint(c, "height")
	if err != nil {
		return err
	}
	list, err := s.b.Blocks(c.Request().Context(), h, 1)
	if err != nil {
		return err
	}
	if len(list) == 0 || list[0].Height != h {
		return fmt.Errorf("httpapi: block %d: %w", h, store.ErrNotFound)
	}
	return c.JSON(http.StatusOK, BlockToJSON(list[0]))
}

func (s *server) tracker(c echo.Context) error {
	tr := c.Param("tracker")
	if tr == "" || len(tr) > 128 {
		return malformed("tracker: expected the short form or the full hex tracker")
	}
	info, err := s.b.Tracker(c.Request().Context(), tr)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

func (s *server) checkpoint(c echo.Context) error {
	cp, err := s.b.Checkpoint(c.Request().Context())
	if err != nil {
		return err
	}
	out := *cp
	out.Signers = nonNil(out.Signers)
	return c.JSON(http.StatusOK, out)
}

func (s *server) inclusion(c echo.Context) error {
	seq, err := requireUint(c, "seq")
	if err != nil {
		return err
	}
	size, err := requireUint(c, "size")
	if err != nil {
		return err
	}
	if seq >= size {
		return malformed("seq %d is not below size %d", seq, size)
	}
	p, err := s.b.InclusionProof(c.Request().Context(), seq, size)
	if err != nil {
		return err
	}
	out := *p
	out.Proof = nonNil(out.Proof)
	return c.JSON(http.StatusOK, out)
}

func (s *server) consistency(c echo.Context) error {
	from, err := requireUint(c, "from")
	if err != nil {
		return err
	}
	to, err := requireUint(c, "to")
	if err != nil {
		return err
	}
	if from > to {
		return malformed("from %d is above to %d", from, to)
	}
	p, err := s.b.ConsistencyProof(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	out := *p
	out.Proof = nonNil(out.Proof)
	return c.JSON(http.StatusOK, out)
}

func (s *server) receipt(c echo.Context) error {
	seq, err := pathUint(c, "seq")
	if err != nil {
		return err
	}
	r, err := s.b.Receipt(c.Request().Context(), seq)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ReceiptToJSON(r))
}

func (s *server) results(c echo.Context) error {
	r, err := s.b.Results(c.Request().Context())
	if err != nil {
		return err
	}
	out := *r
	out.Questions = nonNil(out.Questions)
	out.Trustees = nonNil(out.Trustees)
	return c.JSON(http.StatusOK, out)
}

func (s *server) cluster(c echo.Context) error {
	ci, err := s.b.Cluster(c.Request().Context())
	if err != nil {
		return err
	}
	out := *ci
	out.Servers = nonNil(out.Servers)
	return c.JSON(http.StatusOK, out)
}

func (s *server) join(c echo.Context) error {
	var req JoinRequest
	if err := bindStrict(c, s.opts.MaxBody, &req); err != nil {
		return err
	}
	if req.ID == "" || req.RaftAddr == "" || req.APIAddr == "" {
		return malformed("join needs id, raft_addr and api_addr")
	}
	if err := s.b.Join(c.Request().Context(), req.ID, req.RaftAddr, req.APIAddr); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, StatusResponse{Status: "ok"})
}

func (s *server) remove(c echo.Context) error {
	var req RemoveRequest
	if err := bindStrict(c, s.opts.MaxBody, &req); err != nil {
		return err
	}
	if req.ID == "" {
		return malformed("remove needs id")
	}
	if err := s.b.Remove(c.Request().Context(), req.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, StatusResponse{Status: "ok"})
}
