package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/web"
)

// The link the booth is measured on (issue 10: interactive within 3 s on
// 10 Mbps, the module at most 2 MB on the wire): 10 Mbit/s each way, 40 ms
// from each request to its response's headers.
const (
	linkBytesPerSecond = 10e6 / 8
	linkLatencyMs      = 40
)

// heldElection is a demo election open for voting with the web client,
// held until the benchmark's process ends: the client's URL and the unused
// voter credentials the demo handed out.
type heldElection struct {
	url   string
	creds []string
}

// holdElection runs the demo election of cfg with this build's web client
// and returns once voting is open (the demo's Serve never returns).
func holdElection(cfg demo.Config) (heldElection, error) { return holdDemoAt(cfg, false) }

// holdDemoAt is holdElection, or, with result, returns once the result is
// published and holds the election then.
func holdDemoAt(cfg demo.Config, result bool) (heldElection, error) {
	held := make(chan heldElection, 1)
	errs := make(chan error, 1)
	cfg.Static = web.FS()
	served := 0
	cfg.Serve = func(ctx context.Context, url string, creds []string) error {
		if served++; result && served == 1 {
			return nil // voting open: go on to the result
		}
		held <- heldElection{url: url, creds: creds}
		<-ctx.Done()
		return ctx.Err()
	}
	go func() {
		_, err := demo.Run(context.Background(), cfg)
		errs <- fmt.Errorf("demo election ended: %v", err)
	}()
	select {
	case e := <-held:
		return e, nil
	case err := <-errs:
		return heldElection{}, err
	}
}

// boothDemo is the built-in demo election, for the benchmarks of this
// process.
var boothDemo = sync.OnceValues(func() (string, error) {
	e, err := holdElection(demo.Config{Ballots: 2})
	return e.url, err
})

// oneOfFiveDemo is an election of one question, choose 1 of 5
// (bench/manifest-1of5.json, issue 11's shape), for the benchmarks of
// this process.
var oneOfFiveDemo = sync.OnceValues(func() (heldElection, error) {
	m, err := os.ReadFile("../bench/manifest-1of5.json")
	if err != nil {
		return heldElection{}, err
	}
	e, err := holdElection(demo.Config{Ballots: 2, Manifest: m})
	if err == nil && len(e.creds) == 0 {
		err = fmt.Errorf("the demo gave no spare credential")
	}
	return e, err
})

// load is what one opening of the booth cost: until it was interactive
// (the election key verified, the credential field ready: the harness's
// urna.booth measure, from navigation start), and the bytes on the wire
// (headers and bodies, cache hits are 0) in all and for urna.wasm.
type load struct {
	InteractiveMs float64 `json:"ms"`
	Wire          float64 `json:"wire"`
	Wasm          float64 `json:"wasm"`
	// urna.wasm's request, first byte and last byte, from navigation start
	WasmStartMs, WasmFirstMs, WasmDoneMs float64
	KeyMs                                float64 `json:"key"` // fetching and verifying the election key (SPEC.md §10.6)
}

func (b *browser) measureBooth() load {
	b.t.Helper()
	b.open("booth.html", "booth")
	var l load
	b.eval(`(() => {
		const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
		const wasm = all.find((e) => /\/urna\.[0-9a-f]+\.wasm$/.test(e.name));
		return { ms: window.urnaTiming.sinceNavigationMs, key: window.urnaTiming.keyMs, wire: all.reduce((n, e) => n + e.transferSize, 0),
			wasm: wasm ? wasm.transferSize : 0, wasmStartMs: wasm?.startTime, wasmFirstMs: wasm?.responseStart, wasmDoneMs: wasm?.responseEnd };
	})()`, &l)
	return l
}

// BenchmarkBooth10Mbps opens the booth in a fresh Chromium profile (cold:
// nothing cached) and again (warm: the hashed files from the cache, the
// page and the API revalidated or fetched), on the simulated link. Each
// iteration is one fresh browser; the figures are means per iteration.
//
//	make wasm && go test ./web -run '^$' -bench Booth10Mbps -benchtime 3x
//
// (bench/booth.sh; results in bench/README.md, "The booth on a 10 Mbps
// link").
func BenchmarkBooth10Mbps(b *testing.B) {
	path := chromium(b)
	if !web.HasWasm() {
		b.Fatal("web/static/urna.wasm is missing: run `make wasm` first")
	}
	base, err := boothDemo()
	if err != nil {
		b.Fatal(err)
	}
	var cold, warm load
	for i := 0; i < b.N; i++ {
		br := newBrowser(b, path, b.TempDir())
		br.base = base
		br.run("emulate a 10 Mbps link", call(network.Enable, network.EnableParams{}),
			call(network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Latency: linkLatencyMs,
					DownloadThroughput: linkBytesPerSecond, UploadThroughput: linkBytesPerSecond}}}))
		c := br.measureBooth()
		br.run("leave the booth", chromedp.Navigate("about:blank"))
		w := br.measureBooth()
		b.Logf("iteration %d: cold %.0f ms, %.0f bytes (urna.wasm %.0f: asked at %.0f ms, first byte %.0f, last %.0f; key %.0f ms); warm %.0f ms (key %.0f ms), %.0f bytes",
			i, c.InteractiveMs, c.Wire, c.Wasm, c.WasmStartMs, c.WasmFirstMs, c.WasmDoneMs, c.KeyMs, w.InteractiveMs, w.KeyMs, w.Wire)
		br.run("leave the booth", chromedp.Navigate("about:blank")) // an idle browser until the benchmark ends
		if errs := br.pageErrors(); len(errs) > 0 {
			b.Fatalf("page errors: %v", errs)
		}
		cold.InteractiveMs, cold.Wire, cold.Wasm = cold.InteractiveMs+c.InteractiveMs, cold.Wire+c.Wire, cold.Wasm+c.Wasm
		warm.InteractiveMs, warm.Wire, warm.Wasm = warm.InteractiveMs+w.InteractiveMs, warm.Wire+w.Wire, warm.Wasm+w.Wasm
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(cold.InteractiveMs/n, "cold-ms")
	b.ReportMetric(cold.Wire/n, "cold-wire-B")
	b.ReportMetric(cold.Wasm/n, "wasm-wire-B")
	b.ReportMetric(warm.InteractiveMs/n, "warm-ms")
	b.ReportMetric(warm.Wire/n, "warm-wire-B")
}

// BenchmarkBoothKeyBytes counts what the booth downloads from the node's
// API until the election key is established (SPEC.md §10.6: the status,
// the entries up to the open entry, the checkpoint and the consistency
// proof), by path, twice: the response bodies the node sent, at a proxy
// in front of it that serves this build's web client and forwards /api/
// to the node (a stream the booth stopped reading counts what the proxy
// wrote before the connection closed, the loopback socket's buffers
// included), and the bytes Chromium received (Network.dataReceived's
// encodedDataLength, bodies only). Each iteration is one fresh browser.
//
//	URNA_BOOTH_NODE=http://127.0.0.1:PORT go test ./web -run '^$' -bench BoothKeyBytes -benchtime 3x
//
// with the node of a running `urna demo --serve`; without
// URNA_BOOTH_NODE, the small demo election of boothDemo.
func BenchmarkBoothKeyBytes(b *testing.B) {
	path := chromium(b)
	if !web.HasWasm() {
		b.Fatal("web/static/urna.wasm is missing: run `make wasm` first")
	}
	node := os.Getenv("URNA_BOOTH_NODE")
	if node == "" {
		var err error
		if node, err = boothDemo(); err != nil {
			b.Fatal(err)
		}
	}
	target, err := url.Parse(node)
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	sent := map[string]int64{} // body bytes the node sent, by path
	var inflight sync.WaitGroup
	proxy := httputil.NewSingleHostReverseProxy(target)
	site := web.FS().(http.Handler)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			site.ServeHTTP(w, r)
			return
		}
		inflight.Add(1)
		defer inflight.Done()
		proxy.ServeHTTP(&countingWriter{ResponseWriter: w, count: func(n int) {
			mu.Lock()
			sent[r.URL.Path] += int64(n)
			mu.Unlock()
		}}, r)
	}))
	defer front.Close()
	var sentAll, gotAll, keyMs float64
	for i := 0; i < b.N; i++ {
		mu.Lock()
		clear(sent)
		mu.Unlock()
		br := newBrowser(b, path, b.TempDir())
		br.base = front.URL
		var gmu sync.Mutex
		urls := map[network.RequestID]string{}
		got := map[string]int64{} // body bytes Chromium received, by path
		err := chromedp.Listen(br.ctx, func(ev any) {
			gmu.Lock()
			defer gmu.Unlock()
			switch e := ev.(type) {
			case *network.EventRequestWillBeSent:
				if u, err := url.Parse(e.Request.URL); err == nil && strings.HasPrefix(u.Path, "/api/") {
					urls[e.RequestID] = u.Path
				}
			case *network.EventDataReceived:
				if p, ok := urls[e.RequestID]; ok {
					got[p] += e.EncodedDataLength
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		br.run("watch the network", call(network.Enable, network.EnableParams{}))
		l := br.measureBooth()
		gmu.Lock()
		var fromNet int64
		for _, n := range got {
			fromNet += n
		}
		gmu.Unlock()
		// Requests still streaming when the key was established (a record
		// read no further) end as their connection closes.
		br.run("leave the booth", chromedp.Navigate("about:blank"))
		inflight.Wait()
		mu.Lock()
		var all int64
		paths := make([]string, 0, len(sent))
		for p, n := range sent {
			all += n
			paths = append(paths, fmt.Sprintf("%s %d", p, n))
		}
		mu.Unlock()
		slices.Sort(paths)
		b.Logf("iteration %d: node sent %d API bytes, Chromium received %d until the key (%.0f ms): %s", i, all, fromNet, l.KeyMs, strings.Join(paths, ", "))
		if errs := br.pageErrors(); len(errs) > 0 {
			b.Fatalf("page errors: %v", errs)
		}
		sentAll += float64(all)
		gotAll += float64(fromNet)
		keyMs += l.KeyMs
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(sentAll/n, "sent-B")
	b.ReportMetric(gotAll/n, "received-B")
	b.ReportMetric(keyMs/n, "key-ms")
}

// countingWriter reports the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	count func(int)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.count(n)
	return n, err
}

// Flush lets the proxy flush a stream as the node sends it.
func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// readingPause is how long the benchmark's voter reads the question before
// choosing: a voter takes seconds.
const readingPause = 2 * time.Second

// BenchmarkBoothFirstBallot is a voter's first ballot as the voter meets
// it (issue 11: a 1-of-5 ballot encrypted in ≤ 15 ms in Chromium). Each
// iteration starts a fresh Chromium (new profile: nothing compiled or
// cached), opens the booth of a 1-of-5 election held by a real node
// (internal/demo, 3 nodes), enters a credential, reads for readingPause,
// ticks an option and clicks Review. What counts is the time from that
// click (the click event's time stamp, when the input happened: a click
// that waits for a busy main thread waits in it) to the end of the
// encryption (the booth's urna.encrypt measure). Nothing is cast.
//
//	make wasm && go test ./web -run '^$' -bench BoothFirstBallot -benchtime 8x
//
// It logs each browser's figures: click→ballot, the encryption itself, the
// booth's warm-up if it has one (its steps, the longest, when it ended),
// and the click's time to the next paint (Event Timing API; reported from
// 16 ms only). It reports the medians of click→ballot and of the
// encryption as click-ms and encrypt-ms. bench/README.md, "Issue 11: the
// first ballot in a fresh Chromium", has the before/after runs.
func BenchmarkBoothFirstBallot(b *testing.B) {
	path := chromium(b)
	if !web.HasWasm() {
		b.Fatal("web/static/urna.wasm is missing: run `make wasm` first")
	}
	e, err := oneOfFiveDemo()
	if err != nil {
		b.Fatal(err)
	}
	var click, enc []float64
	for i := 0; i < b.N; i++ {
		br := newBrowser(b, path, b.TempDir())
		br.base = e.url
		br.open("booth.html", "booth")
		br.run("enter the credential",
			chromedp.SendKeys(css("#cred"), e.creds[0]),
			chromedp.SendKeys(css("#cred"), kb.Enter),
			until(`document.body.dataset.step === 'step-choices'`))
		time.Sleep(readingPause)
		br.run("choose and review",
			chromedp.Click(css("#q0o2")),
			chromedp.Click(css(`#choices-form button[type=submit]`)),
			until(`document.body.dataset.step === 'step-review' && document.getElementById('review-tracker').textContent !== ''`))
		var tm struct {
			ClickToBallotMs, ClickedAtMs, EncryptMs, EncryptStartMs float64
			ClickToPaintMs                                          *float64
			WarmupMs, WarmupLongestMs, WarmupEndMs                  *float64
			WarmupSteps                                             int
		}
		// The Event Timing API reports the click after the next paint.
		time.Sleep(300 * time.Millisecond)
		br.eval(`window.urnaTiming`, &tm)
		if tm.ClickToBallotMs <= 0 || tm.EncryptMs <= 0 || tm.ClickToBallotMs < tm.EncryptMs {
			b.Fatalf("iteration %d: click→ballot %.1f ms, encryption %.1f ms: the page's timing is missing or inconsistent", i, tm.ClickToBallotMs, tm.EncryptMs)
		}
		warm := "no warm-up"
		if tm.WarmupMs != nil {
			warm = fmt.Sprintf("warm-up %.1f ms in %d steps, the longest %.1f ms, ended %.0f ms before the click", *tm.WarmupMs, tm.WarmupSteps, *tm.WarmupLongestMs, tm.ClickedAtMs-*tm.WarmupEndMs)
		}
		paint := "under 16"
		if tm.ClickToPaintMs != nil {
			paint = fmt.Sprintf("%.0f", *tm.ClickToPaintMs)
		}
		b.Logf("iteration %d: click→ballot %.1f ms (%.1f ms from the click to the encryption, which took %.1f ms; %s); click→next paint %s ms",
			i, tm.ClickToBallotMs, tm.EncryptStartMs-tm.ClickedAtMs, tm.EncryptMs, warm, paint)
		if errs := br.pageErrors(); len(errs) > 0 {
			b.Fatalf("page errors: %v", errs)
		}
		br.close()
		click, enc = append(click, tm.ClickToBallotMs), append(enc, tm.EncryptMs)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(click), "click-ms")
	b.ReportMetric(median(enc), "encrypt-ms")
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// BenchmarkResultsVerify measures the results page's verification of the
// whole record in a fresh Chromium (the page's urna.verify measure: the
// record's download and the verifier in its worker) on a demo election of
// URNA_RESULTS_BALLOTS ballots (default 1,000) after its result, and
// reports the record's size and the rate, the figure behind the page's
// VERIFY_RATE (results.js). Each iteration is one fresh browser.
//
//	make wasm && go test ./web -run '^$' -bench ResultsVerify -benchtime 2x
func BenchmarkResultsVerify(b *testing.B) {
	path := chromium(b)
	if !web.HasWasm() {
		b.Fatal("web/static/urna.wasm is missing: run `make wasm` first")
	}
	ballots := 1000
	if v := os.Getenv("URNA_RESULTS_BALLOTS"); v != "" {
		if _, err := fmt.Sscan(v, &ballots); err != nil {
			b.Fatalf("URNA_RESULTS_BALLOTS=%q: %v", v, err)
		}
	}
	e, err := holdDemoAt(demo.Config{Ballots: ballots}, true)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.Get(e.url + "/api/v1/record")
	if err != nil {
		b.Fatal(err)
	}
	size, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("the record: %d, %v", resp.StatusCode, err)
	}
	var ms []float64
	for i := 0; i < b.N; i++ {
		br := newBrowser(b, path, b.TempDir())
		br.base = e.url
		br.open("results.html", "results")
		ctx, cancel := context.WithTimeout(br.ctx, 30*time.Minute)
		err := chromedp.Do(ctx, untilWithin(`['ok', 'fail', 'error'].includes(document.body.dataset.verify)`, 30*time.Minute))
		cancel()
		if err != nil {
			br.fail("verification", err)
		}
		var got struct {
			Verify   string
			VerifyMs string
		}
		br.eval(`({ verify: document.body.dataset.verify, verifyMs: document.body.dataset.verifyMs })`, &got)
		var d float64
		if _, err := fmt.Sscan(got.VerifyMs, &d); got.Verify != "ok" || err != nil || d <= 0 {
			b.Fatalf("iteration %d: verification %q in %q ms", i, got.Verify, got.VerifyMs)
		}
		b.Logf("iteration %d: %d ballots, record %d bytes verified in %.0f ms: %.2f MB/s", i, ballots, size, d, float64(size)/1e3/d)
		br.close()
		ms = append(ms, d)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(size), "record-B")
	b.ReportMetric(median(ms), "verify-ms")
	b.ReportMetric(float64(size)/1e3/median(ms), "MB/s")
}
