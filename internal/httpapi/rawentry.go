package httpapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
)

// entryHead is the envelope's fixed start (SPEC.md §3.1 fields 1–5 and the
// body's u32 length): version, type, election, role, author key, length.
const entryHead = 1 + 1 + 32 + 1 + 32 + 4

// entrySigSize is the envelope's signature (SPEC.md §3.1 field 7).
const entrySigSize = 64

// firstChunk is what a large post must have sent before the node allocates
// the whole entry its header declares: a header alone cannot make the node
// hold the type's limit.
const firstChunk = 1 << 20

// isRawEntry: the request posts one entry's canonical bytes (Content-Type
// api.EntryContentType) rather than the JSON of api.SubmitRequest.
func isRawEntry(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	return err == nil && mt == api.EntryContentType
}

// readRawEntry reads the body of a binary post (docs/API.md, "POST
// /entries, one entry in binary"): exactly one entry, no byte more, whose
// body fits its type's limit (SPEC.md §3.2), checked on the envelope's
// header before the rest is read. An entry larger than MaxEntriesBody (a
// credential list, a shuffle) holds one of MaxLargePosts tokens until the
// request is answered (holdLarge), forwarded to the leader included, and
// the body must arrive within ReadTimeout of the request's start. The
// entry is kept (bodyKey) for forwarding to the leader.
func (s *server) readRawEntry(c echo.Context) ([]byte, error) {
	req := c.Request()
	start := time.Now()
	// A slow body holds a token and memory: it gets ReadTimeout in all,
	// however the server was started (tests, a node behind a proxy).
	_ = http.NewResponseController(c.Response()).SetReadDeadline(start.Add(s.opts.ReadTimeout))
	var head [entryHead]byte
	if n, err := io.ReadFull(req.Body, head[:]); err != nil {
		return nil, bodyCut(err, "the body ends after %d bytes, inside the entry's header (%d bytes)", n, entryHead)
	}
	t := bulletin.EntryType(head[1])
	limit := t.MaxBodySize()
	if head[0] != bulletin.EntryVersion || limit == 0 {
		return nil, malformed("not an entry: version %d, type %d (SPEC.md §3.1, §3.2)", head[0], head[1])
	}
	n := binary.BigEndian.Uint32(head[entryHead-4:])
	if uint64(n) > uint64(limit) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: api.CodeTooLarge,
			Message: fmt.Sprintf("a %s body of %d bytes: the type's limit is %d (SPEC.md §3.2)", t, n, limit)}
	}
	total := int64(entryHead) + int64(n) + entrySigSize
	if req.ContentLength >= 0 && req.ContentLength != total {
		return nil, malformed("Content-Length is %d but the entry's header makes it %d bytes", req.ContentLength, total)
	}
	if total > s.opts.MaxEntriesBody {
		release, err := s.takeLarge()
		if err != nil {
			return nil, err
		}
		c.Set(largeKey, release)
	}
	entry, err := readDeclared(req.Body, head[:], total)
	if err != nil {
		return nil, err
	}
	c.Set(bodyKey, entry)
	return entry, nil
}

// largeKey holds the release of a request's large-entry token.
const largeKey = "httpapi.large"

// holdLarge returns the large-post token of a request once it is
// answered (readRawEntry takes it).
func (s *server) holdLarge(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		defer func() {
			if release, held := c.Get(largeKey).(func()); held {
				release()
			}
		}()
		return next(c)
	}
}

// takeLarge takes one of the MaxLargePosts tokens that bound the entries
// larger than MaxEntriesBody held at once, posted or read; none free: 503
// overloaded.
func (s *server) takeLarge() (release func(), err error) {
	select {
	case s.large <- struct{}{}:
		return func() { <-s.large }, nil
	default:
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: api.CodeOverloaded,
			Message: fmt.Sprintf("%d large entries are being posted or read; try again later", cap(s.large))}
	}
}

// readDeclared reads the rest of an entry of total bytes whose first
// bytes are head, then checks that the body ends there. It allocates the
// whole entry only once firstChunk bytes (or all of it) arrived.
func readDeclared(body io.Reader, head []byte, total int64) ([]byte, error) {
	buf := make([]byte, min(total, firstChunk))
	copy(buf, head)
	got := int64(len(head))
	for {
		n, err := io.ReadFull(body, buf[got:])
		got += int64(n)
		if err != nil {
			return nil, bodyCut(err, "the body ends after %d of the %d bytes the entry's header declares", got, total)
		}
		if got == total {
			break
		}
		whole := make([]byte, total)
		copy(whole, buf)
		buf = whole
	}
	var one [1]byte
	if n, _ := io.ReadFull(body, one[:]); n > 0 {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: api.CodeTooLarge,
			Message: fmt.Sprintf("the body goes on after the %d bytes of the entry: post one entry per binary request", total)}
	}
	return buf, nil
}

// bodyCut is the error of a body that ended early or could not be read.
func bodyCut(err error, format string, a ...any) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed(format, a...)
	}
	// Why no %v: the error names socket addresses and timeouts of the
	// node; the client only needs to know its body did not arrive whole.
	return malformed("the request body could not be read completely (it must arrive within the node's read timeout)")
}

// submitTimeout is the time a post of entries gets: opts.RequestTimeout,
// or opts.LongCheckTimeout when one of them is checked against the whole
// election (bulletin.PostCheckedAgainstElection).
func (s *server) submitTimeout(entries [][]byte) time.Duration {
	if bulletin.PostCheckedAgainstElection(entries) {
		return s.opts.LongCheckTimeout
	}
	return s.opts.RequestTimeout
}
