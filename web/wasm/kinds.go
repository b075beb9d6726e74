package main

// The booth's side of ranked, score and write-in questions
// (docs/spec/kinds.md): the voter's answers as the page sends them, and
// the counts of mixed questions as the results page shows them. Every rule
// is package ballot's (EncryptAnswers checks the answers) and every count
// package tally/methods': this file only translates.

import (
	"cmp"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally/methods"
)

// AnswerJSON is one question's answer as the booth page sends it: only the
// field of the question's kind is set (ballot.Answer).
type AnswerJSON struct {
	Choices []uint32 `json:"choices,omitempty"`
	Ranking []uint32 `json:"ranking,omitempty"`
	Scores  []uint32 `json:"scores,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// answers turns the page's answers into ballot.Answers for manifest m: a
// missing list becomes the empty answer of the question's kind, so that a
// blank selection or an empty ranking is an answer, not a missing field.
func answers(m *ballot.Manifest, in []AnswerJSON) ([]ballot.Answer, error) {
	if len(in) != len(m.Questions) {
		return nil, fail("invalid_choice", "%d answers for %d questions", len(in), len(m.Questions))
	}
	out := make([]ballot.Answer, len(in))
	for q, a := range in {
		out[q] = ballot.Answer{Choices: a.Choices, Ranking: a.Ranking, Scores: a.Scores, Text: a.Text}
		switch m.Questions[q].Kind {
		case ballot.KindSelect:
			if out[q].Choices == nil && a.Ranking == nil && a.Scores == nil && a.Text == "" {
				out[q].Choices = []uint32{}
			}
		case ballot.KindRanked:
			if out[q].Ranking == nil && a.Choices == nil && a.Scores == nil && a.Text == "" {
				out[q].Ranking = []uint32{}
			}
		}
	}
	return out, nil
}

// EncryptAnswers encrypts the voter's answers, one per question, with
// ballot.EncryptAnswers (a version-2 ballot for a version-3 manifest,
// docs/spec/kinds.md §K.3; SPEC.md §6.2 otherwise) and signs the board
// entry. Bad answers are refused with ballot's error, which names the
// question and what is wrong. The secrets are kept for a challenge; a
// previous pending ballot is dropped.
func (b *booth) EncryptAnswers(in []AnswerJSON) (*Sealed, error) {
	b.Forget()
	as, err := answers(b.e.m, in)
	if err != nil {
		return nil, err
	}
	bl, sec, err := ballot.EncryptAnswers(b.rand, b.e.m, b.pk, b.key, as)
	if err != nil {
		return nil, err
	}
	raw, err := b.sign(bulletin.TypeBallot, bl.Bytes())
	if err != nil {
		return nil, err
	}
	b.pending, b.secrets = bl, sec
	t := bl.Tracker()
	return &Sealed{Tracker: t.Short(), TrackerHex: t.Hex(), Entry: wire.EncodeB64(raw)}, nil
}

// MixedView is the count of one mixed question (docs/spec/kinds.md §K.6)
// as the results page shows it: for a ranked question the IRV rounds and
// the Schulze matrices, for a score question majority judgment and score
// sums, for a write-in the texts given.
type MixedView struct {
	Question int            `json:"question"`
	Kind     string         `json:"kind"`
	Ballots  int            `json:"ballots"` // decrypted ballots counted
	IRV      *IRVView       `json:"irv,omitempty"`
	Schulze  *SchulzeView   `json:"schulze,omitempty"`
	Judgment *JudgmentView  `json:"judgment,omitempty"`
	Score    *ScoreView     `json:"score,omitempty"`
	WriteIns []WriteInCount `json:"writeIns,omitempty"`
	Invalid  int            `json:"invalid"` // write-ins that do not decode (D3), listed as invalid
}

// IRVView is methods.IRVResult: the rounds, each with the tally per option
// and the option excluded at its end (−1 in the last).
type IRVView struct {
	Blank  int64          `json:"blank"`
	Rounds []IRVRoundView `json:"rounds"`
	Winner int            `json:"winner"`
}

// IRVRoundView is one round of IRV.
type IRVRoundView struct {
	Tallies   []int64 `json:"tallies"`
	Exhausted int64   `json:"exhausted"`
	Excluded  int     `json:"excluded"`
	TieBroken bool    `json:"tieBroken"`
}

// SchulzeView is methods.SchulzeResult.
type SchulzeView struct {
	Pairwise  [][]int64 `json:"pairwise"`
	Strongest [][]int64 `json:"strongest"`
	Order     [][]int   `json:"order"`
	Winners   []int     `json:"winners"`
}

// JudgmentView is methods.JudgmentResult.
type JudgmentView struct {
	Min     int       `json:"min"`
	Max     int       `json:"max"`
	Counts  [][]int64 `json:"counts"`
	Median  []int     `json:"median"`
	Order   [][]int   `json:"order"`
	Winners []int     `json:"winners"`
}

// ScoreView is methods.ScoreResult.
type ScoreView struct {
	Sums    []int64 `json:"sums"`
	Order   [][]int `json:"order"`
	Winners []int   `json:"winners"`
}

// WriteInCount is one distinct write-in text and how many ballots gave it.
type WriteInCount struct {
	Text  string `json:"text"`
	Count int    `json:"count"`
}

// MixedAnswersJSON is the decrypted answers of one mixed question, as the
// verifier exports them from the verified record (tally.MixedAnswers,
// SPEC.md §11.5): one answer per output row of the last shuffle, and the
// rows of a write-in question that do not decode (K.6 D3).
type MixedAnswersJSON struct {
	Question int          `json:"question"`
	Answers  []AnswerJSON `json:"answers"`
	Invalid  []int        `json:"invalid"`
}

// mixedCounts counts every mixed question of the manifest from its
// decrypted answers (countMixed), in the order given.
func mixedCounts(manifestB64 string, in []MixedAnswersJSON) ([]*MixedView, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, err
	}
	out := make([]*MixedView, 0, len(in))
	for _, mq := range in {
		v, err := countMixed(e.m, &mq)
		if err != nil {
			return nil, fail("malformed", "%w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// countMixed counts one mixed question of manifest m from its decrypted
// answers with package tally/methods, deterministically: anyone who
// verified the same record computes the same view. A ranked question
// gets IRV and Schulze, a score question majority judgment and score
// sums, a write-in the list of texts.
func countMixed(m *ballot.Manifest, d *MixedAnswersJSON) (*MixedView, error) {
	q := d.Question
	if q < 0 || q >= len(m.Questions) || !m.Questions[q].Kind.Mixed() {
		return nil, fmt.Errorf("question %d is not a ranked, score or write-in question", q)
	}
	mq := &m.Questions[q]
	v := &MixedView{Question: q, Kind: mq.Kind.String(), Ballots: len(d.Answers)}
	n := len(mq.Options)
	invalid := make([]bool, len(d.Answers))
	for _, i := range d.Invalid {
		if i < 0 || i >= len(d.Answers) || invalid[i] {
			return nil, fmt.Errorf("question %d: invalid row %d of %d listed out of range or twice", q, i, len(d.Answers))
		}
		if mq.Kind != ballot.KindWriteIn {
			return nil, fmt.Errorf("question %d: only a write-in row can be invalid", q)
		}
		invalid[i] = true
	}
	switch mq.Kind {
	case ballot.KindRanked:
		rs := make([]methods.Ranking, len(d.Answers))
		for i, a := range d.Answers {
			rs[i] = ints(a.Ranking)
		}
		irv, err := methods.IRV(n, rs)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", q, err)
		}
		v.IRV = &IRVView{Blank: irv.Blank, Winner: irv.Winner}
		for _, r := range irv.Rounds {
			v.IRV.Rounds = append(v.IRV.Rounds, IRVRoundView{Tallies: r.Tallies, Exhausted: r.Exhausted, Excluded: r.Excluded, TieBroken: r.TieBroken})
		}
		s, err := methods.Schulze(n, rs)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", q, err)
		}
		v.Schulze = &SchulzeView{Pairwise: s.Pairwise, Strongest: s.Strongest, Order: s.Order, Winners: s.Winners}
	case ballot.KindScore:
		gs := make([]methods.Grades, len(d.Answers))
		for i, a := range d.Answers {
			gs[i] = ints(a.Scores)
		}
		lo, hi := int(mq.Min), int(mq.Max)
		j, err := methods.MajorityJudgment(n, lo, hi, gs)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", q, err)
		}
		v.Judgment = &JudgmentView{Min: lo, Max: hi, Counts: j.Counts, Median: j.Median, Order: j.Order, Winners: j.Winners}
		s, err := methods.ScoreSums(n, lo, hi, gs)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", q, err)
		}
		v.Score = &ScoreView{Sums: s.Sums, Order: s.Order, Winners: s.Winners}
	case ballot.KindWriteIn:
		texts := make([]string, len(d.Answers))
		for i, a := range d.Answers {
			if len(a.Text) > int(mq.Max) || !utf8.ValidString(a.Text) {
				return nil, fmt.Errorf("question %d: write-in %d is not at most %d bytes of UTF-8", q, i, mq.Max)
			}
			texts[i] = a.Text
		}
		v.WriteIns = listWriteIns(texts, invalid)
		v.Invalid = len(d.Invalid)
	}
	return v, nil
}

// ints converts option indexes or scores for package tally/methods.
func ints(xs []uint32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// listWriteIns lists the distinct non-empty write-ins that are not
// invalid, most given first, equal counts in byte order of the text
// (deterministic).
func listWriteIns(texts []string, invalid []bool) []WriteInCount {
	counts := map[string]int{}
	for i, t := range texts {
		if !invalid[i] && t != "" {
			counts[t]++
		}
	}
	out := make([]WriteInCount, 0, len(counts))
	for t, c := range counts {
		out = append(out, WriteInCount{Text: t, Count: c})
	}
	slices.SortFunc(out, func(a, b WriteInCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Text, b.Text)
	})
	return out
}
