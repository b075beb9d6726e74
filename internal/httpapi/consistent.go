package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/replica"
)

// maxReadIndexAnswer bounds the leader's answer on api.ReadIndexPath.
const maxReadIndexAnswer = 4 << 10

// errNoReadIndex: no leader confirmed a read index in time.
var errNoReadIndex = &Error{Status: http.StatusServiceUnavailable, Code: api.CodeNoLeader,
	Message: "no leader could confirm a read index for this consistent read; retry later"}

// consistent serves a read with ?consistent=1 from a state at least as new
// as every write acknowledged before the request began (docs/API.md,
// "Consistent reads"): it obtains a read index from the leader (this node's
// replica when it leads, else the leader's api.ReadIndexPath over the peer
// transport) and waits until this node's state has applied it, within
// opts.ConsistentWait and the request's own deadline. When either fails it
// answers 503 no_leader or not_ready and never the possibly stale state.
// Without the parameter (or with consistent=0) the read is served from this
// node's state as it is.
func (s *server) consistent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		vals, ok := c.QueryParams()[api.ConsistentParam]
		if !ok {
			return next(c)
		}
		if len(vals) != 1 || (vals[0] != "1" && vals[0] != "0") {
			return malformed("%s: expected 1 (a consistent read) or 0", api.ConsistentParam)
		}
		if vals[0] == "0" {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.ConsistentWait)
		defer cancel()
		idx, err := s.readIndex(ctx)
		if err != nil {
			return err
		}
		if err := s.b.WaitApplied(ctx, idx); err != nil {
			return err // board.ErrBehind: 503 not_ready (errors.go)
		}
		return next(c)
	}
}

// readIndex is the read index from this node's replica when it leads, else
// from the leader it knows, following leader changes until ctx ends.
func (s *server) readIndex(ctx context.Context) (uint64, error) {
	idx, err := s.b.ReadIndex(ctx)
	if err == nil {
		return idx, nil
	}
	var nle *replica.NotLeaderError
	if !errors.As(err, &nle) {
		if ctx.Err() != nil {
			return 0, errNoReadIndex
		}
		return 0, err
	}
	leader := s.b.LeaderAPI()
	if leader == "" {
		leader = nle.LeaderAPI
	}
	if leader == "" {
		leader = s.awaitLeader(ctx, "")
	}
	for leader != "" {
		idx, err := s.askReadIndex(ctx, leader)
		if err == nil {
			return idx, nil
		}
		s.log.DebugContext(ctx, "httpapi: the leader gave no read index", "leader", leader, "err", err)
		if errors.Is(err, errUnusableLeader) {
			break
		}
		leader = s.awaitLeader(ctx, leader)
	}
	return 0, errNoReadIndex
}

// askReadIndex asks leader for a read index (api.ReadIndexPath); the
// attempt ends when this node learns of another leader.
func (s *server) askReadIndex(ctx context.Context, leader string) (uint64, error) {
	target, err := api.ParseBaseURL(leader)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %v", errUnusableLeader, leader, err)
	}
	u := *target
	u.Path = strings.TrimSuffix(target.Path, "/") + api.ReadIndexPath
	actx, stop := s.untilLeaderMoves(ctx, leader)
	defer stop()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set(forwardedHeader, "1")
	if s.opts.ClusterToken != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+s.opts.ClusterToken)
	}
	resp, err := s.opts.ForwardTransport.RoundTrip(req)
	if err != nil {
		if cause := context.Cause(actx); cause != nil && errors.Is(cause, errLeaderMoved) {
			return 0, cause
		}
		return 0, redact(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReadIndexAnswer+1))
	if err != nil {
		return 0, fmt.Errorf("reading the leader's read index: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the leader answered status %d", resp.StatusCode)
	}
	if len(b) > maxReadIndexAnswer {
		return 0, fmt.Errorf("the leader's read index answer is larger than %d bytes", maxReadIndexAnswer)
	}
	var ri api.ReadIndexResponse
	if err := decodeStrict(b, &ri); err != nil {
		return 0, fmt.Errorf("the leader's read index answer: %w", err)
	}
	return ri.Index, nil
}

// readIndexRoute is the leader's side of api.ReadIndexPath (a cluster
// route). It is never forwarded: a node that does not lead answers 503
// no_leader and the asking follower looks for the leader again.
func (s *server) readIndexRoute(c echo.Context) error {
	idx, err := s.b.ReadIndex(c.Request().Context())
	if errors.Is(err, replica.ErrNotLeader) {
		return &Error{Status: http.StatusServiceUnavailable, Code: api.CodeNoLeader,
			Message: "this node is not the leader (or could not confirm it still leads); retry later"}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.ReadIndexResponse{Index: idx})
}

// untilLeaderMoves returns ctx cancelled with errLeaderMoved as soon as
// this node learns of a leader other than leader (the old one may be cut
// off: its address accepts nothing and answers nothing).
func (s *server) untilLeaderMoves(ctx context.Context, leader string) (context.Context, func()) {
	actx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-actx.Done():
				return
			case <-t.C:
				if l := s.b.LeaderAPI(); l != "" && l != leader {
					cancel(errLeaderMoved)
					return
				}
			}
		}
	}()
	return actx, func() { cancel(nil) }
}
