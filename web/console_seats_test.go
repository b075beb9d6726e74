package web_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/roles"
)

// TestBrowserConsoleRankedSeats: the authority writes a ranked question
// in the console and fixes the seats its STV count elects (SPEC.md
// §12.1). The form refuses seats out of range (as many as the options, 0)
// naming the question and marking the field, in English and Chinese, and
// the manifest it posts carries the seats chosen.
func TestBrowserConsoleRankedSeats(t *testing.T) {
	path := requireBrowser(t)
	dir := artifacts(t)
	cb := newConsoleBoard(t)
	if _, err := roles.InitAuthority(rand.Reader, cb.path("ea")); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, path, dir)
	b.base = cb.url
	b.open("console", "console")
	b.loadKey(cb.path("ea/authority.key"))
	b.fillElection(cb, "console-seats")
	b.run("a ranked question of four options",
		chromedp.SetValue(css("#q1-kind"), "ranked"),
		js(`document.getElementById('q1-kind').dispatchEvent(new Event('change'))`),
		until(`!document.getElementById('q1-seatsrow').hidden`),
		chromedp.SetValue(css("#q1-options"), "North\nSouth\nEast\nWest"))
	for _, bad := range []string{"4", "0", "1.5"} {
		b.run("seats "+bad, chromedp.SetValue(css("#q1-seats"), bad),
			js(`document.getElementById('create-err').textContent = ''`),
			chromedp.Click(css(`#create-form button[type=submit]`)),
			until(`document.getElementById('create-err').textContent !== ''`))
		contains(t, "seats "+bad, b.text("#create-err"), "Question 2", "from 1 to 3")
		var invalid string
		b.eval(`document.getElementById('q1-seats').getAttribute('aria-invalid') || ''`, &invalid)
		if invalid != "true" {
			t.Errorf("seats %s: the field is not marked invalid (aria-invalid %q)", bad, invalid)
		}
	}
	b.audit("console seats out of range", "en")
	b.run("zh", chromedp.SetValue(css("#lang"), "zh"),
		js(`document.getElementById('lang').dispatchEvent(new Event('change'))`), until(`document.documentElement.lang === 'zh-Hans'`),
		js(`document.getElementById('create-err').textContent = ''`),
		chromedp.Click(css(`#create-form button[type=submit]`)),
		until(`document.getElementById('create-err').textContent !== ''`))
	contains(t, "seats in Chinese", b.text("main"), "应选席位数")
	contains(t, "seats error in Chinese", b.text("#create-err"), "第 2 题", "1 到 3")
	b.audit("console seats out of range", "zh")
	b.run("en", chromedp.SetValue(css("#lang"), "en"),
		js(`document.getElementById('lang').dispatchEvent(new Event('change'))`), until(`document.documentElement.lang === 'en'`),
		chromedp.SetValue(css("#q1-seats"), "3"))
	b.prepareAndPost(cb)
	st, err := cb.cl.Election(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if q := m.Questions[1]; q.Kind != ballot.KindRanked || q.Seats != 3 || m.Version != ballot.ManifestVersionKinds {
		t.Fatalf("the posted manifest (version %d) has question 2 of kind %v with %d seats, want ranked with 3", m.Version, q.Kind, q.Seats)
	}
}
