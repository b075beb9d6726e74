package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// bodyKey is the echo context key under which the raw request body is kept,
// so that a write refused by a follower can be replayed to the leader.
const bodyKey = "httpapi.body"

// readBody reads the whole request body, at most limit bytes.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return nil, malformed("Content-Type must be application/json")
		}
	}
	if req.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, malformed("reading the request body: %v", err)
	}
	c.Set(bodyKey, raw)
	return raw, nil
}

// decodeStrict decodes exactly one JSON value of the shape of v from raw:
// unknown fields, a missing body and trailing data are errors.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return malformed("empty request body")
		}
		return malformed("undecodable JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed("trailing data after the JSON body")
	}
	return nil
}

// bindStrict reads and strictly decodes the request body into v.
func bindStrict(c echo.Context, limit int64, v any) error {
	raw, err := readBody(c, limit)
	if err != nil {
		return err
	}
	return decodeStrict(raw, v)
}

// queryUint parses an optional unsigned query parameter.
func queryUint(c echo.Context, name string, def uint64) (uint64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, malformed("query parameter %s: not an unsigned integer: %q", name, s)
	}
	return v, nil
}

// requireUint parses a mandatory unsigned query parameter.
func requireUint(c echo.Context, name string) (uint64, error) {
	if c.QueryParam(name) == "" {
		return 0, malformed("query parameter %s is required", name)
	}
	return queryUint(c, name, 0)
}

// pathUint parses an unsigned path parameter.
func pathUint(c echo.Context, name string) (uint64, error) {
	s := c.Param(name)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, malformed("%s: not an unsigned integer: %q", name, s)
	}
	return v, nil
}

// queryLimit parses limit (1..max, default def). A larger value is clamped
// to max: the answer's length (and next) says how much was returned.
func queryLimit(c echo.Context, def, max int) (int, error) {
	v, err := queryUint(c, "limit", uint64(def))
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, malformed("query parameter limit must be at least 1")
	}
	if v > uint64(max) {
		v = uint64(max)
	}
	return int(v), nil
}
