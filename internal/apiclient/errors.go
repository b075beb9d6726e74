package apiclient

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the streams.
var (
	// ErrStalled: a node sent nothing on a stream (/record, /events) for
	// Options.StreamIdle; the request was cut.
	ErrStalled = errors.New("stream stalled")
	// ErrIncomplete: the record a node sent is not a whole record (it ends
	// before its END frame, or its framing is broken; SPEC.md V1).
	ErrIncomplete = errors.New("the record the node sent is incomplete or malformed")
	// ErrSuffix: the part of the record a node sent after a party's saved
	// state (Client.RecordSince) does not continue what the party holds
	// (a block at another height, a gap or overlap of entries, a block past
	// the asked log size, frames out of place).
	ErrSuffix = errors.New("the record suffix the node sent does not continue the party's record")
)

// Error is an error answer of the API (docs/API.md "Errors").
type Error struct {
	Method string // the request, e.g. "POST /api/v1/entries"; empty for a per-entry result
	Path   string
	Status int    // HTTP status; 0 for a per-entry result
	Code   string // stable machine-readable code, e.g. "duplicate" (api.Code*)
	// Message is the node's explanation, for people.
	Message string
	// Step is the SPEC.md verification step the post fails, if any.
	Step string
	// RetryAfter is the node's Retry-After on a 503 (0 when absent).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := "apiclient: "
	if e.Method != "" {
		s += e.Method + " " + e.Path + ": "
	}
	if e.Status != 0 {
		s += fmt.Sprintf("%d ", e.Status)
	}
	s += e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Step != "" {
		s += " (step " + e.Step + ")"
	}
	return s
}

// IsCode reports whether err is (or wraps) an API *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
