package ballot

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// pick returns one of xs.
func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// randomKindQuestions returns 1 to 4 questions of random kinds and shapes,
// at least one of them mixed, biased toward the edges: 2 options, a single
// rank, no minimum, a score range of 2 values or of MaxScore+1, a write-in
// of 1 byte or of exactly one or two chunks. Their ballot and audit are
// within the board's limits.
func randomKindQuestions(r *rand.Rand) []Question {
	var qs []Question
	valid := func() bool {
		m := &Manifest{Version: ManifestVersionKinds, Questions: qs}
		return slices.ContainsFunc(qs, func(q Question) bool { return q.Kind.Mixed() }) &&
			m.BallotSize() <= MaxBallotBytes && m.MaxAuditSize() <= MaxAuditBytes
	}
	for len(qs) == 0 || !valid() {
		qs = qs[:0]
		for i := range 1 + r.IntN(4) {
			q := Question{Text: fmt.Sprintf("q%d", i), Kind: QuestionKind(r.IntN(4))}
			n := pick(r, 2, 2, 3, 5, 6)
			for o := range n {
				q.Options = append(q.Options, fmt.Sprintf("o%d", o))
			}
			switch q.Kind {
			case KindSelect, KindRanked:
				q.Max = uint32(pick(r, 1, n, 1+r.IntN(n)))
				q.Min = uint32(pick(r, 0, int(q.Max), r.IntN(int(q.Max)+1)))
			case KindScore:
				q.Min = uint32(pick(r, 0, 0, 1+r.IntN(MaxScore-1)))
				q.Max = pick(r, q.Min+1, MaxScore, q.Min+1+uint32(r.IntN(int(MaxScore-q.Min))))
			case KindWriteIn:
				q.Options = nil
				q.Max = uint32(pick(r, 1, WriteInChunk-1, 2*WriteInChunk-1, 1+r.IntN(MaxWriteIn)))
			}
			qs = append(qs, q)
		}
	}
	return qs
}

// randomAnswer returns a valid answer to q, biased toward the edges
// (nothing ranked or selected when allowed, the lowest and highest
// scores, an empty or full write-in).
func randomAnswer(r *rand.Rand, q *Question) Answer {
	n := len(q.Options)
	some := func() []uint32 {
		t := int(q.Min) + r.IntN(int(q.Max-q.Min)+1)
		t = pick(r, int(q.Min), int(q.Max), t)
		out := []uint32{}
		for _, o := range r.Perm(n)[:t] {
			out = append(out, uint32(o))
		}
		return out
	}
	switch q.Kind {
	case KindSelect:
		return Answer{Choices: some()}
	case KindRanked:
		return Answer{Ranking: some()}
	case KindScore:
		scores := make([]uint32, n)
		for i := range scores {
			scores[i] = pick(r, q.Min, q.Max, q.Min+uint32(r.IntN(int(q.Max-q.Min)+1)))
		}
		return Answer{Scores: scores}
	}
	text := make([]byte, pick(r, 0, int(q.Max), r.IntN(int(q.Max)+1)))
	for i := range text {
		text[i] = byte('a' + r.IntN(26))
	}
	return Answer{Text: string(text)}
}

// sameRow reports whether a and b are the same ciphertexts, by their
// encodings.
func sameRow(a, b []*Ciphertext) bool {
	return slices.EqualFunc(a, b, func(c, d *Ciphertext) bool { return bytes.Equal(c.Bytes(), d.Bytes()) })
}

// TestParseMixRowEqualsMixRow: on random valid ballots of random
// manifests with questions of every kind, ParseMixRow returns for every
// mixed question the row of ParseBallot and MixRow, bit for bit, and
// refuses every selection question; ParseTallyCiphertexts, which shares
// its reader, still returns ParseBallot's ciphertexts.
func TestParseMixRowEqualsMixRow(t *testing.T) {
	r := rand.New(rand.NewPCG(20261204, 1))
	rows := map[QuestionKind]int{}
	for i := range 16 {
		qs := randomKindQuestions(r)
		e := newTestElection(t, fmt.Sprintf("mix-parse-%d", i), qs, 1)
		for j := range 3 {
			answers := make([]Answer, len(qs))
			for q := range qs {
				answers[q] = randomAnswer(r, &qs[q])
			}
			enc, _ := e.encryptAnswers(t, seeded.Raw(fmt.Sprintf("mix-parse-%d-%d", i, j)), 0, answers)
			data := enc.Bytes()
			b, err := ParseBallot(data)
			if err != nil {
				t.Fatal(err)
			}
			for q := range qs {
				got, err := ParseMixRow(e.m, q, data)
				if !qs[q].Kind.Mixed() {
					if err == nil {
						t.Fatalf("manifest %d ballot %d: a row of selection question %d", i, j, q)
					}
					continue
				}
				want, werr := b.MixRow(e.m, q)
				if err != nil || werr != nil {
					t.Fatalf("manifest %d ballot %d question %d (%v): %v; MixRow: %v", i, j, q, qs[q].Kind, err, werr)
				}
				if !sameRow(got, want) {
					t.Fatalf("manifest %d ballot %d question %d (%v): the row differs from MixRow's", i, j, q, qs[q].Kind)
				}
				rows[qs[q].Kind]++
			}
			cts, err := ParseTallyCiphertexts(data)
			if err != nil || !sameCiphertexts(cts, b.Ciphertexts()) {
				t.Fatalf("manifest %d ballot %d: ParseTallyCiphertexts: %v", i, j, err)
			}
		}
	}
	t.Logf("rows compared: %v", rows)
	for _, k := range []QuestionKind{KindRanked, KindScore, KindWriteIn} {
		if rows[k] < 6 {
			t.Errorf("only %d rows of kind %v compared", rows[k], k)
		}
	}
	// A version-1 ballot has no mixed question.
	v1 := tallyParseBallots(t)[0]
	e := newTestElection(t, "tally-parse", shapes, 2)
	for q := range shapes {
		if _, err := ParseMixRow(e.m, q, v1); err == nil {
			t.Fatalf("a row of question %d of a version-1 ballot", q)
		}
	}
}

// mixParseBallot is a ballot of kindQuestions (select, ranked 5×5, score,
// write-in) and its election.
func mixParseBallot(t testing.TB) (*testElection, *Ballot) {
	t.Helper()
	e := newTestElection(t, "mix-parse-kinds", kindQuestions, 1)
	enc, _ := e.encryptAnswers(t, seeded.Raw("mix-parse-kinds-enc"), 0, kindAnswers)
	b, err := ParseBallot(enc.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return e, b
}

// TestAttackParseMixRowRefuses: whatever it refuses for a bad encoding
// ParseBallot refuses too, and every defect of the layout or of a point of
// the row is refused: truncations at every length, a trailing byte, an
// unknown kind, counts out of bounds, a non-canonical or identity alpha, a
// non-canonical beta, in a ranking's entry, a score or a write-in chunk.
// A ballot whose question is of another kind or width than the manifest's
// is refused as well, and so is a question that is not mixed.
func TestAttackParseMixRowRefuses(t *testing.T) {
	e, b := mixParseBallot(t)
	data := b.raw
	nonCanonical := bytes.Repeat([]byte{0xff}, group.Size)
	identity := make([]byte, group.Size)
	with := func(off int, v []byte) []byte {
		out := slices.Clone(data)
		copy(out[off:], v)
		return out
	}
	u32 := func(n uint32) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }
	ranked, score, writeIn := &b.qs[1], &b.qs[2], b.qs[3].wi
	const kindsAt = 1 + 32 + group.Size + 4 // question 0's kind byte
	// question 1's kind byte, then its option and rank counts
	rankedKind := ranked.opts[0].off - 9
	cases := map[string]struct {
		q    int
		data []byte
	}{
		"trailing byte":                   {1, append(slices.Clone(data), 0)},
		"one byte short":                  {3, data[:len(data)-1]},
		"ranking: unknown kind":           {1, with(rankedKind, []byte{7})},
		"ranking: 6 ranks of 5":           {1, with(rankedKind+5, u32(6))},
		"ranking: 65 options":             {1, with(rankedKind+1, u32(MaxOptions+1))},
		"ranking: no total branch":        {1, with(ranked.sums[len(ranked.sums)-1].off-4, u32(0))},
		"ranking: non-canonical alpha":    {1, with(ranked.opts[7].off, nonCanonical)},
		"ranking: identity alpha":         {1, with(ranked.opts[0].off, identity)},
		"ranking: non-canonical beta":     {1, with(ranked.opts[24].off+group.Size, nonCanonical)},
		"score: non-canonical alpha":      {2, with(score.opts[3].off, nonCanonical)},
		"score: identity alpha":           {2, with(score.opts[0].off, identity)},
		"score: non-canonical beta":       {2, with(score.opts[1].off+group.Size, nonCanonical)},
		"score: one score branch":         {2, with(score.opts[0].off-4, u32(1))},
		"write-in: identity alpha":        {3, with(writeIn.off+writeInChunkSize, identity)},
		"write-in: non-canonical beta":    {3, with(writeIn.off+group.Size, nonCanonical)},
		"write-in: no chunk":              {3, with(writeIn.off-4, u32(0))},
		"select question: unknown kind":   {3, with(kindsAt, []byte{9})},
		"select question: 1 option":       {2, with(kindsAt+1, u32(1))},
		"version 1 layout":                {1, with(0, []byte{BallotVersion})},
		"ranking: bad point, ranked last": {1, with(ranked.opts[len(ranked.opts)-1].off, nonCanonical)},
	}
	for name, c := range cases {
		if _, err := ParseMixRow(e.m, c.q, c.data); err == nil {
			t.Errorf("%s: parses", name)
		}
		if _, err := ParseBallot(c.data); err == nil {
			t.Errorf("%s: ParseBallot accepts it (the case tests nothing)", name)
		}
	}
	// Truncations: the write-in, last, at every length; the ranking, whose
	// 50 points a truncation after it decodes, at every 7th.
	for n := range len(data) {
		if _, err := ParseMixRow(e.m, 3, data[:n]); err == nil {
			t.Fatalf("a ballot truncated to %d of %d bytes parses", n, len(data))
		}
		if n%7 == 0 {
			if _, err := ParseMixRow(e.m, 1, data[:n]); err == nil {
				t.Fatalf("a ballot truncated to %d of %d bytes parses", n, len(data))
			}
		}
	}
	// The manifest does not match the ballot, which ParseBallot accepts.
	// Questions 1 and 2 of another kind, of the same width.
	otherKinds := slices.Clone(kindQuestions)
	otherKinds[1] = Question{Text: "grade the parks", Kind: KindScore, Options: kindQuestions[1].Options, Min: 0, Max: 5}
	otherKinds[2] = Question{Text: "rank the plans", Kind: KindRanked, Options: kindQuestions[2].Options, Min: 1, Max: 4}
	longer := slices.Clone(kindQuestions)
	longer[3].Max = 3 * WriteInChunk // 4 chunks, the ballot has 2
	for name, c := range map[string]struct {
		qs []Question
		q  int
	}{
		"a selection question":       {kindQuestions, 0},
		"question 4 of 4":            {kindQuestions, 4},
		"question -1":                {kindQuestions, -1},
		"a ranking read as scores":   {otherKinds, 1},
		"scores read as a ranking":   {otherKinds, 2},
		"a write-in of other length": {longer, 3},
	} {
		m := newTestElection(t, "mix-parse-other", c.qs, 1).m
		if _, err := ParseMixRow(m, c.q, data); err == nil {
			t.Errorf("%s: parses", name)
		}
	}
}

// TestParseMixRowSkips pins the documented difference with ParseBallot:
// a non-canonical credential, proof commitment, or ciphertext of another
// question is not decoded (ParseBallot refuses the bytes); the row read
// is still the ballot's.
func TestParseMixRowSkips(t *testing.T) {
	e, b := mixParseBallot(t)
	nonCanonical := bytes.Repeat([]byte{0xff}, group.Size)
	for name, c := range map[string]struct{ q, off int }{
		"credential":                             {1, 1 + 32},
		"ranking: entry commitment a":            {1, b.qs[1].opts[3].off + CiphertextSize},
		"ranking: row proof commitment b":        {1, b.qs[1].sums[0].off + group.Size},
		"ranking: total proof commitment a":      {1, b.qs[1].sums[len(b.qs[1].sums)-1].off},
		"ranking: the select question's alpha":   {1, b.qs[0].opts[0].off},
		"scores: proof commitment a":             {2, b.qs[2].opts[2].off + CiphertextSize},
		"scores: the ranking's beta":             {2, b.qs[1].opts[5].off + group.Size},
		"write-in: commitment t":                 {3, b.qs[3].wi.off + CiphertextSize},
		"write-in: the scores' alpha":            {3, b.qs[2].opts[0].off},
		"write-in: the select question's proofs": {3, b.qs[0].rngOff},
	} {
		want, err := b.MixRow(e.m, c.q)
		if err != nil {
			t.Fatal(err)
		}
		data := slices.Clone(b.raw)
		copy(data[c.off:], nonCanonical)
		if _, err := ParseBallot(data); err == nil {
			t.Fatalf("%s: ParseBallot accepts a non-canonical encoding", name)
		}
		got, err := ParseMixRow(e.m, c.q, data)
		if err != nil || !sameRow(got, want) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// FuzzParseMixRow: whatever ParseBallot accepts and MixRow makes a row of
// the manifest's width of, ParseMixRow accepts with the same row;
// whatever ParseMixRow refuses, ParseBallot or MixRow refuses (or the
// width is not the manifest's).
func FuzzParseMixRow(f *testing.F) {
	e, b := mixParseBallot(f)
	f.Add(b.raw, uint8(1))
	f.Add(b.raw, uint8(2))
	f.Add(b.raw, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, q8 uint8) {
		q := int(q8 % 4)
		got, err := ParseMixRow(e.m, q, data)
		pb, perr := ParseBallot(data)
		if perr != nil {
			return
		}
		want, werr := pb.MixRow(e.m, q)
		switch {
		case werr == nil && len(want) == e.m.MixWidth(q) && err != nil:
			t.Fatalf("ParseBallot and MixRow accept what ParseMixRow refuses: %v", err)
		case err == nil && (werr != nil || !sameRow(got, want)):
			t.Fatalf("the row differs from MixRow's (%v)", werr)
		}
	})
}
