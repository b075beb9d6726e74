package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

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
		// Why no %v: the error names socket addresses and timeouts of the
		// node; the client only needs to know its body did not arrive whole.
		return nil, malformed("the request body could not be read completely")
	}
	c.Set(bodyKey, raw)
	return raw, nil
}

// maxJSONDepth bounds the nesting of a request body. Every request of
// docs/API.md is an object of strings and arrays of strings (depth 2).
const maxJSONDepth = 8

// decodeStrict decodes exactly one JSON value of the shape of v (a pointer to
// a struct) from raw: unknown fields, a missing body and trailing data are
// errors, and so are what encoding/json would silently accept: invalid UTF-8
// (replaced by U+FFFD), a repeated key (the last one wins) and a key that
// matches a field only case-insensitively ("ENTRIES"). Why: two parsers
// (a proxy, a client library, this node) must never read one body two ways.
func decodeStrict(raw []byte, v any) error {
	if !utf8.Valid(raw) {
		return malformed("the JSON body is not valid UTF-8")
	}
	if err := checkKeys(raw, fieldNames(v)); err != nil {
		return err
	}
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

// fieldNames returns the JSON names of the fields of the struct v points to.
func fieldNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := map[string]bool{}
	if t == nil || t.Kind() != reflect.Struct {
		return names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	return names
}

// checkKeys walks raw's tokens: the nesting is at most maxJSONDepth, no
// object repeats a key, and the top-level object's keys are exactly (case
// included) among allowed. Syntax errors are left to the decoder.
func checkKeys(raw []byte, allowed map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF or a syntax error the decoder reports
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil
				}
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				return malformed("repeated key %q in the JSON body", k)
			}
			top.keys[k] = true
			if len(stack) == 1 && !allowed[k] {
				return malformed("unknown field %q in the JSON body", k)
			}
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // this token is the value; a key comes next
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) == maxJSONDepth {
				return malformed("the JSON body is nested more than %d levels deep", maxJSONDepth)
			}
			f := &frame{object: tok == json.Delim('{')}
			if f.object {
				f.keys, f.key = map[string]bool{}, true
			}
			stack = append(stack, f)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return nil // one value read; trailing data is the decoder's to reject
		}
	}
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

// requireUints parses two mandatory unsigned query parameters.
func requireUints(c echo.Context, a, b string) (uint64, uint64, error) {
	x, err := requireUint(c, a)
	if err != nil {
		return 0, 0, err
	}
	y, err := requireUint(c, b)
	return x, y, err
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
