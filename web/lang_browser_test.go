package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/internal/roles"
)

// The browser test of a version-4 election (SPEC.md §4.1, §3.9) with
// weighted credentials and late voters (§5.3): its texts in English,
// Chinese and French, a voting window, a voter of weight > 1 voting in
// Chinese, a late voter registered while voting is open, the booth before
// the opening and after the closing on the voter's clock, the board's
// not_open_yet and closed refusals, and the weighted results in both
// languages; axe-core and our audit on every new state, in en and zh.

const (
	opensAt  = "2020-01-01T00:00:00Z"
	closesAt = "2099-12-31T00:00:00Z"
	// lateWeight is the weight of the late voter this test adds.
	lateWeight = 3
)

var bilingualTexts = map[string]struct {
	title string
	q     [2]string
	o     [2][]string
}{
	"en": {"City referendum", [2]string{"Which colour for the new city flag?", "Should the old town be car-free?"},
		[2][]string{{"Red", "Green", "Blue"}, {"Yes", "No"}}},
	"zh": {"城市公投", [2]string{"新市旗用什么颜色？", "老城区应该禁止汽车通行吗？"},
		[2][]string{{"红色", "绿色", "蓝色"}, {"赞成", "反对"}}},
	"fr": {"Référendum municipal", [2]string{"Quelle couleur pour le nouveau drapeau ?", "La vieille ville doit-elle être sans voitures ?"},
		[2][]string{{"Rouge", "Vert", "Bleu"}, {"Oui", "Non"}}},
}

// bilingualManifest is the demo's manifest template: English first.
func bilingualManifest(t *testing.T) []byte {
	t.Helper()
	en := bilingualTexts["en"]
	j := ballot.ManifestJSON{Version: ballot.ManifestVersionExtended, ElectionID: "referendum", Title: en.title,
		Threshold: 2, BoardQuorum: 2, Languages: []string{"en", "zh", "fr"}, OpensAt: opensAt, ClosesAt: closesAt,
		Translations: map[string]ballot.TranslationJSON{}}
	for q := range 2 {
		j.Questions = append(j.Questions, ballot.QuestionJSON{Text: en.q[q], Options: en.o[q], Min: 1, Max: 1})
	}
	for _, lang := range []string{"zh", "fr"} {
		x := bilingualTexts[lang]
		tr := ballot.TranslationJSON{Title: x.title}
		for q := range 2 {
			tr.Questions = append(tr.Questions, ballot.QuestionTranslationJSON{Text: x.q[q], Options: x.o[q]})
		}
		j.Translations[lang] = tr
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBrowserLanguagesWindowWeights(t *testing.T) {
	path := requireBrowser(t)
	dir := filepath.Join(artifacts(t), "languages")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, path, dir)
	data := filepath.Join(t.TempDir(), "demo")
	const ballots = 3
	hand := [][]uint64{make([]uint64, 3), make([]uint64, 2)}
	// Spare credential k belongs to voter ballots+1+k.
	holdDemo(t, b, demo.Config{Ballots: ballots, Weighted: true, Manifest: bilingualManifest(t), DataDir: data}, 2, hand,
		func(ctx context.Context, creds []string) {
			votingInChinese(t, b, creds[0], demo.DemoWeight(ballots+1), hand)
			lateVoter(t, b, ctx, data, hand)
			boothOutsideWindow(t, b)
			refusedPosts(t, b, creds[1])
		},
		func() { weightedResults(t, b) })
}

// lang sets the page language the next page opens in ("" the browser's).
func (b *browser) lang(code string) {
	b.t.Helper()
	if code == "" {
		b.run("the browser's language", js(`localStorage.removeItem('urna.lang')`))
		return
	}
	b.run("language "+code, js(`localStorage.setItem('urna.lang', `+jsString(code)+`)`))
}

// electionTexts checks that the booth's questions and options show in lang.
func (b *browser) electionTexts(where, lang string) {
	b.t.Helper()
	want := bilingualTexts[lang]
	var got struct {
		Title   string
		Legends []string
		Options []string
		Langs   []string
	}
	b.eval(`({title: document.getElementById('etitle').textContent,
		legends: [...document.querySelectorAll('#questions legend')].map((l) => l.textContent),
		options: [...document.querySelectorAll('#questions label.option span')].map((s) => s.textContent),
		langs: [...document.querySelectorAll('#questions legend')].map((l) => l.lang)})`, &got)
	wantOpts := append(append([]string{}, want.o[0]...), want.o[1]...)
	if got.Title != want.title || strings.Join(got.Legends, "|") != want.q[0]+"|"+want.q[1] ||
		strings.Join(got.Options, "|") != strings.Join(wantOpts, "|") || strings.Join(got.Langs, "|") != lang+"|"+lang {
		b.t.Fatalf("%s: the booth shows %+v, want the %s texts %+v", where, got, lang, want)
	}
}

// switchTo selects a language in the header's switch, as a visitor does.
func (b *browser) switchTo(code string) {
	b.t.Helper()
	b.run("switch to "+code, js(`(() => { const s = document.getElementById('lang'); s.value = `+jsString(code)+`; s.dispatchEvent(new Event('change')); })()`),
		until(`document.getElementById('lang').value === `+jsString(code)))
}

// votingInChinese: a voter of weight w votes in Chinese; the booth shows
// the window, the Chinese texts and the weight, and the ballot counts w
// times.
func votingInChinese(t *testing.T, b *browser, cred string, w uint32, hand [][]uint64) {
	b.open("index.html", "home")
	b.lang("zh")
	b.open("booth.html", "booth")
	page := b.text("main")
	contains(t, "booth window in Chinese", page, "投票时间", "投票开始", "投票结束", "协调世界时："+opensAt, closesAt)
	b.run("enter credential", chromedp.SendKeys(css("#cred"), cred+"\n"), until(`document.body.dataset.step === 'step-choices'`))
	b.electionTexts("booth in Chinese", "zh")
	contains(t, "weight in Chinese", b.text("#weight"), fmt.Sprintf("您的选票计 %d 次", w))
	b.audit("booth.html choices, weighted, v4", "zh")
	b.shot("01-booth-zh-weight")
	// The switch offers the election's languages: French texts, English words.
	var offered []string
	b.eval(`[...document.querySelectorAll('#lang option')].map((o) => o.value)`, &offered)
	if strings.Join(offered, ",") != "en,zh,fr" {
		t.Errorf("the language switch offers %v, want en, zh and the election's fr", offered)
	}
	b.run("tick Blue", chromedp.Click(css("#q0o2")))
	b.switchTo("fr")
	b.electionTexts("booth in French", "fr")
	contains(t, "French booth's own words", b.text("#h-choices"), "Step 2")
	var lang string
	b.eval(`document.documentElement.lang`, &lang)
	if lang != "en" {
		t.Errorf("with the election's French texts, <html lang> is %q, want en (the page's own words)", lang)
	}
	b.audit("booth.html choices in French texts", "en")
	b.shot("02-booth-fr-texts")
	b.switchTo("en")
	b.electionTexts("booth in English", "en")
	contains(t, "weight in English", b.text("#weight"), fmt.Sprintf("Your ballot counts %d times", w))
	b.audit("booth.html choices, weighted, v4", "en")
	b.switchTo("zh")
	var kept bool
	b.eval(`document.getElementById('q0o2').checked`, &kept)
	if !kept {
		t.Fatal("switching languages lost the voter's choice")
	}
	tracker := b.choose("q1o0")
	review := b.text("#review-list")
	contains(t, "review in Chinese", review, "蓝色", "赞成", "新市旗用什么颜色？")
	contains(t, "review weight", b.text("#review-weight"), fmt.Sprintf("计 %d 次", w))
	b.run("cast", still("#cast"), chromedp.Click(css("#cast")), until(`document.body.dataset.castSeq !== undefined`))
	b.shot("03-booth-zh-cast")
	if tracker == "" {
		t.Fatal("no tracker")
	}
	hand[0][2] += uint64(w)
	hand[1][0] += uint64(w)
	b.lang("")
}

// lateVoter: the credential authority adds a voter while voting is open
// (a late-credentials entry); the booth recognizes the credential, says
// it was registered late and its weight, and the ballot counts.
func lateVoter(t *testing.T, b *browser, ctx context.Context, data string, hand [][]uint64) {
	ca, err := apiclient.New(b.base, apiclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	caDir := filepath.Join(data, "credentials")
	iss, err := roles.AddLateCredentials(ctx, rand.Reader, ca, caDir, []uint32{lateWeight}, [32]byte{})
	if err != nil {
		t.Fatalf("adding a late voter: %v", err)
	}
	raw, err := os.ReadFile(iss.Path)
	if err != nil {
		t.Fatal(err)
	}
	creds, order, err := roles.ParseCredentials(raw)
	if err != nil || len(order) != 1 {
		t.Fatalf("late credentials file: %d credentials, %v", len(order), err)
	}
	b.open("booth.html", "booth")
	b.run("enter the late voter's credential", chromedp.SendKeys(css("#cred"), creds[order[0]].Text()+"\n"),
		until(`document.body.dataset.step === 'step-choices'`))
	contains(t, "late voter", b.text("#step-choices"), "registered after the voter list", fmt.Sprintf("Your ballot counts %d times", lateWeight))
	b.audit("booth.html choices, late voter", "en")
	b.shot("04-booth-late-voter")
	b.choose("q0o0", "q1o1")
	b.run("cast", still("#cast"), chromedp.Click(css("#cast")), until(`document.body.dataset.castSeq !== undefined`))
	hand[0][0] += lateWeight
	hand[1][1] += lateWeight
}

// clockTab returns a tab whose clock (Date.now, what the booth reads)
// says ms, in the time zone zone.
func (b *browser) clockTab(ms int64, zone string) *browser {
	p := b.tab()
	p.run("set the clock", call(page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(`Date.now = () => %d;`, ms)}),
		call(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}))
	return p
}

// boothOutsideWindow: on a device whose clock is before opens_at the
// booth takes no credential, says when voting opens; after closes_at it
// says voting has closed and links to the results. In both languages.
func boothOutsideWindow(t *testing.T, b *browser) {
	// The voter's local time: opens_at is 08:00 in Shanghai.
	before := b.clockTab(time.Date(2019, 6, 1, 12, 0, 0, 0, time.UTC).UnixMilli(), "Asia/Shanghai")
	after := b.clockTab(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), "UTC")
	for _, c := range []struct {
		p       *browser
		name    string
		key     string
		en, zh  string
		results bool
		local   []string // the opening in the tab's time zone
	}{
		{before, "before", "booth.window.notyet", "Voting has not opened yet", "投票尚未开始", false, []string{"08:00", "Asia/Shanghai"}},
		{after, "after", "booth.window.closed", "Voting has closed", "投票已结束", true, []string{"00:00"}},
	} {
		for _, lang := range []string{"en", "zh"} {
			p := c.p
			p.open("index.html", "home")
			p.lang(lang)
			p.open("booth.html", "booth-closed")
			var st struct {
				Key       string
				CredShown bool
				Results   bool
			}
			p.eval(`({key: document.getElementById('closed-text').dataset.tkey,
				credShown: !document.getElementById('step-cred').hidden,
				results: !document.getElementById('closed-results').hidden})`, &st)
			if st.Key != c.key || st.CredShown || st.Results != c.results {
				t.Errorf("booth %s the window [%s]: %+v, want %s, no credential field, results link %v", c.name, lang, st, c.key, c.results)
			}
			want := c.en
			if lang == "zh" {
				want = c.zh
			}
			contains(t, "booth "+c.name+" the window", p.text("main"), append([]string{want, opensAt, closesAt}, c.local...)...)
			p.audit("booth.html "+c.name+" the window", lang)
			p.shot(fmt.Sprintf("05-booth-%s-window-%s", c.name, lang))
		}
		c.p.lang("")
	}
}

// refusedPosts: a ballot the board refuses as not_open_yet or closed (as
// a board whose clock disagrees with the voter's would) gets a clear,
// translated message and is not shown as cast.
func refusedPosts(t *testing.T, b *browser, cred string) {
	for _, c := range []struct{ code, lang, want string }{
		{"not_open_yet", "en", "Voting has not opened yet, so the board did not take this ballot"},
		{"closed", "zh", "投票已结束，因此公告板没有接受这张选票"},
	} {
		b.open("index.html", "home")
		b.lang(c.lang)
		b.enterBooth(cred)
		b.choose("q0o1", "q1o1")
		refusal := fmt.Sprintf(`{results: [{error: {code: %q, message: "bulletin: election %s: ballot at 2026-01-01T00:00:00Z"}}]}`, c.code, strings.ReplaceAll(c.code, "_", " "))
		b.run("the board refuses", js(`(() => { const f = window.fetch; window.fetch = (u, o) => (o && o.method === 'POST' && String(u).endsWith('/entries'))
			? Promise.resolve(new Response(JSON.stringify(`+refusal+`), {status: 200, headers: {'Content-Type': 'application/json'}})) : f(u, o); })()`),
			still("#cast"), chromedp.Click(css("#cast")), until(`document.getElementById('err').dataset.tkey === 'err.`+c.code+`'`))
		contains(t, "refused "+c.code, b.text("#err"), c.want)
		var cast bool
		b.eval(`document.body.dataset.castSeq !== undefined`, &cast)
		if cast {
			t.Errorf("a ballot refused with %s is shown as cast", c.code)
		}
		b.audit("booth.html refused "+c.code, c.lang)
		b.shot("06-booth-refused-" + c.code + "-" + c.lang)
	}
	b.lang("")
}

// weightedResults: the results and the board show the Chinese texts and
// the window, say that the counts are weighted, in both languages.
func weightedResults(t *testing.T, b *browser) {
	for _, lang := range []string{"zh", "en"} {
		x := bilingualTexts[lang]
		b.open("index.html", "home")
		b.lang(lang)
		b.open("results.html", "results")
		b.run("verification", until(`document.body.dataset.verify === 'ok'`))
		b.run("weighted", until(`!document.getElementById('weighted').hidden`))
		page := b.text("main")
		want := []string{x.title, x.q[0], x.q[1], x.o[0][2], x.o[1][0], opensAt}
		if lang == "zh" {
			want = append(want, "加权选举", "票数（加权）", "投票开始")
		} else {
			want = append(want, "Weighted election", "Votes (weighted)", "Voting opens")
		}
		contains(t, "results in "+lang, page, want...)
		b.audit("results.html weighted v4", lang)
		b.shot("07-results-" + lang)

		b.open("board.html", "board")
		b.run("late voters on the timeline", until(`document.getElementById('timeline').textContent !== ''`))
		board := b.text("main")
		contains(t, "board in "+lang, board, x.title, opensAt)
		if lang == "zh" {
			contains(t, "board in zh", board, "补充登记选民", "投票结束")
		} else {
			contains(t, "board in en", board, "Late voters registered", "late voters registered", "Voting closes")
		}
		b.audit("board.html v4", lang)
		b.shot("08-board-" + lang)
	}
	b.lang("")
}
