package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/roles"
)

// kindsTemplate is a version-3 election (docs/spec/kinds.md §K.1): a
// selection, a ranking of up to 3 of 4 venues (at least 1), scores 0..5 of
// 3 menus, and a write-in of at most 20 bytes.
var kindsTemplate = map[string]any{
	"version": 3, "title": "Kinds booth test", "threshold": 2,
	"questions": []map[string]any{
		{"text": "Chair", "options": []string{"Ada", "Grace", "Edsger"}, "min": 1, "max": 1},
		{"text": "Rank the venues", "kind": "ranked", "options": []string{"Lyon", "Oslo", "Pisa", "Kyoto"}, "min": 1, "max": 3},
		{"text": "Grade the menus", "kind": "score", "options": []string{"fish", "pasta", "salad"}, "min": 0, "max": 5},
		{"text": "Motto", "kind": "write-in", "options": []string{}, "min": 0, "max": 20},
	},
}

// createKinds posts the version-3 election on a one-node board with the
// command line's parties (trustees 1 and 2, threshold 2), runs the key
// ceremony and opens it.
func (e *trusteeBoard) createKinds() {
	ctx := context.Background()
	tmpl := map[string]any{"election_id": "kinds-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	for k, v := range kindsTemplate {
		tmpl[k] = v
	}
	e.createElection(tmpl, 3)
	if e.m.Version != ballot.ManifestVersionKinds {
		e.t.Fatalf("manifest version %d, want %d", e.m.Version, ballot.ManifestVersionKinds)
	}
	for i, tr := range e.ts {
		e.retry(fmt.Sprintf("trustee %d deals", i+1), func() error { _, err := roles.Deal(ctx, rand.Reader, e.cl, tr); return err })
	}
	for i, tr := range e.ts {
		e.retry(fmt.Sprintf("trustee %d checks", i+1), func() error { _, err := roles.Check(ctx, rand.Reader, e.cl, tr, false); return err })
	}
	e.retry("open", func() error { _, err := roles.Open(ctx, rand.Reader, e.cl, e.dir("ea"), false); return err })
}

// TestBrowserKinds: a voter answers a ranked, a score and a write-in
// question through the booth with the keyboard alone, on a real board.
// A ranking that gives one rank twice and a write-in over its byte limit
// are refused with messages naming the question and what is wrong; the
// fixed ballot is encrypted in wasm (a version-2 ballot with its proofs)
// and challenged (SPEC.md §12.10): the booth shows the opened ranking,
// scores and text, the board holds the audit, and the check page shows the
// same answers from the tracker alone; a fresh encryption is cast, the
// board accepts it, and the record verifies in the browser. The choices
// step passes our audit and axe-core in en and zh.
func TestBrowserKinds(t *testing.T) {
	path := requireBrowser(t)
	dir := filepath.Join(artifacts(t), "kinds")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := startTrusteeBoard(t)
	e.createKinds()
	b := newBrowser(t, path, dir)
	b.base = e.node.APIAddr
	if !strings.HasPrefix(b.base, "http") {
		b.base = "http://" + b.base
	}

	b.open("booth.html", "booth")
	b.keys("Tab from page load", "a.skip", tab)
	b.keys("Enter on the skip link", "#main", enter)
	b.keys("Tab into the booth", "#cred", tab)
	b.keys("typing the credential", "#cred", chromedp.KeyEvent(e.creds[0].Text()))
	b.keys("Enter on the credential", "#h-choices", enter, until(`document.body.dataset.step === 'step-choices'`))
	if eval[bool](b, `document.getElementById('challenge').hidden`) {
		t.Error("the booth does not offer to challenge a ballot with ranked, score and write-in questions")
	}
	b.audit("booth.html kinds, choices step", "en")
	b.shot("kinds-01-choices-en")

	// The selection, then rank 1 for Lyon and, by mistake, for Oslo too.
	b.keys("Tab to the chair", "#q0o0", tab)
	b.keys("Space on Ada", "#q0o0", space)
	b.keys("Tab to Lyon's rank", "#q1r0", tab)
	b.keys("Down: Lyon rank 1", "#q1r0", down)
	contains(t, "ranking read out", b.text("#q1-count"), "Your ranking: 1. Lyon.")
	b.keys("Tab to Oslo's rank", "#q1r1", tab)
	b.keys("Down: Oslo rank 1 too", "#q1r1", down)
	contains(t, "a rank given twice, at once", b.text("#q1-count"), "Rank 1 is given to both “Lyon” and “Oslo”")
	b.keys("Tab to Pisa", "#q1r2", tab)
	b.keys("Tab to Kyoto", "#q1r3", tab)
	// Scores, typed.
	for i, s := range []string{"5", "0", "3"} {
		id := fmt.Sprintf("#q2s%d", i)
		b.keys("Tab to a score", id, tab)
		b.keys("type score "+s, id, chromedp.KeyEvent(s))
	}
	// A write-in over its limit: 8 Chinese characters are 24 bytes of 20.
	b.keys("Tab to the write-in", "#q3w", tab)
	b.keys("typing 24 bytes", "#q3w", chromedp.KeyEvent("投票投票投票投票"))
	contains(t, "write-in bytes", b.text("#q3-bytes"), "24 of 20 bytes used.")
	contains(t, "write-in too long, at once", b.text("#q3-count"), "The text takes 24 bytes; at most 20 are allowed.")
	b.keys("Tab to review", "#review", tab)
	b.keys("Enter on review: refused", "#choices-err", enter)
	contains(t, "bad ranking refused", b.text("#choices-err"), "“Rank the venues”: Rank 1 is given to both “Lyon” and “Oslo”: give each rank to one option only.")
	if step := eval[string](b, `document.body.dataset.step`); step != "step-choices" {
		t.Fatalf("a bad ranking went on to %s", step)
	}
	b.audit("booth.html kinds, bad ranking refused", "en")
	b.shot("kinds-02-bad-ranking")

	// Back to Oslo (Shift+Tab through the write-in, the scores, Kyoto, Pisa): rank 2.
	for _, id := range []string{"#q3w", "#q2s2", "#q2s1", "#q2s0", "#q1r3", "#q1r2", "#q1r1"} {
		b.keys("Shift+Tab back", id, shiftTab)
	}
	b.keys("Down: Oslo rank 2", "#q1r1", down)
	contains(t, "fixed ranking", b.text("#q1-count"), "Your ranking: 1. Lyon, 2. Oslo.")
	for _, id := range []string{"#q1r2", "#q1r3", "#q2s0", "#q2s1", "#q2s2", "#q3w", "#review"} {
		b.keys("Tab on", id, tab)
	}
	b.keys("Enter on review: the write-in is refused", "#choices-err", enter)
	contains(t, "write-in refused", b.text("#choices-err"), "“Motto”: The text takes 24 bytes; at most 20 are allowed. Shorten it.")
	b.keys("Shift+Tab to the write-in", "#q3w", shiftTab)
	b.keys("two characters fewer", "#q3w", chromedp.KeyEvent(kb.End), chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(kb.Backspace))
	contains(t, "write-in fits", b.text("#q3-bytes"), "18 of 20 bytes used.")
	b.keys("Tab to review", "#review", tab)
	b.keys("Enter on review", "#h-review", enter,
		until(`document.body.dataset.step === 'step-review' && document.getElementById('review-tracker').textContent !== ''`))
	contains(t, "review", b.text("#review-list"), "Ada", "1. Lyon", "2. Oslo", "fish: score 5", "pasta: score 0", "salad: score 3", "投票投票投票")
	contains(t, "review explains", b.text("#review-explain"), "challenge it")
	b.audit("booth.html kinds, review", "en")
	b.shot("kinds-03-review")

	// Challenge it: the opened answers of every kind, checked, posted.
	challenged := b.text("#review-tracker")
	b.keys("Tab to cast", "#cast", tab)
	b.keys("Tab to challenge", "#challenge", tab)
	b.keys("Enter on challenge", "#h-challenged", enter,
		until(`document.body.dataset.step === 'step-challenged' && document.body.dataset.auditSeq !== undefined`))
	contains(t, "opened answers", b.text("#step-challenged"), "Ada", "1. Lyon", "2. Oslo", "fish: score 5", "pasta: score 0", "salad: score 3", "投票投票投票", "checks out", "audited")
	b.audit("booth.html kinds, challenged", "en")
	b.shot("kinds-03b-challenged")
	if n := e.count(bulletin.TypeAudit); n != 1 {
		t.Fatalf("the board holds %d audits, want 1", n)
	}
	// Back to the answers, still there: encrypt afresh and cast.
	b.run("again", still("#again"), chromedp.Click(css("#again")), until(`document.body.dataset.step === 'step-choices'`))
	b.run("review again", chromedp.Click(css("#review")),
		until(`document.body.dataset.step === 'step-review' && document.getElementById('review-tracker').textContent !== ''`))
	tracker := b.text("#review-tracker")
	if tracker == challenged {
		t.Fatalf("the fresh encryption has the challenged ballot's tracker %s", tracker)
	}
	b.run("focus the review heading", chromedp.Focus(css("#h-review")))
	b.keys("Tab to cast", "#cast", tab)
	b.keys("Enter on cast", "#h-cast", enter,
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	contains(t, "cast", b.text("#step-cast"), tracker, "Receipt verified")

	// The board holds one ballot, a version-2 ballot that verifies.
	if n := e.count(bulletin.TypeBallot); n != 1 {
		t.Fatalf("the board holds %d ballots, want 1", n)
	}

	// In Chinese: the same controls, translated, axe-clean; a rank given
	// twice refused in Chinese.
	b.lang("zh")
	b.run("done", chromedp.Click(css("#done")), until(`document.body.dataset.step === 'step-cred'`))
	b.open("booth.html", "booth")
	b.run("credential", chromedp.SendKeys(css("#cred"), e.creds[1].Text()), chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.body.dataset.step === 'step-choices'`))
	contains(t, "zh ranking", b.text("#q1r0"), "不排名", "第 1 名", "第 3 名")
	contains(t, "zh write-in", b.text("#q3-bytes"), "已用 0 / 20 字节。")
	b.audit("booth.html kinds, choices step", "zh")
	b.run("rank 2 twice, nothing else", js(`(() => { for (const id of ['q1r0', 'q1r2']) { const s = document.getElementById(id); s.value = '2'; s.dispatchEvent(new Event('change', { bubbles: true })); } })()`),
		chromedp.Click(css("#q0o1")), chromedp.Click(css("#review")))
	contains(t, "zh refused", b.text("#choices-err"), "“Rank the venues”：第 2 名同时给了“Lyon”和“Pisa”")
	b.audit("booth.html kinds, bad ranking refused", "zh")
	b.shot("kinds-04-zh-refused")
	// A reload keeps the ranks typed so far (in this tab), never the credential.
	b.run("write in and reload", js(`(() => { const w = document.getElementById('q3w'); w.value = 'Vote!'; w.dispatchEvent(new Event('input', { bubbles: true })); })()`),
		chromedp.Reload(), until(`document.body.dataset.ready === 'booth' && document.body.dataset.step === 'step-cred'`))
	b.run("credential again", chromedp.SendKeys(css("#cred"), e.creds[1].Text()), chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.body.dataset.step === 'step-choices'`))
	kept := eval[[]string](b, `['q1r0', 'q1r1', 'q1r2', 'q3w'].map((id) => document.getElementById(id).value)`)
	if strings.Join(kept, "|") != "2||2|Vote!" {
		t.Fatalf("after a reload the ranks and write-in are %q, want 2, none, 2, Vote!", kept)
	}
	contains(t, "zh problem after reload", b.text("#q1-count"), "第 2 名同时给了“Lyon”和“Pisa”")
	contains(t, "zh bytes after reload", b.text("#q3-bytes"), "已用 5 / 20 字节。")
	// On a 390 px phone the rank and score rows reflow within the screen.
	p := b.phone("zh")
	p.open("booth.html", "booth")
	p.run("credential", js(`document.getElementById("cred").value = `+jsString(e.creds[2].Text())),
		chromedp.SendKeys(css("#cred"), kb.Enter), until(`document.body.dataset.step === 'step-choices'`))
	p.fits("booth kinds choices zh")
	p.audit("booth.html kinds at 390 px", "zh")
	p.shot("kinds-04b-phone-zh")

	// Another device finds the challenged ballot by its tracker and sees
	// the same answers, checked against the election key.
	b.lang("en")
	b.open("check.html?tracker="+challenged, "check")
	b.run("check the challenged ballot", until(`document.body.dataset.verdict !== undefined`))
	contains(t, "check page, opened answers", b.text("#out"), "Audited", "Ada", "1. Lyon", "2. Oslo", "fish: score 5", "salad: score 3", "投票投票投票", "Opening checked")
	b.audit("check.html kinds, audited ballot", "en")
	b.shot("kinds-05-check-audited")

	mixedResults(t, b, e)
	p.open("results.html", "results")
	p.run("verification", until(`document.querySelectorAll('[data-mixed="counted"]').length === 3`))
	p.fits("results kinds zh")
	p.audit("results.html mixed outcomes at 390 px", "zh")
	mixBoard(t, p, "zh", "混洗：重排", "混洗：解密")
	b.lang("en")
	mixBoard(t, b, "en", "mix: shuffle", "mix: decryption")
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// finishKinds has voters 2 and 3 vote by the command line's code, then
// closes the election, has both trustees mix and decrypt, and publishes
// the result (SPEC.md §11).
func (e *trusteeBoard) finishKinds() {
	ctx := context.Background()
	el, err := roles.FetchVerifiedElection(ctx, e.cl, roles.ElectionOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for v, a := range [][]ballot.Answer{
		{{Choices: []uint32{1}}, {Ranking: []uint32{1, 2}}, {Scores: []uint32{4, 1, 3}}, {Text: "Less is more"}},
		{{Choices: []uint32{0}}, {Ranking: []uint32{2, 0, 1}}, {Scores: []uint32{0, 5, 3}}, {}},
	} {
		key, err := e.creds[v+1].Key(el.Manifest.ElectionID)
		if err != nil {
			e.t.Fatal(err)
		}
		p, err := roles.PrepareAnswers(rand.Reader, el, key, a)
		if err != nil {
			e.t.Fatal(err)
		}
		e.retry(fmt.Sprintf("voter %d", v+2), func() error { _, err := e.cl.SubmitOne(ctx, p.Entry); return err })
	}
	e.retry("close", func() error { _, err := roles.Close(ctx, rand.Reader, e.cl, e.dir("ea"), ""); return err })
	for _, tr := range e.ts {
		e.retry("mix by "+tr.Name, func() error { _, err := roles.Mix(ctx, rand.Reader, e.cl, tr); return err })
	}
	for _, tr := range e.ts {
		e.retry("decrypt by "+tr.Name, func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.cl, tr); return err })
	}
	e.retry("tally", func() error { _, err := roles.Tally(ctx, rand.Reader, e.cl, e.dir("ea")); return err })
}

// mixedResults: once the election is mixed, decrypted and published, the
// results page verifies the record in this browser (V1–V16) and shows what
// its verifier counted: the IRV and STV rounds, the Schulze matrices,
// majority judgment, score sums and the write-ins, in data tables that
// pass the audit in en and zh. The ballots are the browser's (Ada; Lyon,
// Oslo; 5, 0, 3; 投票投票投票) and finishKinds' two.
func mixedResults(t *testing.T, b *browser, e *trusteeBoard) {
	b.lang("en")
	b.open("results.html", "results")
	contains(t, "results before the tally", b.text("#none"), "No results yet")
	e.finishKinds()
	b.open("results.html", "results")
	b.run("verification", until(`['ok', 'fail', 'error'].includes(document.body.dataset.verify) && document.querySelector('[data-mixed]') !== null`))
	if state := eval[string](b, `document.body.dataset.verify`); state != "ok" {
		b.shot("kinds-failure-results")
		t.Fatalf("in-browser verification: %s\n%s", state, b.text("main"))
	}
	if n := eval[int](b, `document.querySelectorAll('[data-mixed="counted"]').length`); n != 3 {
		t.Fatalf("%d mixed questions counted on the page, want 3:\n%s", n, b.text("main"))
	}
	contains(t, "verified", b.text("#verify-status"), "checks passed")
	contains(t, "IRV rounds", b.text("#irv-q1"), "Round 1", "Lyon", "Exhausted ballots")
	contains(t, "IRV notes", b.text("#result-q1"), "Ballots decrypted after mixing: 3.", "Round 1: “Kyoto” has the fewest votes and is excluded.", "IRV winner:",
		"Single transferable vote (STV) for 2 seats", "STV elected:", "Schulze winner:")
	// Lyon above Oslo: the browser's ballot and voter 3's.
	if c := b.text(`#schulze-q1 [data-cell="0.1"]`); c != "2" {
		t.Errorf("Schulze: Lyon over Oslo shows %q, want 2", c)
	}
	for oi, want := range []string{"9", "6", "9"} {
		if got := b.text(fmt.Sprintf(`#score-q2 [data-sum="%d"]`, oi)); got != want {
			t.Errorf("score sum of option %d: %q, want %s", oi, got, want)
		}
	}
	contains(t, "scores", b.text("#result-q2"), "Majority-judgment winner:", "Highest score sum: fish, salad (tie).")
	contains(t, "write-ins", b.text("#result-q3"), "Less is more", "投票投票投票")
	if strings.Contains(b.text("#questions"), "could not be read") {
		t.Error("a valid write-in is reported unreadable")
	}
	b.audit("results.html mixed outcomes", "en")
	b.shot("kinds-05-results-en")
	b.switchTo("zh")
	contains(t, "zh IRV", b.text("#result-q1"), "即时决选制（IRV），逐轮结果", "第 1 轮", "舒尔茨胜出者：")
	b.audit("results.html mixed outcomes", "zh")
	b.shot("kinds-06-results-zh")
}

// mixBoard: the board explorer names the mixing entries (shuffle and mix
// decryption) in lang, as every other type, never by a message key.
func mixBoard(t *testing.T, b *browser, lang string, want ...string) {
	b.open("board.html", "board")
	b.run("checkpoint", until(`document.body.dataset.checkpoint === 'ok'`))
	types := b.text("#entries")
	contains(t, "board entry types of a mixed election in "+lang, types, want...)
	if strings.Contains(types, "type.") {
		t.Errorf("board in %s shows an entry type by its message key:\n%s", lang, types)
	}
	b.audit("board.html mixed election", lang)
}
