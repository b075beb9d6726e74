package ballot

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Audits of version-2 ballots (SPEC.md §12.9): the opening gives,
// per question, the answer and the randomness of every ciphertext in ballot
// order. These functions are called by Open, AppendTo, ParseAuditedBallot,
// VerifyOpening and Selections when the ballot is version 2.

// kindShape is what the opening encoding of one question of a version-2
// ballot takes from the ballot: its kind, n (options, or chunks of a
// write-in) and k (ranks of a ranking).
type kindShape struct {
	kind QuestionKind
	n, k int
}

func shapesOf(b *Ballot) []kindShape {
	out := make([]kindShape, len(b.qs))
	for q := range b.qs {
		eq := &b.qs[q]
		sh := kindShape{kind: eq.kind, n: len(eq.opts)}
		switch eq.kind {
		case KindRanked:
			sh.n, sh.k = eq.n, eq.k
		case KindWriteIn:
			sh.n = len(eq.wi.cts)
		}
		out[q] = sh
	}
	return out
}

// numCiphertexts is the number of ciphertexts (and of r) of the question.
func (sh kindShape) numCiphertexts() int {
	if sh.kind == KindRanked {
		return sh.n * sh.k
	}
	return sh.n
}

func cloneAnswers(as []Answer) []Answer {
	out := make([]Answer, len(as))
	for q, a := range as {
		out[q] = Answer{Choices: slices.Clone(a.Choices), Ranking: slices.Clone(a.Ranking), Scores: slices.Clone(a.Scores), Text: a.Text}
	}
	return out
}

// openKinds is Open for a version-2 ballot.
func (b *Ballot) openKinds(s *Secrets) (*Opening, error) {
	if len(s.answers) != len(b.qs) || len(s.r) != len(b.qs) {
		return nil, ErrOpeningMismatch
	}
	o := &Opening{Answers: cloneAnswers(s.answers), shape: shapesOf(b)}
	for q := range s.r {
		rs := make([]*group.Scalar, len(s.r[q]))
		for i, r := range s.r[q] {
			rs[i] = r.Clone()
		}
		o.Randomness = append(o.Randomness, rs)
	}
	return o, nil
}

// appendKinds writes the opening of a version-2 ballot (§12.9). Values the
// opening lacks (an Opening edited by hand) are written as zeros, so that
// the encoding keeps the ballot's shape; such an opening fails V9.
func (o *Opening) appendKinds(w *wire.Writer) {
	w.Count(len(o.shape))
	for q, sh := range o.shape {
		var a Answer
		if q < len(o.Answers) {
			a = o.Answers[q]
		}
		r := func(i int) *group.Scalar {
			if q < len(o.Randomness) && i < len(o.Randomness[q]) && o.Randomness[q][i] != nil {
				return o.Randomness[q][i]
			}
			return group.NewScalar()
		}
		w.U8(uint8(sh.kind)).Count(sh.n)
		switch sh.kind {
		case KindSelect:
			for i := range sh.n {
				sel := uint8(0)
				if slices.Contains(a.Choices, uint32(i)) {
					sel = 1
				}
				w.U8(sel).Scalar(r(i))
			}
		case KindRanked:
			w.Count(sh.k).Count(len(a.Ranking))
			for _, i := range a.Ranking {
				w.U32(i)
			}
			for e := range sh.n * sh.k {
				w.Scalar(r(e))
			}
		case KindScore:
			for i := range sh.n {
				v := uint32(0)
				if i < len(a.Scores) {
					v = a.Scores[i]
				}
				w.U32(v).Scalar(r(i))
			}
		case KindWriteIn:
			text := a.Text
			if len(text) > sh.n*WriteInChunk-1 {
				text = "" // does not fit: cannot be this ballot's text
			}
			buf := writeInBytes(text, sh.n)
			for k := range sh.n {
				w.Fixed(buf[k*WriteInChunk : (k+1)*WriteInChunk]).Scalar(r(k))
			}
		}
	}
}

// readKinds reads the opening of the version-2 ballot b strictly (§12.9,
// Decoding): b's number of questions, kinds, n, k and w; flags 0 or 1; a
// ranking of at most k options, each < n; canonical scalars; chunk texts
// that are a length byte, a UTF-8 text and zero padding.
func readKinds(r *wire.Reader, b *Ballot) *Opening {
	shapes := shapesOf(b)
	o := &Opening{shape: shapes}
	nq := r.Count("opening questions", MaxQuestions)
	if r.Err() == nil && nq != len(shapes) {
		r.Failf("opening has %d questions, ballot %d", nq, len(shapes))
	}
	for q := 0; q < nq && r.Err() == nil; q++ {
		sh := shapes[q]
		if kind := QuestionKind(r.U8("opening kind")); r.Err() == nil && kind != sh.kind {
			r.Failf("question %d: opening kind %d, ballot %d", q, kind, sh.kind)
		}
		if n := r.Count("opening options", maxWriteInCts+MaxOptions); r.Err() == nil && n != sh.n {
			r.Failf("question %d: opening has %d options or chunks, ballot %d", q, n, sh.n)
		}
		var a Answer
		var rs []*group.Scalar
		switch sh.kind {
		case KindSelect:
			a.Choices = []uint32{}
			for i := 0; i < sh.n && r.Err() == nil; i++ {
				if r.Flag("selected") {
					a.Choices = append(a.Choices, uint32(i))
				}
				rs = append(rs, r.Scalar("randomness"))
			}
		case KindRanked:
			if k := r.Count("opening ranks", MaxOptions); r.Err() == nil && k != sh.k {
				r.Failf("question %d: opening has %d ranks, ballot %d", q, k, sh.k)
			}
			t := r.Count("ranking length", sh.k)
			a.Ranking = []uint32{}
			for j := 0; j < t && r.Err() == nil; j++ {
				i := r.U32("ranked option")
				if r.Err() == nil && int64(i) >= int64(sh.n) {
					r.Failf("question %d: ranked option %d of %d", q, i, sh.n)
				}
				a.Ranking = append(a.Ranking, i)
			}
			for e := 0; e < sh.n*sh.k && r.Err() == nil; e++ {
				rs = append(rs, r.Scalar("randomness"))
			}
		case KindScore:
			a.Scores = []uint32{}
			for i := 0; i < sh.n && r.Err() == nil; i++ {
				a.Scores = append(a.Scores, r.U32("score"))
				rs = append(rs, r.Scalar("randomness"))
			}
		case KindWriteIn:
			buf := make([]byte, 0, sh.n*WriteInChunk)
			for k := 0; k < sh.n && r.Err() == nil; k++ {
				buf = append(buf, r.Fixed("write-in chunk", WriteInChunk)...)
				rs = append(rs, r.Scalar("randomness"))
			}
			if r.Err() == nil {
				text, err := writeInText(buf, len(buf)-1)
				if err != nil {
					r.Failf("question %d: %v", q, err)
				}
				a.Text = text
			}
		}
		o.Answers = append(o.Answers, a)
		o.Randomness = append(o.Randomness, rs)
	}
	return o
}

// verifyKinds is V9.2 and V9.3 for a version-2 ballot that passed V9.1
// (SPEC.md §12.9): every answer obeys its question's rule and
// every ciphertext re-encrypts with its randomness.
func verifyKinds(m *Manifest, pk *group.Element, b *Ballot, o *Opening) error {
	if len(o.Answers) != len(b.qs) || len(o.Randomness) != len(b.qs) {
		return fmt.Errorf("%w: opening has the wrong number of questions", ErrOpeningMismatch)
	}
	for q := range b.qs {
		mq, eq := &m.Questions[q], &b.qs[q]
		vals, err := checkAnswer(q, mq, &o.Answers[q]) // V9.2
		if err != nil {
			return fmt.Errorf("%w: V9.2: %w", ErrOpeningMismatch, err)
		}
		rs := o.Randomness[q]
		if len(rs) != shapesOf(b)[q].numCiphertexts() || slices.Contains(rs, nil) {
			return fmt.Errorf("%w: V9.3: question %d has the wrong number of randomness values", ErrOpeningMismatch, q)
		}
		if mq.Kind == KindWriteIn {
			elems, err := EncodeWriteIn(o.Answers[q].Text, mq.Max)
			if err != nil || len(elems) != len(eq.wi.cts) {
				return fmt.Errorf("%w: V9.2: question %d: the write-in does not encode: %v", ErrOpeningMismatch, q, err)
			}
			for k, ct := range eq.wi.cts {
				if !EncryptElement(pk, elems[k], rs[k]).Equal(ct) {
					return fmt.Errorf("%w: V9.3: question %d write-in chunk %d does not re-encrypt", ErrOpeningMismatch, q, k)
				}
			}
			continue
		}
		for e, opt := range eq.opts {
			if !Encrypt(pk, vals[e], rs[e]).Equal(opt.ct) {
				return fmt.Errorf("%w: V9.3: question %d %s does not re-encrypt", ErrOpeningMismatch, q, entryName(eq, e))
			}
		}
	}
	return nil
}

// entryName names ciphertext e of a question for V9.3's report.
func entryName(eq *encQuestion, e int) string {
	if eq.kind == KindRanked {
		return fmt.Sprintf("entry (option %d, rank %d)", e/eq.k, e%eq.k)
	}
	return "option " + strconv.Itoa(e)
}

// selectionsKinds is Selections for a version-2 opening: the selected
// options, the ranked options in order, "option: score" per option, the
// write-in text.
func (o *Opening) selectionsKinds(m *Manifest) [][]string {
	out := make([][]string, len(o.Answers))
	for q, a := range o.Answers {
		opts := m.Questions[q].Options
		switch m.Questions[q].Kind {
		case KindSelect:
			for _, i := range a.Choices {
				out[q] = append(out[q], opts[i])
			}
		case KindRanked:
			for _, i := range a.Ranking {
				out[q] = append(out[q], opts[i])
			}
		case KindScore:
			for i, v := range a.Scores {
				out[q] = append(out[q], fmt.Sprintf("%s: %d", opts[i], v))
			}
		case KindWriteIn:
			out[q] = []string{a.Text}
		}
	}
	return out
}
