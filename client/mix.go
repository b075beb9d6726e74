package client

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// mixVerifier holds what V14–V16 need of an election with mixed questions
// (SPEC.md §11): the counted ballots' rows, each cascade's tip and the
// valid decryptions. It is nil for a manifest without mixed questions.
type mixVerifier struct {
	questions []int                                // the mixed questions, increasing
	counted   map[[32]byte]mixCounted              // credential → its counted ballot's rows (V10)
	tips      map[int][]shuffle.Row                // question → rows the next shuffle takes
	positions map[int]int                          // question → shuffles seen
	shufflers map[int][]int                        // question → trustees whose shuffle passed V14, in order
	decs      map[int]map[int]*tally.MixDecryption // question → trustee → valid decryption (V15)
	answers   map[int]*tally.MixedAnswers          // question → decrypted answers (V16)
	outcomes  []*MixedOutcome                      // V16.4
}

type mixCounted struct {
	seq  int64
	rows []shuffle.Row // by position in questions
}

// mixer returns the mix verifier, made on first use; nil without mixed
// questions.
func (v *verifier) mixer() *mixVerifier {
	if v.mix != nil || v.m == nil {
		return v.mix
	}
	var qs []int
	for q, mq := range v.m.Questions {
		if mq.Kind.Mixed() {
			qs = append(qs, q)
		}
	}
	if qs == nil {
		return nil
	}
	v.mix = &mixVerifier{questions: qs, counted: map[[32]byte]mixCounted{}, tips: map[int][]shuffle.Row{},
		positions: map[int]int{}, shufflers: map[int][]int{}, decs: map[int]map[int]*tally.MixDecryption{}, answers: map[int]*tally.MixedAnswers{}}
	return v.mix
}

// mixCount keeps the K.5 rows of pb, now its credential's counted ballot
// (V10.4), replacing the rows of the ballot it supersedes.
func (v *verifier) mixCount(pb pendingBallot) {
	mv := v.mixer()
	if mv == nil {
		return
	}
	c := mixCounted{seq: pb.seq}
	for _, q := range mv.questions {
		row, err := pb.b.MixRow(v.m, q)
		if err != nil { // V8.3 checked the shape, so this cannot happen
			v.failAt(StepV14, pb.seq, "V14.2 rows", "%v", err)
			return
		}
		c.rows = append(c.rows, row)
	}
	mv.counted[pb.cred] = c
}

// mixInputs makes the first input of every cascade once the ballots are
// closed: the counted ballots' rows in board order (SPEC.md §11.1).
func (mv *mixVerifier) mixInputs() {
	if len(mv.tips) > 0 || len(mv.positions) > 0 {
		return
	}
	all := make([]mixCounted, 0, len(mv.counted))
	for _, c := range mv.counted {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b mixCounted) int { return cmp.Compare(a.seq, b.seq) })
	for k, q := range mv.questions {
		rows := make([]shuffle.Row, len(all))
		for i, c := range all {
			rows[i] = c.rows[k]
		}
		mv.tips[q] = rows
	}
}

// currentRows returns the rows of mixed question q's cascade for an entry
// of step n (V14.1, V15.1), or reports why there are none.
func (v *verifier) currentRows(n Step, seq int64, q int) (*mixVerifier, []shuffle.Row, bool) {
	mv := v.mixer()
	if mv == nil || !v.aggDone || v.joint == nil || v.vk == nil {
		v.failAt(n, seq, n.String()+".1 question", "a %s entry in an election without mixed questions or before the close", map[Step]string{StepV14: "shuffle", StepV15: "mix-decryption"}[n])
		return nil, nil, false
	}
	mv.mixInputs()
	rows, ok := mv.tips[q]
	if !ok {
		v.failAt(n, seq, n.String()+".1 question", "question %d is not a mixed question", q)
	}
	return mv, rows, ok
}

// mixShuffle is V14 on an accepted shuffle entry.
func (v *verifier) mixShuffle(seq int64, ms *tally.MixShuffle) {
	mv, in, ok := v.currentRows(StepV14, seq, ms.Question)
	if !ok {
		return
	}
	mv.positions[ms.Question]++
	// The next shuffle takes this one's output whatever V14 says here: a
	// failure is reported, and the cascade is judged on what the board holds.
	mv.tips[ms.Question] = ms.Outputs
	if w := v.m.MixWidth(ms.Question); ms.Width != w || len(ms.Outputs) != len(in) {
		v.failAt(StepV14, seq, fmt.Sprintf("V14.2 question %d position %d", ms.Question, ms.Position),
			"the shuffle has %d rows of width %d, its input %d rows of width %d", len(ms.Outputs), ms.Width, len(in), w)
		return
	}
	switch err := tally.VerifyMix(v.rand, v.rep.Fingerprint, v.joint, in, ms); {
	case errors.Is(err, tally.ErrStaleInput):
		v.failAt(StepV14, seq, fmt.Sprintf("V14.2 question %d position %d", ms.Question, ms.Position),
			"trustee %d's shuffle names other input rows than the question's current ones: %v", ms.Trustee, err)
		return
	case err != nil:
		v.failAt(StepV14, seq, fmt.Sprintf("V14.3 question %d position %d", ms.Question, ms.Position),
			"trustee %d's shuffle proof does not verify against its input and context: %v", ms.Trustee, err)
		return
	}
	mv.shufflers[ms.Question] = append(mv.shufflers[ms.Question], ms.Trustee)
}

// MixCascade is the verified state of one mixed question's cascade
// (SPEC.md §11.2), what a trustee needs to shuffle or decrypt next.
type MixCascade struct {
	Question int
	Width    int
	// Shufflers are the trustees whose shuffle passed V14, in cascade
	// order; Position is the number of shuffles on the board.
	Shufflers []int
	Position  int
	// Decryptions are the decryptions that passed V15, by trustee.
	Decryptions map[int]*tally.MixDecryption
	// Rows are what the next shuffle takes and the decryptions decrypt:
	// the last shuffle's output, or the counted ballots' rows in board
	// order before the first.
	Rows []shuffle.Row
}

// cascades returns the cascades once the ballots are closed (nil before).
func (v *verifier) cascades() []*MixCascade {
	mv := v.mix
	if mv == nil || !v.aggDone {
		return nil
	}
	mv.mixInputs()
	out := make([]*MixCascade, 0, len(mv.questions))
	for _, q := range mv.questions {
		c := &MixCascade{Question: q, Width: v.m.MixWidth(q), Shufflers: slices.Clone(mv.shufflers[q]), Position: mv.positions[q],
			Decryptions: map[int]*tally.MixDecryption{}, Rows: mv.tips[q]}
		for j, d := range mv.decs[q] {
			c.Decryptions[j] = d
		}
		out = append(out, c)
	}
	return out
}

// mixDecryption is V15 on an accepted mix-decryption entry.
func (v *verifier) mixDecryption(seq int64, md *tally.MixDecryption) {
	mv, rows, ok := v.currentRows(StepV15, seq, md.Question)
	if !ok {
		return
	}
	if md.Trustee < 1 || md.Trustee > len(v.vk) {
		v.failAt(StepV15, seq, "V15.1 trustee", "trustee index %d", md.Trustee)
		return
	}
	if err := tally.VerifyMixDecryption(v.rep.Fingerprint, v.vk[md.Trustee-1], rows, md); err != nil {
		v.failAt(StepV15, seq, fmt.Sprintf("V15.2 question %d trustee %d", md.Question, md.Trustee),
			"the decryption shares do not match the last shuffle's rows under the trustee's key: %v", err)
		return
	}
	if mv.decs[md.Question] == nil {
		mv.decs[md.Question] = map[int]*tally.MixDecryption{}
	}
	mv.decs[md.Question][md.Trustee] = md
}

// verifyMixed is V16: decrypt each cascade's last rows with the valid
// decryptions, decode them and compare with the result's mixed section.
func (v *verifier) verifyMixed() {
	mv, seq := v.mixer(), v.resultSeq
	if mv == nil {
		if len(v.result.Mixed) > 0 {
			v.failAt(StepV16, seq, "V16.3 mixed answers", "the result lists mixed answers but the manifest has no mixed question")
		}
		return
	}
	v.checked(StepV16)
	mv.mixInputs()
	if len(v.result.Mixed) != len(mv.questions) {
		v.failAt(StepV16, seq, "V16.3 mixed answers", "the result lists %d mixed questions, the manifest has %d", len(v.result.Mixed), len(mv.questions))
		return
	}
	for k, q := range mv.questions {
		field := fmt.Sprintf("V16 question %d", q)
		if mv.positions[q] < v.params.T {
			v.failAt(StepV16, seq, field+" shuffles", "%d shuffles, threshold %d", mv.positions[q], v.params.T)
			continue
		}
		got, err := tally.DecryptMixed(v.m, v.params, q, mv.tips[q], mv.decs[q])
		if err != nil {
			v.failAt(StepV16, seq, "V16.1–V16.2 "+field[4:], "%v", err)
			continue
		}
		mv.answers[q] = got
		pub := &v.result.Mixed[k]
		if pub.Question != q || pub.Kind != got.Kind {
			v.failAt(StepV16, seq, "V16.3 "+field[4:], "the result lists question %d of kind %d here", pub.Question, pub.Kind)
			continue
		}
		if d := tally.DiffMixed(pub, got); d != "" {
			v.failAt(StepV16, seq, "V16.3 "+field[4:], "%s", d)
		}
	}
	v.countMixed()
}

// mixReached says whether V14, V15 and V16 ran.
func (v *verifier) mixReached() (v14, v15, v16 bool) {
	mv := v.mix
	if mv == nil {
		return false, false, false
	}
	for _, q := range mv.questions {
		v14 = v14 || mv.positions[q] > 0
		v15 = v15 || len(mv.decs[q]) > 0
	}
	return v14, v15, v.result != nil
}
