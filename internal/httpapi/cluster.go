package httpapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/replica"
)

// clusterGuard admits a cluster route (join, remove, cosign) from a
// loopback peer or with the bearer cluster token. The peer is the TCP
// address: X-Forwarded-For and similar headers are client-supplied and
// never trusted here.
func (s *server) clusterGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isLoopback(c.Request().RemoteAddr) || s.validToken(c.Request()) {
			return next(c)
		}
		return &Error{Status: http.StatusForbidden, Code: api.CodeNotAuthorized,
			Message: "cluster routes are accepted only from loopback or with the cluster token (Authorization: Bearer)"}
	}
}

func (s *server) validToken(r *http.Request) bool {
	if s.opts.ClusterToken == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.ClusterToken)) == 1
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *server) cluster(c echo.Context) error {
	return answer(c, s.b.Cluster, func(ci *api.Cluster) { ci.Servers = nonNil(ci.Servers) })
}

func (s *server) join(c echo.Context) error {
	var req api.JoinRequest
	if err := bindStrict(c, s.opts.MaxBody, &req); err != nil {
		return err
	}
	if req.ID == "" || req.RaftAddr == "" || req.APIAddr == "" {
		return malformed("join needs id, raft_addr and api_addr")
	}
	if err := s.b.Join(c.Request().Context(), req.ID, req.RaftAddr, req.APIAddr); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.StatusResponse{Status: "ok"})
}

func (s *server) remove(c echo.Context) error {
	var req api.RemoveRequest
	if err := bindStrict(c, s.opts.MaxBody, &req); err != nil {
		return err
	}
	if req.ID == "" {
		return malformed("remove needs id")
	}
	if err := s.b.Remove(c.Request().Context(), req.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.StatusResponse{Status: "ok"})
}

// cosign accepts a follower's cosign command (a binary body, at most
// api.MaxCosignBody bytes) and proposes it; the FSM verifies the signature.
// Its rejections are in the error table (errors.go).
func (s *server) cosign(c echo.Context) error {
	r := c.Request()
	cmd, err := io.ReadAll(io.LimitReader(r.Body, api.MaxCosignBody+1))
	if err != nil {
		return malformed("the request body could not be read completely")
	}
	if len(cmd) > api.MaxCosignBody {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: api.CodeTooLarge,
			Message: fmt.Sprintf("a cosign command has at most %d bytes", api.MaxCosignBody)}
	}
	err = s.b.SubmitCosign(r.Context(), cmd)
	if errors.Is(err, replica.ErrNotLeader) {
		// Not forwarded: the follower that sent it retries with the
		// leader it learns next (and a loop is impossible).
		return &Error{Status: http.StatusServiceUnavailable, Code: api.CodeNoLeader,
			Message: "this node is not the leader; retry later"}
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
