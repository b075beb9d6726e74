package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestVoteAndTallyNextSteps runs an election on an in-process node as its
// parties would, through `urna …` command lines with flags after the
// command's other arguments: a voter who votes twice is told that the
// second ballot replaces the first (issue 13: `urna vote` was silent); a
// trustee who decrypts before the close, the authority who tallies before
// the trustees decrypted, and a voter who votes after the close are each
// told which command comes next; the first ballot's receipt then says that
// it was replaced.
func TestVoteAndTallyNextSteps(t *testing.T) {
	N, p, must, _ := voteElection(t, `{"election_id":"next-1","title":"Next steps","threshold":2,
	 "questions":[{"text":"Chair","options":["Ada","Grace"],"min":1,"max":1}]}`)
	node := strings.TrimPrefix(N, "--node=")
	vote := func(choice string) (string, error) {
		return urnaCmd(t, "vote", "--credential-file", p("ca/credentials.txt"), "--voter", "1", "--receipt-dir", p("receipts"), "--choices", choice, N)
	}
	hintOf := func(err error) string {
		var h hinter
		if errors.As(err, &h) {
			return h.Hint()
		}
		return ""
	}

	first, err := vote("1")
	if err != nil {
		t.Fatalf("first vote: %v\n%s", err, first)
	}
	if strings.Contains(first, "already voted") {
		t.Errorf("a first ballot is announced as a revote:\n%s", first)
	}
	m := regexp.MustCompile(`cast ballot (\S+) \(entry (\d+)\)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first vote names no ballot:\n%s", first)
	}
	second, err := vote("2")
	if err != nil {
		t.Fatalf("second vote: %v\n%s", err, second)
	}
	if want := "this credential had already voted: this ballot replaces your earlier ballot " + m[1] + " (entry " + m[2] + "), which no longer counts"; !strings.Contains(second, want) {
		t.Errorf("revote output lacks %q:\n%s", want, second)
	}

	// Before the close: decrypting says how voting closes.
	out, err := urnaCmd(t, "trustee", "decrypt", "--dir", p("t1"), N)
	if h := hintOf(err); err == nil || !strings.Contains(h, "urna authority close --dir DIR --node "+node) || !strings.Contains(out, "hint: ") {
		t.Fatalf("decrypt before the close: %v (hint %q)\n%s", err, h, out)
	}
	must("authority", "close", "--dir", p("ea"), N)

	// After the close: a ballot is refused, saying what the voter can do.
	out, err = vote("1")
	if h := hintOf(err); err == nil || !strings.Contains(h, "urna check-receipt RECEIPT --node "+node) || !strings.Contains(h, "urna verify "+node) {
		t.Fatalf("vote after the close: %v (hint %q)\n%s", err, h, out)
	}
	// Tallying before enough trustees decrypted names their command.
	out, err = urnaCmd(t, "tally", "--dir", p("ea"), N)
	if h := hintOf(err); err == nil || !strings.Contains(h, "urna trustee decrypt --dir DIR --node "+node) {
		t.Fatalf("tally before the decryptions: %v (hint %q)\n%s", err, h, out)
	}
	must("trustee", "decrypt", "--dir", p("t1"), N)
	must("trustee", "decrypt", "--dir", p("t2"), N)
	out = mustUrna(t, "tally", "--dir", p("ea"), N)
	if !strings.Contains(out, "1 ballot counted, partial decryptions of trustees 1 and 2 combined") {
		t.Errorf("tally output:\n%s", out)
	}
	// The first ballot's receipt: on the board, replaced by the second.
	out = mustUrna(t, "check-receipt", p("receipts/receipt-"+m[1]+".json"), N)
	for _, want := range []string{"receipt OK: ballot " + m[1] + " is entry " + m[2], "the newest checkpoint of 1 node: ",
		"this ballot was replaced by a later ballot of the same credential"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-receipt of the replaced ballot lacks %q:\n%s", want, out)
		}
	}
	out = mustUrna(t, "verify", node)
	if !strings.Contains(out, "Grace      1") {
		t.Errorf("the replacing ballot (Grace) is not the one counted:\n%s", out)
	}
}
