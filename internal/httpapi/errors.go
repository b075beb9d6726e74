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
	return &Error{Status: http.StatusBadRequest, Code: CodeMalformed, Message: fmt.Sprintf(format, args...)}
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
}

// mappings is the one table from domain and machinery sentinels to docs/API.md.
// Order matters only where an error could wrap two sentinels: the first wins.
var mappings = []mapping{
	{bulletin.ErrMalformed, http.StatusBadRequest, CodeMalformed, "V1"},
	{wire.ErrMalformed, http.StatusBadRequest, CodeMalformed, "V1"},
	{tally.ErrMalformed, http.StatusBadRequest, CodeMalformed, ""},
	{bulletin.ErrInvalidSignature, http.StatusBadRequest, CodeInvalidSignature, ""},
	{ballot.ErrInvalidProof, http.StatusBadRequest, CodeInvalidProof, "V8"},
	{tally.ErrInvalidProof, http.StatusBadRequest, CodeInvalidProof, ""},
	{bulletin.ErrInvalidProof, http.StatusBadRequest, CodeInvalidProof, ""},
	{bulletin.ErrWrongElection, http.StatusBadRequest, CodeWrongElection, ""},
	{ballot.ErrWrongElection, http.StatusBadRequest, CodeWrongElection, "V8.2"},
	{bulletin.ErrInvalidBody, http.StatusBadRequest, CodeInvalidBody, ""},
	{ballot.ErrShape, http.StatusBadRequest, CodeInvalidBody, "V8.3"},
	{ballot.ErrInvalidChoice, http.StatusBadRequest, CodeInvalidBody, ""},
	{ballot.ErrOpeningMismatch, http.StatusBadRequest, CodeInvalidBody, "V9.3"},
	{ballot.ErrInvalidManifest, http.StatusBadRequest, CodeInvalidBody, "V4"},
	{ballot.ErrInvalidCredentialList, http.StatusBadRequest, CodeInvalidBody, "V6"},
	{bulletin.ErrNotAuthorized, http.StatusForbidden, CodeNotAuthorized, ""},
	{bulletin.ErrUnknownCredential, http.StatusForbidden, CodeUnknownCredential, ""},
	{store.ErrNotFound, http.StatusNotFound, CodeNotFound, ""},
	{bulletin.ErrWrongPhase, http.StatusConflict, CodeWrongPhase, ""},
	{bulletin.ErrDuplicate, http.StatusConflict, CodeDuplicate, ""},
	{bulletin.ErrAudited, http.StatusConflict, CodeAudited, ""},
	{bulletin.ErrClosed, http.StatusConflict, CodeClosed, ""},
	{replica.ErrTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge, ""},
	{replica.ErrOverloaded, http.StatusServiceUnavailable, CodeOverloaded, ""},
	// The outcome of a write cut by a leadership change or a shutdown is
	// unknown; entries are idempotent (a retry answers duplicate), so the
	// client is told to retry.
	{replica.ErrNotLeader, http.StatusServiceUnavailable, CodeNoLeader, ""},
	{replica.ErrLeadershipLost, http.StatusServiceUnavailable, CodeNoLeader, ""},
	{replica.ErrShutdown, http.StatusServiceUnavailable, CodeNoLeader, ""},
	// The per-request timeout: the node is too busy to answer in time.
	{context.DeadlineExceeded, http.StatusServiceUnavailable, CodeOverloaded, ""},
}

// classify maps err to a status, an error body safe to send, and whether the
// error is internal (to be logged; its text is never sent).
func classify(err error) (status int, body ErrorBody, internal bool) {
	var he *Error
	if errors.As(err, &he) {
		return he.Status, ErrorBody{Code: he.Code, Message: he.Message}, false
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, ErrorBody{Code: CodeTooLarge,
			Message: "request body larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}, false
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		switch ee.Code {
		case http.StatusNotFound:
			return http.StatusNotFound, ErrorBody{Code: CodeNotFound, Message: "no such resource"}, false
		case http.StatusMethodNotAllowed:
			return http.StatusMethodNotAllowed, ErrorBody{Code: CodeMethodNotAllowed, Message: "method not allowed on this resource"}, false
		case http.StatusRequestEntityTooLarge:
			return http.StatusRequestEntityTooLarge, ErrorBody{Code: CodeTooLarge, Message: "request body too large"}, false
		}
		if ee.Code >= 400 && ee.Code < 500 {
			return http.StatusBadRequest, ErrorBody{Code: CodeMalformed, Message: http.StatusText(ee.Code)}, false
		}
	}
	for _, m := range mappings {
		if errors.Is(err, m.sentinel) {
			b := ErrorBody{Code: m.code, Message: err.Error(), Step: m.step}
			var st stepper
			if errors.As(err, &st) && st.Step() != "" {
				b.Step = st.Step()
			}
			switch m.code {
			case CodeOverloaded:
				b.Message = "the node is overloaded; retry later"
			case CodeNoLeader:
				b.Message = "no leader is available; retry later"
			}
			return m.status, b, false
		}
	}
	return http.StatusInternalServerError, ErrorBody{Code: CodeInternal, Message: "internal error (details are in the node's log)"}, true
}

// itemError maps one entry's rejection to its error body; internal failures
// are logged, their text withheld.
func (s *server) itemError(r *http.Request, i int, err error) *ErrorBody {
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
	if internal {
		s.log.ErrorContext(req.Context(), "httpapi: internal error", "method", req.Method, "path", req.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds(s.opts.RetryAfter))
	}
	if req.Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, ErrorResponse{Error: body})
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
