package ballot

import (
	"fmt"
	"slices"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/tally/methods"
)

// MixRow returns the row that ballot b contributes to the mix-net for
// question q (docs/spec/kinds.md §K.5), of width m.MixWidth(q); a
// shuffle.Row is this slice. For a ranking, ciphertext i encrypts the rank
// of option i, 1..k, or 0 if unranked: Σ_j (j+1)·c_ij, computed from the
// matrix by anyone. For scores, ciphertext i is option i's. For a write-in,
// the chunk ciphertexts. b MUST have verified against m; q MUST be a mixed
// question. The ciphertexts are fresh copies.
func (b *Ballot) MixRow(m *Manifest, q int) ([]*Ciphertext, error) {
	if q < 0 || q >= len(m.Questions) || q >= len(b.qs) || !m.Questions[q].Kind.Mixed() || b.qs[q].kind != m.Questions[q].Kind {
		return nil, fmt.Errorf("%w: question %d is not a mixed question of this ballot", ErrShape, q)
	}
	eq := &b.qs[q]
	var n int
	var cts []*Ciphertext // a ranking's entries; the scores' or chunks', copied below
	if eq.kind == KindWriteIn {
		n, cts = len(eq.wi.cts), slices.Clone(eq.wi.cts)
	} else {
		n, cts = eq.n, make([]*Ciphertext, len(eq.opts))
		for e := range eq.opts {
			cts[e] = eq.opts[e].ct
		}
	}
	if eq.kind != KindRanked { // the row keeps these: fresh copies
		for i, ct := range cts {
			cts[i] = &Ciphertext{Alpha: ct.Alpha.Clone(), Beta: ct.Beta.Clone()}
		}
	}
	return mixRow(eq.kind, n, cts), nil
}

// mixRow is the K.5 row of a mixed question of kind kind and size n
// (options; a write-in's chunks) whose ciphertexts are cts: a ranking's
// n×k matrix entries, row-major, which it only reads; the score or
// write-in ciphertexts themselves, which the row keeps. MixRow and
// ParseMixRow both compute a row with it.
func mixRow(kind QuestionKind, n int, cts []*Ciphertext) []*Ciphertext {
	if kind != KindRanked {
		return cts
	}
	// Σ_j (j+1)·c_ij, in variable time (the ciphertexts and the weights
	// j+1 are public): each entry is added on the fast path of the point
	// it was decoded to, and each sum encoded once. Circl's constant-time
	// additions converted every decoded entry to circl's form first (a
	// second decoding, half of the board's cost of the mix inputs), and
	// its scalar multiplications were 39 % of a ranked demo's CPU.
	k := len(cts) / n
	row := make([]*Ciphertext, n)
	for i := range row {
		var a, be group.VarTimeSum
		for j := range k {
			ct := cts[i*k+j]
			a.AddMul(uint32(j+1), ct.Alpha)
			be.AddMul(uint32(j+1), ct.Beta)
		}
		row[i] = &Ciphertext{Alpha: a.Element(), Beta: be.Element()}
	}
	return row
}

// smallLog returns v in lo..hi with M = v·G, or false. Variable time: M is
// a decrypted plaintext, public once the row is decrypted.
func smallLog(msg *group.Element, lo, hi uint32) (uint32, bool) {
	p := group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(lo)))
	g := group.Generator()
	for v := lo; v <= hi; v++ {
		if p.Equal(msg) {
			return v, true
		}
		p.Add(p, g)
	}
	return 0, false
}

// DecodeRow decodes the plaintexts of a decrypted mix row of question q,
// M_i = β_i − x·α_i (docs/spec/kinds.md §K.6, D1–D3):
//
//   - a ranking: M_i = rank_i·G with rank_i in 0..k; the ranks given MUST
//     be exactly 1..t for some t in Min..Max, each once; the Answer's
//     Ranking lists the options by rank;
//   - scores: M_i = v_i·G with v_i in Min..Max;
//   - a write-in: DecodeWriteIn.
//
// The proofs of a valid ballot guarantee that its row decodes; a row that
// does not is evidence of a wrong decryption, and DecodeRow returns
// ErrInvalidAnswer.
func (m *Manifest) DecodeRow(q int, plain []*group.Element) (Answer, error) {
	if q < 0 || q >= len(m.Questions) || !m.Questions[q].Kind.Mixed() {
		return Answer{}, fmt.Errorf("%w: question %d is not mixed", ErrShape, q)
	}
	mq := &m.Questions[q]
	if len(plain) != m.MixWidth(q) || slices.Contains(plain, nil) {
		return Answer{}, fmt.Errorf("%w: question %d: %d plaintexts, want %d", ErrInvalidAnswer, q, len(plain), m.MixWidth(q))
	}
	switch mq.Kind {
	case KindRanked:
		byRank := make([]int, mq.Max+1) // byRank[r] = 1 + option with rank r
		t := uint32(0)
		for i, p := range plain {
			r, ok := smallLog(p, 0, mq.Max)
			if !ok {
				return Answer{}, fmt.Errorf("%w: question %d option %d: not a rank in 0..%d", ErrInvalidAnswer, q, i, mq.Max)
			}
			if r == 0 {
				continue
			}
			if byRank[r] != 0 {
				return Answer{}, fmt.Errorf("%w: question %d: rank %d given twice", ErrInvalidAnswer, q, r)
			}
			byRank[r] = i + 1
			t++
		}
		ranking := make([]uint32, 0, t)
		for r := uint32(1); r <= t; r++ {
			if byRank[r] == 0 {
				return Answer{}, fmt.Errorf("%w: question %d: rank %d skipped", ErrInvalidAnswer, q, r)
			}
			ranking = append(ranking, uint32(byRank[r]-1))
		}
		if t < mq.Min {
			return Answer{}, fmt.Errorf("%w: question %d: %d options ranked, want at least %d", ErrInvalidAnswer, q, t, mq.Min)
		}
		return Answer{Ranking: ranking}, nil
	case KindScore:
		scores := make([]uint32, len(plain))
		for i, p := range plain {
			v, ok := smallLog(p, mq.Min, mq.Max)
			if !ok {
				return Answer{}, fmt.Errorf("%w: question %d option %d: not a score in %d..%d", ErrInvalidAnswer, q, i, mq.Min, mq.Max)
			}
			scores[i] = v
		}
		return Answer{Scores: scores}, nil
	}
	text, err := DecodeWriteIn(plain, mq.Max)
	if err != nil {
		return Answer{}, fmt.Errorf("question %d: %w", q, err)
	}
	return Answer{Text: text}, nil
}

// Rankings converts decoded ranked answers to the input of package
// tally/methods (IRV, STV, Schulze).
func Rankings(answers []Answer) []methods.Ranking {
	out := make([]methods.Ranking, len(answers))
	for b, a := range answers {
		out[b] = ints(a.Ranking)
	}
	return out
}

// Grades converts decoded score answers to the input of package
// tally/methods (majority judgment, score sums).
func Grades(answers []Answer) []methods.Grades {
	out := make([]methods.Grades, len(answers))
	for b, a := range answers {
		out[b] = ints(a.Scores)
	}
	return out
}

func ints(xs []uint32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// WriteIns returns the texts of decoded write-in answers, in order.
func WriteIns(answers []Answer) []string {
	out := make([]string, len(answers))
	for b, a := range answers {
		out[b] = a.Text
	}
	return out
}
