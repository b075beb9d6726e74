// Package textreport renders a verification report (package client,
// SPEC.md §10) for people: one line per step V1–V13 with its outcome and
// failures, as `urna verify` and `urna demo` print it.
package textreport

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urna-vote/urna/client"
)

// Write prints the whole report: the election, the record's size, every
// step, the result if any, and the verdict with the time verification took.
func Write(w io.Writer, rep *client.Report, took time.Duration) {
	title := rep.Title
	if title == "" {
		title = "(no manifest)"
	}
	fmt.Fprintf(w, "Election     %s", title)
	if rep.ElectionID != "" {
		fmt.Fprintf(w, " [%s]", rep.ElectionID)
	}
	fmt.Fprintf(w, "\nFingerprint  %s\n", hex.EncodeToString(rep.Fingerprint[:]))
	fmt.Fprintf(w, "Record       %d entries in %d blocks, %d checkpoints; %d ballots (%d counted, %d audited) from %d voters\n\n",
		rep.Entries, rep.Blocks, rep.Checkpoints, rep.Ballots, rep.Counted, rep.Audited, rep.Voters)
	Steps(w, rep, 0)
	fmt.Fprintln(w)
	if rep.Counts != nil {
		fmt.Fprintf(w, "Result (combined from trustees %v):\n", rep.Trustees)
		for q, counts := range rep.Counts {
			parts := make([]string, len(counts))
			for i, n := range counts {
				parts[i] = fmt.Sprintf("option %d: %d", i+1, n)
			}
			fmt.Fprintf(w, "  question %d: %s\n", q+1, strings.Join(parts, ", "))
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
// reached), its title and how many items it checked, then its failures,
// at most maxFailures of them (0: all the report holds).
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
			detail = "not reached"
			if s.Skipped != "" {
				detail = s.Skipped
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
			fmt.Fprintf(w, "              … and %d more failures\n", more)
		}
	}
}
