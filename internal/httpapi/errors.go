package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/board"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// Error is a request error raised by the HTTP layer itself (a bad query
// parameter, an undecodable body). Its message is safe to show a client.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return "httpapi: " + e.Message }

func malformed(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: api.CodeMalformed, Message: fmt.Sprintf(format, args...)}
}

// stepper is implemented by errors that know the SPEC.md verification step a
// rejected post fails (e.g. "V8"). It takes precedence over the sentinel table.
type stepper interface{ Step() string }

// mapping is how one sentinel reaches a client.
type mapping struct {
	sentinel error
	status   int
	code     string
	step     string // the V-step named by the sentinel's documentation, if any
	message  string // a fixed message instead of the error's text, if any
}

const (
	msgOverloaded = "the node is overloaded; retry later"
	msgCancelled  = "the request was cancelled before the node answered; retry later"
	msgNoLeader   = "no leader is available; retry later"
	msgNotReady   = "this node has not caught up with the leader for a consistent read; retry later or ask another node"
)

// mappings is the one table from domain and machinery sentinels to docs/API.md.
// Order matters only where an error could wrap two sentinels: the first wins.
var mappings = []mapping{
	{bulletin.ErrMalformed, http.StatusBadRequest, api.CodeMalformed, "V1", ""},
	{wire.ErrMalformed, http.StatusBadRequest, api.CodeMalformed, "V1", ""},
	{tally.ErrMalformed, http.StatusBadRequest, api.CodeMalformed, "", ""},
	{bulletin.ErrInvalidSignature, http.StatusBadRequest, api.CodeInvalidSignature, "", ""},
	{ballot.ErrInvalidProof, http.StatusBadRequest, api.CodeInvalidProof, "V8", ""},
	{tally.ErrInvalidProof, http.StatusBadRequest, api.CodeInvalidProof, "", ""},
	{bulletin.ErrInvalidProof, http.StatusBadRequest, api.CodeInvalidProof, "", ""},
	{bulletin.ErrWrongElection, http.StatusBadRequest, api.CodeWrongElection, "", ""},
	{ballot.ErrWrongElection, http.StatusBadRequest, api.CodeWrongElection, "V8.2", ""},
	{bulletin.ErrInvalidBody, http.StatusBadRequest, api.CodeInvalidBody, "", ""},
	{ballot.ErrShape, http.StatusBadRequest, api.CodeInvalidBody, "V8.3", ""},
	{ballot.ErrInvalidChoice, http.StatusBadRequest, api.CodeInvalidBody, "", ""},
	{ballot.ErrOpeningMismatch, http.StatusBadRequest, api.CodeInvalidBody, "V9.3", ""},
	{ballot.ErrInvalidManifest, http.StatusBadRequest, api.CodeInvalidBody, "V4", ""},
	{ballot.ErrInvalidCredentialList, http.StatusBadRequest, api.CodeInvalidBody, "V6", ""},
	{bulletin.ErrNotAuthorized, http.StatusForbidden, api.CodeNotAuthorized, "", ""},
	{bulletin.ErrUnknownCredential, http.StatusForbidden, api.CodeUnknownCredential, "", ""},
	{board.ErrUnknownElection, http.StatusNotFound, api.CodeUnknownElection, "", ""},
	{board.ErrBoardFull, http.StatusConflict, api.CodeBoardFull, "", ""},
	{board.ErrArchived, http.StatusConflict, api.CodeArchived, "", ""},
	{board.ErrQuota, http.StatusConflict, api.CodeQuota, "", ""},
	{store.ErrNotFound, http.StatusNotFound, api.CodeNotFound, "", ""},
	{bulletin.ErrWrongPhase, http.StatusConflict, api.CodeWrongPhase, "", ""},
	{bulletin.ErrDuplicate, http.StatusConflict, api.CodeDuplicate, "", ""},
	{bulletin.ErrAudited, http.StatusConflict, api.CodeAudited, "", ""},
	{bulletin.ErrAuditLimit, http.StatusConflict, api.CodeAuditLimit, "", ""},
	{tally.ErrStaleInput, http.StatusConflict, api.CodeStaleInput, "V14.2", ""},
	{bulletin.ErrClosed, http.StatusConflict, api.CodeClosed, "", ""},
	{bulletin.ErrNotOpenYet, http.StatusConflict, api.CodeNotOpenYet, "", ""},
	{replica.ErrTooLarge, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "", ""},
	{replica.ErrOverloaded, http.StatusServiceUnavailable, api.CodeOverloaded, "", msgOverloaded},
	// The outcome of a write cut by a leadership change or a shutdown is
	// unknown; entries are idempotent (a retry answers with the position), so the
	// client is told to retry.
	{replica.ErrNotLeader, http.StatusServiceUnavailable, api.CodeNoLeader, "", msgNoLeader},
	{replica.ErrLeadershipLost, http.StatusServiceUnavailable, api.CodeNoLeader, "", msgNoLeader},
	{replica.ErrShutdown, http.StatusServiceUnavailable, api.CodeNoLeader, "", msgNoLeader},
	// A consistent read on a node that did not apply the leader's read
	// index in time (it wraps the context's error: before that line).
	{board.ErrBehind, http.StatusServiceUnavailable, api.CodeNotReady, "", msgNotReady},
	// The per-request timeout: the node is too busy to answer in time.
	{context.DeadlineExceeded, http.StatusServiceUnavailable, api.CodeOverloaded, "", msgOverloaded},
	// POST /api/v1/cluster/cosign.
	{board.ErrBadCommand, http.StatusBadRequest, api.CodeMalformed, "", "the body is not a cosign command"},
	{board.ErrCosignDiverged, http.StatusConflict, api.CodeCosignRejected, "",
		"the cosignature is over another root than this board's checkpoint of that size"},
	{board.ErrCosignRejected, http.StatusConflict, api.CodeCosignRejected, "",
		"the cosignature does not verify against a checkpoint of this board"},
}

// classify maps err to a status, an error body safe to send, and whether the
// error is internal (to be logged; its text is never sent).
func classify(err error) (status int, body api.ErrorBody, internal bool) {
	var he *Error
	if errors.As(err, &he) {
		return he.Status, api.ErrorBody{Code: he.Code, Message: he.Message}, false
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, api.ErrorBody{Code: api.CodeTooLarge,
			Message: "request body larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}, false
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		switch ee.Code {
		case http.StatusNotFound:
			return http.StatusNotFound, api.ErrorBody{Code: api.CodeNotFound, Message: "no such resource"}, false
		case http.StatusMethodNotAllowed:
			return http.StatusMethodNotAllowed, api.ErrorBody{Code: api.CodeMethodNotAllowed, Message: "method not allowed on this resource"}, false
		case http.StatusRequestEntityTooLarge:
			return http.StatusRequestEntityTooLarge, api.ErrorBody{Code: api.CodeTooLarge, Message: "request body too large"}, false
		}
		if ee.Code >= 400 && ee.Code < 500 {
			return http.StatusBadRequest, api.ErrorBody{Code: api.CodeMalformed, Message: http.StatusText(ee.Code)}, false
		}
	}
	for _, m := range mappings {
		if errors.Is(err, m.sentinel) {
			b := api.ErrorBody{Code: m.code, Message: err.Error(), Step: m.step}
			var st stepper
			if errors.As(err, &st) && st.Step() != "" {
				b.Step = st.Step()
			}
			if m.message != "" {
				b.Message = m.message
			}
			return m.status, b, false
		}
	}
	return http.StatusInternalServerError, api.ErrorBody{Code: api.CodeInternal, Message: "internal error (details are in the node's log)"}, true
}

// itemError maps one entry's rejection to its error body; internal failures
// are logged, their text withheld.
func (s *server) itemError(r *http.Request, i int, err error) *api.ErrorBody {
	_, b, internal := classify(err)
	if internal {
		s.log.ErrorContext(r.Context(), "httpapi: submitted entry failed", "index", i, "err", err)
	}
	return &b
}

// handleError is the echo HTTPErrorHandler: the one place where errors
// become answers.
func (s *server) handleError(err error, c echo.Context) {
	req := c.Request()
	if c.Response().Committed {
		s.log.WarnContext(req.Context(), "httpapi: error after the answer started", "path", req.URL.Path, "err", err)
		return
	}
	if errors.Is(err, replica.ErrNotLeader) && s.forward(c, err) {
		return
	}
	status, body, internal := classify(err)
	if internal && errors.Is(err, context.Canceled) && req.Context().Err() != nil {
		// The request's own context ended: its client went away (a
		// forwarding follower or a cosigner gave up) or the node is
		// stopping. Nothing failed here; whoever still reads may retry.
		s.log.DebugContext(req.Context(), "httpapi: request cancelled", "method", req.Method, "path", req.URL.Path, "err", err)
		status, body, internal = http.StatusServiceUnavailable, api.ErrorBody{Code: api.CodeOverloaded, Message: msgCancelled}, false
	}
	if internal {
		s.log.ErrorContext(req.Context(), "httpapi: internal error", "method", req.Method, "path", req.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds(s.opts.RetryAfter))
	}
	if req.Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, api.ErrorResponse{Error: body})
	}
	if err != nil {
		s.log.DebugContext(req.Context(), "httpapi: writing an error answer", "err", err)
	}
}

func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
