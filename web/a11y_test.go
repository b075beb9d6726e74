package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The accessibility checks of the browser tests: our structural audit
// (testdata/audit.js, injected into the page) and the keyboard-only voter.

var auditOnce = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/audit.js")
	return string(b), err
})

// auditJS returns the audit as a JavaScript expression.
func auditJS(t testing.TB) string {
	t.Helper()
	src, err := auditOnce()
	if err != nil {
		t.Fatal(err)
	}
	return "(" + src + ")"
}

type violation struct{ Rule, Selector, Detail string }

// violations runs the audit on the page as it is now.
func (b *browser) violations(lang string) []violation {
	b.t.Helper()
	var vs []violation
	b.eval(auditJS(b.t)+".audit("+strconv.Quote(lang)+")", &vs)
	return vs
}

// audit fails the test with every violation on the page as it is now, by
// our audit and by axe-core; where names the page and state, lang is the
// language the page must show.
func (b *browser) audit(where, lang string) {
	b.t.Helper()
	for _, v := range b.violations(lang) {
		b.t.Errorf("accessibility: %s [%s]: %s: %s: %s", where, lang, v.Rule, v.Selector, v.Detail)
	}
	for _, v := range b.axe() {
		b.t.Errorf("axe-core: %s [%s]: %s", where, lang, v)
	}
}

// axeOnce reads axe-core (testdata/axe.min.js, MPL-2.0, vendored from the
// npm package axe-core: see testdata/README.md).
var axeOnce = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		return "", fmt.Errorf("axe-core is missing (testdata/axe.min.js, from the npm package axe-core): %w", err)
	}
	return string(b), nil
})

// axe runs axe-core's rules (WCAG 2.x A and AA, and its best practices) on
// the page as it is now and returns one line per violating element.
func (b *browser) axe() []string {
	b.t.Helper()
	src, err := axeOnce()
	if err != nil {
		b.t.Fatal(err)
	}
	b.run("load axe-core", js(`window.axe || (0, eval)(`+strconv.Quote(src)+`)`))
	var out []string
	run := chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then((r) => JSON.stringify(
		r.violations.flatMap((v) => v.nodes.map((n) => v.id + ' (' + v.impact + '): ' + n.target.join(' ') + ': ' + n.failureSummary.replace(/\s+/g, ' ')))))`,
		chromedp.EvalAwaitPromise)
	s := value(b, "run axe-core", run)
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		b.t.Fatalf("axe-core's answer: %v", err)
	}
	return out
}

// Keys, as a keyboard sends them to the focused element.
var (
	tab      = chromedp.KeyEvent(kb.Tab)
	shiftTab = chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	enter    = chromedp.KeyEvent(kb.Enter)
	space    = chromedp.KeyEvent(" ")
	down     = chromedp.KeyEvent(kb.ArrowDown)
)

// focusIs checks that the element sel (a CSS selector) has focus, and that
// a control focused from the keyboard shows a focus ring with enough
// contrast. Headings and main, focused by the page's own focus management
// (tabindex=-1), are not controls and need no ring.
func (b *browser) focusIs(what, sel string) {
	b.t.Helper()
	var f struct {
		Match   bool
		At      string
		Ring    string
		Control bool
	}
	b.eval(`(() => {
		const a = `+auditJS(b.t)+`;
		const e = document.activeElement;
		return {
			match: e === document.querySelector(`+strconv.Quote(sel)+`),
			at: e === document.body ? 'body' : a.selector(e),
			ring: a.focusRing(),
			control: e !== document.body && e.getAttribute('tabindex') !== '-1',
		};
	})()`, &f)
	if !f.Match {
		b.shot("failure-focus-" + strings.NewReplacer(" ", "-", "#", "", "/", "-").Replace(what))
		b.t.Fatalf("keyboard: after %s, focus is on %s, want %s", what, f.At, sel)
	}
	if f.Control && f.Ring != "" {
		b.t.Errorf("keyboard: after %s: %s", what, f.Ring)
	}
}

// keys presses keys in order, then checks where focus is.
func (b *browser) keys(what, want string, keys ...step) {
	b.t.Helper()
	b.run("keyboard: "+what, keys...)
	b.focusIs(what, want)
}

// landed waits, after a key press that follows a link, until the page is
// the one at path and cond holds. Polling while the old page unloads can
// hit a JavaScript context that no longer exists: that is retried.
func (b *browser) landed(path, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
		err := chromedp.Do(ctx, until(`location.pathname.endsWith(`+strconv.Quote("/"+path)+`) && (`+cond+`)`))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "context") {
			b.fail("landing on "+path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyboardVote casts a ballot with nothing but the keyboard from page load,
// challenging one encryption on the way, and follows the link to check the
// tracker. It ticks Gold; Parks, Public transport and returns the tracker.
func keyboardVote(t *testing.T, b *browser, cred string) string {
	b.open("booth.html", "booth")
	b.focusIs("page load", "body")
	b.keys("Tab from page load", "a.skip", tab)
	b.keys("Enter on the skip link", "#main", enter)
	b.keys("Tab into the booth", "#cred", tab)
	b.keys("typing the credential", "#cred", chromedp.KeyEvent(cred))
	b.keys("Tab to show the credential", "#cred-show", tab)
	b.keys("Space on show", "#cred-show", space)
	var typ string
	b.eval(`document.getElementById('cred').type`, &typ)
	if typ != "text" {
		t.Errorf("keyboard: Space on the show checkbox left the credential field type=%q", typ)
	}
	b.keys("Shift+Tab back to the credential", "#cred", shiftTab)
	b.keys("Enter on the credential", "#h-choices", enter, until(`document.body.dataset.step === 'step-choices'`))

	// Radios: Tab enters the group, Space ticks, arrows move and tick.
	b.keys("Tab to the first question", "#q0o0", tab)
	b.keys("Space on Red", "#q0o0", space)
	b.keys("Down to Green", "#q0o1", down)
	b.keys("Down to Blue", "#q0o2", down)
	b.shot("11a-booth-keyboard-focus")
	// Checkboxes: one Tab each, Space ticks.
	b.keys("Tab to the second question", "#q1o0", tab)
	b.keys("Space on Parks", "#q1o0", space)
	b.keys("Tab", "#q1o1", tab)
	b.keys("Tab", "#q1o2", tab)
	b.keys("Tab", "#q1o3", tab)
	b.keys("Space on Public transport", "#q1o3", space)
	b.keys("Tab", "#q1o4", tab)
	b.keys("Tab to review", "#review", tab)
	var ticked []string
	b.eval(`[...document.querySelectorAll('#questions input:checked')].map(i => i.id)`, &ticked)
	if !slices.Equal(ticked, []string{"q0o2", "q1o0", "q1o3"}) {
		t.Fatalf("keyboard: ticked %v, want q0o2 q1o0 q1o3", ticked)
	}
	b.keys("Enter on review", "#h-review", enter,
		until(`document.body.dataset.step === 'step-review' && document.getElementById('review-tracker').textContent !== ''`))
	contains(t, "keyboard review", b.text("#review-list"), "Blue", "Parks", "Public transport")

	// Challenge this encryption.
	b.keys("Tab to cast", "#cast", tab)
	b.keys("Tab to challenge", "#challenge", tab)
	b.keys("Space on challenge", "#h-challenged", space,
		until(`document.body.dataset.step === 'step-challenged' && document.body.dataset.auditSeq !== undefined`))
	contains(t, "keyboard challenge", b.text("#step-challenged"), "Blue", "checks out")
	b.keys("Tab to vote again", "#again", tab)
	b.keys("Enter on again", "#h-choices", enter, until(`document.body.dataset.step === 'step-choices'`))

	// Change Blue to Gold; Tab lands on the ticked radio.
	b.keys("Tab to the ticked radio", "#q0o2", tab)
	b.keys("Down to Gold", "#q0o3", down)
	for i := range 5 {
		b.keys("Tab through the second question", "#q1o"+strconv.Itoa(i), tab)
	}
	b.keys("Tab to review", "#review", tab)
	b.keys("Enter on review", "#h-review", enter,
		until(`document.body.dataset.step === 'step-review' && document.getElementById('review-tracker').textContent !== ''`))
	contains(t, "keyboard review", b.text("#review-list"), "Gold", "Parks", "Public transport")
	tracker := b.text("#review-tracker")
	b.keys("Tab to cast", "#cast", tab)
	b.keys("Enter on cast", "#h-cast", enter,
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	contains(t, "keyboard cast", b.text("#step-cast"), tracker, "Receipt verified")
	b.shot("11b-booth-keyboard-cast")

	// The tracker: the receipt download, then the check link.
	b.keys("Tab to the receipt", "#download", tab)
	b.keys("Tab to check", "#check-link", tab)
	b.run("keyboard: Enter on check", enter)
	b.landed("check.html", `document.body.dataset.ready === 'check' && document.body.dataset.verdict !== undefined`)
	contains(t, "keyboard check", b.text("#out"), "On the board", "Counts")
	var q string
	b.eval(`document.getElementById('q').value`, &q)
	if q != tracker {
		t.Errorf("keyboard: the check link checks %q, want the tracker %q", q, tracker)
	}
	return tracker
}

// TestAudit runs the audit on pages made to break each rule once, and on
// one that breaks none, so that a rule that stops firing fails here rather
// than passing the pages silently.
func TestAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short mode")
	}
	path := chromium(t)
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	defer srv.Close()
	b := newBrowser(t, path, t.TempDir())
	b.base = srv.URL

	b.run("open bad", chromedp.Navigate(srv.URL+"/a11y-bad.html"))
	got := map[string][]string{}
	for _, v := range b.violations("en") {
		t.Logf("a11y-bad.html: %s: %s: %s", v.Rule, v.Selector, v.Detail)
		got[v.Rule] = append(got[v.Rule], v.Selector+": "+v.Detail)
	}
	for rule, sel := range map[string]string{
		"html-lang":            "html",
		"document-title":       "html",
		"language-shown":       "p#zh",
		"one-h1":               "body > h1:nth-of-type(2)",
		"heading-order":        "body > h3",
		"heading-empty":        "h2#empty",
		"duplicate-id":         "div#dup",
		"aria-ref":             "p#dangling",
		"control-name":         "input#nolabel",
		"group-name":           "input#r1",
		"button-name":          "button#empty",
		"link-name":            "a#empty-link",
		"img-alt":              "img#noalt",
		"main-landmark":        "body",
		"live-region":          "body",
		"tabindex-positive":    "a#positive",
		"hidden-interactive":   "button#hidden",
		"keyboard-unreachable": "div#fake-button",
		"contrast":             "p#faint",
	} {
		if !slices.ContainsFunc(got[rule], func(s string) bool { return strings.HasPrefix(s, sel) }) {
			t.Errorf("rule %s did not report %s; it reported %q", rule, sel, got[rule])
		}
	}
	for _, sel := range []string{"p#faint-alpha", "span#faint-opacity", "p#faint-on-alpha"} {
		if !slices.ContainsFunc(got["contrast"], func(s string) bool { return strings.HasPrefix(s, sel) }) {
			t.Errorf("contrast did not report %s; it reported %q", sel, got["contrast"])
		}
	}
	// axe-core runs too, and finds what it should on the same page.
	axeGot := strings.Join(b.axe(), "\n")
	for _, rule := range []string{"image-alt", "label", "button-name", "link-name", "color-contrast", "tabindex"} {
		if !strings.Contains(axeGot, rule+" (") {
			t.Errorf("axe-core did not report %s on a11y-bad.html; it reported:\n%s", rule, axeGot)
		}
	}
	var ring string
	b.run("focus no ring", chromedp.Navigate(srv.URL+"/a11y-bad.html"), tab)
	b.eval(auditJS(t)+".focusRing()", &ring)
	if !strings.Contains(ring, "no focus outline") {
		t.Errorf("focusRing on a control without outline: %q", ring)
	}

	b.run("open good", chromedp.Navigate(srv.URL+"/a11y-good.html"))
	for _, v := range b.violations("zh") {
		t.Errorf("false positive on a11y-good.html: %s: %s: %s", v.Rule, v.Selector, v.Detail)
	}
	for _, v := range b.axe() {
		t.Errorf("axe-core on a11y-good.html: %s", v)
	}
	b.run("focus ring", tab, tab)
	b.eval(auditJS(t)+".focusRing()", &ring)
	if ring != "" {
		t.Errorf("focusRing on a good outline: %s", ring)
	}
}
