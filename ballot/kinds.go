package ballot

import (
	"fmt"
	"unicode/utf8"
)

// QuestionKind says how a question is answered and counted
// (docs/spec/kinds.md §K.1). KindSelect questions are counted
// homomorphically (SPEC.md §9); the others are mixed (docs/spec/shuffle.md)
// and decrypted ballot by ballot.
type QuestionKind uint8

// The question kinds. A manifest with a question of another kind than
// KindSelect is version 3 (ManifestVersionKinds).
const (
	KindSelect  QuestionKind = 0 // select between Min and Max distinct options (SPEC.md §6)
	KindRanked  QuestionKind = 1 // rank between Min and Max options; Max is the number of ranks
	KindScore   QuestionKind = 2 // give every option a score in Min..Max
	KindWriteIn QuestionKind = 3 // a free text of at most Max bytes of UTF-8; no options
)

// Bounds of the kinds (docs/spec/kinds.md §K.1).
const (
	MaxScore      = 100 // highest Max of a score question
	MaxWriteIn    = 255 // highest Max (bytes) of a write-in question
	WriteInChunk  = 30  // text bytes carried by one group element (§K.4)
	maxWriteInCts = (MaxWriteIn + 1 + WriteInChunk - 1) / WriteInChunk
)

var kindNames = [...]string{"select", "ranked", "score", "write-in"}

// String returns the kind's name in the authoring form: "select", "ranked",
// "score" or "write-in".
func (k QuestionKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// parseKind reads the authoring form's kind; "" is KindSelect.
func parseKind(s string) (QuestionKind, error) {
	if s == "" {
		return KindSelect, nil
	}
	for i, n := range kindNames {
		if n == s {
			return QuestionKind(i), nil
		}
	}
	return 0, fmt.Errorf("%w: question kind %q, want one of select, ranked, score, write-in", ErrInvalidManifest, s)
}

// Mixed reports whether questions of kind k are mixed and decrypted one
// ballot at a time rather than counted homomorphically.
func (k QuestionKind) Mixed() bool { return k != KindSelect }

// WriteInChunks returns the number of group elements that carry a write-in
// of at most max bytes: ⌈(1 + max) / 30⌉ (a length byte, then the text).
func WriteInChunks(max uint32) int { return int(max+WriteInChunk) / WriteInChunk }

// checkQuestion checks the rules of one question of any kind (SPEC.md §4.1
// for KindSelect, docs/spec/kinds.md §K.1 for the others).
func checkQuestion(qi int, q *Question) error {
	if err := checkText(fmt.Sprintf("question %d text", qi), q.Text, MaxQuestionText); err != nil {
		return err
	}
	if q.Kind == KindWriteIn {
		if len(q.Options) != 0 {
			return fmt.Errorf("%w: question %d is a write-in and has %d options, want none", ErrInvalidManifest, qi, len(q.Options))
		}
		if q.Min != 0 || q.Max < 1 || q.Max > MaxWriteIn {
			return fmt.Errorf("%w: question %d: a write-in needs min 0 (is %d) and max 1..%d bytes (is %d)", ErrInvalidManifest, qi, q.Min, MaxWriteIn, q.Max)
		}
		return nil
	}
	if len(q.Options) < MinOptions || len(q.Options) > MaxOptions {
		return fmt.Errorf("%w: question %d has %d options, want %d..%d", ErrInvalidManifest, qi, len(q.Options), MinOptions, MaxOptions)
	}
	seen := map[string]bool{}
	for oi, o := range q.Options {
		if err := checkText(fmt.Sprintf("question %d option %d", qi, oi), o, MaxOptionText); err != nil {
			return err
		}
		if seen[o] {
			return fmt.Errorf("%w: question %d: option %q repeated", ErrInvalidManifest, qi, o)
		}
		seen[o] = true
	}
	switch q.Kind {
	case KindSelect:
		if q.Min > q.Max || q.Max > uint32(len(q.Options)) || q.Max < 1 {
			return fmt.Errorf("%w: question %d: need 0 ≤ min (%d) ≤ max (%d) ≤ %d options and max ≥ 1", ErrInvalidManifest, qi, q.Min, q.Max, len(q.Options))
		}
	case KindRanked:
		if q.Min > q.Max || q.Max > uint32(len(q.Options)) || q.Max < 1 {
			return fmt.Errorf("%w: question %d: a ranking needs 0 ≤ min ranked (%d) ≤ max ranked (%d) ≤ %d options and max ≥ 1", ErrInvalidManifest, qi, q.Min, q.Max, len(q.Options))
		}
	case KindScore:
		if q.Min >= q.Max || q.Max > MaxScore {
			return fmt.Errorf("%w: question %d: scores need min (%d) < max (%d) ≤ %d", ErrInvalidManifest, qi, q.Min, q.Max, MaxScore)
		}
	default:
		return fmt.Errorf("%w: question %d has unknown kind %d", ErrInvalidManifest, qi, uint8(q.Kind))
	}
	return nil
}

// questionBallotSize is the size of question q's part of a ballot, without
// the kind byte of a version-2 ballot (SPEC.md §6.1, docs/spec/kinds.md §K.2).
func questionBallotSize(q *Question) int {
	n, b := len(q.Options), int(q.Max-q.Min+1)
	switch q.Kind {
	case KindRanked:
		k := int(q.Max)
		return 12 + n*k*optionSize + (n+2*k-1)*2*branchSize + b*branchSize
	case KindScore:
		return 8 + n*(CiphertextSize+b*branchSize)
	case KindWriteIn:
		return 4 + WriteInChunks(q.Max)*writeInChunkSize
	}
	return 8 + n*optionSize + b*branchSize
}

// questionAuditSize is the largest size of question q's part of an audit2
// (SPEC.md §12.10, Size): its kind byte and part in choices2 and in the
// opening (§12.9), with the longest ranking.
func questionAuditSize(q *Question) int {
	n := len(q.Options)
	switch q.Kind {
	case KindRanked:
		k := int(q.Max)
		return 2 + 20 + 4*k + 96*n*k
	case KindScore:
		return 2 + 8 + 100*n
	case KindWriteIn:
		return 2 + 8 + 126*WriteInChunks(q.Max)
	}
	return 2 + 8 + 97*n
}

// MaxAuditSize returns the size of the largest audit of a ballot of the
// version-3 manifest m (SPEC.md §12.10, Size): 40 + Σ (2 + a_q). m's
// questions MUST be valid.
func (m *Manifest) MaxAuditSize() int {
	n := 32 + 4 + 4
	for i := range m.Questions {
		n += questionAuditSize(&m.Questions[i])
	}
	return n
}

// MixWidth returns the width of the rows that question q contributes to the
// mix-net, one row per counted ballot (docs/spec/kinds.md §K.5): the number
// of options of a ranked or score question, the number of chunks of a
// write-in, and 0 for a KindSelect question (counted homomorphically).
func (m *Manifest) MixWidth(q int) int {
	mq := &m.Questions[q]
	switch mq.Kind {
	case KindRanked, KindScore:
		return len(mq.Options)
	case KindWriteIn:
		return WriteInChunks(mq.Max)
	}
	return 0
}

// Answer is a voter's answer to one question; only the field of the
// question's kind may be set (docs/spec/kinds.md §K.3).
type Answer struct {
	Choices []uint32 // KindSelect: the selected options, distinct
	Ranking []uint32 // KindRanked: options, most preferred first, distinct
	Scores  []uint32 // KindScore: one score per option, in Min..Max
	Text    string   // KindWriteIn: at most Max bytes of UTF-8
}

// AnswerError is an answer that breaks its question's rule (SPEC.md
// §12.3). Question and Option number from 0 as in the manifest; Option is
// -1 when the answer as a whole is wrong. It wraps ErrInvalidChoice.
type AnswerError struct {
	Question int
	Option   int64
	Reason   string // what is wrong, without the question and option
}

func (e *AnswerError) Error() string {
	if e.Option < 0 {
		return fmt.Sprintf("%v: question %d: %s", ErrInvalidChoice, e.Question, e.Reason)
	}
	return fmt.Sprintf("%v: question %d: option %d %s", ErrInvalidChoice, e.Question, e.Option, e.Reason)
}

func (e *AnswerError) Unwrap() error { return ErrInvalidChoice }

// checkAnswer checks a against question qi's rules and returns the
// plaintexts the ballot encrypts for it: the 0/1 selections of KindSelect,
// the n×k 0/1 matrix (row-major) of KindRanked, the scores of KindScore.
func checkAnswer(qi int, q *Question, a *Answer) ([]uint64, error) {
	bad := func(format string, args ...any) ([]uint64, error) {
		return nil, &AnswerError{Question: qi, Option: -1, Reason: fmt.Sprintf(format, args...)}
	}
	badOption := func(oi uint32, format string, args ...any) error {
		return &AnswerError{Question: qi, Option: int64(oi), Reason: fmt.Sprintf(format, args...)}
	}
	set := 0
	for _, s := range []bool{a.Choices != nil, a.Ranking != nil, a.Scores != nil, a.Text != ""} {
		if s {
			set++
		}
	}
	if set > 1 {
		return bad("an answer sets the fields of more than one kind")
	}
	n := len(q.Options)
	// picks checks a list of options, each named once (as what) and
	// q.Min..q.Max of them (counted: what they are called together).
	picks := func(what, counted string, list []uint32) error {
		seen := make([]bool, n)
		for _, i := range list {
			if int64(i) >= int64(n) {
				return badOption(i, "is not an option of the question (it has %d)", n)
			}
			if seen[i] {
				return badOption(i, "%s twice", what)
			}
			seen[i] = true
		}
		if c := uint32(len(list)); c < q.Min || c > q.Max {
			_, err := bad("%d %s, want %d..%d", c, counted, q.Min, q.Max)
			return err
		}
		return nil
	}
	switch q.Kind {
	case KindSelect:
		if a.Ranking != nil || a.Scores != nil || a.Text != "" {
			return bad("a selection question takes Choices only")
		}
		if err := picks("selected", "selections", a.Choices); err != nil {
			return nil, err
		}
		sel := make([]uint64, n)
		for _, i := range a.Choices {
			sel[i] = 1
		}
		return sel, nil
	case KindRanked:
		if a.Choices != nil || a.Scores != nil || a.Text != "" {
			return bad("a ranked question takes Ranking only")
		}
		if err := picks("ranked", "options ranked", a.Ranking); err != nil {
			return nil, err
		}
		k := int(q.Max)
		mat := make([]uint64, n*k)
		for j, i := range a.Ranking {
			mat[int(i)*k+j] = 1
		}
		return mat, nil
	case KindScore:
		if a.Choices != nil || a.Ranking != nil || a.Text != "" {
			return bad("a score question takes Scores only")
		}
		if len(a.Scores) != n {
			return bad("%d scores for %d options", len(a.Scores), n)
		}
		out := make([]uint64, n)
		for i, s := range a.Scores {
			if s < q.Min || s > q.Max {
				return nil, badOption(uint32(i), "scored %d, outside %d..%d", s, q.Min, q.Max)
			}
			out[i] = uint64(s)
		}
		return out, nil
	case KindWriteIn:
		if a.Choices != nil || a.Ranking != nil || a.Scores != nil {
			return bad("a write-in question takes Text only")
		}
		if len(a.Text) > int(q.Max) || !utf8.ValidString(a.Text) {
			return bad("the write-in must be at most %d bytes of UTF-8 (has %d bytes)", q.Max, len(a.Text))
		}
		return nil, nil
	}
	return bad("unknown kind %d", uint8(q.Kind))
}
