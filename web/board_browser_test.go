package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/web"
)

// TestBoardPageReadsTheEnd: the board explorer of an election of more
// than twice 50 entries reads only what it shows. Once the result is
// published it asks the node (through a recording proxy) for the newest
// 50 entries and the newest 25 blocks, never for entry or block 0; it
// shows the newest entry (the result) first; its timeline, from the
// status's count of entry types, marks the close and the result at their
// entries; and "show older" reads the 50 entries before, and only those,
// and moves the focus to the first of them. The results page reads only
// the credential list of the entries (resultsReadCredentials) and does not
// download the record of an election its status makes large
// (resultsLargeRecord).
func TestBoardPageReadsTheEnd(t *testing.T) {
	b := browserIn(t, "boardpage")
	served := 0
	cfg := demo.Config{Ballots: 90, Static: web.FS(), Progress: logWriter{t}}
	cfg.Serve = func(_ context.Context, node string, _ []string) error {
		served++
		if served == 2 { // after the result
			boardPageAtTheEnd(t, b, node)
			resultsReadCredentials(t, b, node)
			resultsLargeRecord(t, b, node)
			resultsRecordLargerThanSaid(t, b, node)
		}
		return nil
	}
	runDemo(t, "demo election", cfg)
	if served != 2 {
		t.Fatalf("Serve called %d times, want 2", served)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// shown and shownBlocks are what the board page shows at first (board.js
// SHOWN, BLOCKS).
const (
	shown       = 50
	shownBlocks = 25
)

func boardPageAtTheEnd(t *testing.T, b *browser, node string) {
	var st api.Election
	getJSON(t, node+"/api/v1/election", &st)
	n, nb := st.Counts.Entries, st.Counts.Blocks
	result, closed := st.Types["result"], st.Types["close"]
	if n <= 2*shown || nb == 0 || result.Count != 1 || result.First != n-1 || closed.Count != 1 {
		t.Fatalf("the demo's board: %d entries, %d blocks, types %v; want more than %d entries, ending with its result", n, nb, st.Types, 2*shown)
	}
	firstBlock := uint64(0)
	if nb > shownBlocks {
		firstBlock = nb - shownBlocks
	}

	tb, rec := recordedTab(t, b, node)
	tb.open("board.html", "board")
	tb.run("newest entries", until(fmt.Sprintf(`document.querySelectorAll('#entries tbody tr').length === %d`, shown)))

	// Only the newest entries and blocks were read.
	entries := pagesRead(t, rec, "/api/v1/entries")
	if len(entries) == 0 || entries[0] != n-shown {
		t.Fatalf("the page read entries from %v; want from %d (the newest %d of %d) only", entries, n-shown, shown, n)
	}
	for _, from := range entries {
		if from < n-shown {
			t.Fatalf("the page read entries from %v; want none before %d", entries, n-shown)
		}
	}
	blocks := pagesRead(t, rec, "/api/v1/blocks")
	if len(blocks) == 0 || blocks[0] != firstBlock {
		t.Fatalf("the page read blocks from %v; want from %d (the newest %d of %d)", blocks, firstBlock, shownBlocks, nb)
	}
	var rows []uint64
	tb.eval(`[...document.querySelectorAll('#entries tbody tr')].map((r) => Number(r.dataset.seq))`, &rows)
	if rows[0] != n-1 || rows[len(rows)-1] != n-shown {
		t.Fatalf("entries shown %d..%d, want the newest first: %d..%d", rows[0], rows[len(rows)-1], n-1, n-shown)
	}
	contains(t, "newest entry", tb.text("#entries tbody tr:first-child"), "result")
	var top uint64
	tb.eval(`Number(document.querySelector('#blocks tbody tr td').textContent)`, &top)
	if top != nb-1 {
		t.Fatalf("newest block shown %d, want %d", top, nb-1)
	}

	// The timeline marks the close and the result at their entries.
	var tl []struct{ Class, Text string }
	tb.eval(`[...document.querySelectorAll('#timeline li')].map((li) => ({ class: li.className, text: li.textContent }))`, &tl)
	var sawClose, sawResult bool
	for _, li := range tl {
		switch {
		case strings.HasPrefix(li.Text, "Voting closed"):
			sawClose = li.Class == "done" && strings.HasSuffix(li.Text, fmt.Sprintf("entry %d", closed.First))
		case strings.HasPrefix(li.Text, "Result published"):
			sawResult = li.Class == "current" && strings.HasSuffix(li.Text, fmt.Sprintf("entry %d", result.First))
		}
	}
	if !sawClose || !sawResult {
		t.Fatalf("timeline %+v: want the close done at entry %d and the result current at entry %d", tl, closed.First, result.First)
	}

	// "Show older" reads the 50 entries before, and focuses the first.
	before := len(entries)
	tb.run("show older", still("#more"), chromedp.Click(css("#more")),
		until(fmt.Sprintf(`document.querySelectorAll('#entries tbody tr').length === %d`, 2*shown)),
		until(fmt.Sprintf(`document.activeElement?.closest('tr')?.dataset.seq === '%d'`, n-shown-1)))
	entries = pagesRead(t, rec, "/api/v1/entries")
	if len(entries) != before+1 || entries[before] != n-2*shown {
		t.Fatalf("show older read entries from %v; want one more page from %d", entries[before:], n-2*shown)
	}
	tb.eval(`[...document.querySelectorAll('#entries tbody tr')].map((r) => Number(r.dataset.seq))`, &rows)
	for i, seq := range rows {
		if seq != n-1-uint64(i) {
			t.Fatalf("row %d shows entry %d, want %d (newest first, no gap)", i, seq, n-1-uint64(i))
		}
	}
	tb.audit("board.html, older entries", "en")
	tb.shot("board-older")
}

// pagesRead returns the from parameters of the page's GETs of path
// (the list, not one item), in the order the page sent them.
func pagesRead(t *testing.T, rec *recorder, path string) []uint64 {
	t.Helper()
	var out []uint64
	for _, s := range rec.sentTo(http.MethodGet, path+"?") {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		from, err := strconv.ParseUint(u.Query().Get("from"), 10, 64)
		if err != nil {
			t.Fatalf("GET %s: from: %v", s.URL, err)
		}
		out = append(out, from)
	}
	return out
}

// resultsReadCredentials: the results page reads, of the board's entries,
// only the credential list (where the status's count of entry types says
// it is), to learn whether the election is weighted; it used to read every
// entry from 0.
func resultsReadCredentials(t *testing.T, b *browser, node string) {
	var st api.Election
	getJSON(t, node+"/api/v1/election", &st)
	creds, ok := st.Types["credentials"]
	if !ok || creds.Count != 1 {
		t.Fatalf("the demo's board: types %v, want one credential list", st.Types)
	}
	if late, ok := st.Types["late-credentials"]; ok {
		t.Fatalf("the demo's board has %d late-credentials entries: this test wants none", late.Count)
	}
	tb, rec := recordedTab(t, b, node)
	tb.open("results.html", "results")
	tb.run("verification", until(`document.body.dataset.verify === 'ok'`))
	reads := rec.sentTo(http.MethodGet, "/api/v1/entries?")
	if len(reads) != 1 {
		var urls []string
		for _, r := range reads {
			urls = append(urls, r.URL)
		}
		t.Fatalf("the results page read entries %d times (%v), want once: the credential list", len(reads), urls)
	}
	if want := fmt.Sprintf("/api/v1/entries?from=%d&limit=1", creds.First); reads[0].URL != want {
		t.Fatalf("the results page read %s, want %s", reads[0].URL, want)
	}
}
