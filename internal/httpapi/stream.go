package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
)

// streamWriter writes a streamed answer: it sends the status line on the
// first write (so an error before any byte still gets a proper error answer)
// and renews the write deadline before each write, so a long record goes
// through while a stalled reader is cut after WriteTimeout.
type streamWriter struct {
	c       echo.Context
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

func (w *streamWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) // unsupported writers keep the server's
	if !w.started {
		w.started = true
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}

// limitStreams holds one of MaxStreams stream slots while the streaming
// handler next runs; with none free it answers 503 overloaded at once.
func (s *server) limitStreams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		release, err := s.streamShare(c)
		if err != nil {
			return err
		}
		defer release()
		select {
		case s.streams <- struct{}{}:
			defer func() { <-s.streams }()
			return next(c)
		default:
			return &Error{Status: http.StatusServiceUnavailable, Code: api.CodeOverloaded,
				Message: "too many streams open on this node; retry later"}
		}
	}
}

// streamShare takes one of the streams an election may hold at once: on a
// board that runs several elections, at most half of the node's
// (SPEC.md §3.14.5), so the readers of one election never
// take every stream; a board's only election may use them all. The
// un-prefixed routes count as the default election's.
func (s *server) streamShare(c echo.Context) (func(), error) {
	ctx := c.Request().Context()
	id := c.Param("election")
	if id == "" {
		if el, err := s.b.Election(ctx); err == nil {
			id = el.ElectionID
		}
	}
	limit := cap(s.streams)
	if list, err := s.b.Elections(ctx); err != nil || len(list.Elections) > 1 {
		limit = max(1, limit/2)
	}
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streamsBy[id] >= limit {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: api.CodeOverloaded,
			Message: fmt.Sprintf("election %q holds %d streams, its share of this node's; retry later", id, limit)}
	}
	s.streamsBy[id]++
	return func() {
		s.streamsMu.Lock()
		defer s.streamsMu.Unlock()
		if s.streamsBy[id]--; s.streamsBy[id] == 0 {
			delete(s.streamsBy, id)
		}
	}, nil
}

// newStreamWriter prepares a streamed answer. Why no read deadline:
// net/http's ReadTimeout also bounds the background read that watches for
// the client going away; when it fires it cancels the request's context and
// would end every stream after ReadTimeout.
func (s *server) newStreamWriter(c echo.Context) *streamWriter {
	w := &streamWriter{c: c, rc: http.NewResponseController(c.Response()), timeout: s.opts.WriteTimeout}
	_ = w.rc.SetReadDeadline(time.Time{})
	return w
}

func (s *server) record(c echo.Context) error {
	from, err := queryUint(c, api.RecordFromParam, 0)
	if err != nil {
		return err
	}
	size, err := queryUint(c, api.RecordSizeParam, 0)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="record"`)
	w := s.newStreamWriter(c)
	err = s.be(c).WriteRecord(c.Request().Context(), w, from, size)
	if err == nil {
		if !w.started {
			c.Response().WriteHeader(http.StatusOK)
		}
		return nil
	}
	if !w.started {
		h.Del(echo.HeaderContentDisposition)
		return err
	}
	// The status is sent: abort the connection so that the client sees a
	// truncated transfer rather than a short record that looks complete.
	s.log.ErrorContext(c.Request().Context(), "httpapi: streaming the record", "err", err)
	panic(http.ErrAbortHandler)
}

// events streams committed blocks as Server-Sent Events ("event: block"),
// with a comment line every KeepAlive so that proxies keep the stream open.
func (s *server) events(c echo.Context) error {
	ctx := c.Request().Context()
	blocks, cancel := s.be(c).Subscribe(ctx)
	defer cancel()

	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w := s.newStreamWriter(c)
	send := func(format string, args ...any) error {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return w.rc.Flush()
	}
	if err := send("retry: 2000\n\n"); err != nil {
		return nil // the client went away
	}
	tick := time.NewTicker(s.opts.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := send(": keep-alive\n\n"); err != nil {
				return nil
			}
		case b, ok := <-blocks:
			if !ok {
				return nil
			}
			data, err := json.Marshal(b)
			if err != nil {
				return fmt.Errorf("httpapi: encoding block %d: %w", b.Height, err)
			}
			if err := send("event: block\nid: %d\ndata: %s\n\n", b.Height, data); err != nil {
				return nil
			}
		}
	}
}
