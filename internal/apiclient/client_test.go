package apiclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
)

func setup(t *testing.T) (*httpapitest.Fake, *apiclient.Client) {
	t.Helper()
	f := httpapitest.Sample()
	srv := httptest.NewServer(httpapi.New(f, httpapi.Options{}))
	t.Cleanup(srv.Close)
	c, err := apiclient.New(srv.URL, apiclient.Options{Timeout: 5 * time.Second, MaxRetryWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

// read fails t unless a read (what) succeeded with got deeply equal to
// want; pointers compare as what they point to.
func read(t *testing.T, what string, got any, err error, want any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	check(t, what, got, want)
}

func ref[T any](v T) *T { return &v }

// TestRoundTrip reads every resource through the server and the client and
// gets back exactly what the backend holds.
func TestRoundTrip(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()

	h, err := c.Health(ctx)
	read(t, "health", h, err, &f.HealthV)

	el, err := c.Election(ctx)
	read(t, "election", el, err, f.ElectionV)

	es, next, err := c.Entries(ctx, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "entries", es, f.EntriesV[1:])
	check(t, "next", next, uint64(3))

	var all []api.Entry
	if err := c.AllEntries(ctx, 0, func(e api.Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	check(t, "all entries", all, f.EntriesV)

	e, err := c.Entry(ctx, 2)
	read(t, "entry", e, err, &f.EntriesV[2])

	bs, err := c.Blocks(ctx, 0, 10)
	read(t, "blocks", bs, err, f.BlocksV)
	b, err := c.Block(ctx, 1)
	read(t, "block", b, err, &f.BlocksV[1])

	tr, err := c.Tracker(ctx, "K7QF-2MZX")
	read(t, "tracker", tr, err, ref(f.Trackers["K7QF-2MZX"]))

	cp, err := c.Checkpoint(ctx)
	read(t, "checkpoint", cp, err, &f.CheckpointV)

	ip, err := c.InclusionProof(ctx, 1, 3)
	read(t, "inclusion", ip, err, &api.InclusionProof{Seq: 1, Size: 3, LeafHash: fmt.Sprintf("%064x", 1), Proof: []string{fmt.Sprintf("%064x", 3)}})
	cons, err := c.ConsistencyProof(ctx, 1, 3)
	read(t, "consistency", cons, err, &api.ConsistencyProof{From: 1, To: 3, Proof: []string{}})

	r, err := c.Receipt(ctx, 2)
	read(t, "receipt", r, err, ref(f.Receipts[2]))

	res, err := c.Results(ctx)
	read(t, "results", res, err, f.ResultsV)

	ci, err := c.Cluster(ctx)
	read(t, "cluster", ci, err, &f.ClusterV)

	// WriteRecord reads what it copies as a record: give it a real one.
	f.Record = testonly.Build(t, "apiclient-roundtrip", testonly.SmallConfig()).Record()
	var rec bytes.Buffer
	n, err := c.WriteRecord(ctx, &rec)
	if err != nil || n != int64(len(f.Record)) || !bytes.Equal(rec.Bytes(), f.Record) {
		t.Fatalf("record: %d %v %q", n, err, rec.Bytes())
	}

	if err := c.Join(ctx, "n4", "127.0.0.1:7004", "http://127.0.0.1:8004"); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	check(t, "joined", f.Joined, []api.JoinRequest{{ID: "n4", RaftAddr: "127.0.0.1:7004", APIAddr: "http://127.0.0.1:8004"}})
	check(t, "removed", f.Removed, []string{"n4"})
}

func TestSubmit(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	f.EntriesV = nil
	rs, err := c.Submit(ctx, [][]byte{{1, 2}, {3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Seq != 0 || rs[1].Seq != 1 || rs[0].Err != nil || rs[1].ID == "" {
		t.Fatalf("results %+v", rs)
	}
	check(t, "submitted", f.Submitted, [][]byte{{1, 2}, {3}})

	f.SubmitFunc = func(context.Context, [][]byte) ([]httpapi.SubmitResult, error) {
		return []httpapi.SubmitResult{{Err: fmt.Errorf("entry: %w", bulletin.ErrAudited)}}, nil
	}
	_, err = c.SubmitOne(ctx, []byte{9})
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeAudited || ae.Status != 0 || !apiclient.IsCode(err, "audited") {
		t.Fatalf("rejection: %v", err)
	}
}

func TestErrors(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	_, err := c.Entry(ctx, 99)
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != api.CodeNotFound || ae.Path != "/api/v1/entries/99" {
		t.Fatalf("not found: %#v", err)
	}
	f.ResultsV, f.ResultsErr = nil, fmt.Errorf("no result: %w", bulletin.ErrWrongPhase)
	if _, err := c.Results(ctx); !apiclient.IsCode(err, api.CodeWrongPhase) {
		t.Fatalf("results: %v", err)
	}
	f.SetErr("Submit", fmt.Errorf("x: %w", bulletin.ErrMalformed))
	_, err = c.Submit(ctx, [][]byte{{1}})
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Step != "V1" {
		t.Fatalf("malformed: %v", err)
	}
	if got := ae.Error(); got != "apiclient: POST /api/v1/entries: 400 malformed: x: bulletin: malformed encoding (step V1)" {
		t.Errorf("message %q", got)
	}
	if _, err := apiclient.New("ftp://x", apiclient.Options{}); err == nil {
		t.Error("ftp URL accepted")
	}
	if _, err := apiclient.New("", apiclient.Options{}); err == nil {
		t.Error("empty URL accepted")
	}
}

// TestRetryOverloaded: a 503 is retried after its Retry-After (capped by
// MaxRetryWait), for writes too; the retries give up after MaxRetries.
func TestRetryOverloaded(t *testing.T) {
	f := httpapitest.Sample()
	f.SetErr("Submit", replica.ErrOverloaded)
	srvAPI := httpapi.New(f, httpapi.Options{RetryAfter: 30 * time.Second})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 3 {
			f.SetErr("Submit", nil)
		}
		srvAPI.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _ := apiclient.New(srv.URL, apiclient.Options{MaxRetries: 4, MaxRetryWait: 5 * time.Millisecond})
	start := time.Now()
	rs, err := c.Submit(context.Background(), [][]byte{{1}})
	if err != nil || len(rs) != 1 || rs[0].Err != nil {
		t.Fatalf("after retries: %v %+v", err, rs)
	}
	if calls.Load() != 3 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d calls in %v", calls.Load(), time.Since(start))
	}

	f.SetErr("Health", replica.ErrOverloaded)
	calls.Store(-100)
	c2, _ := apiclient.New(srv.URL, apiclient.Options{MaxRetries: 2, MaxRetryWait: time.Millisecond})
	_, err = c2.Health(context.Background())
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != api.CodeOverloaded || ae.RetryAfter != 30*time.Second {
		t.Fatalf("gave up with %v", err)
	}
	if calls.Load() != -97 {
		t.Fatalf("%d attempts, want 3", calls.Load()+100)
	}
}

// TestNoRetryOnWriteTransportError: a POST whose connection fails is not
// resent (its outcome is unknown); a GET is.
func TestNoRetryOnWriteTransportError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, _ := apiclient.New(srv.URL, apiclient.Options{MaxRetries: 2, MaxRetryWait: time.Millisecond})
	if _, err := c.Submit(context.Background(), [][]byte{{1}}); err == nil {
		t.Fatal("no error")
	}
	// net/http itself may resend a request on a reused connection; never more.
	if n := calls.Load(); n > 2 {
		t.Fatalf("POST sent %d times", n)
	}
	calls.Store(0)
	if _, err := c.Health(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if n := calls.Load(); n < 3 {
		t.Fatalf("GET sent %d times, want retries", n)
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, _ := apiclient.New(srv.URL, apiclient.Options{Timeout: 30 * time.Millisecond, MaxRetries: -1})
	start := time.Now()
	_, err := c.Health(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

func TestEvents(t *testing.T) {
	f, c := setup(t)
	f.Events = make(chan api.Block, 2)
	f.Events <- f.BlocksV[0]
	f.Events <- f.BlocksV[1]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []api.Block
	stop := errors.New("stop")
	err := c.Events(ctx, func(b api.Block) error {
		got = append(got, b)
		if len(got) == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("Events: %v", err)
	}
	check(t, "events", got, f.BlocksV)

	// Cancelling the context ends the stream quietly.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := c.Events(ctx2, func(api.Block) error { return nil }); err != nil {
		t.Fatalf("Events after cancel: %v", err)
	}
}

func TestTruncatedRecord(t *testing.T) {
	f, c := setup(t)
	f.Record = bytes.Repeat([]byte("r"), 1<<20)
	f.RecordErr = errors.New("store failed")
	_, err := c.WriteRecord(context.Background(), io.Discard)
	if err == nil {
		t.Fatal("a truncated record was copied without error")
	}
}

// A transport error names the method and the URL once (a *url.Error
// repeats them), and keeps the cause for errors.Is.
func TestTransportErrorSaysURLOnce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := apiclient.New(url, apiclient.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Health(context.Background())
	if err == nil {
		t.Fatal("a closed server answered")
	}
	msg := err.Error()
	if n := strings.Count(msg, url); n != 1 || strings.Contains(msg, `Get "`) || !strings.HasPrefix(msg, "apiclient: GET "+url+"/api/v1/health: ") {
		t.Fatalf("error %q: want the URL once, as 'apiclient: GET URL: cause'", msg)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %q does not wrap ECONNREFUSED", msg)
	}
}

// TestConsistent: a consistent client adds ?consistent=1 to every read of
// the board (and nowhere else), keeps the other parameters, and retries a
// 503 not_ready like any 503; the client it was made from stays plain.
func TestConsistent(t *testing.T) {
	f := httpapitest.Sample()
	f.ReadIndexV, f.AppliedV = 5, 5
	h := httpapi.New(f, httpapi.Options{ConsistentWait: 50 * time.Millisecond})
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	plain, err := apiclient.New(srv.URL, apiclient.Options{MaxRetryWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := plain.Consistent()
	ctx := context.Background()
	if _, _, err := c.Entries(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tracker(ctx, "K7QF-2MZX"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Entry(ctx, 0); err != nil {
		t.Fatal(err)
	}
	check(t, "queries", queries, []string{
		"/api/v1/entries?consistent=1&from=1&limit=2", "/api/v1/trackers/K7QF-2MZX?consistent=1",
		"/api/v1/health?", "/api/v1/cluster?", "/api/v1/entries/0?",
	})
	check(t, "read indexes waited for", f.WaitedFor(), []uint64{5, 5})

	// Behind: 503 not_ready, retried until the node caught up.
	f.SetApplied(4)
	mu.Lock()
	queries = nil
	mu.Unlock()
	go func() {
		for {
			mu.Lock()
			n := len(queries)
			mu.Unlock()
			if n >= 2 {
				f.SetApplied(5)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if _, err := c.Entry(ctx, 0); err != nil {
		t.Fatalf("after not_ready: %v", err)
	}
	if _, err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	cNoRetry, _ := apiclient.New(srv.URL, apiclient.Options{MaxRetries: -1, Consistent: true})
	f.SetApplied(4)
	if _, err := cNoRetry.Entry(ctx, 0); !apiclient.IsCode(err, api.CodeNotReady) {
		t.Fatalf("behind without retries: %v, want not_ready", err)
	}
}

// TestAttackRecordStream: a hostile (or broken) node serves GET /record.
// A record cut short at a clean HTTP end, at any place, cut just before
// its END frame, followed by extra bytes, or not a record at all is
// ErrIncomplete; a node that sends part of it and then stalls is cut
// after StreamIdle with ErrStalled. An honest record read by a consumer
// slower than StreamIdle is not a stall.
func TestAttackRecordStream(t *testing.T) {
	rec := testonly.Build(t, "apiclient-record-stream", testonly.SmallConfig()).Record()
	serve := func(h http.HandlerFunc) *apiclient.Client {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		c, err := apiclient.New(srv.URL, apiclient.Options{StreamIdle: 500 * time.Millisecond, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sending := func(body []byte) *apiclient.Client {
		return serve(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	}

	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"cut after the header", rec[:20]},
		{"cut in the middle", rec[:len(rec)/2]},
		{"cut before the END frame", rec[:len(rec)-25]},
		{"cut inside the END frame", rec[:len(rec)-1]},
		{"bytes after END", append(slices.Clone(rec), 0)},
		{"an HTML page", []byte("<html>maintenance</html>")},
		{"nothing", nil},
	} {
		var out bytes.Buffer
		n, err := sending(tc.body).WriteRecord(context.Background(), &out)
		if !errors.Is(err, apiclient.ErrIncomplete) {
			t.Errorf("%s: WriteRecord = %v, want ErrIncomplete", tc.name, err)
		}
		if n != int64(out.Len()) {
			t.Errorf("%s: WriteRecord says %d bytes, wrote %d", tc.name, n, out.Len())
		}
	}

	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	c := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Write(rec[:len(rec)/2])
		w.(http.Flusher).Flush()
		select { // the node holds the connection open and sends no more
		case <-r.Context().Done():
		case <-stall:
		}
	})
	_, err := c.WriteRecord(context.Background(), io.Discard)
	if !errors.Is(err, apiclient.ErrStalled) || !strings.Contains(err.Error(), "no data from the node for 500ms") {
		t.Errorf("a stalled node: WriteRecord = %v, want ErrStalled", err)
	}

	// A consumer that takes longer than StreamIdle for one write is not a
	// stalled node.
	var out bytes.Buffer
	slow := writerFunc(func(p []byte) (int, error) {
		if out.Len() == 0 {
			time.Sleep(time.Second)
		}
		return out.Write(p)
	})
	if _, err := sending(rec).WriteRecord(context.Background(), slow); err != nil || !bytes.Equal(out.Bytes(), rec) {
		t.Errorf("a slow consumer of an honest record: %v (%d of %d bytes)", err, out.Len(), len(rec))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestLongCheckedSubmitWaits: a post of an entry the node checks against
// the whole election (a partial decryption: the first one adds up every
// counted ballot) waits past the client's Timeout for its answer, as
// SPEC.md §3.14.6 item 5 says a client should; an ordinary entry's post
// still ends at the Timeout. The node answers both after 400 ms.
func TestLongCheckedSubmitWaits(t *testing.T) {
	h := httpapi.New(httpapitest.Sample(), httpapi.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _ := apiclient.New(srv.URL, apiclient.Options{Timeout: 100 * time.Millisecond, MaxRetries: -1})
	for _, tc := range []struct {
		typ  bulletin.EntryType
		long bool
	}{{bulletin.TypePartialDecryption, true}, {bulletin.TypeShuffle, true}, {bulletin.TypeBallot, false}} {
		rs, err := c.Submit(context.Background(), [][]byte{{bulletin.EntryVersion, byte(tc.typ)}})
		switch {
		case tc.long && (err != nil || len(rs) != 1 || rs[0].Err != nil):
			t.Errorf("a %s post answered after the client's timeout: %v %+v, want its result", tc.typ, err, rs)
		case !tc.long && !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("a %s post answered after the client's timeout: %v %+v, want the timeout", tc.typ, err, rs)
		}
	}
}
