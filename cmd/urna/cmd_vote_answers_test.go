package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVoteAnswers: `urna vote --answers FILE` casts ranked, score and
// write-in answers in a version-3 election on an in-process node and
// shows them as given, and its receipt checks out; a bad ranking is refused naming the question, and
// --choices, which cannot answer a ranking, is refused with a hint.
func TestVoteAnswers(t *testing.T) {
	N, p, must, voteAt := voteElection(t, `{"version":3,"election_id":"answers-1","title":"Kinds","threshold":2,
	 "questions":[{"text":"Chair","options":["Ada","Grace"],"min":1,"max":1},
	  {"text":"Rank the venues","options":["Lyon","Oslo","Pisa"],"min":1,"max":3,"kind":"ranked"},
	  {"text":"Grade the menus","options":["fish","pasta"],"min":0,"max":5,"kind":"score"},
	  {"text":"Motto","options":[],"min":0,"max":20,"kind":"write-in"}]}`)
	vote := func(args ...string) (string, error) { return voteAt(time.Now(), args...) }
	file := func(name, json string) string {
		if err := os.WriteFile(p(name), []byte(json), 0o600); err != nil {
			t.Fatal(err)
		}
		return p(name)
	}

	out, err := vote("--answers", file("bad.json", `[{"choices":[1]},{"ranking":[3,1,3]},{"scores":[1,2]},{"text":""}]`))
	if err == nil || !strings.Contains(err.Error(), `question 2 ("Rank the venues"): option 3 ("Pisa") is listed twice`) {
		t.Fatalf("bad ranking: %v\n%s", err, out)
	}
	out, err = vote("--answers", file("long.json", `[{"choices":[1]},{"ranking":[1]},{"scores":[1,6]},{"text":""}]`))
	var h hinter
	if err == nil || !strings.Contains(err.Error(), "scored 6, outside 0..5") || !strings.Contains(err.Error(), "nothing was sent") || !errors.As(err, &h) || !strings.Contains(h.Hint(), "from 0") {
		t.Fatalf("score out of range: %v\n%s", err, out)
	}
	if out, err = vote("--choices", "1;1;;"); err == nil || !strings.Contains(err.Error(), `question 2 ("Rank the venues")`) {
		t.Fatalf("--choices for a ranked question: %v\n%s", err, out)
	}
	if out, err = vote("--choices", "1", "--answers", p("bad.json")); err == nil || !strings.Contains(err.Error(), "either --choices or --answers") {
		t.Fatalf("both flags: %v", err)
	}
	good := file("good.json", `[{"choices":[2]},{"ranking":[3,1]},{"scores":[5,0]},{"text":"Zoë 李"}]`)
	// --challenge opens a first ballot of the answers on the board (SPEC.md
	// §12.10) and shows what it contained, then casts a fresh one.
	out, err = vote("--answers", good, "--challenge")
	if err != nil {
		t.Fatalf("--challenge with --answers: %v\n%s", err, out)
	}
	for _, want := range []string{"was opened on the board; it contained:", "Rank the venues: 1. Pisa, 2. Lyon", `Motto: "Zoë 李"`, "the opening checks out", "cast ballot "} {
		if !strings.Contains(out, want) {
			t.Errorf("vote --challenge output lacks %q:\n%s", want, out)
		}
	}
	out, err = vote("--answers", good)
	if err != nil {
		t.Fatalf("vote --answers: %v\n%s", err, out)
	}
	for _, want := range []string{"Chair: Grace", "Rank the venues: 1. Pisa, 2. Lyon", "Grade the menus: fish: 5, pasta: 0", `Motto: "Zoë 李"`, "cast ballot ", "receipt saved to "} {
		if !strings.Contains(out, want) {
			t.Errorf("vote output lacks %q:\n%s", want, out)
		}
	}
	receipts, _ := filepath.Glob(p("receipts/receipt-*.json"))
	if len(receipts) != 2 {
		t.Fatalf("receipts: %v", receipts)
	}
	for _, r := range receipts {
		must("check-receipt", r, N)
	}
}

// runVoteCmd runs `urna vote` on node flag N as voter 1 of credentials,
// with the clock at now, and returns what it printed and its error.
func runVoteCmd(t *testing.T, N, credentials, receipts string, now time.Time, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }, now: func() time.Time { return now }}
	fs := flag.NewFlagSet("vote", flag.ContinueOnError)
	act := voteFlags(fs)
	if err := fs.Parse(append([]string{N, "--credential-file", credentials, "--voter", "1", "--receipt-dir", receipts}, args...)); err != nil {
		t.Fatal(err)
	}
	err := act(context.Background(), e, nil)
	return out.String(), err
}
