package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/internal/api"
)

// TestAttackBooth503: a node that answers 503 no_leader with Retry-After
// (a Raft cluster changing its leader, docs/API.md) does not fail the
// voter. Behind a proxy that answers the first requests of a route in the
// node's place, the booth loads (its election status refused twice), the
// challenge's opening is published (its post refused twice), the ballot is
// cast (its post reaching the board but answered 503, as by a leader that
// lost leadership after the commit) and its receipt verified (refused
// twice), each without an error shown, the proxy having seen every retry.
// A 503 that does not pass ends, after a bounded number of tries, in the
// booth's "NOT cast, try again" and the voter's second try succeeds; a
// 4xx is not retried, even with a Retry-After. The board page's live
// stream of blocks, refused twice, is opened again and shows the next entry.
func TestAttackBooth503(t *testing.T) {
	b := browserIn(t, "retry")
	withSpareCredential(t, func(node, cred string) {
		t.Run("transient", func(t *testing.T) { transient503(t, b, node, cred) })
		t.Run("persistent", func(t *testing.T) { persistent503(t, b, node, cred) })
		t.Run("4xx", func(t *testing.T) { refused4xx(t, b, node, cred) })
		t.Run("events", func(t *testing.T) { events503(t, b, node, cred) })
	})
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// fault is an answer a recorder gives in the node's place (recorder.fail)
// to the next n requests of method whose path starts with path: status
// with the API error code and Retry-After: 1.
type fault struct {
	method, path string
	n            int
	status       int
	code         string
	// forward: each request reaches the node first, and the node's answer
	// is dropped (the entry is on the board, its poster is told 503).
	forward bool
}

// nodeMessages are the node's messages of its 503 answers (internal/httpapi).
var nodeMessages = map[string]string{
	api.CodeNoLeader:   "no leader is available; retry later",
	api.CodeOverloaded: "the node is overloaded; retry later",
}

// fail has the recorder answer as faults say, replacing the faults set
// before (none: the node answers every request).
func (r *recorder) fail(faults ...fault) {
	var mu sync.Mutex
	left := make([]int, len(faults))
	for i, f := range faults {
		left[i] = f.n
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = func(w http.ResponseWriter, req *http.Request, node http.Handler) bool {
		i := slices.IndexFunc(faults, func(f fault) bool {
			return req.Method == f.method && strings.HasPrefix(req.URL.Path, f.path)
		})
		if i < 0 {
			return false
		}
		mu.Lock()
		take := left[i] > 0
		left[i]--
		mu.Unlock()
		if !take {
			return false
		}
		f := faults[i]
		if f.forward {
			got := httptest.NewRecorder()
			node.ServeHTTP(got, req)
			if got.Code != http.StatusOK {
				r.t.Errorf("proxy: the node answered %s %s with %d: %s", req.Method, req.URL, got.Code, got.Body)
			}
		}
		msg, ok := nodeMessages[f.code]
		if !ok {
			msg = "refused by the test's proxy"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(f.status)
		_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorBody{Code: f.code, Message: msg}})
		return true
	}
}

// sentTo returns the requests of method to a path starting with path that
// the recorder saw, answered by the node or by a fault.
func (r *recorder) sentTo(method, path string) []sentRequest {
	var out []sentRequest
	for _, s := range r.requests() {
		if s.Method == method && strings.HasPrefix(s.URL, path) {
			out = append(out, s)
		}
	}
	return out
}

// recordedTab opens a tab whose failures fail t, whose pages reach node
// through a new recorder.
func recordedTab(t *testing.T, b *browser, node string) (*browser, *recorder) {
	rec := newRecorder(t, node)
	tb := b.tab()
	tb.t = t
	tb.base = rec.srv.URL
	t.Cleanup(tb.close)
	return tb, rec
}

// reviewing opens the booth as recordedTab does, enters cred and asks for a
// ballot; it returns the tab, the recorder and the board's entries then.
func reviewing(t *testing.T, b *browser, node, cred string) (*browser, *recorder, []boardEntry) {
	tb, rec := recordedTab(t, b, node)
	tb.enterBooth(cred)
	tb.choose("q0o2", "q1o0", "q1o3") // Blue; Parks, Public transport
	return tb, rec, boardEntries(t, node)
}

// samePosts checks that the posts all carry the same body, and returns
// their one entry.
func samePosts(t *testing.T, what string, posts []sentRequest) string {
	t.Helper()
	var body api.SubmitRequest
	if err := json.Unmarshal(posts[0].Body, &body); err != nil || len(body.Entries) != 1 {
		t.Fatalf("%s: a post of %s (%v), want one entry", what, posts[0].Body, err)
	}
	for _, p := range posts[1:] {
		if !bytes.Equal(p.Body, posts[0].Body) {
			t.Errorf("%s: the booth sent %s, then %s", what, posts[0].Body, p.Body)
		}
	}
	return body.Entries[0]
}

func transient503(t *testing.T, b *browser, node, cred string) {
	tb, rec := recordedTab(t, b, node)
	rec.fail(fault{method: http.MethodGet, path: "/api/v1/election", n: 2, status: http.StatusServiceUnavailable, code: api.CodeNoLeader})
	tb.enterBooth(cred)
	if got := len(rec.sentTo(http.MethodGet, "/api/v1/election")); got < 3 {
		t.Errorf("the booth asked for the election's status %d times, want the 2 refused and once more", got)
	}

	// The challenge: the opening's post is refused twice.
	before := boardEntries(t, node)
	tb.choose("q0o2", "q1o0", "q1o3") // Blue; Parks, Public transport
	rec.fail(fault{method: http.MethodPost, path: "/api/v1/entries", n: 2, status: http.StatusServiceUnavailable, code: api.CodeNoLeader})
	tb.run("challenge", chromedp.Click(css("#challenge")),
		until(`document.body.dataset.auditSeq !== undefined || document.getElementById('opened-post').className === 'error'`))
	if got := tb.text("#opened-post"); tb.has("#opened-post.error") {
		t.Fatalf("challenge behind two 503 answers: the booth says %q", got)
	}
	posts := rec.sentTo(http.MethodPost, "/api/v1/entries")
	if len(posts) != 3 {
		t.Fatalf("challenge: the proxy saw %d posts, want the 2 refused and the one the node answered", len(posts))
	}
	opening := samePosts(t, "challenge", posts)
	var auditSeq uint64
	tb.eval(`Number(document.body.dataset.auditSeq)`, &auditSeq)
	after := boardEntries(t, node)
	if len(after) != len(before)+1 || after[len(before)].Type != "audit" || after[len(before)].Seq != auditSeq || after[len(before)].Entry != opening {
		t.Fatalf("challenge: the board went from %d to %d entries, want the posted opening at %d", len(before), len(after), auditSeq)
	}

	// The cast: the ballot reaches the board, its answer is a 503; the
	// receipt is refused twice.
	tb.run("again", still("#again"), chromedp.Click(css("#again")), until(`document.body.dataset.step === 'step-choices'`))
	tracker := tb.choose()
	before = after
	rec.fail(
		fault{method: http.MethodPost, path: "/api/v1/entries", n: 1, status: http.StatusServiceUnavailable, code: api.CodeNoLeader, forward: true},
		fault{method: http.MethodGet, path: "/api/v1/receipts/", n: 2, status: http.StatusServiceUnavailable, code: api.CodeOverloaded})
	tb.run("cast", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.receipt === 'ok' || document.getElementById('err').textContent !== '' || document.getElementById('cast-receipt').className === 'error'`))
	if err, receipt := tb.text("#err"), tb.text("#cast-receipt"); err != "" || tb.has("#cast-receipt.error") {
		t.Fatalf("cast behind 503 answers: the booth says %q, receipt %q", err, receipt)
	}
	posts = rec.sentTo(http.MethodPost, "/api/v1/entries")[3:]
	if len(posts) != 2 {
		t.Fatalf("cast: the proxy saw %d posts, want the one answered 503 after the node took it and its retry", len(posts))
	}
	ballotEntry := samePosts(t, "cast", posts)
	var castSeq uint64
	tb.eval(`Number(document.body.dataset.castSeq)`, &castSeq)
	after = boardEntries(t, node)
	if len(after) != len(before)+1 || after[len(before)].Type != "ballot" || after[len(before)].Seq != castSeq || after[len(before)].Entry != ballotEntry {
		t.Fatalf("cast: the board went from %d to %d entries, want the posted ballot once, at %d", len(before), len(after), castSeq)
	}
	if got := len(rec.sentTo(http.MethodGet, "/api/v1/receipts/")); got < 3 {
		t.Errorf("the booth asked for the receipt %d times, want the 2 refused and once more", got)
	}
	if got := tb.text("#cast-tracker"); got != tracker {
		t.Errorf("the booth shows tracker %q after casting, %q under review", got, tracker)
	}
	tb.shot("01-cast-after-503")
}

// persistent503: a node without a leader for longer than the booth asks
// again: the booth says that the ballot was NOT cast and offers to send it
// again, which then succeeds.
func persistent503(t *testing.T, b *browser, node, cred string) {
	tb, rec, before := reviewing(t, b, node, cred)
	rec.fail(fault{method: http.MethodPost, path: "/api/v1/entries", n: 1000, status: http.StatusServiceUnavailable, code: api.CodeNoLeader})
	tb.run("cast", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' || document.getElementById('err').textContent !== ''`))
	posts := rec.sentTo(http.MethodPost, "/api/v1/entries")
	// The booth asks again (more than once), but not without end: 5 tries
	// in all (web/static/js/api.js request).
	if len(posts) < 2 || len(posts) > 5 {
		t.Errorf("a cast refused with 503 throughout: the booth posted %d times, want 2 to 5", len(posts))
	}
	var st struct {
		Step, Cast string
		Enabled    bool
	}
	tb.eval(`({step: document.body.dataset.step, cast: document.getElementById('cast').textContent, enabled: !document.getElementById('cast').disabled})`, &st)
	if st.Step != "step-review" || !st.Enabled || !strings.Contains(st.Cast, "Try again") {
		t.Fatalf("a cast refused with 503 throughout: %+v, want the review with the cast offered again", st)
	}
	contains(t, "a cast refused with 503 throughout", tb.text("#err"), "NOT cast", nodeMessages[api.CodeNoLeader])
	if after := boardEntries(t, node); len(after) != len(before) {
		t.Fatalf("a cast refused with 503 throughout: the board went from %d to %d entries", len(before), len(after))
	}
	tb.shot("02-cast-503-persists")

	rec.fail()
	tb.run("cast again", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	after := boardEntries(t, node)
	if len(after) != len(before)+1 || after[len(before)].Entry != samePosts(t, "cast again", rec.sentTo(http.MethodPost, "/api/v1/entries")) {
		t.Errorf("cast again: the board went from %d to %d entries, want the ballot the booth posted", len(before), len(after))
	}
}

// refused4xx: an answer that is no transient 503 is final, even with a
// Retry-After: the booth posts once and says why.
func refused4xx(t *testing.T, b *browser, node, cred string) {
	tb, rec, before := reviewing(t, b, node, cred)
	rec.fail(fault{method: http.MethodPost, path: "/api/v1/entries", n: 1000, status: http.StatusConflict, code: api.CodeAuditLimit})
	tb.run("challenge", chromedp.Click(css("#challenge")),
		until(`document.body.dataset.auditSeq !== undefined || document.getElementById('opened-post').className === 'error'`))
	if !tb.has("#opened-post.error") {
		t.Fatalf("a challenge answered 409: the booth says %q, want an error", tb.text("#opened-post"))
	}
	contains(t, "a challenge answered 409", tb.text("#opened-post"), "refused by the test's proxy")
	if got := len(rec.sentTo(http.MethodPost, "/api/v1/entries")); got != 1 {
		t.Errorf("a challenge answered 409 with Retry-After: the booth posted %d times, want once", got)
	}
	if after := boardEntries(t, node); len(after) != len(before) {
		t.Errorf("a challenge answered 409: the board went from %d to %d entries", len(before), len(after))
	}
}

// events503: the board page whose stream of blocks (GET events) the node
// refuses twice with 503 opens it again (web/static/js/api.js followBlocks;
// the browser's EventSource gives up on an HTTP error), and shows the
// challenge's opening posted afterwards without a reload.
func events503(t *testing.T, b *browser, node, cred string) {
	bt, rec := recordedTab(t, b, node)
	rec.fail(fault{method: http.MethodGet, path: "/api/v1/events", n: 2, status: http.StatusServiceUnavailable, code: api.CodeNoLeader})
	bt.open("board.html", "board")
	deadline := time.Now().Add(45 * time.Second)
	for len(rec.sentTo(http.MethodGet, "/api/v1/events")) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the board page asked for the stream of blocks %d times in 45 s, want the 2 refused and once more", len(rec.sentTo(http.MethodGet, "/api/v1/events")))
		}
		time.Sleep(50 * time.Millisecond)
	}

	tb, _, _ := reviewing(t, b, node, cred)
	tb.run("challenge", chromedp.Click(css("#challenge")), until(`document.body.dataset.auditSeq !== undefined`))
	var auditSeq uint64
	tb.eval(`Number(document.body.dataset.auditSeq)`, &auditSeq)
	bt.run("the new entry on the board page", until(fmt.Sprintf(`document.querySelector('#entries tr[data-seq="%d"]') !== null`, auditSeq)))
	if n := len(rec.sentTo(http.MethodGet, "/api/v1/events")); n != 3 {
		t.Errorf("the board page asked for the stream %d times, want 3 (2 refused, 1 open)", n)
	}
}
