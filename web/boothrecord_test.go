package web_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/web"
)

// TestAttackBoothRecord: the booth reads the election's opening (the
// entries up to the open entry) from the node's record, GET /record, and
// stops reading after the open entry (SPEC.md §10.6 step 1). A node that
// cuts its record inside the credential list, alters one byte of the
// credential list, announces a frame longer than the record allows, or
// stops sending halfway: the booth refuses to encrypt, says why, and no
// ballot reaches the board, even when the credential form is submitted.
// Through an honest proxy the booth reads the record, never /entries,
// and establishes the key.
func TestAttackBoothRecord(t *testing.T) {
	b := browserIn(t, "boothrecord")
	withSpareCredential(t, func(node, cred string) { boothRecordAttacks(t, b, node, cred) })
}

// withSpareCredential runs a one-ballot demo election and, while its
// board is served, calls run once with the node's URL and a credential
// no voter of the demo used.
func withSpareCredential(t *testing.T, run func(node, cred string)) {
	t.Helper()
	served := 0
	cfg := demo.Config{Ballots: 1, Static: web.FS(), Progress: logWriter{t}}
	cfg.Serve = func(_ context.Context, url string, creds []string) error {
		served++
		if served == 1 {
			if len(creds) == 0 {
				return fmt.Errorf("the demo gave no spare credential")
			}
			run(url, creds[0])
		}
		return nil
	}
	runDemo(t, "demo election", cfg)
	if served == 0 {
		t.Fatal("the demo never served the election")
	}
}

func boothRecordAttacks(t *testing.T, b *browser, node, cred string) {
	var before struct {
		Counts struct{ Entries, Ballots int }
	}
	getJSON(t, node+"/api/v1/election", &before)

	// The honest record, through the proxy: the key is established from it.
	hp := newRecordProxy(t, node, "")
	tb := b.tab()
	tb.base = hp.url
	tb.open("booth.html", "booth")
	if got := hp.gets("/api/v1/record"); got != 1 {
		t.Errorf("honest node: the booth read the record %d times, want once", got)
	}
	if got := hp.gets("/api/v1/entries"); got != 0 {
		t.Errorf("honest node: the booth read /entries %d times to establish the key, want none (the record)", got)
	}
	tb.close()

	for _, c := range []struct {
		mode, shot string
		want       []string // in the page's error, besides the refusal
		oneOf      []string // and one of these, if set
	}{
		{"cut", "01-record-cut-in-credentials", []string{"record is malformed", "ends inside entry 1"}, nil},
		// A flipped bit inside a (random) credential either leaves no
		// point (V1 fails at the list) or another one (the entries no
		// longer hash to the signed checkpoint's log: V3).
		{"altered", "02-record-credential-altered", nil, []string{"Reason: urna: V1: entry 1", "Reason: urna: V3: V3.5 consistency"}},
		{"unsigned", "02b-record-credential-signature", []string{"Reason: urna: V3", "consistency proof fails"}, nil},
		{"huge", "03-record-frame-too-long", []string{"record is malformed", "more than the record allows"}, nil},
		{"stall", "04-record-stalled", []string{"record stalled", "no byte for 30 s"}, nil},
	} {
		p := newRecordProxy(t, node, c.mode)
		tb := b.tab()
		tb.base = p.url
		// A stalled record is given up after 30 s: wait longer than until's 45 s.
		ctx, cancel := context.WithTimeout(tb.ctx, 150*time.Second)
		err := chromedp.Do(ctx, chromedp.Navigate(tb.base+"/booth.html"),
			untilWithin(`document.body.dataset.ready === 'booth-refused'`, 120*time.Second))
		cancel()
		if err != nil {
			tb.fail(c.mode+": the booth did not refuse", err)
		}
		if p.served.Load() == 0 {
			t.Fatalf("%s: the proxy served no tampered record", c.mode)
		}
		if state := tb.keyState(); !state.refused() {
			t.Errorf("%s: %+v, want the key refused, no credential step, an alert with focus", c.mode, state)
		}
		msg := tb.text("#err")
		contains(t, c.mode, msg, append([]string{"could not verify the election key", "will not encrypt your ballot"}, c.want...)...)
		if len(c.oneOf) > 0 && !slices.ContainsFunc(c.oneOf, func(w string) bool { return strings.Contains(msg, w) }) {
			t.Errorf("%s: %q contains none of %q", c.mode, msg, c.oneOf)
		}
		tb.shot(c.shot)
		// Submitting the credential anyway: the booth encrypts and sends nothing.
		tb.run(c.mode+": submit a credential",
			js(fmt.Sprintf(`document.getElementById('cred').value = %q`, cred)),
			js(`document.getElementById('cred-form').requestSubmit()`),
			chromedp.Sleep(time.Second))
		if n := p.posts.Load(); n != 0 {
			t.Errorf("%s: the booth sent %d requests with a body through the hostile node, want none", c.mode, n)
		}
		if !tb.has(`#step-cred[hidden]`) || !tb.has(`#step-choices[hidden]`) {
			t.Errorf("%s: the booth shows a step after refusing the key", c.mode)
		}
		tb.close()
	}

	var after struct {
		Counts struct{ Entries, Ballots int }
	}
	getJSON(t, node+"/api/v1/election", &after)
	if after.Counts.Ballots != before.Counts.Ballots {
		t.Errorf("the board has %d ballots after the refused booths, %d before", after.Counts.Ballots, before.Counts.Ballots)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// untilWithin waits up to d for a JavaScript condition.
func untilWithin(expr string, d time.Duration) step {
	poll := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(100*time.Millisecond))
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := poll(ctx, t)
		return err
	})
}

// has reports whether the page has an element matching sel.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`document.querySelector(%q) !== null`, sel), &ok)
	return ok
}

// recordProxy serves a node through a loopback proxy that counts the
// requests it forwards and, as a hostile node, tampers with the record
// (GET /api/v1/record from height 0) according to mode:
//
//	""        the honest record
//	cut       the record ends in the middle of entry 1, the credential list
//	altered   one byte of the credential list's body is flipped
//	unsigned  one bit of the credential list's signature is flipped
//	huge      entry 1's frame announces 2^32 - 1 bytes
//	stall     the middle of entry 1 is sent, then nothing, the connection open
type recordProxy struct {
	url    string
	mode   string
	served atomic.Int32 // tampered records served
	posts  atomic.Int32 // requests with a body forwarded
	mu     sync.Mutex
	paths  map[string]int // GET requests forwarded, by path
}

func newRecordProxy(t *testing.T, node, mode string) *recordProxy {
	t.Helper()
	u, err := url.Parse(node)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordProxy{mode: mode, paths: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p.posts.Add(1)
		} else {
			p.mu.Lock()
			p.paths[r.URL.Path]++
			p.mu.Unlock()
		}
		if mode == "" || r.URL.Path != "/api/v1/record" || r.URL.RawQuery != "" {
			rp.ServeHTTP(w, r)
			return
		}
		rec, err := fetchRecord(node)
		if err != nil {
			t.Errorf("proxy: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		off, n, err := entryFrame(rec, 1)
		if err != nil {
			t.Errorf("proxy: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.served.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		switch mode {
		case "cut":
			rec = rec[:off+n/2]
		case "altered":
			rec[off+n/2] ^= 0x01 // inside the body: the frames stay whole
		case "unsigned":
			rec[off+n-32] ^= 0x01 // the low bit of the signature's s: still canonical, no longer valid
		case "huge":
			binary.BigEndian.PutUint32(rec[off-4:], 0xffffffff)
		case "stall":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(rec[:off+n/2])
			http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(rec)))
		_, _ = w.Write(rec)
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	p.url = srv.URL
	return p
}

// gets returns how many GET requests of path the proxy forwarded.
func (p *recordProxy) gets(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paths[path]
}

func fetchRecord(node string) ([]byte, error) {
	resp, err := http.Get(node + "/api/v1/record")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /record: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// entryFrame returns where the payload of the record's entry seq starts
// and its length, walking the frames of SPEC.md §3.11.
func entryFrame(rec []byte, seq int) (off, n int, err error) {
	if len(rec) < 8 || !strings.HasPrefix(string(rec), "URNAREC\x01") {
		return 0, 0, fmt.Errorf("not a record")
	}
	k := 0
	for at := 8; at+5 <= len(rec); {
		tag, l := rec[at], int(binary.BigEndian.Uint32(rec[at+1:]))
		if tag == 2 {
			if k == seq {
				return at + 5, l, nil
			}
			k++
		}
		at += 5 + l
	}
	return 0, 0, fmt.Errorf("the record has no entry %d", seq)
}
