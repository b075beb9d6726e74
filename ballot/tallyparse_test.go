package ballot

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// tallyParseBallots are ballots of every layout: version 1 with the
// question shapes of the brief (blank and approval answers included), and
// version 2 with a question of every kind.
func tallyParseBallots(t testing.TB) [][]byte {
	t.Helper()
	e := newTestElection(t, "tally-parse", shapes, 2)
	rng := seeded.Raw("tally-parse-enc")
	var out [][]byte
	for i, ch := range [][][]uint32{defaultChoices, {{0}, {1, 2}, {}, {0, 1}}} {
		b, _ := e.encrypt(t, rng, i, ch)
		out = append(out, b.Bytes())
	}
	k := newTestElection(t, "tally-parse-kinds", kindQuestions, 1)
	b, _ := k.encryptAnswers(t, seeded.Raw("tally-parse-kinds-enc"), 0, kindAnswers)
	return append(out, b.Bytes())
}

// sameCiphertexts reports whether a and b are the same ciphertexts, by
// their encodings.
func sameCiphertexts(a, b [][]*Ciphertext) bool {
	return slices.EqualFunc(a, b, func(x, y []*Ciphertext) bool {
		return slices.EqualFunc(x, y, func(c, d *Ciphertext) bool { return bytes.Equal(c.Bytes(), d.Bytes()) })
	})
}

// TestParseTallyCiphertexts: on every layout it returns exactly what
// ParseBallot's Ciphertexts returns (nothing for a mixed question).
func TestParseTallyCiphertexts(t *testing.T) {
	for i, data := range tallyParseBallots(t) {
		b, err := ParseBallot(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTallyCiphertexts(data)
		if err != nil {
			t.Fatalf("ballot %d: %v", i, err)
		}
		if !sameCiphertexts(got, b.Ciphertexts()) {
			t.Fatalf("ballot %d: the ciphertexts differ from ParseBallot's", i)
		}
		if len(got) != b.NumQuestions() {
			t.Fatalf("ballot %d: %d questions, want %d", i, len(got), b.NumQuestions())
		}
		for q := range got {
			if len(got[q]) != b.NumOptions(q) {
				t.Fatalf("ballot %d question %d: %d ciphertexts, want %d", i, q, len(got[q]), b.NumOptions(q))
			}
		}
	}
}

// TestAttackParseTallyCiphertextsRefuses: whatever it refuses ParseBallot
// refuses too, and every defect of the layout or of a point the tally adds
// is refused: truncations at every length, a trailing byte, an unknown
// version or kind, counts out of bounds, a non-canonical or identity alpha,
// a non-canonical beta.
func TestAttackParseTallyCiphertextsRefuses(t *testing.T) {
	ballots := tallyParseBallots(t)
	v1, kinds := ballots[0], ballots[2]
	b, _ := ParseBallot(v1)
	alpha := b.qs[0].opts[1].off // option 1 of question 0
	beta := alpha + group.Size
	nonCanonical := bytes.Repeat([]byte{0xff}, group.Size)
	with := func(data []byte, off int, v []byte) []byte {
		out := slices.Clone(data)
		copy(out[off:], v)
		return out
	}
	u32 := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	const questionsAt = 1 + 32 + group.Size
	cases := map[string][]byte{
		"trailing byte":         append(slices.Clone(v1), 0),
		"version 3":             with(v1, 0, []byte{3}),
		"no questions":          with(v1, questionsAt, u32(0)),
		"65 questions":          with(v1, questionsAt, u32(MaxQuestions+1)),
		"1 option":              with(v1, questionsAt+4, u32(1)),
		"65 options":            with(v1, questionsAt+4, u32(MaxOptions+1)),
		"non-canonical alpha":   with(v1, alpha, nonCanonical),
		"identity alpha":        with(v1, alpha, make([]byte, group.Size)),
		"non-canonical beta":    with(v1, beta, nonCanonical),
		"no range branch":       with(v1, b.qs[0].rngOff-4, u32(0)),
		"kinds: unknown kind":   with(kinds, questionsAt+4, []byte{7}),
		"kinds: version 1":      with(kinds, 0, []byte{BallotVersion}),
		"kinds: trailing byte":  append(slices.Clone(kinds), 0),
		"kinds: one byte short": kinds[:len(kinds)-1],
	}
	for _, data := range ballots {
		for n := range len(data) {
			if _, err := ParseTallyCiphertexts(data[:n]); err == nil {
				t.Fatalf("a ballot truncated to %d of %d bytes parses", n, len(data))
			}
		}
	}
	for name, data := range cases {
		if _, err := ParseTallyCiphertexts(data); err == nil {
			t.Errorf("%s: parses", name)
		}
		if _, err := ParseBallot(data); err == nil {
			t.Errorf("%s: ParseBallot accepts it (the case tests nothing)", name)
		}
	}
}

// TestParseTallyCiphertextsSkipsProofs pins the documented difference
// with ParseBallot: a non-canonical proof commitment or scalar, or
// credential, is not decoded (ParseBallot refuses the bytes); the
// ciphertexts read are still the ballot's.
func TestParseTallyCiphertextsSkipsProofs(t *testing.T) {
	v1 := tallyParseBallots(t)[0]
	b, _ := ParseBallot(v1)
	want := b.Ciphertexts()
	nonCanonical := bytes.Repeat([]byte{0xff}, group.Size)
	for name, off := range map[string]int{
		"credential":         1 + 32,
		"commitment a":       b.qs[0].opts[0].off + CiphertextSize,
		"response s":         b.qs[0].opts[0].off + CiphertextSize + 3*group.Size,
		"range commitment b": b.qs[1].rngOff + group.Size,
	} {
		data := slices.Clone(v1)
		copy(data[off:], nonCanonical)
		if _, err := ParseBallot(data); err == nil {
			t.Fatalf("%s: ParseBallot accepts a non-canonical encoding", name)
		}
		got, err := ParseTallyCiphertexts(data)
		if err != nil || !sameCiphertexts(got, want) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// FuzzParseTallyCiphertexts: whatever ParseBallot accepts,
// ParseTallyCiphertexts accepts with the same ciphertexts; whatever
// ParseTallyCiphertexts refuses, ParseBallot refuses.
func FuzzParseTallyCiphertexts(f *testing.F) {
	for _, data := range tallyParseBallots(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseTallyCiphertexts(data)
		b, perr := ParseBallot(data)
		switch {
		case perr == nil && err != nil:
			t.Fatalf("ParseBallot accepts what ParseTallyCiphertexts refuses: %v", err)
		case perr == nil && !sameCiphertexts(got, b.Ciphertexts()):
			t.Fatal("the ciphertexts differ from ParseBallot's")
		}
	})
}
