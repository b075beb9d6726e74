package client

import (
	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/methods"
)

// MixedOutcome is the verified outcome of one ranked, score or write-in
// question (SPEC.md §11.8): its decrypted answers (V16) and what the
// counting methods make of them. Every outcome is a pure function of the
// answers, so a verifier that checked V16 recomputes it exactly.
type MixedOutcome struct {
	Question int
	Kind     ballot.QuestionKind
	Answers  *tally.MixedAnswers
	// Ranked questions: instant-runoff (single winner, every round), STV
	// for STVSeats seats (every round; the seats the manifest fixes,
	// SPEC.md §12.1) and Schulze (the pairwise and strongest-path matrices).
	IRV      *methods.IRVResult
	STV      *methods.STVResult
	STVSeats int
	Schulze  *methods.SchulzeResult
	// Score questions: majority judgment and score sums.
	Judgment *methods.JudgmentResult
	Score    *methods.ScoreResult
	// Write-in questions: the texts, in the order of the last shuffle; the
	// rows that did not decode are in Answers.Invalid and have "".
	WriteIns []string
}

// Outcome counts the decrypted answers a of question q of m with every
// method of its kind (SPEC.md §11.8).
func Outcome(m *ballot.Manifest, a *tally.MixedAnswers) (*MixedOutcome, error) {
	mq := &m.Questions[a.Question]
	o := &MixedOutcome{Question: a.Question, Kind: mq.Kind, Answers: a}
	var err error
	switch mq.Kind {
	case ballot.KindRanked:
		n, rs := len(mq.Options), ballot.Rankings(a.Answers)
		if o.IRV, err = methods.IRV(n, rs); err != nil {
			return nil, err
		}
		o.STVSeats = int(mq.Seats) // V16.3 checked the result's seats against these
		if o.STV, err = methods.STV(n, o.STVSeats, rs); err != nil {
			return nil, err
		}
		if o.Schulze, err = methods.Schulze(n, rs); err != nil {
			return nil, err
		}
	case ballot.KindScore:
		n, gs := len(mq.Options), ballot.Grades(a.Answers)
		if o.Judgment, err = methods.MajorityJudgment(n, int(mq.Min), int(mq.Max), gs); err != nil {
			return nil, err
		}
		if o.Score, err = methods.ScoreSums(n, int(mq.Min), int(mq.Max), gs); err != nil {
			return nil, err
		}
	case ballot.KindWriteIn:
		o.WriteIns = ballot.WriteIns(a.Answers)
	}
	return o, nil
}

// countMixed is V16.4: once every mixed question's answers passed
// V16.1–V16.3, count them with every method of their kind.
func (v *verifier) countMixed() {
	mv := v.mix
	if mv == nil || len(v.rep.step(StepV16).Failures) > 0 || len(mv.answers) != len(mv.questions) {
		return
	}
	out := make([]*MixedOutcome, 0, len(mv.questions))
	for _, q := range mv.questions {
		o, err := Outcome(v.m, mv.answers[q])
		if err != nil {
			v.failAt(StepV16, v.resultSeq, "V16.4 count", "question %d: %v", q, err)
			return
		}
		out = append(out, o)
	}
	mv.outcomes = out
}

// mixedOutcomes returns V16.4's outcomes (nil if it did not pass).
func (v *verifier) mixedOutcomes() []*MixedOutcome {
	if v.mix == nil {
		return nil
	}
	return v.mix.outcomes
}
