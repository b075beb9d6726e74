package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/web"
)

// TestBrowserSecondElection: a board holds two elections (demo-1 and
// demo-2, as `urna demo --elections 2`); a voter votes in the one that is
// not the board's default (the first created) through
// booth.html?election=ID, every link keeps the election, the results page
// of that election shows its result, and the default election's result is
// its simulated ballots alone. The index lists both elections,
// axe-core clean in en and zh; a malformed election id gets a translated
// message.
func TestBrowserSecondElection(t *testing.T) {
	b := browserIn(t, "elections")
	// The board's default election is the one created first: the two
	// are created side by side, so the test votes in the other.
	var second string
	hand := [][]uint64{make([]uint64, 4), make([]uint64, 5)}
	var mu sync.Mutex
	served := map[string]int{}
	cfg := demo.Config{Ballots: 3, Elections: 2, Static: web.FS(), Progress: logWriter{t}}
	cfg.Serve = func(ctx context.Context, url string, creds []string) error {
		id := demo.ServedElection(ctx)
		var list struct {
			Elections []struct {
				ID      string `json:"election_id"`
				Default bool
			}
		}
		getJSON(t, url+"/api/v1/elections", &list)
		mu.Lock()
		served[id]++
		for _, e := range list.Elections {
			if e.ID == id && !e.Default {
				second = id
			}
		}
		mine := second == id
		mu.Unlock()
		if !mine {
			return nil // the default election: nobody votes by hand
		}
		b.base = url
		if creds != nil {
			voteInSecond(t, b, id, creds[0], hand)
		} else {
			secondResults(t, b, id)
		}
		return nil
	}
	out := runDemo(t, "demo with two elections", cfg)
	if len(out.Elections) != 2 || served["demo-1"] != 2 || served["demo-2"] != 2 || second == "" {
		t.Fatalf("%d elections, Serve called %v, voted in %q: want 2 elections served twice each, one not the default", len(out.Elections), served, second)
	}
	first, two := out.Elections[0], out.Elections[1]
	if second == "demo-1" {
		first, two = two, first
	}
	if first.ByHand != 0 {
		t.Errorf("the first election counts %d ballots cast by hand, want none", first.ByHand)
	}
	for q := range first.Counts {
		for o := range first.Counts[q] {
			if first.Counts[q][o] != first.Expected[q][o] {
				t.Errorf("first election question %d option %d: %d, want the simulated %d", q, o, first.Counts[q][o], first.Expected[q][o])
			}
			if want := two.Expected[q][o] + hand[q][o]; two.Counts[q][o] != want {
				t.Errorf("second election question %d option %d: %d, want %d simulated + %d from the browser", q, o, two.Counts[q][o], two.Expected[q][o], hand[q][o])
			}
		}
	}
	if two.ByHand != 1 {
		t.Errorf("the second election counts %d ballots cast by hand, want 1", two.ByHand)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// voteInSecond casts one ballot with cred in election id through the
// booth, and checks the links of the pages keep the election.
func voteInSecond(t *testing.T, b *browser, id, cred string, hand [][]uint64) {
	b.open("booth.html?election="+id, "booth")
	var fp string
	b.eval(`document.body.dataset.key === 'ok' && document.body.dataset.fingerprint`, &fp)
	var st struct{ Fingerprint string }
	getJSON(t, b.base+"/api/v1/elections/"+id+"/election", &st)
	if fp == "" || fp != st.Fingerprint {
		t.Fatalf("booth?election=%s established fingerprint %q, the election's is %q", id, fp, st.Fingerprint)
	}
	var def struct{ Fingerprint string }
	getJSON(t, b.base+"/api/v1/election", &def)
	if def.Fingerprint == st.Fingerprint {
		t.Fatalf("the default election and %s have one fingerprint %q: the test cannot tell them apart", id, fp)
	}
	b.run("enter credential", chromedp.SendKeys(css("#cred"), cred+"\n"),
		until(`document.body.dataset.step === 'step-choices'`))
	b.choose("q0o1", "q1o2", "q1o3")
	b.run("cast", still("#cast"), chromedp.Click(css("#cast")), until(`document.body.dataset.castSeq !== undefined`))
	hand[0][1]++
	hand[1][2]++
	hand[1][3]++
	b.shot("01-booth-second-cast")
	var hrefs []string
	b.eval(`[...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')).filter((h) => /\.html/.test(h) && !/^index\.html$/.test(h))`, &hrefs)
	if len(hrefs) < 4 {
		t.Fatalf("booth links %v: want the nav and the check link", hrefs)
	}
	for _, h := range hrefs {
		if !strings.Contains(h, "election="+id) {
			t.Errorf("booth link %q drops the election", h)
		}
	}
	var check string
	b.eval(`document.getElementById('check-link').getAttribute('href')`, &check)
	contains(t, "check link", check, "check.html?tracker=", "&election="+id)
	// The check link opens the check page of the same election.
	b.open(check, "check")
	b.run("the check page finds the ballot in "+id, until(`/counts/i.test(document.getElementById('main').textContent)`))

	// A malformed id: a translated message, no request to a wrong address.
	for _, lang := range []string{"en", "zh"} {
		want := map[string]string{"en": "is not an election id", "zh": "不是有效的选举标识"}[lang]
		b.lang(lang)
		b.open("booth.html?election=Demo_2", "booth-failed")
		contains(t, "malformed election id ["+lang+"]", b.text("#election-err"), "Demo_2", want)
		b.audit("booth.html?election=Demo_2", lang)
	}
	b.lang("")
	b.open("results.html?election=no-such-election", "results")
	b.run("unknown election", until(`/no election with the id/.test(document.getElementById('main').textContent)`))
}

// secondResults: the results page of election id shows its published result;
// the index lists both elections.
func secondResults(t *testing.T, b *browser, id string) {
	b.open("results.html?election="+id, "results")
	b.run("verification", until(`['ok', 'fail', 'error'].includes(document.body.dataset.verify)`))
	var state string
	b.eval(`document.body.dataset.verify`, &state)
	if state != "ok" {
		b.shot("02-results-second-failed")
		t.Fatalf("in-browser verification of %s: %s\n%s", id, state, b.text("main"))
	}
	contains(t, "results of "+id, b.text("main"), "urna verify --election "+id+" ")
	b.countsShown(t, "the results of "+id, "/api/v1/elections/"+id+"/results")
	var record string
	b.eval(`document.getElementById('record').getAttribute('href')`, &record)
	if record != "/api/v1/elections/"+id+"/record" {
		t.Errorf("the record link of %s's results is %q", id, record)
	}
	var digest string
	b.eval(`document.querySelector('footer .code-digest a').getAttribute('href')`, &digest)
	if digest != "/api/v1/elections/"+id+"/booth" {
		t.Errorf("the footer's booth digest link of %s's results is %q", id, digest)
	}
	b.shot("02-results-second")

	for _, lang := range []string{"en", "zh"} {
		b.lang(lang)
		b.open("index.html", "home")
		var items []string
		b.eval(`[...document.querySelectorAll('#elections-list li')].map((li) => li.dataset.election)`, &items)
		if len(items) != 2 || !slices.Contains(items, "demo-1") || !slices.Contains(items, "demo-2") {
			t.Fatalf("index [%s] lists %v, want demo-1 and demo-2", lang, items)
		}
		var links []string
		b.eval(`[...document.querySelectorAll('#elections-list a')].map((a) => a.getAttribute('href'))`, &links)
		want := fmt.Sprintf("[booth.html?election=%[1]s results.html?election=%[1]s booth.html?election=%[2]s results.html?election=%[2]s]", items[0], items[1])
		if fmt.Sprint(links) != want {
			t.Errorf("index [%s] links %v, want %s", lang, links, want)
		}
		b.audit("index.html listing", lang)
		b.shot("03-index-" + lang)
	}
	b.lang("")
}
