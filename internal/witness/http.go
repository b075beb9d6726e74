package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// StatusOf maps an AddCheckpoint error to its C2SP tlog-witness status.
func StatusOf(err error) int {
	var ce *ConflictError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ce), errors.Is(err, ErrInconsistent):
		return http.StatusConflict
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownOrigin):
		return http.StatusNotFound
	case errors.Is(err, ErrNotSigned):
		return http.StatusForbidden
	case errors.Is(err, ErrBadProof):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// Handler serves the witness's HTTP interface: POST /add-checkpoint.
func (w *Witness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+AddCheckpointPath, w.serveAddCheckpoint)
	return mux
}

func (w *Witness) serveAddCheckpoint(rw http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxRequestSize+1))
	if err != nil {
		http.Error(rw, "witness: reading the request", http.StatusBadRequest)
		return
	}
	r, err := ParseRequest(body)
	var line []byte
	if err == nil {
		line, err = w.AddCheckpoint(r)
	}
	var ce *ConflictError
	switch {
	case err == nil:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write(line)
	case errors.As(err, &ce):
		rw.Header().Set("Content-Type", SizeContentType)
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", ce.Size)
	case StatusOf(err) == http.StatusInternalServerError:
		http.Error(rw, "witness: internal error", http.StatusInternalServerError)
	default:
		http.Error(rw, err.Error(), StatusOf(err))
	}
}

// StatusError is a witness's refusal other than a size conflict.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("witness: HTTP %d: %s", e.Code, e.Msg)
}

// Client submits checkpoints to one witness over HTTP.
type Client struct {
	// URL is the witness's submission prefix (add-checkpoint is under it).
	URL  string
	HTTP *http.Client // nil: http.DefaultClient
}

// AddCheckpoint posts r and returns the witness's signature lines. A
// size conflict is a *ConflictError carrying the witness's size; other
// refusals are *StatusError.
func (c *Client) AddCheckpoint(ctx context.Context, r *Request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+AddCheckpointPath, bytes.NewReader(r.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxRequestSize))
	if err != nil {
		return nil, fmt.Errorf("witness: reading the answer: %w", err)
	}
	if resp.StatusCode == http.StatusConflict && resp.Header.Get("Content-Type") == SizeContentType {
		s := strings.TrimSuffix(string(body), "\n")
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != s || !strings.HasSuffix(string(body), "\n") {
			return nil, fmt.Errorf("witness: malformed size in a 409 answer: %q", body)
		}
		return nil, &ConflictError{Size: n}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: resp.StatusCode, Msg: strings.TrimSpace(string(body))}
	}
	return body, nil
}
