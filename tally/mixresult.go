package tally

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally/shuffle"
)

// MixedAnswers are the decrypted answers of one mixed question (SPEC.md
// §11.5), in the order of the last shuffle's output rows: a ranking, the
// scores, or a write-in text per row. Invalid lists, in increasing order,
// the rows of a write-in question that do not decode (K.6 D3); their
// Answers are empty. Seats is, for a ranked question, the seats its STV
// count elects (the manifest's, SPEC.md §12.1); 0 for the other kinds.
type MixedAnswers struct {
	Question int
	Kind     ballot.QuestionKind
	Seats    int
	Answers  []ballot.Answer
	Invalid  []int
}

// maxAnswerValue bounds an option index or score in the encoding (u8).
const maxAnswerValue = 255

// appendMixed writes the mixed section of a result (SPEC.md §11.5):
//
//	u32 M || M × (u16 question || u8 kind || [u8 seats] || u32 N || N × answer)
//
// with seats present for a ranked question only, and where an answer is, by kind: ranked u8 t || t × u8 option; score u8 n ||
// n × u8 value; write-in u8 valid (0 or 1) || (if valid) u8 length ||
// length bytes of UTF-8.
func appendMixed(w *wire.Writer, mixed []MixedAnswers) {
	w.Count(len(mixed))
	for _, mq := range mixed {
		w.U16(uint16(mq.Question)).U8(uint8(mq.Kind))
		if mq.Kind == ballot.KindRanked {
			w.U8(uint8(mq.Seats))
		}
		w.Count(len(mq.Answers))
		for i, a := range mq.Answers {
			switch mq.Kind {
			case ballot.KindRanked:
				w.U8(uint8(len(a.Ranking)))
				for _, o := range a.Ranking {
					w.U8(uint8(o))
				}
			case ballot.KindScore:
				w.U8(uint8(len(a.Scores)))
				for _, v := range a.Scores {
					w.U8(uint8(v))
				}
			default:
				if _, bad := slices.BinarySearch(mq.Invalid, i); bad {
					w.U8(0)
					continue
				}
				w.U8(1).U8(uint8(len(a.Text))).Fixed([]byte(a.Text))
			}
		}
	}
}

// readMixed reads the mixed section strictly: M ≥ 1, questions strictly
// increasing, kinds 1..3, a ranked question's seats in 1..MaxOptions−1,
// option indexes of a ranking distinct, texts valid UTF-8.
func readMixed(r *wire.Reader) []MixedAnswers {
	m := r.Count("mixed question count", r.Remaining()/7)
	if r.Err() == nil && m == 0 {
		r.Failf("an empty mixed section (it is absent instead)")
	}
	out := make([]MixedAnswers, 0, m)
	prev := -1
	for k := 0; k < m && r.Err() == nil; k++ {
		mq := MixedAnswers{Question: int(r.U16("question")), Kind: ballot.QuestionKind(r.U8("kind"))}
		if r.Err() == nil && mq.Question <= prev {
			r.Failf("mixed question %d out of order", mq.Question)
		}
		if r.Err() == nil && (mq.Kind < ballot.KindRanked || mq.Kind > ballot.KindWriteIn) {
			r.Failf("question %d has kind %d, not a mixed kind", mq.Question, mq.Kind)
		}
		prev = mq.Question
		if mq.Kind == ballot.KindRanked {
			mq.Seats = int(r.U8("seats"))
			if r.Err() == nil && (mq.Seats < 1 || mq.Seats >= ballot.MaxOptions) {
				r.Failf("question %d elects %d seats, want 1..%d", mq.Question, mq.Seats, ballot.MaxOptions-1)
			}
		}
		n := r.Count("answer count", min(shuffle.MaxRows, r.Remaining()))
		mq.Answers = make([]ballot.Answer, 0, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			var a ballot.Answer
			switch mq.Kind {
			case ballot.KindRanked:
				a.Ranking = readSmall(r, "ranked option")
				seen := map[uint32]bool{}
				for _, o := range a.Ranking {
					if seen[o] && r.Err() == nil {
						r.Failf("question %d answer %d ranks option %d twice", mq.Question, i, o)
					}
					seen[o] = true
				}
			case ballot.KindScore:
				a.Scores = readSmall(r, "score")
			default:
				switch v := r.U8("valid"); {
				case r.Err() != nil:
				case v == 0:
					mq.Invalid = append(mq.Invalid, i)
				case v == 1:
					l := int(r.U8("text length"))
					a.Text = string(r.Fixed("text", l))
					if r.Err() == nil && !utf8.ValidString(a.Text) {
						r.Failf("question %d answer %d: the write-in is not UTF-8", mq.Question, i)
					}
				default:
					r.Failf("question %d answer %d: valid flag %d", mq.Question, i, v)
				}
			}
			mq.Answers = append(mq.Answers, a)
		}
		out = append(out, mq)
	}
	return out
}

func readSmall(r *wire.Reader, what string) []uint32 {
	n := int(r.U8(what + " count"))
	out := make([]uint32, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		out = append(out, uint32(r.U8(what)))
	}
	return out
}

// MixedAnswersOf decodes the plaintext rows of mixed question q of m (SPEC.md
// V16.2, K.6): a row of a ranked or score question that does not decode is
// evidence of a wrong shuffle or decryption and an error; a write-in that
// does not decode is listed in Invalid.
func MixedAnswersOf(m *ballot.Manifest, q int, plain [][]*group.Element) (*MixedAnswers, error) {
	out := &MixedAnswers{Question: q, Kind: m.Questions[q].Kind, Seats: int(m.Questions[q].Seats), Answers: make([]ballot.Answer, len(plain))}
	for i, row := range plain {
		a, err := m.DecodeRow(q, row)
		if err != nil {
			if out.Kind == ballot.KindWriteIn && len(row) == m.MixWidth(q) {
				out.Invalid = append(out.Invalid, i)
				continue
			}
			return nil, fmt.Errorf("tally: question %d row %d: %w", q, i+1, err)
		}
		out.Answers[i] = a
	}
	return out, nil
}

// DecryptMixed decrypts the last shuffle's rows of mixed question q with
// decs (trustee → a decryption that passed VerifyMixDecryption) and decodes
// them (SPEC.md V16.1–V16.2).
func DecryptMixed(m *ballot.Manifest, params *Params, q int, rows []shuffle.Row, decs map[int]*MixDecryption) (*MixedAnswers, error) {
	plain, _, err := CombineMix(params, rows, decs)
	if err != nil {
		return nil, err
	}
	return MixedAnswersOf(m, q, plain)
}

// DiffMixed describes the first difference between published and
// decrypted answers of one mixed question (SPEC.md V16.3), "" if they are
// equal.
func DiffMixed(pub, got *MixedAnswers) string {
	if pub.Question != got.Question || pub.Kind != got.Kind {
		return fmt.Sprintf("the result lists question %d of kind %d, the record question %d of kind %d", pub.Question, pub.Kind, got.Question, got.Kind)
	}
	if pub.Seats != got.Seats {
		return fmt.Sprintf("the result counts STV for %d seats, the manifest fixes %d", pub.Seats, got.Seats)
	}
	if len(pub.Answers) != len(got.Answers) {
		return fmt.Sprintf("the result lists %d answers, the record decrypts to %d", len(pub.Answers), len(got.Answers))
	}
	if !slices.Equal(pub.Invalid, got.Invalid) {
		return fmt.Sprintf("the result lists invalid write-ins %v, the record decrypts to %v", pub.Invalid, got.Invalid)
	}
	for i := range got.Answers {
		a, b := pub.Answers[i], got.Answers[i]
		if !slices.Equal(a.Ranking, b.Ranking) || !slices.Equal(a.Scores, b.Scores) || a.Text != b.Text {
			return fmt.Sprintf("row %d: the result says %s, the record decrypts to %s", i+1, answerString(a), answerString(b))
		}
	}
	return ""
}

func answerString(a ballot.Answer) string {
	switch {
	case a.Ranking != nil:
		return fmt.Sprintf("ranking %v", a.Ranking)
	case a.Scores != nil:
		return fmt.Sprintf("scores %v", a.Scores)
	}
	return fmt.Sprintf("text %q", a.Text)
}
