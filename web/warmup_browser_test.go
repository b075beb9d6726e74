package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/urna-vote/urna/ballot"
)

// TestBoothWarmUpPostsNothing: the booth's warm-up (a throw-away ballot
// encrypted while the voter reads, web/wasm/warmup.go) sends nothing. Once
// it has run, the page has posted nothing and the board holds the entries
// it held; after the voter challenges one ballot and casts another, the
// page has sent exactly two posts, the opening the voter asked to publish
// and the voter's ballot, and the board holds exactly those two entries
// more, the ballot with the tracker the booth showed. The challenge checks
// out.
func TestBoothWarmUpPostsNothing(t *testing.T) {
	b := browserIn(t, "warmup")
	withSpareCredential(t, func(node, cred string) { warmUpPostsNothing(t, b, node, cred) })
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

type boardEntry struct {
	Seq  uint64
	Type string
	// Entry is the canonical entry, as unpadded base64url.
	Entry string
}

func boardEntries(t *testing.T, node string) []boardEntry {
	t.Helper()
	var list struct{ Entries []boardEntry }
	getJSON(t, node+"/api/v1/entries?from=0&limit=1000", &list)
	return list.Entries
}

// postedEntries returns the entries of the POSTs to /api/v1/entries that
// the recorder saw.
func postedEntries(t *testing.T, rec *recorder) []string {
	t.Helper()
	var out []string
	for _, s := range rec.requests() {
		if s.Method == http.MethodGet || s.Method == http.MethodHead {
			continue
		}
		if !strings.HasPrefix(s.URL, "/api/v1/entries") {
			t.Errorf("the page sent %s %s", s.Method, s.URL)
			continue
		}
		var body struct{ Entries []string }
		if err := json.Unmarshal(s.Body, &body); err != nil {
			t.Fatalf("a post of entries: %v: %s", err, s.Body)
		}
		out = append(out, body.Entries...)
	}
	return out
}

func warmUpPostsNothing(t *testing.T, b *browser, node, cred string) {
	rec := newRecorder(t, node)
	b.base = rec.srv.URL
	before := boardEntries(t, node)

	b.open("booth.html", "booth")
	b.run("the warm-up", until(`performance.getEntriesByName('urna.warmup', 'measure').length === 3`))
	if posted := postedEntries(t, rec); len(posted) != 0 {
		t.Fatalf("after the warm-up the page posted %d entries", len(posted))
	}
	if now := boardEntries(t, node); len(now) != len(before) {
		t.Fatalf("after the warm-up the board holds %d entries, %d before", len(now), len(before))
	}

	b.run("enter the credential",
		chromedp.SendKeys(css("#cred"), cred),
		chromedp.SendKeys(css("#cred"), kb.Enter),
		until(`document.body.dataset.step === 'step-choices'`))
	challenged := b.choose("q0o2", "q1o0", "q1o3") // Blue; Parks, Public transport
	b.run("challenge",
		chromedp.Click(css("#challenge")),
		until(`document.body.dataset.step === 'step-challenged' && document.body.dataset.auditSeq !== undefined`))
	contains(t, "opened ballot", b.text("#step-challenged"), "Blue", "Parks", "Public transport", "checks out", "audited")
	var auditSeq uint64
	b.eval(`Number(document.body.dataset.auditSeq)`, &auditSeq)
	b.run("again", still("#again"), chromedp.Click(css("#again")), until(`document.body.dataset.step === 'step-choices'`))
	cast := b.choose("q0o3") // Gold
	b.run("cast",
		still("#cast"), chromedp.Click(css("#cast")),
		until(`document.body.dataset.step === 'step-cast' && document.body.dataset.receipt === 'ok'`))
	var castSeq uint64
	b.eval(`Number(document.body.dataset.castSeq)`, &castSeq)
	if cast == challenged {
		t.Fatalf("the cast ballot has the challenged ballot's tracker %s", cast)
	}

	posted := postedEntries(t, rec)
	after := boardEntries(t, node)
	if len(posted) != 2 || len(after) != len(before)+2 {
		t.Fatalf("the page posted %d entries and the board grew from %d to %d, want the opening and the ballot", len(posted), len(before), len(after))
	}
	added := after[len(before):]
	if added[0].Type != "audit" || added[0].Seq != auditSeq || added[0].Entry != posted[0] {
		t.Errorf("first new entry: %s at %d, want the posted opening at %d", added[0].Type, added[0].Seq, auditSeq)
	}
	if added[1].Type != "ballot" || added[1].Seq != castSeq || added[1].Entry != posted[1] {
		t.Errorf("second new entry: %s at %d, want the posted ballot at %d", added[1].Type, added[1].Seq, castSeq)
	}
	var receipt struct{ Tracker string }
	getJSON(t, fmt.Sprintf("%s/api/v1/receipts/%d", node, castSeq), &receipt)
	q, err := ballot.ParseTrackerQuery(receipt.Tracker)
	if err != nil || q.Short != cast {
		t.Errorf("the board's ballot has tracker %s (%v), the booth showed %s", receipt.Tracker, err, cast)
	}
}
