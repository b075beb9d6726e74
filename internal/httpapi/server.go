package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
)

// Options configure the API server. The zero value of every field means its
// default (DefaultOptions).
type Options struct {
	// Logger receives internal errors and request summaries (never bodies).
	// nil discards.
	Logger *slog.Logger
	// Version is the node's build, reported by GET /api/v1/health.
	Version string
	// Static is the web client, served at "/" (e.g. web.FS). nil serves none.
	Static fs.FS
	// ClusterToken, when non-empty, lets a non-loopback peer change the
	// cluster with "Authorization: Bearer <token>". Loopback peers are always
	// allowed: a node behind a reverse proxy on the same host MUST set a token
	// and keep the proxy off the cluster routes.
	ClusterToken string

	// Server timeouts (http.Server).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout bounds a response; the streaming routes (/record, /events)
	// renew it before each write instead, so a stalled reader is cut.
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// RequestTimeout bounds a handler's work (including waiting for a
	// commit); streaming routes are exempt.
	RequestTimeout time.Duration
	// LongCheckTimeout replaces RequestTimeout, and extends WriteTimeout,
	// for a post of an entry the leader checks against the whole election
	// before proposing it (bulletin.PostCheckedAgainstElection: a
	// credential list, a shuffle of all the counted ballots, a mix
	// decryption, a partial decryption, a result): at 100,000 ballots a
	// shuffle's check takes minutes. Default api.LongCheckTimeout.
	LongCheckTimeout time.Duration
	// RetryAfter is the Retry-After sent with 503 answers.
	RetryAfter time.Duration
	// KeepAlive is the interval of SSE comment lines on /events.
	KeepAlive time.Duration
	// MaxStreams bounds the streams (/events, /record) served at once; one
	// more is refused with 503 overloaded, so idle subscribers cannot pin
	// an unbounded number of goroutines and buffers.
	MaxStreams int

	// MaxEntriesBody limits POST /api/v1/entries; MaxBody every other JSON
	// body (defaults: api.MaxEntriesBody, api.MaxBody).
	MaxEntriesBody int64
	MaxBody        int64
	// MaxLargePosts bounds the binary posts of an entry larger than
	// MaxEntriesBody (up to its type's limit, SPEC.md §3.2: a credential
	// list, a shuffle) read and submitted at once, together with the
	// answers of GET /entries whose entries exceed MaxEntriesBody; one more
	// is refused with 503 overloaded, so the memory they hold stays bounded.
	MaxLargePosts int

	// ForwardTransport carries writes forwarded to the leader (nil: a
	// default transport). With mutual TLS between nodes it presents this
	// node's certificate.
	ForwardTransport http.RoundTripper
	// ForwardWait bounds how long a follower waits for a (new) leader to
	// forward a write to, when it knows none or the one it knew failed.
	ForwardWait time.Duration
	// ConsistentWait bounds how long a read with ?consistent=1 waits for
	// a read index from the leader and for this node to apply it (within
	// the request's own timeout) before it answers 503.
	ConsistentWait time.Duration

	// Ready computes GET /api/v1/ready (nil: ready when a leader is known).
	Ready ReadyFunc
	// Metrics, when set, counts requests and is served at GET /metrics;
	// Gather, if set, refreshes it (Raft, board, store) before each scrape.
	Metrics *Metrics
	Gather  func(*Metrics)
	// TransferLeadership, when set, serves POST
	// /api/v1/cluster/transfer-leadership (a cluster route): it hands
	// leadership to the given voter ("" = any) and fails with
	// replica.ErrNotLeader on a follower (which then forwards the request).
	TransferLeadership func(ctx context.Context, id string) error
	// PeerAllowed, when set (mutual TLS between nodes), admits to the
	// cluster routes a client whose verified certificate names a node ID
	// it accepts (a member), besides loopback and the token; a join is
	// also admitted from the node it names.
	PeerAllowed func(id string) error
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		RequestTimeout:    60 * time.Second,
		LongCheckTimeout:  api.LongCheckTimeout,
		RetryAfter:        time.Second,
		KeepAlive:         15 * time.Second,
		MaxStreams:        1024,
		MaxEntriesBody:    api.MaxEntriesBody,
		MaxLargePosts:     2,
		MaxBody:           api.MaxBody,
		ForwardWait:       5 * time.Second,
		ConsistentWait:    5 * time.Second,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.ReadHeaderTimeout, d.ReadHeaderTimeout)
	set(&o.ReadTimeout, d.ReadTimeout)
	set(&o.WriteTimeout, d.WriteTimeout)
	set(&o.IdleTimeout, d.IdleTimeout)
	set(&o.RequestTimeout, d.RequestTimeout)
	set(&o.LongCheckTimeout, d.LongCheckTimeout)
	set(&o.RetryAfter, d.RetryAfter)
	set(&o.KeepAlive, d.KeepAlive)
	set(&o.ForwardWait, d.ForwardWait)
	set(&o.ConsistentWait, d.ConsistentWait)
	if o.MaxEntriesBody <= 0 {
		o.MaxEntriesBody = d.MaxEntriesBody
	}
	if o.MaxLargePosts <= 0 {
		o.MaxLargePosts = d.MaxLargePosts
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = d.MaxStreams
	}
	if o.MaxBody <= 0 {
		o.MaxBody = d.MaxBody
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ForwardTransport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A forwarded request's context bounds it (RequestTimeout, or
		// LongCheckTimeout for a long check); this only catches a leader
		// that never answers a request without one.
		t.ResponseHeaderTimeout = o.LongCheckTimeout + 5*time.Second
		o.ForwardTransport = t
	}
	return o
}

type server struct {
	b       Backend
	opts    Options
	log     *slog.Logger
	streams chan struct{} // one token per stream being served
	large   chan struct{} // one token per large binary post (rawentry.go)
	// streamsBy counts the streams served per election id (stream.go).
	streamsMu sync.Mutex
	streamsBy map[string]int
}

// New returns the echo instance serving docs/API.md over b. Its Server field
// carries the timeouts of opts; run it with [Serve] (or e.StartServer).
func New(b Backend, opts Options) *echo.Echo {
	opts = opts.withDefaults()
	s := &server{b: b, opts: opts, log: opts.Logger, streams: make(chan struct{}, opts.MaxStreams), large: make(chan struct{}, opts.MaxLargePosts), streamsBy: map[string]int{}}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Server.ReadHeaderTimeout = opts.ReadHeaderTimeout
	e.Server.ReadTimeout = opts.ReadTimeout
	e.Server.WriteTimeout = opts.WriteTimeout
	e.Server.IdleTimeout = opts.IdleTimeout
	e.Server.MaxHeaderBytes = 64 << 10
	e.Server.ErrorLog = slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)

	e.Use(s.recoverPanics, s.logRequests)
	if opts.Metrics != nil {
		e.GET("/metrics", s.metrics)
	}
	// Beside the routes of handlers.go: echo prefers these static paths to
	// its catch-alls whatever the order.
	e.GET(api.Prefix+"/ready", s.ready, apiHeaders, s.withTimeout)
	if opts.TransferLeadership != nil {
		e.POST(TransferLeadershipPath, s.transferLeadership, apiHeaders, s.clusterGuard, s.withTimeout)
	}
	s.routes(e)
	return e
}

// Serve runs e on ln until ctx is done, then shuts down gracefully (waiting
// up to grace for requests in flight; streams end at once).
func Serve(ctx context.Context, e *echo.Echo, ln net.Listener, grace time.Duration) error {
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	e.Server.BaseContext = func(net.Listener) context.Context { return base }
	e.Server.Handler = e
	closeFreshOnShutdown(e.Server)
	errc := make(chan error, 1)
	go func() { errc <- e.Server.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("httpapi: serving: %w", err)
	case <-ctx.Done():
	}
	cancelBase() // ends /events streams so that Shutdown does not wait for them
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := e.Server.Shutdown(sctx); err != nil {
		return fmt.Errorf("httpapi: shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serving: %w", err)
	}
	return nil
}

// closeFreshOnShutdown makes srv's Shutdown close at once every connection
// that has not delivered a complete request header yet (http.StateNew),
// as it closes idle keep-alive connections. Without it, Shutdown counts
// such a connection as busy until it is 5 s old (net/http, issue 22682),
// so a grace of 5 s or less ran out whenever a client had opened a
// connection it never used: http.Transport puts a connection it dialled
// for a request that another connection served into its idle pool, and
// the peers' transports do so under concurrent forwards and cosignatures
// (TestStartThreeNodes failed with "shutting down: context deadline
// exceeded", the only open connection a fresh one with no request).
// Nothing is lost: the server read no request from it, and a client
// sending one at that moment sees the connection close, as on an idle one.
func closeFreshOnShutdown(srv *http.Server) {
	var mu sync.Mutex
	fresh := make(map[net.Conn]struct{})
	closing := false
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		if prev != nil {
			prev(c, st)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case st == http.StateNew && closing:
			// Accepted while the listener closed: never served.
			_ = c.Close()
		case st == http.StateNew:
			fresh[c] = struct{}{}
		default:
			delete(fresh, c)
		}
	}
	// Shutdown runs this once its listeners are closed.
	srv.RegisterOnShutdown(func() {
		mu.Lock()
		defer mu.Unlock()
		closing = true
		for c := range fresh {
			_ = c.Close()
		}
		clear(fresh)
	})
}

// recoverPanics turns a handler panic into a logged internal error.
// http.ErrAbortHandler passes through: it deliberately aborts a response.
func (s *server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request().Context(), "httpapi: handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("httpapi: handler panic: %v", r)
			}
		}()
		return next(c)
	}
}

// logRequests answers a handler's error, then logs a one-line summary of
// the request at debug level (no bodies, no query strings: they may name
// credentials' trackers) and, with opts.Metrics, counts it.
func (s *server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		d := time.Since(start)
		req := c.Request()
		s.log.DebugContext(req.Context(), "http request", "method", req.Method, "path", c.Path(),
			"status", c.Response().Status, "duration", d)
		if s.opts.Metrics != nil {
			s.countRequest(c, d)
		}
		return nil
	}
}

// withTimeout bounds a handler by opts.RequestTimeout.
func (s *server) withTimeout(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.bounded(c, s.opts.RequestTimeout, next)
	}
}

// bounded runs next with the request's context bounded by d, and answers
// its error within that context.
func (s *server) bounded(c echo.Context, d time.Duration, next echo.HandlerFunc) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), d)
	defer cancel()
	c.SetRequest(c.Request().WithContext(ctx))
	// Handle the error before cancel: forwarding to the leader still
	// needs the request's context.
	if err := next(c); err != nil {
		c.Error(err)
	}
	return nil
}

// apiHeaders marks API answers as uncacheable data.
func apiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		return next(c)
	}
}
