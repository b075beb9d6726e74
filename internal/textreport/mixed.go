package textreport

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
)

// Mixed prints the verified outcomes of the ranked, score and write-in
// questions (client.Verified.Mixed, SPEC.md §11.8): the IRV and STV rounds,
// the Schulze matrix and winner, majority grades and score sums, and the
// write-ins with their counts.
func Mixed(w io.Writer, m *ballot.Manifest, mixed []*client.MixedOutcome) {
	out := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	for _, mo := range mixed {
		mq := m.Questions[mo.Question]
		opt := func(o int) string { return mq.Options[o] }
		out("\n%s (%s, %s decrypted after the shuffles)\n", mq.Text, mq.Kind, Plural(len(mo.Answers.Answers), "ballot", "ballots"))
		switch {
		case mo.IRV != nil:
			out("  IRV:\n")
			for i, rd := range mo.IRV.Rounds {
				out("    round %d: %s", i+1, Tallies(mq.Options, rd.Tallies))
				if rd.Excluded >= 0 {
					out("; %s excluded", opt(rd.Excluded))
				}
				out("\n")
			}
			out("    winner: %s\n", opt(mo.IRV.Winner))
			out("  STV (%s, as the manifest fixes; WIGM, Droop quota %d):\n", Plural(mo.STVSeats, "seat", "seats"), mo.STV.Quota)
			for i, rd := range mo.STV.Rounds {
				parts := make([]string, len(rd.Tallies))
				for o, v := range rd.Tallies {
					parts[o] = fmt.Sprintf("%s %s", mq.Options[o], v.FloatString(2))
				}
				out("    round %d: %s\n", i+1, strings.Join(parts, ", "))
			}
			var el []string
			for _, o := range mo.STV.Elected {
				el = append(el, opt(o))
			}
			out("    elected: %s\n", strings.Join(el, ", "))
			out("  Schulze pairwise matrix (ballots ranking the row above the column):\n")
			matrix(w, mq.Options, mo.Schulze.Pairwise)
			var w []string
			for _, o := range mo.Schulze.Winners {
				w = append(w, opt(o))
			}
			out("    Schulze winner: %s\n", strings.Join(w, " = "))
		case mo.Score != nil:
			out("  score sums: %s\n", Tallies(mq.Options, mo.Score.Sums))
			med := make([]string, len(mo.Judgment.Median))
			for o, g := range mo.Judgment.Median {
				med[o] = fmt.Sprintf("%s %d", mq.Options[o], g)
			}
			out("  majority grades: %s; majority judgment winner: %s\n", strings.Join(med, ", "), opt(mo.Judgment.Winners[0]))
		default:
			counts := map[string]int{}
			for _, t := range mo.WriteIns {
				counts[t]++
			}
			keys := make([]string, 0, len(counts))
			for t := range counts {
				keys = append(keys, t)
			}
			slices.Sort(keys)
			for _, t := range keys {
				out("  %q × %d\n", t, counts[t])
			}
			if n := len(mo.Answers.Invalid); n > 0 {
				out("  %d write-ins did not decode\n", n)
			}
		}
	}
}

// Tallies formats one count per option: "name n, name n".
func Tallies(names []string, v []int64) string {
	parts := make([]string, len(v))
	for o, x := range v {
		parts[o] = fmt.Sprintf("%s %d", names[o], x)
	}
	return strings.Join(parts, ", ")
}

// matrix prints a square table of counts, one row per option, each row
// and column headed by the option's name, the diagonal as "-".
func matrix(w io.Writer, names []string, m [][]int64) {
	nw := 0
	for _, n := range names {
		nw = max(nw, utf8.RuneCountInString(n))
	}
	cell := func(s string) string { return strings.Repeat(" ", max(0, nw-utf8.RuneCountInString(s))) + s }
	head := make([]string, len(names))
	for i, n := range names {
		head[i] = cell(n)
	}
	fmt.Fprintf(w, "    %s  %s\n", strings.Repeat(" ", nw), strings.Join(head, "  "))
	for a, row := range m {
		cells := make([]string, len(row))
		for b, v := range row {
			cells[b] = cell(strconv.FormatInt(v, 10))
			if a == b {
				cells[b] = cell("-")
			}
		}
		fmt.Fprintf(w, "    %s%s  %s\n", names[a], strings.Repeat(" ", nw-utf8.RuneCountInString(names[a])), strings.Join(cells, "  "))
	}
}
