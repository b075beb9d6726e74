package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/web"
)

// The browser tests hold the demo election (internal/demo: a 3-node
// cluster in this process, every party through the API) with the web
// client mounted, and drive real headless Chromium through it while voting
// is open (demo.Config.Serve's first call) and after the result (its
// second call).

// chromium returns the browser to drive. Without one the test fails under
// CI and skips, saying why, when run by hand.
func chromium(t testing.TB) string {
	t.Helper()
	p := os.Getenv("URNA_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium not found at %s (set URNA_CHROMIUM; .ci/chromium.sh installs it): %v", p, err)
		}
		t.Skipf("Chromium not found at %s (set URNA_CHROMIUM to run the browser tests): %v", p, err)
	}
	return p
}

// requireBrowser returns the browser for a test that drives the web
// client: it skips in -short mode and fails when the embedded client has
// no wasm module.
func requireBrowser(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: not in -short mode")
	}
	path := chromium(t)
	if !web.HasWasm() {
		t.Fatal("web/static/urna.wasm is missing from the embedded web client: run `make wasm` before `go test ./web`")
	}
	return path
}

// artifacts returns the directory for screenshots and measurements.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("URNA_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("browser test artifacts (screenshots, measurements): %s", dir)
	return dir
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is one Chromium with helpers that fail the test with context.
type browser struct {
	t      testing.TB
	ctx    context.Context
	base   string
	dir    string
	mu     sync.Mutex
	errors []string // uncaught page exceptions and console errors
	cancel func()   // closes a tab opened by newTab
}

func newBrowser(t testing.TB, path, dir string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// close stops this Chromium before the test ends (a benchmark that
	// starts one per iteration).
	b := &browser{t: t, ctx: ctx, dir: dir, cancel: func() { cancelB(); cancelA() }}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium %s: %v", path, err)
	}
	b.listen(ctx)
	b.harness()
	return b
}

var harnessOnce = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/harness.js")
	return string(b), err
})

// harness has the tab run testdata/harness.js in every document it opens,
// before the page's scripts: it shows the tests the page's state (ready,
// the booth's step, the check's verdict, ...) as data attributes of <body>,
// and its timings as window.urnaTiming.
func (b *browser) harness() {
	b.t.Helper()
	src, err := harnessOnce()
	if err != nil {
		b.t.Fatal(err)
	}
	b.run("inject the test harness", call(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}))
}

// listen records uncaught exceptions and console errors of a tab.
func (b *browser) listen(ctx context.Context) {
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		default:
			return
		}
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	})
	if err != nil {
		b.t.Fatalf("listening to page events: %v", err)
	}
}

// tab opens a second tab in the same browser.
func (b *browser) tab() *browser { return b.newTab() }

// newTab opens a tab with the test harness, created with opts.
func (b *browser) newTab(opts ...chromedp.ContextOption) *browser {
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	b.t.Cleanup(cancel)
	nb := &browser{t: b.t, ctx: ctx, base: b.base, dir: b.dir, cancel: cancel}
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a tab: %v", err)
	}
	nb.listen(ctx)
	nb.harness()
	return nb
}

// close closes a tab opened by newTab, so that the tab that opened it is
// in front again: Chromium throttles the timers of a tab in the background
// (the booth's wait for a covering checkpoint then stalls the test). On a
// browser of newBrowser it stops that Chromium.
func (b *browser) close() { b.cancel() }

type step = chromedp.Action[chromedp.Void]

func (b *browser) run(what string, steps ...step) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	b.shot("failure-" + strings.ReplaceAll(what, " ", "-"))
	body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	b.t.Fatalf("%s: %v\npage text:\n%s\npage errors: %v", what, err, body, b.pageErrors())
}

// value runs an action that returns a value.
func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return value(b, "eval "+expr, chromedp.Evaluate[T](expr))
}

// eval evaluates expr in the page and decodes its JSON value into v.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	s := eval[string](b, "JSON.stringify(("+expr+") ?? null)")
	if err := json.Unmarshal([]byte(s), v); err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
}

// js runs a statement in the page.
func js(stmt string) step {
	ev := chromedp.Evaluate[bool]("(" + stmt + ", true)")
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := ev(ctx, t)
		return err
	})
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// call sends one protocol command.
func call[P, R any](cmd cdp.Command[P, R], params P) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

func (b *browser) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// until waits for a JavaScript condition, for up to 45 s. A poll that
// loses its page's JavaScript context (a navigation whose new context the
// browser had not announced yet: seen on a loaded machine right after
// opening a page) polls again in the new one, within the same 45 s.
func until(expr string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(45 * time.Second)
		for {
			poll := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond))
			_, err := poll(ctx, t)
			if err == nil || !contextLost(err) || time.Now().After(deadline) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// contextLost reports the protocol errors of an evaluation whose page
// context went away under it (code -32000).
func contextLost(err error) bool {
	msg := err.Error()
	for _, m := range []string{"Cannot find context with specified id", "Execution context was destroyed", "Inspected target navigated or closed"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// still waits until sel's box stands still (the same in two polls 50 ms
// apart), so that a click aimed at it lands on it: a click aimed at a box
// that a late layout change then moves lands beside it, and the step
// waits for an answer that never comes.
func still(sel string) step {
	v := fmt.Sprintf("urnaTestBox%d", stillCalls.Add(1)) // a fresh variable: no earlier wait's box
	return until(fmt.Sprintf(`(() => { const b = document.querySelector(%q)?.getBoundingClientRect(); if (!b) return false; const k = [b.x, b.y, b.width, b.height].join(); const same = window[%q] === k; window[%q] = k; return same; })()`, sel, v, v))
}

var stillCalls atomic.Int64

func (b *browser) open(page, ready string) {
	b.t.Helper()
	b.run("open "+page, chromedp.Navigate(b.base+"/"+page), until(fmt.Sprintf(`document.body.dataset.ready === %q`, ready)))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(value(b, "read "+sel, chromedp.Text(css(sel))))
}

func (b *browser) shot(name string) {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", p)
}

func contains(t testing.TB, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: %q does not contain %q", what, got, w)
		}
	}
}

// typo changes one symbol of a credential so that its checksum fails.
func typo(cred string) string {
	b := []byte(cred)
	for i := len(b) / 2; i < len(b); i++ {
		if b[i] != '-' {
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			break
		}
	}
	return string(b)
}

// vote goes through the booth with keyboard and clicks: credential, the
// options to tick (element ids), review. It returns the tracker shown.
func (b *browser) enterBooth(cred string) {
	b.t.Helper()
	b.open("booth.html", "booth")
	b.run("enter credential",
		chromedp.SendKeys(css("#cred"), cred),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.body.dataset.step === 'step-choices'`))
	var focused string
	b.eval(`document.activeElement.id`, &focused)
	if focused != "h-choices" {
		b.t.Fatalf("after the credential, focus is on %q, want the choices heading", focused)
	}
}

func (b *browser) choose(ids ...string) string {
	b.t.Helper()
	for _, id := range ids {
		b.run("choose "+id, chromedp.Click(css("#"+id)))
	}
	b.run("review",
		chromedp.Click(css(`#choices-form button[type=submit]`)),
		until(`document.body.dataset.step === 'step-review' && document.getElementById('review-tracker').textContent !== ''`))
	return b.text("#review-tracker")
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

type timing struct {
	InteractiveMs      float64 `json:"interactiveMs"`
	SinceNavigationMs  float64 `json:"sinceNavigationMs"`
	EncryptMs          float64 `json:"encryptMs"`
	KeyMs              float64 `json:"keyMs"` // fetching and verifying the entries up to open (SPEC.md §10.6)
	WasmBytes          int     `json:"wasmBytes"`
	ColdSinceNavMs     float64 `json:"coldSinceNavigationMs"`
	EncryptSamplesMs   []float64
	VerifyRecordMs     float64
	ResultsVerifyState string
}

func TestBrowserElection(t *testing.T) {
	path := requireBrowser(t)
	dir := artifacts(t)
	b := newBrowser(t, path, dir)
	var meas timing
	// hand[q][o]: the ballots this test casts and that must count.
	hand := [][]uint64{make([]uint64, 4), make([]uint64, 5)}
	holdDemo(t, b, demo.Config{Ballots: 4}, 3, hand,
		func(_ context.Context, creds []string) { votingPhase(t, b, creds, hand, &meas) },
		func() { resultsPhase(t, b, &meas) })
	j, _ := json.MarshalIndent(meas, "", "  ")
	_ = os.WriteFile(filepath.Join(dir, "measurements.json"), j, 0o644)
	t.Logf("measurements: %s", j)
}

// holdDemo holds the demo election of cfg with the web client mounted: it
// calls voting with at least minCreds spare credentials while voting is
// open, and results after the result; then it checks that the published
// result is the simulated count plus hand (what the browser cast, by
// weight) and that no page raised an error.
func holdDemo(t *testing.T, b *browser, cfg demo.Config, minCreds int, hand [][]uint64, voting func(ctx context.Context, creds []string), results func()) {
	t.Helper()
	served := 0
	cfg.Static, cfg.Progress = web.FS(), logWriter{t}
	cfg.Serve = func(ctx context.Context, url string, creds []string) error {
		served++
		b.base = url
		if served == 1 {
			if len(creds) < minCreds {
				return fmt.Errorf("demo gave %d spare credentials, want %d", len(creds), minCreds)
			}
			voting(ctx, creds)
		} else {
			results()
		}
		return nil
	}
	out := runDemo(t, "demo election", cfg)
	if served != 2 {
		t.Fatalf("Serve called %d times, want 2", served)
	}
	for q := range out.Counts {
		for o := range out.Counts[q] {
			if want := out.Expected[q][o] + hand[q][o]; out.Counts[q][o] != want {
				t.Errorf("result question %d option %d: %d, want %d simulated + %d from the browser", q, o, out.Counts[q][o], out.Expected[q][o], hand[q][o])
			}
		}
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// runDemo runs the demo election of cfg (its Serve drives the browser),
// giving it 8 minutes, and fails the test, saying what, if it fails.
func runDemo(t *testing.T, what string, cfg demo.Config) *demo.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	out, err := demo.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return out
}

func votingPhase(t *testing.T, b *browser, creds []string, hand [][]uint64, meas *timing) {
	// Cold start: the first booth in a fresh profile, wasm not cached.
	b.open("index.html", "home")
	contains(t, "home", b.text("main"), "Urna demo election", "Voting open")
	b.audit("index.html", "en")
	b.shot("01-home-en")

	b.open("booth.html", "booth")
	var tm timing
	b.eval(`window.urnaTiming`, &tm)
	meas.ColdSinceNavMs, meas.KeyMs = tm.SinceNavigationMs, tm.KeyMs
	b.eval(`performance.getEntriesByType('resource').find((e) => /\/urna\.[0-9a-f]+\.wasm$/.test(e.name))?.encodedBodySize || 0`, &meas.WasmBytes)
	if meas.WasmBytes == 0 || meas.WasmBytes > 2<<20 {
		t.Errorf("the booth fetched urna.<hash>.wasm in %d bytes on the wire, want 1 to 2 MiB (precompressed)", meas.WasmBytes)
	}
	b.audit("booth.html credential step", "en")
	b.shot("02-booth-credential")
	// The booth established the key on the board and shows the fingerprint.
	var st struct {
		Fingerprint string
		JointKey    string `json:"joint_key"`
	}
	getJSON(t, b.base+"/api/v1/election", &st)
	var shownFP string
	b.eval(`document.body.dataset.key === 'ok' && document.body.dataset.fingerprint`, &shownFP)
	if shownFP != st.Fingerprint {
		t.Fatalf("booth fingerprint %q, the election's is %q", shownFP, st.Fingerprint)
	}
	contains(t, "booth key", b.text("#step-cred"), st.Fingerprint[:8]+" "+st.Fingerprint[8:16],
		"Compare it with the fingerprint your election authority published", "key ceremony", "of 3 nodes")

	// A node that reports another joint key: the booth refuses to encrypt.
	wrongKeyNode(t, b)

	// A typo in the credential: the checksum catches it in the browser.
	b.run("typo credential",
		chromedp.SendKeys(css("#cred"), typo(creds[0])),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.getElementById('cred-err').textContent !== ''`))
	contains(t, "typo message", b.text("#cred-err"), "typo")
	var invalid string
	b.eval(`document.getElementById('cred').getAttribute('aria-invalid')`, &invalid)
	if invalid != "true" {
		t.Errorf("the credential field is not marked aria-invalid after a typo")
	}
	b.audit("booth.html credential typo", "en")
	b.shot("03-booth-typo")

	// A well-formed credential that the credential authority never issued.
	other, err := ballot.GenerateCredential(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b.run("unregistered credential",
		js(`document.getElementById("cred").value = ""`),
		chromedp.SendKeys(css("#cred"), other.Text()),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.getElementById('cred-err').textContent.includes('not registered')`))

	credentialFromFragment(t, b, creds[1])

	// No results yet: said as a fact, not as an error.
	b.open("results.html", "results")
	var none struct {
		Err, None string
		Class     string
	}
	b.eval(`({err: document.getElementById('err').textContent, none: document.getElementById('none').hidden ? '' : document.getElementById('none').textContent,
		class: document.getElementById('none').className})`, &none)
	if none.Err != "" || !strings.Contains(none.None, "No results yet") || none.Class != "notice" {
		t.Errorf("results page before the result: %+v, want a notice and no error", none)
	}
	b.audit("results.html before the result", "en")

	// Voter 0: the credential typed with look-alikes; choose, challenge,
	// see the ballot opened, come back, cast.
	credentialForms(t, b, creds[0])
	b.audit("booth.html choices step", "en")
	b.shot("04-booth-choices")
	b.eval(`window.urnaTiming.sinceNavigationMs`, &meas.SinceNavigationMs)
	b.eval(`window.urnaTiming.interactiveMs`, &meas.InteractiveMs)
	tr := b.choose("q0o2", "q1o0", "q1o3") // Blue; Parks, Public transport
	if len(tr) != 9 || tr[4] != '-' {
		t.Fatalf("tracker %q is not XXXX-XXXX", tr)
	}
	b.eval(`window.urnaTiming.encryptMs`, &meas.EncryptMs)
	meas.EncryptSamplesMs = append(meas.EncryptSamplesMs, meas.EncryptMs)
	reloadKeepsProgress(t, b, creds[0], "step-review", "q0o2", "q1o0", "q1o3")
	tr = b.text("#review-tracker") // encrypted anew after the reload
	contains(t, "review", b.text("#review-list"), "Blue", "Parks", "Public transport")
	b.stepIs("review", "step-review")
	b.audit("booth.html review step", "en")
	b.shot("05-booth-review")
	b.run("challenge",
		chromedp.Click(css("#challenge")),
		until(`document.body.dataset.step === 'step-challenged' && document.body.dataset.auditSeq !== undefined`))
	contains(t, "opened ballot", b.text("#step-challenged"), "Blue", "Parks", "Public transport", "checks out", "audited")
	b.stepIs("challenged", "step-challenged")
	b.audit("booth.html challenged step", "en")
	b.shot("06-booth-challenged")
	var auditedTracker = tr

	// Back to the choices (still ticked), change the first question, cast.
	b.run("again", still("#again"), chromedp.Click(css("#again")), until(`document.body.dataset.step === 'step-choices'`))
	reloadKeepsProgress(t, b, creds[0], "step-choices", "q0o2", "q1o0", "q1o3")
	tr1 := b.choose("q0o3") // Gold
	if tr1 == auditedTracker {
		t.Fatalf("a new encryption reused the challenged ballot's tracker %s", tr1)
	}
	// The browser's Back button goes back one step, the choices kept.
	b.run("Back", js(`history.back()`), until(`document.body.dataset.step === 'step-choices'`))
	b.stepIs("Back from the review", "step-choices")
	var kept []string
	b.eval(`[...document.querySelectorAll('#questions input:checked')].map(i => i.id)`, &kept)
	if strings.Join(kept, " ") != "q0o3 q1o0 q1o3" {
		t.Errorf("after Back the choices are %v, want q0o3 q1o0 q1o3", kept)
	}
	tr1 = b.choose()
	for i := 0; i < 3; i++ { // a few more samples of the encryption time
		b.run("change", chromedp.Click(css("#change")), until(`document.body.dataset.step === 'step-choices'`))
		tr1 = b.choose()
		var ms float64
		b.eval(`window.urnaTiming.encryptMs`, &ms)
		meas.EncryptSamplesMs = append(meas.EncryptSamplesMs, ms)
	}
	failedCast(t, b)
	b.run("cast",
		still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	contains(t, "cast", b.text("#step-cast"), tr1, "replaces this one", "Receipt verified")
	backAndReload(t, b, tr1)
	var seq1 int
	b.eval(`Number(document.body.dataset.castSeq)`, &seq1)
	b.audit("booth.html cast step", "en")
	b.shot("07-booth-cast")

	// Check my ballot, by tracker: on the board and counts.
	// Typed with look-alikes, spaces and en dashes.
	b.open("check.html?tracker="+url.QueryEscape(lookalike(tr1)), "check")
	b.run("check tracker", until(`document.body.dataset.verdict !== undefined`))
	out := b.text("#out")
	contains(t, "check by tracker", out, "On the board", "Counts", "Inclusion proof verified")
	b.audit("check.html by tracker", "en")
	b.shot("08-check-counts")

	// The challenged ballot is on the board as audited and never counts.
	b.open("check.html?tracker="+auditedTracker, "check")
	b.run("check audited", until(`document.body.dataset.verdict !== undefined`))
	contains(t, "check audited", b.text("#out"), "Audited", "Blue", "Parks", "Public transport", "Opening checked")
	b.audit("check.html audited ballot", "en")
	auditFromSecondDevice(t, b, auditedTracker, "Blue", "Parks", "Public transport")

	// Voter 0 votes again: told so, and the first ballot is replaced.
	b.enterBooth(creds[0])
	revoteNotice(t, b, tr1)
	tr2 := b.choose("q0o0", "q1o1", "q1o4") // Red; Libraries, Schools
	contains(t, "revote notice at review", b.text("#review-revote"), tr1, "replaces")
	b.run("cast again", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	contains(t, "revote cast", b.text("#cast-replaced"), tr1, "no longer counts")
	hand[0][0]++
	hand[1][1]++
	hand[1][4]++
	b.open("check.html?tracker="+tr1, "check")
	b.run("check replaced", until(`document.body.dataset.verdict !== undefined`))
	contains(t, "check replaced", b.text("#out"), "Replaced", "does not count", "Consistency proof verified")
	b.shot("09-check-replaced")

	// Check by receipt (pasted), the second ballot: counts.
	var rc struct{ Receipt string }
	var tinfo struct {
		Seq     int
		Tracker string
	}
	getJSON(t, fmt.Sprintf("%s/api/v1/trackers/%s", b.base, tr2), &tinfo)
	getJSON(t, fmt.Sprintf("%s/api/v1/receipts/%d", b.base, tinfo.Seq), &rc)
	b.open("check.html", "check")
	b.run("check receipt",
		chromedp.SetValue(css("#q"), rc.Receipt),
		chromedp.Click(css(`#check-form button[type=submit]`)),
		until(`document.body.dataset.verdict !== undefined`))
	contains(t, "check receipt", b.text("#out"), "Receipt: signed entry", "Counts")
	b.audit("check.html by receipt", "en")
	b.shot("10-check-receipt")
	// The receipt file urna vote saves (JSON), pasted whole.
	// Written as roles.SaveReceipt writes it: indented, every field.
	jsonReceipt := keyfile.Marshal(&roles.ReceiptFile{Kind: "urna-receipt", ElectionID: "demo", Tracker: tr2,
		TrackerHex: tinfo.Tracker, Seq: uint64(tinfo.Seq), Receipt: rc.Receipt})
	b.open("check.html", "check")
	b.run("check JSON receipt",
		chromedp.SetValue(css("#q"), string(jsonReceipt)),
		chromedp.Click(css(`#check-form button[type=submit]`)),
		until(`document.body.dataset.verdict !== undefined`))
	contains(t, "check JSON receipt", b.text("#out"), "Receipt: signed entry", "Counts")
	// A character no tracker has is named.
	b.run("check a tracker with U",
		chromedp.SetValue(css("#q"), tr2[:8]+"U"),
		chromedp.Click(css(`#check-form button[type=submit]`)),
		until(`document.body.dataset.verdict === 'bad'`))
	contains(t, "tracker with U", b.text("#out"), "Character 9, “U”")
	b.audit("check.html bad tracker", "en")
	_ = seq1

	// The board explorer, with a live update: another voter casts in a
	// second tab while the explorer is open.
	b.open("board.html", "board")
	b.run("checkpoint", until(`document.body.dataset.checkpoint === 'ok'`))
	contains(t, "board", b.text("main"), "Voting opened", "Merkle root", "n1", "n2", "n3", "valid signature")
	var before string
	b.eval(`document.body.dataset.lastBlock ?? ''`, &before)
	other2 := b.tab()
	other2.enterBooth(creds[1])
	other2.choose("q0o1", "q1o2", "q1o3") // Green; Cycle lanes, Public transport
	other2.run("cast in tab", still("#cast"), chromedp.Click(css("#cast")), until(`document.body.dataset.step === 'step-cast'`))
	hand[0][1]++
	hand[1][2]++
	hand[1][3]++
	b.run("live block", until(`document.body.dataset.lastBlock !== undefined`))
	b.run("search",
		chromedp.SendKeys(css("#search"), tr2),
		chromedp.SendKeys(css("#search"), kb.Enter),
		until(`document.getElementById('search-out').textContent !== ''`))
	contains(t, "search", b.text("#search-out"), tr2, "Counts")
	b.audit("board.html", "en")
	b.shot("11-board-en")

	// A voter with nothing but a keyboard, in a tab of its own.
	keyboardVote(t, b.tab(), creds[2]) // Gold; Parks, Public transport
	hand[0][3]++
	hand[1][0]++
	hand[1][3]++

	// Chinese: switch with the selector, then the browser's language alone.
	b.open("booth.html", "booth")
	b.run("switch to zh", chromedp.SetValue(css("#lang"), "zh"),
		js(`document.getElementById('lang').dispatchEvent(new Event('change'))`),
		until(`document.documentElement.lang === 'zh-Hans'`))
	contains(t, "booth in Chinese", b.text("main"), "投票站", "投票凭证")
	b.audit("booth.html credential step", "zh")
	b.shot("12-booth-zh")
	// Voter 0 again, in Chinese, with the same choices as the ballot that
	// counts (so the expected result does not change): every booth step.
	b.enterBooth(creds[0])
	b.audit("booth.html choices step", "zh")
	b.choose("q0o0", "q1o1", "q1o4") // Red; Libraries, Schools
	b.audit("booth.html review step", "zh")
	b.run("challenge zh", chromedp.Click(css("#challenge")),
		until(`document.body.dataset.step === 'step-challenged' && document.body.dataset.auditSeq !== undefined`))
	b.audit("booth.html challenged step", "zh")
	b.run("again zh", still("#again"), chromedp.Click(css("#again")), until(`document.body.dataset.step === 'step-choices'`))
	trZh := b.choose()
	b.run("cast zh", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	b.audit("booth.html cast step", "zh")
	b.open("check.html?tracker="+trZh, "check")
	b.run("check zh", until(`document.body.dataset.verdict !== undefined`))
	b.audit("check.html by tracker", "zh")
	b.inChinese("board.html", "board", `document.body.dataset.checkpoint === 'ok'`, "13-board-zh", "公告板浏览", "时间线", "选票", "选举清单")

	zh := b.tab()
	zh.run("Chinese browser",
		call(emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 (X11; Linux x86_64) urna-test", AcceptLanguage: "zh-CN,zh"}),
		call(emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "zh_CN"}))
	zh.open("index.html", "home")
	var htmlLang string
	zh.eval(`document.documentElement.lang`, &htmlLang)
	if htmlLang != "zh-Hans" {
		t.Errorf("a Chinese browser gets lang=%q, want zh-Hans", htmlLang)
	}
	contains(t, "home in a Chinese browser", zh.text("main"), "投票进行中")
	zh.audit("index.html", "zh")
	zh.shot("14-home-zh-browser")

	// A phone-sized screen.
	phone := b.tab()
	phone.run("phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2)))
	phone.enterBooth(creds[2])
	phone.audit("booth.html choices step at 360 px", "en")
	phone.shot("15-booth-360px")
	var overflow bool
	phone.eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	if overflow {
		t.Errorf("the booth scrolls horizontally at 360 px")
	}
	var wide []string
	phone.eval(`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right) + '/' + document.documentElement.clientWidth).slice(0, 5)`, &wide)
	if len(wide) > 0 {
		t.Errorf("elements wider than a 360 px screen: %v", wide)
	}

	// The answer to a cast lost on the way back: voter 2 again, the same
	// choices as before.
	lostAnswer(t, b, creds[2], "q0o3", "q1o0", "q1o3")

	// A 390 px phone, every page and step, in English and Chinese. The
	// ballots cast repeat the choices of voter 2's last ballot.
	phoneVote(t, b, creds[2], "en")
	phoneVote(t, b, creds[2], "zh")
}

func resultsPhase(t *testing.T, b *browser, meas *timing) {
	b.open("results.html", "results")
	b.run("verification", until(`document.body.dataset.verify === 'ok' || document.body.dataset.verify === 'fail' || document.body.dataset.verify === 'error'`))
	var state string
	b.eval(`document.body.dataset.verify`, &state)
	meas.ResultsVerifyState = state
	b.eval(`Number(document.body.dataset.verifyMs || 0)`, &meas.VerifyRecordMs)
	page := b.text("main")
	if state != "ok" {
		b.shot("16-results-failed")
		t.Fatalf("in-browser verification: %s\n%s", state, page)
	}
	contains(t, "results", page, "checks passed", "match the published results", "trustee-1", "trustee-2", "urna verify")
	// Every step is listed; V14–V16 do not apply to an election without
	// ranked, score or write-in questions, and say so (not "not reached").
	var steps []string
	b.eval(`[...document.querySelectorAll('#verify-steps li')].map((li) => li.textContent)`, &steps)
	if len(steps) != 16 {
		t.Fatalf("verify steps listed: %q, want 16", steps)
	}
	for i, s := range steps {
		if na := strings.Contains(s, "does not apply to this election"); na != (i >= 13) || strings.Contains(s, "not reached") {
			t.Errorf("step %d listed as %q", i+1, s)
		}
	}
	if strings.Contains(page, "trustee-3") {
		t.Errorf("trustee-3 did not decrypt but is listed: %s", page)
	}
	// The counts shown are the published ones.
	b.countsShown(t, "the results page", "/api/v1/results")
	b.audit("results.html", "en")
	b.shot("16-results-en")
	resultsDetails(t, b)
	b.run("results zh", js(`localStorage.setItem('urna.lang', 'zh')`))
	b.inChinese("results.html", "results", `document.body.dataset.verify === 'ok'`, "17-results-zh", "结果", "验证")

	// The closed booth says where to go, and is no error.
	b.open("booth.html", "booth-closed")
	var closed struct {
		Err   string
		Links []string
	}
	b.eval(`({err: document.getElementById('err').textContent, links: [...document.querySelectorAll('#closed a')].map(a => a.getAttribute('href'))})`, &closed)
	contains(t, "closed booth", b.text("#closed"), "Voting has closed", "See the results")
	if closed.Err != "" || !slices.Contains(closed.Links, "results.html") {
		t.Errorf("closed booth: %+v, want no error and a link to the results", closed)
	}
	b.audit("booth.html closed", "en")

	// After the tally, on a 390 px phone, in both languages.
	for _, lang := range []string{"en", "zh"} {
		p := b.phone(lang)
		p.open("results.html", "results")
		p.run("verification", until(`document.body.dataset.verify === 'ok'`))
		p.audit("results.html at 390 px", lang)
		p.fits("results " + lang)
		p.shot("22-results-390px-" + lang)
		for _, pg := range []struct{ file, ready string }{{"index.html", "home"}, {"booth.html", "booth-closed"}, {"board.html", "board"}, {"check.html", "check"},
			{"console", "console"}, {"trustee", "trustee"}} { // the officials' pages too
			p.open(pg.file, pg.ready)
			p.audit(pg.file+" after the tally at 390 px", lang)
			p.fits(pg.file + " after the tally " + lang)
		}
		p.run("back to the browser's language", js(`localStorage.removeItem('urna.lang')`))
	}
}

// countsShown checks that the results page open in b shows, for every
// question and option, the count the node publishes at the API path
// results (what names the page in errors).
func (b *browser) countsShown(t *testing.T, what, results string) {
	t.Helper()
	var res struct {
		Questions []struct{ Options []struct{ Count uint64 } }
	}
	getJSON(t, b.base+results, &res)
	var shown [][]uint64
	b.eval(`[...document.querySelectorAll('table.chart')].map(t => [...t.tBodies[0].rows].map(r => Number(r.querySelector('[data-count]').dataset.count)))`, &shown)
	if len(shown) != len(res.Questions) {
		t.Fatalf("%s shows %d questions, the API %d", what, len(shown), len(res.Questions))
	}
	for q := range shown {
		if len(shown[q]) != len(res.Questions[q].Options) {
			t.Errorf("%s, question %d: shows %d options, the API %d", what, q, len(shown[q]), len(res.Questions[q].Options))
			continue
		}
		for o := range shown[q] {
			if shown[q][o] != res.Questions[q].Options[o].Count {
				t.Errorf("%s, question %d option %d: shows %d, the API %d", what, q, o, shown[q][o], res.Questions[q].Options[o].Count)
			}
		}
	}
}

// inChinese opens page (ready when the harness says ready), waits until
// cond, checks that the page shows want, audits it in Chinese, saves the
// screenshot shot and hands the language back to the browser's.
func (b *browser) inChinese(page, ready, cond, shot string, want ...string) {
	b.t.Helper()
	b.open(page, ready)
	b.run(page+" in Chinese", until(cond))
	contains(b.t, page+" in Chinese", b.text("main"), want...)
	b.audit(page, "zh")
	b.shot(shot)
	b.run("back to the browser's language", js(`localStorage.removeItem('urna.lang')`))
}

// wrongKeyNode serves the web client through a proxy (loopback) that
// rewrites the joint_key of /api/v1/election, as a compromised node would
// to read the ballots: the booth checks the key on the board, refuses to
// encrypt and says why.
func wrongKeyNode(t *testing.T, b *browser) {
	rogue := hex.EncodeToString(group.Generator().Bytes()) // a valid key that someone knows the secret of
	proxy := tamperingProxy(t, b.base, "/api/v1/election", func(body []byte) []byte {
		var st map[string]any
		if err := json.Unmarshal(body, &st); err != nil {
			t.Errorf("the election status the proxy rewrites: %v", err)
			return body
		}
		st["joint_key"] = rogue
		out, err := json.Marshal(st)
		if err != nil {
			t.Errorf("the election status the proxy rewrites: %v", err)
			return body
		}
		return out
	})
	var st struct {
		JointKey string `json:"joint_key"`
	}
	getJSON(t, proxy+"/api/v1/election", &st)
	if st.JointKey != rogue {
		t.Fatalf("the proxy does not rewrite the key: %q", st.JointKey)
	}

	tb := b.tab()
	tb.base = proxy
	tb.open("booth.html", "booth-refused")
	if state := tb.keyState(); !state.refused() {
		t.Fatalf("booth behind a node with a wrong key: %+v, want refused, no credential step, an alert with focus", state)
	}
	contains(t, "wrong key message", tb.text("#err"), "not the key the trustees", "will not encrypt your ballot")
	tb.audit("booth.html wrong election key", "en")
	tb.shot("02b-booth-wrong-key")
	tb.run("zh", js(`localStorage.setItem('urna.lang', 'zh')`))
	tb.open("booth.html", "booth-refused")
	contains(t, "wrong key message in Chinese", tb.text("#err"), "不会用它加密您的选票")
	tb.audit("booth.html wrong election key", "zh")
	tb.run("en", js(`localStorage.removeItem('urna.lang')`))
}

// tamperingProxy serves target through a loopback proxy that rewrites the
// body of path's successful answers with edit, as a compromised node would.
func tamperingProxy(t *testing.T, target, path string, edit func([]byte) []byte) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	director := proxy.Director
	proxy.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Accept-Encoding")
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != path || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = edit(body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// downloadDir lets the page save downloads, into a new directory it
// returns.
func (b *browser) downloadDir() string {
	b.t.Helper()
	dir := b.t.TempDir()
	b.run("allow downloads", call(cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}))
	return dir
}

type downloaded struct{ CSV, JSON, CSVName, JSONName string }

// downloads clicks the two download links and reads the files saved.
func (b *browser) downloads(csvID, jsonID string) downloaded {
	b.t.Helper()
	dir := b.downloadDir()
	var d downloaded
	b.eval(`document.getElementById('`+csvID+`').download`, &d.CSVName)
	b.eval(`document.getElementById('`+jsonID+`').download`, &d.JSONName)
	read := func(id, name string) string {
		b.run("download "+id, chromedp.Click(css("#"+id)))
		return b.downloaded(dir, name, id) // trustee_test.go
	}
	d.CSV, d.JSON = read(csvID, d.CSVName), read(jsonID, d.JSONName)
	return d
}

// credentialFromFragment opens the booth as a credential letter's QR code
// does (booth.html#cred=…): the booth fills the credential field and takes
// the fragment out of the address bar and the history entry.
func credentialFromFragment(t *testing.T, b *browser, cred string) {
	// From another page: booth.html → booth.html#… would only scroll.
	b.open("index.html", "home")
	b.open("booth.html#cred="+cred, "booth")
	var got struct{ Value, Href, Hash string }
	b.eval(`({value: document.getElementById('cred').value, href: location.href, hash: location.hash})`, &got)
	if got.Value != cred {
		t.Errorf("booth.html#cred=…: the credential field holds %q, want %q", got.Value, cred)
	}
	if got.Hash != "" || strings.Contains(got.Href, cred) || strings.Contains(got.Href, "#") {
		t.Errorf("booth.html#cred=…: the address is still %q after the booth read the credential", got.Href)
	}
	b.run("clear the credential field", js(`document.getElementById("cred").value = ""`))
}

// keyState is what the booth shows about the election key: its state
// (body data-key), whether the credential step shows, and the error box's
// role and whether it has the focus.
type keyState struct {
	Key       string
	CredShown bool
	Role      string
	Focused   string
}

// refused: the booth refused the key, shows no credential step, and says
// why in an alert that has the focus.
func (k keyState) refused() bool {
	return k.Key == "refused" && !k.CredShown && k.Role == "alert" && k.Focused == "err"
}

func (b *browser) keyState() keyState {
	var state keyState
	b.eval(`({key: document.body.dataset.key, credShown: !document.getElementById('step-cred').hidden,
		role: document.getElementById('err').getAttribute('role'), focused: document.activeElement.id})`, &state)
	return state
}
