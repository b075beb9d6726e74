package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
)

// AnswerInput is one question's answer as a voter writes it (urna vote
// --answers FILE): only the field of the question's kind is set, and
// options are numbered from 1 as the manifest lists them, as in
// ParseChoices.
type AnswerInput struct {
	Choices []uint32 `json:"choices,omitempty"` // a selection question: the selected options
	Ranking []uint32 `json:"ranking,omitempty"` // a ranked question: options, most preferred first
	Scores  []uint32 `json:"scores,omitempty"`  // a score question: one score per option, in order
	Text    string   `json:"text,omitempty"`    // a write-in question
}

// ParseAnswers reads a voter's answers to m's questions from JSON: an
// array with one AnswerInput per question, in the manifest's order, e.g.
//
//	[{"choices":[2]}, {"ranking":[3,1]}, {"scores":[5,0,3]}, {"text":"Zoë"}]
//
// It checks the form (one answer per question, the field of the question's
// kind, option numbers 1..n, each option named once) and names the
// question it rejects; the rules of each kind (how many options, the score
// range, the write-in length) are package ballot's, checked when the
// ballot is encrypted (PrepareAnswers, SPEC.md §12.3), before anything is
// sent. An absent list is the empty answer of its kind (a blank selection,
// an empty ranking).
func ParseAnswers(m *ballot.Manifest, data []byte) ([]ballot.Answer, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in []AnswerInput
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("roles: answers: %w (want a JSON array with one object per question, e.g. [{\"choices\":[1]},{\"ranking\":[2,1]}])", err)
	}
	if dec.More() {
		return nil, errors.New("roles: answers: trailing data after the JSON array")
	}
	if len(in) != len(m.Questions) {
		return nil, fmt.Errorf("roles: answers: %d answers, the election has %d questions", len(in), len(m.Questions))
	}
	out := make([]ballot.Answer, len(in))
	for q, a := range in {
		mq := &m.Questions[q]
		bad := func(format string, args ...any) error {
			return fmt.Errorf("roles: answers: question %d (%q): %s", q+1, mq.Text, fmt.Sprintf(format, args...))
		}
		field, list := "", []uint32(nil)
		set := map[string]bool{"choices": a.Choices != nil, "ranking": a.Ranking != nil, "scores": a.Scores != nil, "text": a.Text != ""}
		switch mq.Kind {
		case ballot.KindSelect:
			field, list = "choices", a.Choices
		case ballot.KindRanked:
			field, list = "ranking", a.Ranking
		case ballot.KindScore:
			field = "scores"
		case ballot.KindWriteIn:
			field = "text"
		default:
			return nil, bad("unknown question kind %d", mq.Kind)
		}
		for _, f := range []string{"choices", "ranking", "scores", "text"} {
			if set[f] && f != field {
				return nil, bad("is a %s question: give %q, not %q", mq.Kind, field, f)
			}
		}
		seen := make(map[uint32]bool, len(list))
		for _, v := range list {
			if v < 1 || int64(v) > int64(len(mq.Options)) {
				return nil, bad("%d is not an option number 1..%d", v, len(mq.Options))
			}
			if seen[v] {
				return nil, bad("option %d (%q) is listed twice", v, mq.Options[v-1])
			}
			seen[v] = true
		}
		zeroBased := func(l []uint32) []uint32 {
			r := make([]uint32, len(l))
			for i, v := range l {
				r[i] = v - 1
			}
			return r
		}
		switch mq.Kind {
		case ballot.KindSelect:
			out[q].Choices = zeroBased(a.Choices)
		case ballot.KindRanked:
			out[q].Ranking = zeroBased(a.Ranking)
		case ballot.KindScore:
			out[q].Scores = a.Scores
		case ballot.KindWriteIn:
			out[q].Text = a.Text
		}
	}
	return out, nil
}

// PrepareAnswers is PrepareBallot for a manifest with ranked, score or
// write-in questions: it encrypts one answer per question with their
// well-formedness proofs (ballot.EncryptAnswers, a version-2 ballot for a
// version-3 manifest, SPEC.md §12) and signs the ballot entry with the
// credential's key. Answers that break a question's rule are refused here,
// the question and option named as the voter numbers them (from 1, as in
// ParseAnswers). The prepared ballot is cast, or challenged (AuditEntry:
// the audit of SPEC.md §12.10 for a version-2 ballot).
func PrepareAnswers(rand io.Reader, e *Election, key *ballot.CredentialKey, answers []ballot.Answer) (*Prepared, error) {
	b, sec, err := ballot.EncryptAnswers(rand, e.Manifest, e.JointKey, key, answers)
	var ae *ballot.AnswerError
	if errors.As(err, &ae) && ae.Question < len(e.Manifest.Questions) {
		mq := &e.Manifest.Questions[ae.Question]
		where := fmt.Sprintf("question %d (%q)", ae.Question+1, mq.Text)
		if ae.Option >= 0 && ae.Option < int64(len(mq.Options)) {
			where += fmt.Sprintf(": option %d (%q)", ae.Option+1, mq.Options[ae.Option])
		} else if ae.Option >= 0 {
			where += fmt.Sprintf(": option %d", ae.Option+1)
		}
		return nil, fmt.Errorf("roles: answers: %s: %s (%w)", where, ae.Reason, ballot.ErrInvalidChoice)
	}
	return prepared(rand, e, key, b, sec, err)
}
