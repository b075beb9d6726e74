package ballot

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Audits of version-2 ballots (SPEC.md §12.9, §12.10): the opening gives,
// per question, the answer and the randomness of every ciphertext in ballot
// order. These functions are called by Open, AppendTo, ParseAuditedBallot,
// VerifyOpening, Selections, Ballot.Audit, ParseAudit and VerifyAudit when
// the ballot is version 2.

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

// kindCiphertexts returns every ciphertext of the version-2 ballot b, per
// question in ballot order: selection options, ranking entries, scores,
// write-in chunks (the ciphertexts of choices2, SPEC.md §12.10).
func kindCiphertexts(b *Ballot) [][]*Ciphertext {
	out := make([][]*Ciphertext, len(b.qs))
	for q := range b.qs {
		eq := &b.qs[q]
		if eq.kind == KindWriteIn {
			out[q] = eq.wi.cts
			continue
		}
		for _, o := range eq.opts {
			out[q] = append(out[q], o.ct)
		}
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

// readKinds reads the opening of a version-2 ballot or audit2 of the given
// shapes strictly (§12.9, Decoding): their number of questions, kinds, n,
// k and w; flags 0 or 1; a ranking of at most k options, each < n;
// canonical scalars; chunk texts that are a length byte, a UTF-8 text and
// zero padding.
func readKinds(r *wire.Reader, shapes []kindShape) *Opening {
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

// kindShapeMatches is V9.1.3 of an audit2 (SPEC.md §12.10): the
// manifest's number of questions, and per question its kind, n (options or
// write-in chunks) and k (a ranking's ranks).
func kindShapeMatches(m *Manifest, shapes []kindShape) error {
	if len(shapes) != len(m.Questions) {
		return fmt.Errorf("%w: V9.1.3: %d questions, manifest has %d", ErrShape, len(shapes), len(m.Questions))
	}
	for q, sh := range shapes {
		mq := &m.Questions[q]
		want := kindShape{kind: mq.Kind, n: len(mq.Options)}
		switch mq.Kind {
		case KindRanked:
			want.k = int(mq.Max)
		case KindWriteIn:
			want.n = WriteInChunks(mq.Max)
		}
		if sh != want {
			return fmt.Errorf("%w: V9.1.3: question %d is of kind %d with counts %d, %d; the manifest's is of kind %d with %d, %d", ErrShape, q, sh.kind, sh.n, sh.k, want.kind, want.n, want.k)
		}
	}
	return nil
}

// verifyKinds is V9.2 and V9.3 for the ciphertexts cts (per question, in
// ballot order) of a version-2 ballot or audit2 whose shapes passed V9.1
// (SPEC.md §12.9, §12.10): every answer obeys its question's rule and
// every ciphertext re-encrypts with its randomness.
func verifyKinds(m *Manifest, pk *group.Element, shapes []kindShape, cts [][]*Ciphertext, o *Opening) error {
	if len(o.Answers) != len(shapes) || len(o.Randomness) != len(shapes) {
		return fmt.Errorf("%w: opening has the wrong number of questions", ErrOpeningMismatch)
	}
	for q, sh := range shapes {
		mq := &m.Questions[q]
		vals, err := checkAnswer(q, mq, &o.Answers[q]) // V9.2
		if err != nil {
			return fmt.Errorf("%w: V9.2: %w", ErrOpeningMismatch, err)
		}
		rs := o.Randomness[q]
		if len(rs) != sh.numCiphertexts() || len(cts[q]) != len(rs) || slices.Contains(rs, nil) {
			return fmt.Errorf("%w: V9.3: question %d has the wrong number of randomness values", ErrOpeningMismatch, q)
		}
		if mq.Kind == KindWriteIn {
			elems, err := EncodeWriteIn(o.Answers[q].Text, mq.Max)
			if err != nil || len(elems) != len(cts[q]) {
				return fmt.Errorf("%w: V9.2: question %d: the write-in does not encode: %v", ErrOpeningMismatch, q, err)
			}
			for k, ct := range cts[q] {
				if !EncryptElement(pk, elems[k], rs[k]).Equal(ct) {
					return fmt.Errorf("%w: V9.3: question %d write-in chunk %d does not re-encrypt", ErrOpeningMismatch, q, k)
				}
			}
			continue
		}
		for e, ct := range cts[q] {
			if !Encrypt(pk, vals[e], rs[e]).Equal(ct) {
				return fmt.Errorf("%w: V9.3: question %d %s does not re-encrypt", ErrOpeningMismatch, q, sh.entryName(e))
			}
		}
	}
	return nil
}

// entryName names ciphertext e of a question for V9.3's report.
func (sh kindShape) entryName(e int) string {
	if sh.kind == KindRanked {
		return fmt.Sprintf("entry (option %d, rank %d)", e/sh.k, e%sh.k)
	}
	return "option " + strconv.Itoa(e)
}

// parseKindAudit decodes an audit2 strictly (SPEC.md §12.10, Audit
// encoding): choices2 (1..64 questions; kinds 0..3; n 2..64, k 1..n, w
// 1..9; canonical elements, α not the identity), then the opening of
// §12.9 with the same kinds and counts, no trailing bytes.
func parseKindAudit(data []byte) (*Audit, error) {
	r := wire.NewReader(data)
	a := &Audit{shape: []kindShape{}}
	copy(a.fingerprint[:], r.Fixed("fingerprint", 32))
	nq := r.Count("questions", MaxQuestions)
	if r.Err() == nil && nq < 1 {
		r.Failf("no questions")
	}
	for q := 0; q < nq && r.Err() == nil; q++ {
		sh := kindShape{kind: QuestionKind(r.U8("question kind"))}
		switch sh.kind {
		case KindSelect, KindScore:
			sh.n = r.Count("options", MaxOptions)
			if r.Err() == nil && sh.n < MinOptions {
				r.Failf("question %d: %d options", q, sh.n)
			}
		case KindRanked:
			sh.n = r.Count("options", MaxOptions)
			sh.k = r.Count("ranks", sh.n)
			if r.Err() == nil && (sh.n < MinOptions || sh.k < 1) {
				r.Failf("question %d: %d options, %d ranks", q, sh.n, sh.k)
			}
		case KindWriteIn:
			sh.n = r.Count("write-in chunks", maxWriteInCts)
			if r.Err() == nil && sh.n < 1 {
				r.Failf("question %d: no write-in chunk", q)
			}
		default:
			r.Failf("question %d: unknown kind %d", q, uint8(sh.kind))
		}
		if r.Err() != nil {
			break
		}
		a.shape = append(a.shape, sh)
		a.cts = append(a.cts, readCiphertexts(r, sh.numCiphertexts()))
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ballot: audit: %w", err)
	}
	a.choices = slices.Clone(data[:len(data)-r.Remaining()])
	a.Opening = readKinds(r, a.shape)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: audit: %w", err)
	}
	a.tracker = trackerOfChoices(BallotVersionKinds, a.choices)
	return a, nil
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
