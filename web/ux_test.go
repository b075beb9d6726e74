package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The checks of issue 13 (what voters and observers stumbled on), called
// from the browser election of browser_test.go at the point of the flow
// where each belongs.

// lookalike types a credential or tracker the way a person might: lower
// case, the letter O for zero and l for one, en dashes and spaces.
func lookalike(s string) string {
	return strings.NewReplacer("0", "O", "1", "l", "-", " \u2013 ").Replace(strings.ToLower(s))
}

// stepIs checks that the booth shows step id, and that its progress
// indicator marks the step (the challenged ballot is part of the review).
func (b *browser) stepIs(what, id string) {
	b.t.Helper()
	want := id
	if id == "step-challenged" {
		want = "step-review"
	}
	var got struct {
		Step    string
		Current []string
		Shown   bool
	}
	b.eval(`({step: document.body.dataset.step,
		current: [...document.querySelectorAll('#progress li[aria-current="step"]')].map((li) => li.dataset.step),
		shown: !document.getElementById('progress').hidden})`, &got)
	if got.Step != id || !got.Shown || len(got.Current) != 1 || got.Current[0] != want {
		b.t.Errorf("%s: step %q, progress %v (shown %v), want %s marked %s", what, got.Step, got.Current, got.Shown, id, want)
	}
}

// credentialForms: a credential typed with look-alikes opens the booth; a
// character that is no symbol is named.
func credentialForms(t *testing.T, b *browser, cred string) {
	b.open("booth.html", "booth")
	b.stepIs("booth loaded", "step-cred")
	bad := cred[:7] + "U" + cred[8:]
	b.run("credential with U",
		js(`document.getElementById("cred").value = `+jsString(bad)),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.getElementById('cred-err').textContent !== ''`))
	contains(t, "credential with U", b.text("#cred-err"), "Character 8, “U”")
	b.run("credential with look-alikes",
		js(`document.getElementById("cred").value = `+jsString(lookalike(cred))),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.body.dataset.step === 'step-choices'`))
	b.stepIs("credential accepted", "step-choices")
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// offline makes the tab lose (or regain) its network connection.
func (b *browser) offline(off bool) {
	b.t.Helper()
	conds := []*network.Conditions{}
	if off {
		conds = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
	}
	b.run(fmt.Sprintf("offline %v", off), call(network.Enable, network.EnableParams{}),
		call(network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}))
}

// failedCast: casting without a connection says that the ballot was not
// cast, stops saying "Sending…", keeps the ballot under review with its
// tracker marked as not cast, and casts it when the voter tries again.
func failedCast(t *testing.T, b *browser) {
	b.offline(true)
	b.run("cast offline", still("#cast"), chromedp.Click(css("#cast")), until(`document.getElementById('err').textContent !== ''`))
	var st struct {
		Step, Status, Help, CastLabel string
		CastOn, ChangeOn, Focus       bool
	}
	b.eval(`({step: document.body.dataset.step, status: document.getElementById('status').textContent,
		help: document.getElementById('review-tracker-help').textContent,
		castLabel: document.getElementById('cast').textContent,
		castOn: !document.getElementById('cast').disabled, changeOn: !document.getElementById('change').disabled,
		focus: document.activeElement === document.getElementById('err')})`, &st)
	contains(t, "failed cast", b.text("#err"), "NOT cast", "try again")
	if st.Step != "step-review" || strings.Contains(st.Status, "Sending") || !strings.Contains(st.Help, "Not cast yet") ||
		!st.CastOn || !st.ChangeOn || !strings.Contains(st.CastLabel, "Try again") || !st.Focus {
		t.Errorf("after a failed cast: %+v", st)
	}
	b.audit("booth.html failed cast", "en")
	b.shot("07a-booth-cast-failed")
	b.offline(false)
}

// revoteNotice: a credential that already voted is told that a new ballot
// replaces the earlier one, before choosing and after casting.
func revoteNotice(t *testing.T, b *browser, earlier string) {
	b.run("revote notice", until(`!document.getElementById('revote').hidden`))
	contains(t, "revote notice", b.text("#revote"), "already cast", earlier, "replaces")
	b.audit("booth.html choices step of a revote", "en")
}

// backAndReload: the browser's Back button goes back one booth step, and a
// reload after casting still shows the ballot cast.
func backAndReload(t *testing.T, b *browser, tracker string) {
	b.stepIs("cast", "step-cast")
	contains(t, "success banner", b.text(".banner"), "Your ballot is cast")
	b.run("reload", chromedp.Reload(), until(`document.body.dataset.ready === 'booth' && document.body.dataset.step === 'step-cast'`))
	if got := b.text("#cast-tracker"); got != tracker {
		t.Errorf("after a reload the booth shows tracker %q, want %q", got, tracker)
	}
}

// reloadKeepsProgress: a reload in the middle of voting asks for the
// credential again, saying why, and then returns to step with the options
// (input ids, in page order) ticked as before.
func reloadKeepsProgress(t *testing.T, b *browser, cred, step string, checked ...string) {
	t.Helper()
	b.run("reload on "+step, chromedp.Reload(),
		until(`document.body.dataset.ready === 'booth' && document.body.dataset.step === 'step-cred'`))
	contains(t, "reload on "+step, b.text("#cred-kept"), "choices were kept", "for your security the credential is not kept")
	var typed string
	b.eval(`document.getElementById('cred').value`, &typed)
	if typed != "" {
		t.Errorf("after a reload the credential box holds %q", typed)
	}
	b.audit("booth.html credential step after a reload", "en")
	b.run("credential after the reload", js(`document.getElementById("cred").value = `+jsString(cred)),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.body.dataset.step === `+jsString(step)+` && document.getElementById('review-tracker').textContent !== ''`+
			` || document.body.dataset.step === 'step-choices' && `+jsString(step)+` === 'step-choices'`))
	b.stepIs("after the reload", step)
	var got []string
	b.eval(`[...document.querySelectorAll('#questions input:checked')].map(i => i.id)`, &got)
	if !slices.Equal(got, checked) {
		t.Errorf("after a reload on %s the choices are %v, want %v", step, got, checked)
	}
	var hidden bool
	b.eval(`document.getElementById('cred-kept').hidden`, &hidden)
	if !hidden {
		t.Errorf("after the credential the reload notice is still shown")
	}
}

// phone opens a tab the size of a 390 px phone, in language lang.
func (b *browser) phone(lang string) *browser {
	p := b.tab()
	p.run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	p.open("index.html", "home")
	if lang != "en" {
		p.run("language "+lang, js(`localStorage.setItem('urna.lang', `+jsString(lang)+`)`))
	} else {
		p.run("language "+lang, js(`localStorage.removeItem('urna.lang')`))
	}
	return p
}

// fits checks that nothing on the page is wider than the screen.
func (b *browser) fits(where string) {
	b.t.Helper()
	var wide []string
	b.eval(`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.scroll, pre')).map(e => e.tagName + '#' + e.id + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right) + '/' + document.documentElement.clientWidth).slice(0, 5)`, &wide)
	var sw int
	b.eval(`document.documentElement.scrollWidth`, &sw)
	if len(wide) > 0 || sw > 391 {
		b.t.Errorf("%s: the page is %d px wide; elements wider than the screen: %v", where, sw, wide)
	}
}

// phoneVote goes through every page and booth step on a 390 px phone in
// lang, auditing each, and casts Gold; Parks, Public transport with cred
// (a revote that does not change the result).
func phoneVote(t *testing.T, b *browser, cred, lang string) {
	p := b.phone(lang)
	p.open("index.html", "home")
	p.audit("index.html at 390 px", lang)
	p.fits("index.html " + lang)
	p.open("booth.html", "booth")
	p.audit("booth.html credential step at 390 px", lang)
	p.fits("booth credential " + lang)
	var credBox struct{ Bottom, Screen float64 }
	p.eval(`({bottom: document.getElementById('cred-form').querySelector('button').getBoundingClientRect().bottom, screen: window.innerHeight})`, &credBox)
	if credBox.Bottom > credBox.Screen {
		t.Errorf("390 px %s: the credential form ends at %.0f px, below the first screen (%.0f px)", lang, credBox.Bottom, credBox.Screen)
	}
	p.shot("18-booth-390px-" + lang)
	p.run("credential", js(`document.getElementById("cred").value = `+jsString(cred)),
		chromedp.SendKeys(css("#cred"), kb.Enter), until(`document.body.dataset.step === 'step-choices'`))
	p.run("revote notice", until(`!document.getElementById('revote').hidden`))
	// Question titles sit inside their box, however many lines they take.
	var overlap []string
	p.eval(`[...document.querySelectorAll('#questions fieldset')].filter(f => f.querySelector('legend').getBoundingClientRect().top < f.getBoundingClientRect().top + parseFloat(getComputedStyle(f).borderTopWidth) - 0.5).map(f => f.querySelector('legend').textContent)`, &overlap)
	if len(overlap) > 0 {
		t.Errorf("390 px %s: question titles overlapping their box: %v", lang, overlap)
	}
	p.audit("booth.html choices step at 390 px", lang)
	p.fits("booth choices " + lang)
	p.shot("19-booth-choices-390px-" + lang)
	// An option of one very long word (the organiser's text) wraps.
	p.run("long words", js(`(() => { const s = document.querySelector('label[for="q1o4"] span'); s.dataset.was = s.textContent;
		s.textContent = 'Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft'; })()`))
	p.fits("booth choices with a very long option word " + lang)
	p.shot("19b-booth-long-word-390px-" + lang)
	p.run("restore", js(`(() => { const s = document.querySelector('label[for="q1o4"] span'); s.textContent = s.dataset.was; })()`))
	p.choose("q0o3", "q1o0", "q1o3")
	p.audit("booth.html review step at 390 px", lang)
	p.fits("booth review " + lang)
	p.run("challenge", chromedp.Click(css("#challenge")),
		until(`document.body.dataset.step === 'step-challenged' && document.body.dataset.auditSeq !== undefined`))
	p.audit("booth.html challenged step at 390 px", lang)
	p.fits("booth challenged " + lang)
	p.run("again", still("#again"), chromedp.Click(css("#again")), until(`document.body.dataset.step === 'step-choices'`))
	p.choose()
	p.run("cast", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	p.audit("booth.html cast step at 390 px", lang)
	p.fits("booth cast " + lang)
	p.shot("20-booth-cast-390px-" + lang)
	tr := p.text("#cast-tracker")
	p.open("check.html?tracker="+tr, "check")
	p.run("check", until(`document.body.dataset.verdict !== undefined`))
	p.audit("check.html at 390 px", lang)
	p.fits("check " + lang)
	p.open("board.html", "board")
	p.run("checkpoint", until(`document.body.dataset.checkpoint === 'ok'`))
	p.audit("board.html at 390 px", lang)
	p.fits("board " + lang)
	p.shot("21-board-390px-" + lang)
	p.open("results.html", "results")
	p.audit("results.html before the result at 390 px", lang)
	p.run("back to the browser's language", js(`localStorage.removeItem('urna.lang')`))
}

// resultsDetails: the results page shows the ballots counted, the blank
// answers of a one-choice question, each option's share of voters and of
// votes, the options with the most votes, bars on one scale for every
// question, and offers the results as CSV and JSON with option names.
func resultsDetails(t *testing.T, b *browser) {
	var res struct {
		Questions []struct {
			Text    string
			Options []struct {
				Text  string
				Count uint64
			}
		}
	}
	getJSON(t, b.base+"/api/v1/results", &res)
	// Ballots counted: one per credential that cast one (its last).
	var list struct {
		Entries []struct{ Type, Author string }
	}
	getJSON(t, b.base+"/api/v1/entries?from=0&limit=1000", &list)
	voters := map[string]bool{}
	for _, e := range list.Entries {
		if e.Type == "ballot" {
			voters[e.Author] = true
		}
	}
	n := uint64(len(voters))
	contains(t, "ballots counted", b.text("#counted"), fmt.Sprintf("Ballots counted: %d", n))
	type row struct {
		Count         uint64
		Voters, Votes string
		Width         float64
		Winner        bool
	}
	var shown [][]row
	var blank []string
	b.eval(`[...document.querySelectorAll('table.chart')].map(t => [...t.tBodies[0].rows].map(r => ({
		count: Number(r.querySelector('[data-count]').dataset.count),
		voters: r.querySelector('[data-share=voters]').textContent, votes: r.querySelector('[data-share=votes]').textContent,
		width: parseFloat(r.querySelector('.fill').style.width), winner: r.classList.contains('winner') && r.textContent.includes('most votes')})))`, &shown)
	b.eval(`[...document.querySelectorAll('table.chart')].map(t => t.querySelector('[data-blank]')?.dataset.blank ?? '')`, &blank)
	pct := func(a, b uint64) string { return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b)) }
	maxPick := []int{1, 2} // the demo's questions: choose 1, choose 2
	for q, opts := range res.Questions {
		var sum, most uint64
		for _, o := range opts.Options {
			sum += o.Count
		}
		var counts []uint64
		for _, o := range opts.Options {
			counts = append(counts, o.Count)
		}
		slices.Sort(counts)
		slices.Reverse(counts)
		most = counts[maxPick[q]-1]
		for o, opt := range opts.Options {
			r := shown[q][o]
			want := row{Count: opt.Count, Voters: pct(opt.Count, n), Votes: pct(opt.Count, sum), Width: 100 * float64(opt.Count) / float64(n), Winner: opt.Count >= most && opt.Count > 0}
			if r.Count != want.Count || r.Voters != want.Voters || r.Votes != want.Votes || r.Winner != want.Winner || r.Width < want.Width-0.01 || r.Width > want.Width+0.01 {
				t.Errorf("results question %d option %s: %+v, want %+v", q+1, opt.Text, r, want)
			}
		}
		if q == 0 && blank[0] != fmt.Sprint(n-sum) {
			t.Errorf("results question 1 (choose one): blank %q, want %d", blank[0], n-sum)
		}
	}
	var regions []bool
	b.eval(`[...document.querySelectorAll('.scroll')].map(s => s.tabIndex === 0 && !!s.getAttribute('role'))`, &regions)
	if slices.Contains(regions, false) {
		t.Errorf("a scrolling table is not a focusable region: %v", regions)
	}
	// The downloads, saved as a voter's browser saves them (a page's
	// fetch of its blob: URLs is refused by its connect-src).
	files := b.downloads("dl-csv", "dl-json")
	contains(t, "results CSV", files.CSV, "question,option,votes,share_of_voters,share_of_votes,most_votes", "1,Red,", "2,Public transport,", "1,(blank),")
	var j struct {
		Schema         string
		BallotsCounted uint64 `json:"ballots_counted"`
		Questions      []struct {
			Text    string
			Options []struct {
				Text  string
				Votes uint64
			}
		}
	}
	if err := json.Unmarshal([]byte(files.JSON), &j); err != nil {
		t.Fatalf("results JSON: %v\n%s", err, files.JSON)
	}
	if j.Schema != "urna-results/1" || j.BallotsCounted != n || len(j.Questions) != len(res.Questions) {
		t.Errorf("results JSON: %+v", j)
	}
	for q := range j.Questions {
		for o := range j.Questions[q].Options {
			if got, want := j.Questions[q].Options[o], res.Questions[q].Options[o]; got.Text != want.Text || got.Votes != want.Count {
				t.Errorf("results JSON question %d option %d: %+v, want %+v", q, o, got, want)
			}
		}
	}
	if !strings.HasSuffix(files.CSVName, ".csv") || !strings.HasSuffix(files.JSONName, ".json") {
		t.Errorf("download names %q, %q", files.CSVName, files.JSONName)
	}
}

// device opens a tab in a browser context of its own: no cookies, storage
// or cache shared with b's tabs, as another device of the voter's.
func (b *browser) device() *browser { return b.newTab(chromedp.WithNewBrowserContext()) }

// answerLosingProxy serves target through a loopback proxy that, while
// armed, forwards every POST of an entry to the node and then cuts the
// connection instead of passing the node's answer on: the ballot is on the
// board, the voter's browser only sees the connection fail.
func answerLosingProxy(t *testing.T, target string) (proxyURL string, armed *atomic.Bool, forwarded *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	armed, forwarded = new(atomic.Bool), new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/entries") || !armed.Load() {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK || rec.Code == http.StatusCreated || rec.Code == http.StatusAccepted {
			forwarded.Add(1)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("proxy: %v", err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, armed, forwarded
}

// lostAnswer: the ballot reaches the board but the answer to the cast is
// lost on the way back (the connection breaks). The booth must not say
// "NOT cast" about a ballot on the board: it asks the board, finds the
// ballot, and shows it cast with its verified receipt. The ballot repeats
// the choices of cred's last one, so the result does not change.
func lostAnswer(t *testing.T, b *browser, cred string, choices ...string) {
	proxy, armed, forwarded := answerLosingProxy(t, b.base)
	p := b.tab()
	p.base = proxy
	p.enterBooth(cred)
	tr := p.choose(choices...)
	armed.Store(true)
	start := time.Now()
	p.run("cast, answer lost", still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' || document.getElementById('err').textContent !== ''`))
	armed.Store(false)
	t.Logf("lost answer: the booth decided in %v", time.Since(start).Round(time.Millisecond))
	if forwarded.Load() == 0 {
		t.Fatalf("lost answer: the proxy forwarded no ballot to the board")
	}
	var st struct {
		Step, Err, Receipt string
		Seq                string
	}
	p.eval(`({step: document.body.dataset.step, err: document.getElementById('err').textContent,
		receipt: document.body.dataset.receipt ?? '', seq: document.body.dataset.castSeq ?? ''})`, &st)
	var info struct {
		Seq  int
		Type string
	}
	getJSON(t, fmt.Sprintf("%s/api/v1/trackers/%s", b.base, tr), &info)
	if st.Step != "step-cast" || st.Err != "" || st.Seq != strconv.Itoa(info.Seq) || info.Type != "ballot" {
		t.Fatalf("a ballot on the board (entry %d, %s) whose answer was lost: booth %+v, want it shown cast as entry %d", info.Seq, info.Type, st, info.Seq)
	}
	p.run("receipt", until(`document.body.dataset.receipt === 'ok'`))
	if got := p.text("#cast-tracker"); got != tr {
		t.Errorf("lost answer: the booth shows tracker %q, want %q", got, tr)
	}
	p.audit("booth.html cast after a lost answer", "en")
}

// auditFromSecondDevice: a voter who challenged a ballot confirms what it
// contained from another device (nothing shared with the booth's browser):
// the check page and the board explorer's search both show the opened
// choices, checked in that browser against the encrypted ballot.
func auditFromSecondDevice(t *testing.T, b *browser, tracker string, want ...string) {
	d := b.device()
	defer d.close()
	var kept int
	d.open("index.html", "home")
	d.eval(`localStorage.length + sessionStorage.length`, &kept)
	if kept != 0 {
		t.Fatalf("second device: a new browser context holds %d stored items", kept)
	}
	d.open("check.html?tracker="+url.QueryEscape(lookalike(tracker)), "check")
	d.run("check audited, second device", until(`document.body.dataset.verdict !== undefined`))
	contains(t, "check audited, second device", d.text("#out"), append([]string{"Audited", "The challenged ballot contained", "Opening checked"}, want...)...)
	d.audit("check.html audited ballot, second device", "en")
	d.open("board.html", "board")
	d.run("checkpoint", until(`document.body.dataset.checkpoint === 'ok'`))
	d.run("search audited, second device",
		chromedp.SendKeys(css("#search"), lookalike(tracker)),
		chromedp.SendKeys(css("#search"), kb.Enter),
		until(`document.getElementById('search-out').textContent.includes('Opening')`))
	contains(t, "board search audited, second device", d.text("#search-out"), append([]string{tracker, "Audited", "The challenged ballot contained", "Opening checked"}, want...)...)
	d.audit("board.html audited ballot found, second device", "en")
	d.shot("08b-board-audited-second-device")
	d.run("zh", js(`localStorage.setItem('urna.lang', 'zh')`))
	d.open("board.html", "board")
	d.run("checkpoint zh", until(`document.body.dataset.checkpoint === 'ok'`))
	d.run("search audited zh",
		chromedp.SendKeys(css("#search"), tracker),
		chromedp.SendKeys(css("#search"), kb.Enter),
		until(`document.getElementById('search-out').textContent.includes('被质询的选票内容')`))
	contains(t, "board search audited in Chinese", d.text("#search-out"), append([]string{"已审计", "已在本浏览器中核对"}, want...)...)
	d.audit("board.html audited ballot found, second device", "zh")
}
