package httpapi

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// clusterGuard admits a cluster change from a loopback peer or with the
// bearer cluster token. The peer is the TCP address: X-Forwarded-For and
// similar headers are client-supplied and never trusted here.
func (s *server) clusterGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isLoopback(c.Request().RemoteAddr) || s.validToken(c.Request()) {
			return next(c)
		}
		return &Error{Status: http.StatusForbidden, Code: CodeNotAuthorized,
			Message: "cluster changes are accepted only from loopback or with the cluster token (Authorization: Bearer)"}
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
