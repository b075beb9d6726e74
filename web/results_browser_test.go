package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/api"
)

// largeBallots is how many ballots the status claims in resultsLargeRecord:
// a million, the size of election whose record (about 2 GB) a browser
// must not download unasked.
const largeBallots = 1_000_000

// resultsLargeRecord: the results page of an election whose record the
// status says is large does not download it. Behind a proxy that rewrites
// the node's status so that it counts a million more ballots (entries and
// blocks to match), the page shows the record's estimated size (docs/API.md,
// "The results page") and the time verifying may take, offers a button
// with the size, and has not requested the record; the button verifies the
// node's real (small) record in this browser and the page reports it
// verified.
func resultsLargeRecord(t *testing.T, b *browser, node string) {
	var st api.Election
	getJSON(t, node+"/api/v1/election", &st)
	m, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	// The estimate docs/API.md describes: every entry a ballot entry in its
	// frame, every block header in its frame, 32 bytes a credential.
	estimate := func(c api.Counts) float64 {
		return float64(c.Entries)*float64(5+135+m.BallotSize()) + float64(c.Blocks)*105 + float64(c.Credentials)*32
	}
	tb, rec := recordedTab(t, b, node)
	// On the demo's real record (mostly ballots, as a large one is) the
	// estimate is within a factor 2 of the size.
	if real, est := float64(len(rec.nodeRecord())), estimate(st.Counts); est < real/2 || est > 2*real {
		t.Fatalf("the record is %.0f bytes, estimated at %.0f", real, est)
	}
	big := st.Counts
	big.Entries += largeBallots
	big.Ballots += largeBallots
	big.VotersVoted += largeBallots
	big.Blocks += largeBallots / 1000
	est := estimate(big)
	mb := int(math.Round(est / 1e6))
	if mb <= 50 {
		t.Fatalf("a million ballots of %d bytes estimated at %d MB: the test wants a large record", m.BallotSize(), mb)
	}

	rec.mu.Lock()
	rec.answer = func(w http.ResponseWriter, req *http.Request, forward http.Handler) bool {
		if req.Method != http.MethodGet || req.URL.Path != "/api/v1/election" {
			return false
		}
		got := httptest.NewRecorder()
		forward.ServeHTTP(got, req)
		var s api.Election
		if got.Code != http.StatusOK || json.Unmarshal(got.Body.Bytes(), &s) != nil {
			t.Errorf("proxy: the node's status: %d %s", got.Code, got.Body)
			return false
		}
		s.Counts = big
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
		return true
	}
	rec.mu.Unlock()

	tb.open("results.html", "results")
	tb.run("offered", until(`document.body.dataset.verify === 'offered' && document.getElementById('verify-start') !== null`))
	if got := rec.sentTo(http.MethodGet, "/api/v1/record"); len(got) != 0 {
		t.Fatalf("the page requested the record of a large election %d times before being asked", len(got))
	}
	wantButton := fmt.Sprintf("Verify in this browser (downloads about %s MB)", grouped(mb))
	if got := tb.text("#verify-start"); got != wantButton {
		t.Fatalf("button %q, want %q", got, wantButton)
	}
	minutes := max(1, int(math.Round(est/1e6/60)))
	contains(t, "large record", tb.text("#verify-status"), fmt.Sprintf("about %s MB", grouped(mb)), fmt.Sprintf("about %s min", grouped(minutes)), "command line", "not checked by this browser")
	contains(t, "command", tb.text("#cli"), "urna verify ")
	// Counts are written with the language's separators (the node's count
	// until this browser has verified the record).
	contains(t, "counted", tb.text("#counted"), "Ballots counted: "+grouped(int(big.VotersVoted)))
	var isButton bool
	tb.eval(`document.getElementById('verify-start').tagName === 'BUTTON'`, &isButton)
	if !isButton {
		t.Fatal("#verify-start is not a <button>")
	}
	tb.audit("results.html, large record", "en")
	tb.shot("results-large")

	tb.run("verify on demand", chromedp.Click(css("#verify-start")), until(`document.body.dataset.verify === 'ok'`))
	if got := rec.sentTo(http.MethodGet, "/api/v1/record"); len(got) != 1 {
		t.Fatalf("after the click the page requested the record %d times, want once", len(got))
	}
	contains(t, "verified", tb.text("#verify-status"), "checks passed")
	var gone bool
	tb.eval(`document.getElementById('verify-start') === null`, &gone)
	if !gone {
		t.Error("the button is still shown after verifying")
	}

	// In Chinese, the same offer, and still no download unasked.
	tb.run("results zh", js(`localStorage.setItem('urna.lang', 'zh')`))
	tb.inChinese("results.html", "results", `document.body.dataset.verify === 'offered'`, "results-large-zh",
		fmt.Sprintf("在本浏览器中验证（下载约 %s MB）", grouped(mb)), fmt.Sprintf("约 %s 分钟", grouped(minutes)))
	if got := rec.sentTo(http.MethodGet, "/api/v1/record"); len(got) != 1 {
		t.Fatalf("the page in Chinese requested the record unasked (%d requests in all)", len(got))
	}
}

// resultsRecordLargerThanSaid: the results page against a node whose record
// is far larger than its counts (an attack on the visitors' devices): behind a proxy that serves the node's real
// record followed by 12 MB more, the page (which estimates the small demo's
// record at well under 10 MB) stops downloading after 10 MB, hands nothing
// to the verifier, says why and that the results are the node's, and
// offers to verify anyway; the offer then verifies the real record.
func resultsRecordLargerThanSaid(t *testing.T, b *browser, node string) {
	tb, rec := recordedTab(t, b, node)
	real := rec.nodeRecord()
	if len(real) > 5e6 {
		t.Fatalf("the demo's record is %d bytes: the test wants one far under the page's 10 MB floor", len(real))
	}
	rec.mu.Lock()
	rec.answer = func(w http.ResponseWriter, req *http.Request, _ http.Handler) bool {
		if req.Method != http.MethodGet || req.URL.Path != "/api/v1/record" {
			return false
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := w.Write(real); err != nil {
			return true
		}
		chunk := make([]byte, 1<<20)
		for range 12 {
			if _, err := w.Write(chunk); err != nil {
				break // the page stopped reading
			}
		}
		return true
	}
	rec.mu.Unlock()

	tb.open("results.html", "results")
	tb.run("offered", until(`document.body.dataset.verify === 'offered' && document.getElementById('verify-start') !== null`))
	contains(t, "record larger than said", tb.text("#verify-status"), "more than 10 MB", "stopped downloading", "not checked by this browser")
	if got := tb.text("#verify-start"); got != "Verify in this browser anyway" {
		t.Fatalf("button %q", got)
	}
	var verified bool
	tb.eval(`document.body.dataset.verify === 'ok' || document.body.dataset.verify === 'fail'`, &verified)
	if verified {
		t.Fatal("the page verified a record it should have stopped downloading")
	}
	tb.audit("results.html, record larger than its counts", "en")
	tb.shot("results-larger")

	// The node now serves its real record: the visitor's click verifies it.
	rec.mu.Lock()
	rec.answer = nil
	rec.mu.Unlock()
	tb.run("verify anyway", chromedp.Click(css("#verify-start")), until(`document.body.dataset.verify === 'ok'`))
	contains(t, "verified", tb.text("#verify-status"), "checks passed")
	if got := rec.sentTo(http.MethodGet, "/api/v1/record"); len(got) != 2 {
		t.Errorf("the page requested the record %d times, want twice (stopped, then asked)", len(got))
	}
}

// grouped writes n with a comma between groups of three digits, as the
// pages write counts in English and Chinese (1,000,090).
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
