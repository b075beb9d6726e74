package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/replica"
)

// forwardedHeader marks a request forwarded by a follower. A node that gets
// a forwarded write and is not the leader either answers no_leader instead
// of forwarding again, so a stale view of the leader cannot loop.
const forwardedHeader = "X-Urna-Forwarded"

// maxForwardAnswer bounds the leader's answer a follower relays (the
// largest is a submit answer of api.MaxEntriesPerPost items).
const maxForwardAnswer = 4 << 20

// errLeaderMoved cancels a forwarded request when this node learns of
// another leader while the request is in flight (the old one may be
// paused: its TCP stack accepts, nothing answers).
var errLeaderMoved = errors.New("httpapi: the leader changed while the request was forwarded")

// errUnusableLeader: the membership names an API address that is not an
// http(s) base URL. Waiting would not help; the node answers no_leader.
var errUnusableLeader = errors.New("httpapi: unusable leader API address")

// forward answers a write refused with replica.ErrNotLeader by replaying it
// to the leader's API and relaying the answer. It reports false when the
// request is not to be forwarded (not a POST, or forwarded already); the
// caller then answers 503 no_leader.
//
// Entries are parsed here first (bulletin.ParseEntry: envelope, sizes):
// junk is answered by this node and never costs the leader anything.
//
// The leader is looked up again whenever it may have changed: before each
// attempt, while an attempt is in flight (a new leader cancels it) and
// after an attempt failed to reach the leader. A write is safe to send
// twice: an entry already committed answers with its position.
func (s *server) forward(c echo.Context, err error) bool {
	req := c.Request()
	if req.Method != http.MethodPost || req.Header.Get(forwardedHeader) != "" {
		return false
	}
	body, _ := c.Get(bodyKey).([]byte)
	hint := ""
	var nle *replica.NotLeaderError
	if errors.As(err, &nle) {
		hint = nle.LeaderAPI
	}
	if isEntriesPath(req.URL.Path) && isRawEntry(req) {
		s.forwardRawEntry(c, req.URL.Path, body, hint)
		return true
	}
	if isEntriesPath(req.URL.Path) {
		s.forwardEntries(c, req.URL.Path, body, hint)
		return true
	}
	s.relay(c, s.forwardTo(c, req.URL.Path, body, hint))
	return true
}

// isEntriesPath reports whether path posts entries: the default election's
// route or an election's (SPEC.md §3.14.6).
func isEntriesPath(path string) bool {
	if path == api.Prefix+"/entries" {
		return true
	}
	id, ok := strings.CutPrefix(path, api.ElectionsPath+"/")
	id, ok2 := strings.CutSuffix(id, "/entries")
	return ok && ok2 && !strings.Contains(id, "/")
}

// forwardEntries parses the posted entries, answers the unparsable ones
// itself and forwards the others, merging the leader's answers back in
// their places.
func (s *server) forwardEntries(c echo.Context, path string, body []byte, hint string) {
	var sr api.SubmitRequest
	if err := decodeStrict(body, &sr); err != nil {
		// The handler decoded it before refusing; a body that no longer
		// decodes is an internal fault.
		s.handleErrorLocal(c, fmt.Errorf("httpapi: forwarding: re-decoding the request: %w", err))
		return
	}
	resp := api.SubmitResponse{Results: make([]api.SubmitItem, len(sr.Entries))}
	var good []string
	var pos []int
	for i, enc := range sr.Entries {
		raw, err := api.DecodeBytes(enc)
		if err == nil {
			_, err = bulletin.ParseEntry(raw)
		}
		if err != nil {
			resp.Results[i] = api.SubmitItem{Error: s.itemError(c.Request(), i, fmt.Errorf("entry %d: %w", i, err))}
			continue
		}
		good = append(good, enc)
		pos = append(pos, i)
	}
	if len(good) == 0 {
		_ = c.JSON(http.StatusOK, resp)
		return
	}
	if len(good) < len(sr.Entries) {
		body, _ = json.Marshal(api.SubmitRequest{Entries: good})
	}
	ans := s.forwardTo(c, path, body, hint)
	if ans.status != http.StatusOK || len(good) == len(sr.Entries) {
		s.relay(c, ans)
		return
	}
	var part api.SubmitResponse
	if err := json.Unmarshal(ans.body, &part); err != nil || len(part.Results) != len(good) {
		s.handleErrorLocal(c, fmt.Errorf("httpapi: forwarding: the leader's answer has %d results for %d entries (%v)", len(part.Results), len(good), err))
		return
	}
	for k, it := range part.Results {
		resp.Results[pos[k]] = it
	}
	c.Response().Header().Set(forwardedHeader, "1")
	_ = c.JSON(http.StatusOK, resp)
}

// forwardRawEntry forwards a binary post of one entry (rawentry.go) as it
// came, unless the entry does not parse: that one this node answers.
func (s *server) forwardRawEntry(c echo.Context, path string, entry []byte, hint string) {
	if _, err := bulletin.ParseEntry(entry); err != nil {
		_ = c.JSON(http.StatusOK, api.SubmitResponse{Results: []api.SubmitItem{{Error: s.itemError(c.Request(), 0, fmt.Errorf("entry 0: %w", err))}}})
		return
	}
	s.relay(c, s.forwardTo(c, path, entry, hint))
}

// handleErrorLocal answers err without trying to forward again.
func (s *server) handleErrorLocal(c echo.Context, err error) {
	status, body, internal := classify(err)
	if internal {
		s.log.ErrorContext(c.Request().Context(), "httpapi: internal error", "path", c.Request().URL.Path, "err", err)
	}
	_ = c.JSON(status, api.ErrorResponse{Error: body})
}

// fwdAnswer is the leader's answer to a forwarded request, or this node's
// own 503 when no leader could be reached (status 0 until set).
type fwdAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (s *server) relay(c echo.Context, a fwdAnswer) {
	h := c.Response().Header()
	for _, k := range []string{echo.HeaderContentType, "Retry-After"} {
		if v := a.header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set(forwardedHeader, "1")
	c.Response().WriteHeader(a.status)
	_, _ = c.Response().Write(a.body)
}

// noLeaderAnswer is this node's answer when no leader could be reached.
func (s *server) noLeaderAnswer(msg string) fwdAnswer {
	b, _ := json.Marshal(api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeNoLeader, Message: msg}})
	h := http.Header{}
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set("Retry-After", retryAfterSeconds(s.opts.RetryAfter))
	return fwdAnswer{status: http.StatusServiceUnavailable, header: h, body: append(b, '\n')}
}

// forwardTo sends body to path on the leader, following leader changes,
// until an answer arrives, the request's context ends or no (new) leader
// appears within opts.ForwardWait.
func (s *server) forwardTo(c echo.Context, path string, body []byte, hint string) fwdAnswer {
	ctx := c.Request().Context()
	leader := s.b.LeaderAPI()
	if leader == "" {
		leader = hint
	}
	if leader == "" {
		leader = s.awaitLeader(ctx, "")
	}
	for leader != "" {
		a, err := s.forwardOnce(ctx, c.Request(), leader, path, body)
		if err == nil {
			// A 503 no_leader from the target: it is no longer the leader.
			// Follow a leader this node knows of by now, else relay.
			if a.status == http.StatusServiceUnavailable {
				if next := s.b.LeaderAPI(); next != "" && next != leader {
					leader = next
					continue
				}
			}
			return a
		}
		s.log.WarnContext(ctx, "httpapi: forwarding to the leader failed", "leader", leader, "err", err)
		if errors.Is(err, errUnusableLeader) {
			break
		}
		leader = s.awaitLeader(ctx, leader)
	}
	return s.noLeaderAnswer("the leader could not be reached; retry later")
}

// awaitLeader waits until this node knows a leader other than not (at most
// opts.ForwardWait, or until ctx ends) and returns its API, or "".
func (s *server) awaitLeader(ctx context.Context, not string) string {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	wait := time.NewTimer(s.opts.ForwardWait)
	defer wait.Stop()
	for {
		if l := s.b.LeaderAPI(); l != "" && l != not {
			return l
		}
		select {
		case <-ctx.Done():
			return ""
		case <-wait.C:
			return ""
		case <-t.C:
		}
	}
}

// forwardOnce sends one attempt to leader. It is cancelled when this node
// learns of another leader.
func (s *server) forwardOnce(ctx context.Context, orig *http.Request, leader, path string, body []byte) (fwdAnswer, error) {
	target, err := api.ParseBaseURL(leader)
	if err != nil {
		return fwdAnswer{}, fmt.Errorf("%w %q: %v", errUnusableLeader, leader, err)
	}
	u := *target
	u.Path = strings.TrimSuffix(target.Path, "/") + path
	u.RawQuery = orig.URL.RawQuery
	actx, stop := s.untilLeaderMoves(ctx, leader)
	defer stop()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fwdAnswer{}, err
	}
	req.Header.Set(echo.HeaderContentType, orig.Header.Get(echo.HeaderContentType))
	req.Header.Set(forwardedHeader, "1")
	req.Header.Set(echo.HeaderXForwardedFor, forwardedFor(orig))
	if s.opts.ClusterToken != "" && strings.HasPrefix(path, api.Prefix+"/cluster/") {
		// The request passed this node's guard; vouch for it to the leader.
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+s.opts.ClusterToken)
	}
	resp, err := s.opts.ForwardTransport.RoundTrip(req)
	if err != nil {
		if cause := context.Cause(actx); cause != nil && errors.Is(cause, errLeaderMoved) {
			return fwdAnswer{}, cause
		}
		return fwdAnswer{}, redact(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardAnswer+1))
	if err == nil && len(b) > maxForwardAnswer {
		err = fmt.Errorf("answer larger than %d bytes", maxForwardAnswer)
	}
	if err != nil {
		return fwdAnswer{}, fmt.Errorf("reading the leader's answer: %w", err)
	}
	return fwdAnswer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// forwardedFor extends the client's X-Forwarded-For with its address, as a
// reverse proxy does (the leader logs it; it never trusts it).
func forwardedFor(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, ok := strings.Cut(host, "]:"); ok {
		host = strings.TrimPrefix(h, "[")
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if prior := r.Header.Get(echo.HeaderXForwardedFor); prior != "" {
		return prior + ", " + host
	}
	return host
}

// redact strips the URL from a transport error (it names the leader's
// address, which the log line carries anyway).
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
