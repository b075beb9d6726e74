// Package textreport renders a verification report (package client,
// SPEC.md §10) for people: one line per step V1–V13 with its outcome and
// failures, as `urna verify` and `urna demo` print it.
package textreport

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
)

// Write prints the whole report: the election, the record's size, every
// step, the result if any, and the verdict with the time verification took.
func Write(w io.Writer, rep *client.Report, took time.Duration) {
	WriteMixed(w, rep, nil, nil, took)
}

// WriteMixed is Write for an election with ranked, score or write-in
// questions: their verified outcomes (Mixed, with manifest m) follow the
// result of the selection questions, before the result digest and the
// verdict.
func WriteMixed(w io.Writer, rep *client.Report, m *ballot.Manifest, mixed []*client.MixedOutcome, took time.Duration) {
	title := rep.Title
	if title == "" {
		title = "(no manifest)"
	}
	fmt.Fprintf(w, "Election     %s", title)
	if rep.ElectionID != "" {
		fmt.Fprintf(w, " [%s]", rep.ElectionID)
	}
	fmt.Fprintf(w, "\nFingerprint  %s\n", hex.EncodeToString(rep.Fingerprint[:]))
	fmt.Fprintf(w, "Record       %s in %s, %s; %s (%d counted, %d audited) from %s\n",
		Plural(rep.Entries, "entry", "entries"), Plural(rep.Blocks, "block", "blocks"),
		Plural(rep.Checkpoints, "checkpoint", "checkpoints"), Plural(rep.Ballots, "ballot", "ballots"),
		rep.Counted, rep.Audited, Plural(rep.Voters, "voter", "voters"))
	if rep.Credentials > 0 {
		fmt.Fprintf(w, "Credentials  %d registered (N, V6.3): compare with the number of eligible voters\n", rep.Credentials)
		if rep.Weight != uint64(rep.Credentials) {
			fmt.Fprintf(w, "Weights      %d in all (V6.3): compare with the voter roll; the counted ballots weigh %d (maxCount, V10.6)\n", rep.Weight, rep.MaxCount)
		}
	}
	fmt.Fprintln(w)
	Steps(w, rep, 0)
	fmt.Fprintln(w)
	if rep.Counts != nil {
		fmt.Fprintf(w, "Result (combined from %s):", Trustees(rep.Trustees))
		Result(w, rep.Result())
		if m != nil && len(mixed) > 0 {
			Mixed(w, m, mixed)
		}
		if rep.ResultDigest != nil {
			fmt.Fprintf(w, "Result digest %s (V13.5: compare it with other verifiers')\n", hex.EncodeToString(rep.ResultDigest[:]))
		}
		fmt.Fprintln(w)
	}
	var failed []string
	for _, s := range rep.Steps {
		if !s.OK {
			failed = append(failed, s.ID)
		}
	}
	switch {
	case len(failed) > 0:
		fmt.Fprintf(w, "Verdict: FAILED (%s) in %v\n", strings.Join(failed, ", "), took.Round(time.Millisecond))
	case !rep.Complete:
		fmt.Fprintf(w, "Verdict: INCOMPLETE: every step so far passed, on an election still in progress (%v)\n", took.Round(time.Millisecond))
	default:
		fmt.Fprintf(w, "Verdict: VERIFIED: every step passed (%v)\n", took.Round(time.Millisecond))
	}
}

// Steps prints one line per step: its ID, "ok", "FAIL" or "--" (not
// reached, with the reason), its title and how many items it checked,
// then its failures, at most maxFailures of them (0: all the report holds).
func Steps(w io.Writer, rep *client.Report, maxFailures int) {
	for _, s := range rep.Steps {
		outcome := "ok"
		switch {
		case !s.OK:
			outcome = "FAIL"
		case !s.Ran:
			outcome = "--"
		}
		detail := fmt.Sprintf("%d checked", s.Checked)
		if !s.Ran {
			detail = s.Outcome // not reached, or not applicable
			if detail == "" {
				detail = client.OutcomeNotReached
			}
			if s.Skipped != "" {
				detail += ": " + s.Skipped
			}
		}
		fmt.Fprintf(w, "  %-4s %-4s  %-58s %s\n", s.ID, outcome, s.Title, detail)
		more := s.Dropped
		for i, f := range s.Failures {
			if maxFailures > 0 && i == maxFailures {
				more += len(s.Failures) - i
				break
			}
			fmt.Fprintf(w, "              - %s\n", f)
		}
		if more > 0 {
			fmt.Fprintf(w, "              … and %s\n", Plural(more, "more failure", "more failures"))
		}
	}
}

// Result prints a result, one table per question after a blank line: the
// question's text, then each option's name and count; a question without
// counts (ranked, score, write-in) is left to Mixed. A question or
// option without a label (a report without the manifest) is named by its
// number.
func Result(w io.Writer, questions []client.QuestionResult) {
	for _, q := range questions {
		if len(q.Options) == 0 {
			continue // a ranked, score or write-in question: counted by Mixed
		}
		text := q.Text
		if text == "" {
			text = fmt.Sprintf("question %d", q.Question)
		}
		names := make([]string, len(q.Options))
		width := 0
		for i, o := range q.Options {
			names[i] = o.Name
			if names[i] == "" {
				names[i] = fmt.Sprintf("option %d", o.Option)
			}
			width = max(width, utf8.RuneCountInString(names[i]))
		}
		fmt.Fprintf(w, "\n%s\n", text)
		for i, o := range q.Options {
			pad := strings.Repeat(" ", width-utf8.RuneCountInString(names[i]))
			fmt.Fprintf(w, "  %s%s %6d\n", names[i], pad, o.Count)
		}
	}
}

// Trustees names the trustees by index as a sentence does: "no trustee",
// "trustee 2", "trustees 1 and 3", "trustees 1, 2 and 4".
func Trustees(idx []int) string {
	switch len(idx) {
	case 0:
		return "no trustee"
	case 1:
		return "trustee " + strconv.Itoa(idx[0])
	}
	return "trustees " + List(idx)
}

// List writes numbers as a sentence does: "", "4", "1 and 3", "1, 2 and 4".
func List[T ~int | ~uint64](xs []T) string {
	names := make([]string, len(xs))
	for i, x := range xs {
		names[i] = fmt.Sprint(x)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Plural returns "1 ballot", "0 ballots", "2 ballots": n with the
// singular form when n is 1, the plural form otherwise.
func Plural(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return strconv.Itoa(n) + " " + plural
}
