package main

// The booth's side of ranked, score and write-in questions (SPEC.md §12):
// the voter's answers as the page sends them, and the verified outcomes
// of mixed questions as the results page shows them. Every rule is
// package ballot's (EncryptAnswers checks the answers) and every count
// package client's (V16.4, with tally/methods): this file only translates.

import (
	"cmp"
	"math/big"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
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

// MixedView is the verified outcome of one mixed question
// (client.MixedOutcome, SPEC.md §11.8) as the results page shows it: for
// a ranked question the IRV and STV rounds and the Schulze matrices, for a
// score question majority judgment and score sums, for a write-in the
// texts given. The counting is package client's (V16.4, with package
// tally/methods); this is only its translation for the page.
type MixedView struct {
	Question int            `json:"question"`
	Kind     string         `json:"kind"`
	Ballots  int            `json:"ballots"` // decrypted ballots counted
	IRV      *IRVView       `json:"irv,omitempty"`
	STV      *STVView       `json:"stv,omitempty"`
	Schulze  *SchulzeView   `json:"schulze,omitempty"`
	Judgment *JudgmentView  `json:"judgment,omitempty"`
	Score    *ScoreView     `json:"score,omitempty"`
	WriteIns []WriteInCount `json:"writeIns,omitempty"`
	Invalid  int            `json:"invalid"` // write-ins that do not decode (K.6 D3)
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

// STVView is methods.STVResult with its exact rational tallies written as
// decimals of 3 places (the page shows them; the exact values are the
// record's, recomputed by any verifier).
type STVView struct {
	Seats   int            `json:"seats"`
	Valid   int64          `json:"valid"`
	Blank   int64          `json:"blank"`
	Quota   int64          `json:"quota"`
	Rounds  []STVRoundView `json:"rounds"`
	Elected []int          `json:"elected"`
}

// STVRoundView is one round of STV: Action is "done", "surplus" or
// "excluded", Option whose surplus moved or who was excluded (−1 when done).
type STVRoundView struct {
	Tallies       []string `json:"tallies"`
	Exhausted     string   `json:"exhausted"`
	Elected       []int    `json:"elected"`
	Action        string   `json:"action"`
	Option        int      `json:"option"`
	TransferValue string   `json:"transferValue,omitempty"`
	TieBroken     bool     `json:"tieBroken"`
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

var stvActions = map[methods.STVAction]string{methods.STVDone: "done", methods.STVSurplus: "surplus", methods.STVExcluded: "excluded"}

// decimal writes an exact tally with 3 decimal places ("" for nil).
func decimal(r *big.Rat) string {
	if r == nil {
		return ""
	}
	return r.FloatString(3)
}

// hasMixed reports whether a manifest's questions include a ranked, score
// or write-in question.
func hasMixed(qs []ballot.Question) bool {
	return slices.ContainsFunc(qs, func(q ballot.Question) bool { return q.Kind.Mixed() })
}

// mixedViews translates the verified outcomes of the mixed questions
// (client.Verified.Mixed) for the page.
func mixedViews(m *ballot.Manifest, outs []*client.MixedOutcome) []*MixedView {
	views := make([]*MixedView, 0, len(outs))
	for _, o := range outs {
		v := &MixedView{Question: o.Question, Kind: o.Kind.String()}
		if o.Answers != nil {
			v.Ballots, v.Invalid = len(o.Answers.Answers), len(o.Answers.Invalid)
		}
		if r := o.IRV; r != nil {
			v.IRV = &IRVView{Blank: r.Blank, Winner: r.Winner}
			for _, x := range r.Rounds {
				v.IRV.Rounds = append(v.IRV.Rounds, IRVRoundView{Tallies: x.Tallies, Exhausted: x.Exhausted, Excluded: x.Excluded, TieBroken: x.TieBroken})
			}
		}
		if r := o.STV; r != nil {
			v.STV = &STVView{Seats: r.Seats, Valid: r.Valid, Blank: r.Blank, Quota: r.Quota, Elected: r.Elected}
			for _, x := range r.Rounds {
				rv := STVRoundView{Exhausted: decimal(x.Exhausted), Elected: x.Elected, Action: stvActions[x.Action], Option: x.Option,
					TransferValue: decimal(x.TransferValue), TieBroken: x.TieBroken}
				for _, t := range x.Tallies {
					rv.Tallies = append(rv.Tallies, decimal(t))
				}
				v.STV.Rounds = append(v.STV.Rounds, rv)
			}
		}
		if r := o.Schulze; r != nil {
			v.Schulze = &SchulzeView{Pairwise: r.Pairwise, Strongest: r.Strongest, Order: r.Order, Winners: r.Winners}
		}
		if r := o.Judgment; r != nil {
			mq := &m.Questions[o.Question]
			v.Judgment = &JudgmentView{Min: int(mq.Min), Max: int(mq.Max), Counts: r.Counts, Median: r.Median, Order: r.Order, Winners: r.Winners}
		}
		if r := o.Score; r != nil {
			v.Score = &ScoreView{Sums: r.Sums, Order: r.Order, Winners: r.Winners}
		}
		if o.Kind == ballot.KindWriteIn {
			v.WriteIns = listWriteIns(o.WriteIns)
		}
		views = append(views, v)
	}
	return views
}

// listWriteIns lists the distinct non-empty write-ins (an invalid one is
// "", client.MixedOutcome.WriteIns), most given first, equal counts in
// byte order of the text (deterministic).
func listWriteIns(texts []string) []WriteInCount {
	counts := map[string]int{}
	for _, t := range texts {
		if t != "" {
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
