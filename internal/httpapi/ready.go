package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Readiness is the answer to GET /api/v1/ready: whether a load balancer
// should send this node voters. /api/v1/health answers as long as the
// process serves (liveness); readiness also needs contact with a leader,
// an applied state close to the commit index and a store that accepts
// writes. The status is 200 when Ready, else 503.
type Readiness struct {
	Ready bool   `json:"ready"`
	Node  string `json:"node"`
	Role  string `json:"role"`
	// Leader is the leader's ID ("" when none is known).
	Leader string `json:"leader"`
	// LeaderContactMS is how long ago a follower last heard from the
	// leader (0 on the leader; -1 when it never did).
	LeaderContactMS int64 `json:"leader_contact_ms"`
	// Commit is the commit index this node knows, Applied what its board
	// state holds; ApplyLag their difference.
	Commit   uint64 `json:"commit"`
	Applied  uint64 `json:"applied"`
	ApplyLag uint64 `json:"apply_lag"`
	// StoreOK reports the last write probe of the node's disk and store.
	StoreOK bool `json:"store_ok"`
	// Problems says, in words, why the node is not ready.
	Problems []string `json:"problems"`
}

func (s *server) ready(c echo.Context) error {
	var r Readiness
	if s.opts.Ready != nil {
		r = s.opts.Ready(c.Request().Context())
	} else {
		h, err := s.b.Health(c.Request().Context())
		if err != nil {
			return err
		}
		r = Readiness{Ready: h.Leader != "", Node: h.Node, Role: h.Role, Leader: h.Leader, Applied: h.Applied, StoreOK: true}
		if !r.Ready {
			r.Problems = append(r.Problems, "no leader is known")
		}
	}
	r.Problems = nonNil(r.Problems)
	status := http.StatusOK
	if !r.Ready {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, r)
}

// ReadyFunc computes a node's readiness (Options.Ready).
type ReadyFunc func(context.Context) Readiness
