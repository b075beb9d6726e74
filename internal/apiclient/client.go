package apiclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/wire"
)

// Options configure a Client. Zero fields take their defaults.
type Options struct {
	// HTTPClient sends the requests (nil: a client with sane transport
	// timeouts). Its Timeout, if any, also bounds the streams.
	HTTPClient *http.Client
	// Timeout bounds one attempt of a non-streaming call (default 60s).
	Timeout time.Duration
	// StreamIdle bounds how long a read of a stream (/record, /events)
	// waits for the node's next bytes (default 2 minutes; a node sends an
	// /events keep-alive every 15 s). A node that stalls longer fails the
	// read with ErrStalled. Time the caller spends between reads does not
	// count: a slow consumer is not a stalled node.
	StreamIdle time.Duration
	// MaxRetries is how many times a 503 (or a read's transport error) is
	// retried (default 5; negative: never).
	MaxRetries int
	// MaxRetryWait caps one wait between attempts (default 30s).
	MaxRetryWait time.Duration
	// ClusterToken is sent as a bearer token on cluster changes.
	ClusterToken string
	// UserAgent is sent with every request (default "urna-apiclient").
	UserAgent string
	// Consistent makes every read of the board ask for a consistent
	// (linearizable) answer, ?consistent=1 (docs/API.md, "Consistent
	// reads"): it reflects every write acknowledged before the read began,
	// or fails with 503 no_leader / not_ready (retried like any 503).
	// Without it a read may be stale (never older than what the same node
	// answered before). /health, /events and the cluster routes ignore it.
	Consistent bool
	// Election, if set, is the election id every per-election call
	// addresses: its routes under /api/v1/elections/{id}
	// (SPEC.md §3.14.6). Empty: the board's default election,
	// through the un-prefixed routes.
	Election string
}

// maxResponse bounds a non-streaming answer.
const maxResponse = 64 << 20

// Client talks to one node. It is safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
	opts Options
}

// New returns a client for the node whose API is at baseURL (for example
// "http://127.0.0.1:8080"; a bare "host:port" means http).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := api.ParseBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("apiclient: node URL %q: %w", baseURL, err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.StreamIdle <= 0 {
		opts.StreamIdle = 2 * time.Minute
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = 30 * time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "urna-apiclient"
	}
	if opts.Election != "" && !ballot.ValidElectionID(opts.Election) {
		return nil, fmt.Errorf("apiclient: %q is not an election id (1 to 64 of a-z, 0-9 and -)", opts.Election)
	}
	hc := opts.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = SubmitHeaderTimeout
		hc = &http.Client{Transport: t}
	}
	return &Client{base: u, hc: hc, opts: opts}, nil
}

// Consistent returns a client for the same node whose reads are
// consistent ones (Options.Consistent); c is unchanged.
func (c *Client) Consistent() *Client {
	cc := *c
	cc.opts.Consistent = true
	return &cc
}

// In returns a client for the same node that addresses election id
// (Options.Election); c is unchanged.
func (c *Client) In(id string) (*Client, error) {
	if !ballot.ValidElectionID(id) {
		return nil, fmt.Errorf("apiclient: %q is not an election id (1 to 64 of a-z, 0-9 and -)", id)
	}
	cc := *c
	cc.opts.Election = id
	return &cc, nil
}

// Archive archives election id (POST /api/v1/elections/{id}/archive, a
// cluster route: the cluster token is sent).
func (c *Client) Archive(ctx context.Context, id string) error {
	if !ballot.ValidElectionID(id) {
		return fmt.Errorf("apiclient: %q is not an election id (1 to 64 of a-z, 0-9 and -)", id)
	}
	var out api.StatusResponse
	return c.postJSON(ctx, electionsPath+"/"+id+"/archive", struct{}{}, &out, true)
}

// Elections lists the board's elections (GET /api/v1/elections).
func (c *Client) Elections(ctx context.Context) ([]api.ElectionSummary, error) {
	var out api.Elections
	if err := c.getJSON(ctx, electionsPath, nil, &out); err != nil {
		return nil, err
	}
	return out.Elections, nil
}

var electionsPath = strings.TrimPrefix(api.ElectionsPath, api.Prefix)

// boardWide reports whether path is a route of the whole board rather
// than of one election.
func boardWide(path string) bool {
	return path == "/health" || path == "/cluster" || strings.HasPrefix(path, "/cluster/") ||
		path == electionsPath || strings.HasPrefix(path, electionsPath+"/")
}

// readsBoard reports whether a GET of path reads the board's state (and so
// takes ?consistent=1).
func readsBoard(path string) bool {
	return path != "/health" && !strings.HasSuffix(path, "/events") && path != "/cluster" && !strings.HasPrefix(path, "/cluster/")
}

// BaseURL is the node's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// SubmitHeaderTimeout is the ResponseHeaderTimeout of the clients' HTTP
// transports: a submit is answered once its entries are committed, and one
// checked against the whole election after up to api.LongCheckTimeout.
// Each attempt of a call is bounded besides by Options.Timeout, or
// api.LongCheckTimeout for such a submit.
const SubmitHeaderTimeout = api.LongCheckTimeout + time.Minute

// call is one API request.
type call struct {
	method string
	path   string // under /api/v1
	query  url.Values
	body   []byte // JSON; nil for none
	ctype  string // the body's Content-Type, if not JSON
	auth   bool   // send the cluster token
	stream bool   // no per-attempt timeout; the caller closes the body
	long   bool   // a submit the node checks against the whole election: api.LongCheckTimeout per attempt at least
}

// do performs the call with retries and returns the successful response
// (status 2xx). For non-streaming calls the body is already read into buf.
func (c *Client) do(ctx context.Context, cl call) (*http.Response, []byte, error) {
	if c.opts.Election != "" && !boardWide(cl.path) {
		cl.path = strings.TrimPrefix(api.ElectionPrefix(c.opts.Election), api.Prefix) + cl.path
	}
	u := *c.base
	u.Path += api.Prefix + cl.path
	q := cl.query
	if c.opts.Consistent && cl.method == http.MethodGet && readsBoard(cl.path) {
		q = url.Values{}
		for k, v := range cl.query {
			q[k] = v
		}
		q.Set(api.ConsistentParam, "1")
	}
	u.RawQuery = q.Encode()
	for attempt := 0; ; attempt++ {
		resp, buf, err := c.attempt(ctx, cl, u.String())
		if err == nil {
			return resp, buf, nil
		}
		if attempt >= c.opts.MaxRetries || ctx.Err() != nil {
			return nil, nil, err
		}
		var wait time.Duration
		var ae *Error
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
			wait = ae.RetryAfter
			if wait <= 0 {
				wait = time.Second
			}
		case !errors.As(err, &ae) && cl.method == http.MethodGet:
			wait = time.Duration(attempt+1) * 250 * time.Millisecond
		default:
			return nil, nil, err
		}
		wait = min(wait, c.opts.MaxRetryWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("apiclient: %s %s: %w (after: %w)", cl.method, cl.path, ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, cl call, target string) (*http.Response, []byte, error) {
	actx, cancel := context.WithCancel(ctx) // a stream's reads can cut it (idleBody)
	if !cl.stream {
		cancel()
		d := c.opts.Timeout
		if cl.long {
			d = max(d, api.LongCheckTimeout)
		}
		actx, cancel = context.WithTimeout(ctx, d)
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, target, body)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("apiclient: %s %s: %w", cl.method, cl.path, err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if cl.body != nil {
		ct := cl.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if cl.auth && c.opts.ClusterToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.ClusterToken)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		// A *url.Error repeats the method and the URL: say them once.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("apiclient: %s %s: %w", cl.method, target, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		defer resp.Body.Close()
		return nil, nil, apiError(cl, resp)
	}
	if cl.stream {
		resp.Body = &idleBody{body: resp.Body, cancel: cancel, idle: c.opts.StreamIdle, what: cl.method + " " + cl.path}
		return resp, nil, nil
	}
	defer cancel()
	defer resp.Body.Close()
	buf, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, nil, fmt.Errorf("apiclient: %s %s: reading the answer: %w", cl.method, cl.path, err)
	}
	if len(buf) > maxResponse {
		return nil, nil, fmt.Errorf("apiclient: %s %s: answer larger than %d bytes", cl.method, cl.path, maxResponse)
	}
	return resp, buf, nil
}

// idleBody is a stream's body: a Read that waits more than idle for the
// node's next bytes cancels the request and fails with ErrStalled; Close
// ends the request.
type idleBody struct {
	body    io.ReadCloser
	cancel  context.CancelFunc
	idle    time.Duration
	what    string
	stalled atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	t := time.AfterFunc(b.idle, func() { b.stalled.Store(true); b.cancel() })
	n, err := b.body.Read(p)
	t.Stop()
	if b.stalled.Load() {
		return n, fmt.Errorf("apiclient: %s: %w: no data from the node for %v", b.what, ErrStalled, b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error { err := b.body.Close(); b.cancel(); return err }

// apiError builds an *Error from an error answer; a body that is not the
// documented error object still gives the status.
func apiError(cl call, resp *http.Response) *Error {
	e := &Error{Method: cl.method, Path: api.Prefix + cl.path, Status: resp.StatusCode}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body api.ErrorResponse
	if err := json.Unmarshal(raw, &body); err == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Step = body.Error.Code, body.Error.Message, body.Error.Step
		return e
	}
	e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	e.Message = strings.TrimSpace(string(raw))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	return e
}

// getJSON performs a GET and decodes the JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	_, buf, err := c.do(ctx, call{method: http.MethodGet, path: path, query: q})
	if err != nil {
		return err
	}
	return decode(path, buf, v)
}

// get performs a GET and returns the decoded JSON answer.
func get[T any](ctx context.Context, c *Client, path string, q url.Values) (*T, error) {
	var v T
	if err := c.getJSON(ctx, path, q, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func (c *Client) postJSON(ctx context.Context, path string, in, out any, auth bool) error {
	return c.post(ctx, call{method: http.MethodPost, path: path, auth: auth}, in, out)
}

// post sends in as the JSON body of cl and decodes the answer into out.
func (c *Client) post(ctx context.Context, cl call, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("apiclient: encoding %s: %w", cl.path, err)
	}
	cl.body = body
	_, buf, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	return decode(cl.path, buf, out)
}

func decode(path string, buf []byte, v any) error {
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("apiclient: %s: undecodable answer: %w", path, err)
	}
	return nil
}

// SubmitResult is the outcome of one submitted entry: its position on the
// board, or Err (an API error with Status 0) when the entry was rejected.
type SubmitResult struct {
	Seq     uint64
	ID      string
	Tracker string
	Block   uint64
	Err     *Error
}

// largeEntry is the size from which Submit posts an entry alone, in
// binary (api.EntryContentType), instead of in a JSON batch: its base64
// would crowd the batch, and past api.MaxEntriesBody it does not fit.
const largeEntry = 1 << 20

// Submit posts canonical entries (1–256, docs/API.md POST /entries) and
// returns one result per entry, in order, once they are committed. One
// entry of largeEntry bytes or more (a credential list, a shuffle) is
// posted alone, in binary, up to its type's limit (SPEC.md §3.2); such an
// entry in a batch is refused here, before anything is sent. The error is
// non-nil only when nothing was processed.
func (c *Client) Submit(ctx context.Context, entries [][]byte) ([]SubmitResult, error) {
	for _, e := range entries {
		if len(e) >= largeEntry && len(entries) > 1 {
			return nil, fmt.Errorf("apiclient: an entry of %d bytes is posted alone (SubmitOne), not in a batch of %d", len(e), len(entries))
		}
	}
	return c.submit(ctx, entries, len(entries) == 1 && len(entries[0]) >= largeEntry)
}

// submit posts entries as JSON, or the one entry in binary.
func (c *Client) submit(ctx context.Context, entries [][]byte, binary bool) ([]SubmitResult, error) {
	long := bulletin.PostCheckedAgainstElection(entries)
	var resp api.SubmitResponse
	if binary {
		_, buf, err := c.do(ctx, call{method: http.MethodPost, path: "/entries", body: entries[0], ctype: api.EntryContentType, long: long})
		if err != nil {
			return nil, err
		}
		if err := decode("/entries", buf, &resp); err != nil {
			return nil, err
		}
	} else {
		req := api.SubmitRequest{Entries: make([]string, len(entries))}
		for i, e := range entries {
			req.Entries[i] = wire.EncodeB64(e)
		}
		if err := c.post(ctx, call{method: http.MethodPost, path: "/entries", long: long}, req, &resp); err != nil {
			return nil, err
		}
	}
	if len(resp.Results) != len(entries) {
		return nil, fmt.Errorf("apiclient: /entries: %d results for %d entries", len(resp.Results), len(entries))
	}
	out := make([]SubmitResult, len(resp.Results))
	for i, r := range resp.Results {
		if r.Error != nil {
			out[i].Err = &Error{Code: r.Error.Code, Message: r.Error.Message, Step: r.Error.Step}
			continue
		}
		out[i] = SubmitResult{Seq: r.Seq, ID: r.ID, Tracker: r.Tracker, Block: r.Block}
	}
	return out, nil
}

// SubmitOne posts one entry; a rejection is returned as the error (*Error).
func (c *Client) SubmitOne(ctx context.Context, entry []byte) (SubmitResult, error) {
	rs, err := c.Submit(ctx, [][]byte{entry})
	if err != nil {
		return SubmitResult{}, err
	}
	if rs[0].Err != nil {
		return rs[0], rs[0].Err
	}
	return rs[0], nil
}

// Health is GET /health.
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	return get[api.Health](ctx, c, "/health", nil)
}

// Election is GET /election (an *Error with code not_found before the manifest).
func (c *Client) Election(ctx context.Context) (*api.Election, error) {
	return get[api.Election](ctx, c, "/election", nil)
}

// Entries is GET /entries: up to limit entries from seq from, and the seq to
// ask for next.
func (c *Client) Entries(ctx context.Context, from uint64, limit int) ([]api.Entry, uint64, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "limit": {strconv.Itoa(limit)}}
	var resp api.EntriesResponse
	if err := c.getJSON(ctx, "/entries", q, &resp); err != nil {
		return nil, 0, err
	}
	return resp.Entries, resp.Next, nil
}

// AllEntries calls fn on every entry from seq from to the current end of
// the board, a page at a time. An error from fn stops it and is returned.
func (c *Client) AllEntries(ctx context.Context, from uint64, fn func(api.Entry) error) error {
	for {
		list, next, err := c.Entries(ctx, from, api.MaxPageLimit)
		if err != nil {
			return err
		}
		for _, e := range list {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(list) == 0 || next <= from {
			return nil
		}
		from = next
	}
}

// Entry is GET /entries/{seq}.
func (c *Client) Entry(ctx context.Context, seq uint64) (*api.Entry, error) {
	return get[api.Entry](ctx, c, "/entries/"+strconv.FormatUint(seq, 10), nil)
}

// Blocks is GET /blocks: up to limit blocks from height from.
func (c *Client) Blocks(ctx context.Context, from uint64, limit int) ([]api.Block, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "limit": {strconv.Itoa(limit)}}
	var resp api.BlocksResponse
	if err := c.getJSON(ctx, "/blocks", q, &resp); err != nil {
		return nil, err
	}
	return resp.Blocks, nil
}

// Block is GET /blocks/{height}.
func (c *Client) Block(ctx context.Context, height uint64) (*api.Block, error) {
	return get[api.Block](ctx, c, "/blocks/"+strconv.FormatUint(height, 10), nil)
}

// Tracker is GET /trackers/{tracker} (short form or full hex).
func (c *Client) Tracker(ctx context.Context, tracker string) (*api.Tracker, error) {
	return get[api.Tracker](ctx, c, "/trackers/"+url.PathEscape(tracker), nil)
}

// Checkpoint is GET /checkpoint.
func (c *Client) Checkpoint(ctx context.Context) (*api.Checkpoint, error) {
	return get[api.Checkpoint](ctx, c, "/checkpoint", nil)
}

// InclusionProof is GET /proofs/inclusion.
func (c *Client) InclusionProof(ctx context.Context, seq, size uint64) (*api.InclusionProof, error) {
	q := url.Values{"seq": {strconv.FormatUint(seq, 10)}, "size": {strconv.FormatUint(size, 10)}}
	return get[api.InclusionProof](ctx, c, "/proofs/inclusion", q)
}

// ConsistencyProof is GET /proofs/consistency.
func (c *Client) ConsistencyProof(ctx context.Context, from, to uint64) (*api.ConsistencyProof, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	return get[api.ConsistencyProof](ctx, c, "/proofs/consistency", q)
}

// Receipt is GET /receipts/{seq}.
func (c *Client) Receipt(ctx context.Context, seq uint64) (*api.Receipt, error) {
	return get[api.Receipt](ctx, c, "/receipts/"+strconv.FormatUint(seq, 10), nil)
}

// Results is GET /results (an *Error with code wrong_phase before the result).
func (c *Client) Results(ctx context.Context) (*api.Results, error) {
	return get[api.Results](ctx, c, "/results", nil)
}

// Record opens GET /record: the complete election record as a stream. The
// caller MUST close it. A record cut short by the node surfaces as a read
// error (unexpected EOF), never as a clean end.
func (c *Client) Record(ctx context.Context) (io.ReadCloser, error) {
	resp, _, err := c.do(ctx, call{method: http.MethodGet, path: "/record", stream: true})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WriteRecord copies the complete election record to w as it arrives,
// holding one block at a time. It reads what it copies as a record
// (bulletin.RecordReader: the frames, each block header and entry, the END
// frame's counts, SPEC.md V1), so a stream that ends early, even at a clean
// HTTP end, or goes on after END fails with ErrIncomplete; a node that
// stalls fails with ErrStalled. The bytes copied before a failure are in w.
func (c *Client) WriteRecord(ctx context.Context, w io.Writer) (int64, error) {
	r, err := c.Record(ctx)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	tee := &teeReader{r: r, w: w}
	rr, err := bulletin.NewRecordReader(tee)
	for err == nil {
		_, err = rr.Next()
	}
	switch {
	case tee.readErr != nil: // the transport's error, not its effect on the framing
		return tee.n, fmt.Errorf("apiclient: reading the record: %w", tee.readErr)
	case tee.writeErr != nil:
		return tee.n, fmt.Errorf("apiclient: writing the record: %w", tee.writeErr)
	case err != io.EOF:
		return tee.n, fmt.Errorf("apiclient: %w after %d bytes: %w", ErrIncomplete, tee.n, err)
	}
	return tee.n, nil
}

// teeReader writes to w what it reads from r, counts the bytes written (n),
// and keeps the first error of each side apart.
type teeReader struct {
	r                 io.Reader
	w                 io.Writer
	n                 int64
	readErr, writeErr error
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		wn, werr := t.w.Write(p[:n])
		t.n += int64(wn)
		if werr != nil {
			t.writeErr = werr
			return 0, werr
		}
	}
	if err != nil && err != io.EOF {
		t.readErr = err
	}
	return n, err
}

// Events follows GET /events and calls fn with each block as it is
// committed, until ctx is done (it then returns nil), the stream ends, or fn
// returns an error (which is returned).
func (c *Client) Events(ctx context.Context, fn func(api.Block) error) error {
	resp, _, err := c.do(ctx, call{method: http.MethodGet, path: "/events", stream: true})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "block" && data.Len() > 0 {
				var b api.Block
				if err := json.Unmarshal([]byte(data.String()), &b); err != nil {
					return fmt.Errorf("apiclient: /events: undecodable block: %w", err)
				}
				if err := fn(b); err != nil {
					return err
				}
			}
			event = ""
			data.Reset()
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("apiclient: /events: %w", err)
	}
	return nil
}

// Cluster is GET /cluster.
func (c *Client) Cluster(ctx context.Context) (*api.Cluster, error) {
	return get[api.Cluster](ctx, c, "/cluster", nil)
}

// Join asks the cluster to add a node (POST /cluster/join).
func (c *Client) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	var st api.StatusResponse
	return c.postJSON(ctx, "/cluster/join", api.JoinRequest{ID: id, RaftAddr: raftAddr, APIAddr: apiAddr}, &st, true)
}

// Remove asks the cluster to remove a node (POST /cluster/remove).
func (c *Client) Remove(ctx context.Context, id string) error {
	var st api.StatusResponse
	return c.postJSON(ctx, "/cluster/remove", api.RemoveRequest{ID: id}, &st, true)
}

// TransferLeadership asks the leader to hand leadership to voter id, or to
// the most up-to-date voter when id is "" (POST /cluster/transfer-leadership).
func (c *Client) TransferLeadership(ctx context.Context, id string) error {
	var st api.StatusResponse
	return c.postJSON(ctx, "/cluster/transfer-leadership", api.TransferRequest{ID: id}, &st, true)
}
