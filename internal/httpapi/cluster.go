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

// clusterGuard admits a cluster route (join, remove, cosign, transfer)
// from a loopback peer, with the bearer cluster token, or (mutual TLS,
// Options.PeerAllowed) from a node whose verified certificate names a
// member; a join also from the node it would add (checked by join). The
// peer is the TCP address or the TLS certificate: X-Forwarded-For and
// similar headers are client-supplied and never trusted here.
func (s *server) clusterGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		// A verified node certificate decides alone: loopback is no
		// identity on a peer listener that other hosts reach through a
		// local proxy or tunnel.
		if id, ok := s.peerNode(r); ok {
			if err := s.opts.PeerAllowed(id); err == nil || s.validToken(r) {
				return next(c)
			} else if c.Path() == api.Prefix+"/cluster/join" {
				c.Set(joinerKey, id)
				return next(c)
			} else {
				s.log.WarnContext(r.Context(), "httpapi: refused a cluster call from a node that is not a member", "node", id, "path", c.Path(), "err", err)
			}
		} else if isLoopback(r.RemoteAddr) || s.validToken(r) {
			return next(c)
		}
		return &Error{Status: http.StatusForbidden, Code: api.CodeNotAuthorized,
			Message: "cluster routes are accepted only from loopback, with the cluster token (Authorization: Bearer) or from a member's certificate"}
	}
}

// joinerKey holds the node ID of a non-member's certificate: it may only
// join itself.
const joinerKey = "httpapi.joiner"

// peerNode returns the node ID of a client certificate verified by the
// peer listener's mutual TLS.
func (s *server) peerNode(r *http.Request) (string, bool) {
	if s.opts.PeerAllowed == nil || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return "", false
	}
	id, err := replica.PeerID(r.TLS.VerifiedChains[0][0])
	return id, err == nil
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
	if joiner, ok := c.Get(joinerKey).(string); ok && joiner != req.ID {
		return &Error{Status: http.StatusForbidden, Code: api.CodeNotAuthorized,
			Message: fmt.Sprintf("the certificate names node %q, which may join only as itself, not as %q", joiner, req.ID)}
	}
	if err := s.b.Join(c.Request().Context(), req.ID, req.RaftAddr, req.APIAddr); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.StatusResponse{Status: "ok"})
}

// TransferLeadershipPath is the cluster route that hands leadership over.
const TransferLeadershipPath = api.Prefix + "/cluster/transfer-leadership"

func (s *server) transferLeadership(c echo.Context) error {
	var req api.TransferRequest
	if err := bindStrict(c, s.opts.MaxBody, &req); err != nil {
		return err
	}
	if err := s.opts.TransferLeadership(c.Request().Context(), req.ID); err != nil {
		if errors.Is(err, replica.ErrNotLeader) {
			return err
		}
		return &Error{Status: http.StatusConflict, Code: api.CodeTransferFailed, Message: "leadership was not handed over: " + err.Error()}
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
