package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/replica"
)

// forwardedHeader marks a request forwarded by a follower. A node that gets
// a forwarded write and is not the leader either answers no_leader instead
// of forwarding again, so a stale view of the leader cannot loop.
const forwardedHeader = "X-Urna-Forwarded"

// forward replays a write refused with replica.ErrNotLeader to the leader's
// API and relays its answer. It reports false when there is no leader to
// forward to (the caller then answers 503 no_leader).
func (s *server) forward(c echo.Context, err error) bool {
	req := c.Request()
	if req.Method != http.MethodPost || req.Header.Get(forwardedHeader) != "" {
		return false
	}
	leader := s.b.LeaderAPI()
	if leader == "" {
		var nle *replica.NotLeaderError
		if errors.As(err, &nle) {
			leader = nle.LeaderAPI
		}
	}
	target, perr := api.ParseBaseURL(leader)
	if perr != nil {
		if leader != "" {
			s.log.WarnContext(req.Context(), "httpapi: unusable leader API address", "leader", leader, "err", perr)
		}
		return false
	}
	body, _ := c.Get(bodyKey).([]byte)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
			r.Out.Host = target.Host
			r.Out.Header.Set(forwardedHeader, "1")
			if s.opts.ClusterToken != "" && strings.HasPrefix(req.URL.Path, api.Prefix+"/cluster/") {
				// The request passed this node's guard; vouch for it to the leader.
				r.Out.Header.Set(echo.HeaderAuthorization, "Bearer "+s.opts.ClusterToken)
			}
			r.Out.Body = io.NopCloser(bytes.NewReader(body))
			r.Out.ContentLength = int64(len(body))
			r.Out.Header.Set("Content-Length", strconv.Itoa(len(body)))
			r.Out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		},
		Transport: s.opts.ForwardTransport,
		ModifyResponse: func(r *http.Response) error {
			r.Header.Set(forwardedHeader, "1")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.WarnContext(r.Context(), "httpapi: forwarding to the leader failed", "leader", target.Host, "err", err)
			w.Header().Set("Retry-After", retryAfterSeconds(s.opts.RetryAfter))
			_ = c.JSON(http.StatusServiceUnavailable, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeNoLeader,
				Message: "the leader could not be reached; retry later"}})
		},
	}
	proxy.ServeHTTP(c.Response(), req)
	return true
}
