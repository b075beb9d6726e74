package textreport

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
)

// written checks what Write prints for rep: it holds each of wants, and
// not absent (unless empty).
func written(t *testing.T, rep *client.Report, absent string, wants ...string) {
	t.Helper()
	var buf bytes.Buffer
	Write(&buf, rep, 0)
	for _, want := range wants {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
	if absent != "" && strings.Contains(buf.String(), absent) {
		t.Errorf("report holds %q:\n%s", absent, buf.String())
	}
}

func report(ok bool) *client.Report {
	rep := &client.Report{ElectionID: "e1", Title: "Board 2026", Complete: ok,
		Entries: 1, Blocks: 1, Checkpoints: 1, Ballots: 1, Counted: 1, Voters: 1}
	for i := 1; i <= client.NumSteps; i++ {
		rep.Steps = append(rep.Steps, client.StepResult{ID: fmt.Sprintf("V%d", i), Title: "step", OK: true, Ran: ok, Checked: 1})
	}
	return rep
}

// The result names the manifest's questions and options, and the record
// line uses singulars for one.
func TestWriteNamesOptions(t *testing.T) {
	rep := report(true)
	rep.Questions = []ballot.Question{{Text: "Chair?", Options: []string{"Ada", "Grace Hopper"}}, {Text: "Budget?", Options: []string{"Parks"}}}
	rep.Counts, rep.Trustees = [][]uint64{{3, 14}, {1}}, []int{1, 3}
	written(t, rep, "option 1", // the manifest names the options
		"Record       1 entry in 1 block, 1 checkpoint; 1 ballot (1 counted, 0 audited) from 1 voter\n",
		"Result (combined from trustees 1 and 3):\nChair?\n  Ada               3\n  Grace Hopper     14\n\nBudget?\n  Parks      1\n\nVerdict",
		"VERIFIED")
}

// A report without the manifest's labels numbers questions and options.
func TestWriteUnlabelled(t *testing.T) {
	rep := report(true)
	rep.Entries, rep.Blocks, rep.Checkpoints, rep.Ballots, rep.Voters = 0, 2, 0, 2, 2
	rep.Counts, rep.Trustees = [][]uint64{{3, 4}}, []int{1}
	written(t, rep, "",
		"Record       0 entries in 2 blocks, 0 checkpoints; 2 ballots (1 counted, 0 audited) from 2 voters\n",
		"Result (combined from trustee 1):\nquestion 1\n  option 1      3\n  option 2      4\n")
	rep.Trustees = []int{1, 2, 4}
	written(t, rep, "", "Result (combined from trustees 1, 2 and 4):")
}

// Steps after a fatal failure are "not reached", with the reason, and the
// verdict names only the step that failed.
func TestWriteNotReached(t *testing.T) {
	rep := report(false)
	rep.Steps[0] = client.StepResult{ID: "V1", Title: "step", OK: false, Ran: true, Checked: 9,
		Failures: []client.Failure{{Entry: 9, Block: client.NoEntry, Detail: "record truncated"}}}
	for i := 1; i < len(rep.Steps); i++ {
		rep.Steps[i].Skipped = "the record does not decode (V1)"
		rep.Steps[i].Outcome = client.OutcomeNotReached
	}
	written(t, rep, "V2   FAIL", // not reached is not failed
		"  V1   FAIL  step",
		"              - entry 9: record truncated\n",
		"  V2   --    step                                                       not reached: the record does not decode (V1)\n",
		"  V13  --    step ",
		"Verdict: FAILED (V1) in")
}

// A step that does not apply to the election says so, not "not reached".
func TestWriteNotApplicable(t *testing.T) {
	rep := report(true)
	last := &rep.Steps[len(rep.Steps)-1]
	last.Ran, last.Skipped, last.Outcome = false, "the manifest has no ranked, score or write-in question", client.OutcomeNotApplicable
	written(t, rep, "not reached",
		"--    step                                                       not applicable: the manifest has no ranked, score or write-in question\n")
}

func TestStepsMoreFailures(t *testing.T) {
	rep := report(true)
	rep.Steps[7].OK = false
	for i := 0; i < 3; i++ {
		rep.Steps[7].Failures = append(rep.Steps[7].Failures, client.Failure{Entry: int64(i), Block: client.NoEntry, Detail: "bad"})
	}
	for more, want := range map[int]string{2: "… and 1 more failure\n", 1: "… and 2 more failures\n"} {
		var buf bytes.Buffer
		Steps(&buf, rep, more)
		if !strings.Contains(buf.String(), want) {
			t.Errorf("at most %d failures: lacks %q:\n%s", more, want, buf.String())
		}
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 ballots", 1: "1 ballot", 2: "2 ballots", 11: "11 ballots"} {
		if got := Plural(n, "ballot", "ballots"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestList(t *testing.T) {
	for _, c := range []struct {
		in   []int
		list string
		tr   string
	}{
		{nil, "", "no trustee"}, {[]int{4}, "4", "trustee 4"}, {[]int{1, 3}, "1 and 3", "trustees 1 and 3"}, {[]int{1, 2, 4}, "1, 2 and 4", "trustees 1, 2 and 4"},
	} {
		if got := List(c.in); got != c.list {
			t.Errorf("List(%v) = %q, want %q", c.in, got, c.list)
		}
		if got := Trustees(c.in); got != c.tr {
			t.Errorf("Trustees(%v) = %q, want %q", c.in, got, c.tr)
		}
	}
}
