package ballot_test

import (
	"crypto/ed25519"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally/methods"
	"github.com/urna-vote/urna/tally/shuffle"
)

// TestKindsMixRoundTrip runs every mixed kind through the whole pipeline:
// encrypt → verify → MixRow → shuffle.Shuffle (with a verified proof) →
// decrypt with the secret key → DecodeRow → tally/methods, and checks that
// the count equals the count of the answers as cast.
func TestKindsMixRoundTrip(t *testing.T) {
	rng := seeded.Raw("kinds-roundtrip")
	point := func() *group.Element {
		s, _ := group.RandomNonZeroScalar(rng)
		return group.NewElement().ScalarBaseMult(s)
	}
	var trustees []ballot.Trustee
	for i := 1; i <= 3; i++ {
		trustees = append(trustees, ballot.Trustee{Name: fmt.Sprintf("t%d", i), SigningKey: point(), ShareKey: rng.Bytes(32)})
	}
	nodes := []ballot.BoardNode{{ID: "n1", Key: ed25519.NewKeyFromSeed(rng.Bytes(32)).Public().(ed25519.PublicKey)}}
	qs := []ballot.Question{
		{Text: "council", Options: []string{"x", "y"}, Min: 1, Max: 1},
		{Text: "mayor", Kind: ballot.KindRanked, Options: []string{"ana", "ben", "chen", "dara"}, Min: 1, Max: 3},
		{Text: "plans", Kind: ballot.KindScore, Options: []string{"tram", "bus", "bikes"}, Min: 0, Max: 4},
		{Text: "bridge", Kind: ballot.KindWriteIn, Max: 45},
	}
	m, err := ballot.NewManifest("roundtrip", "Round trip", qs, point(), point(), trustees, 2, nodes, 1)
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := group.RandomNonZeroScalar(rng)
	pk := group.NewElement().ScalarBaseMult(sk)

	cast := [][]ballot.Answer{
		{{Choices: []uint32{0}}, {Ranking: []uint32{0, 1, 2}}, {Scores: []uint32{4, 0, 2}}, {Text: "Golden"}},
		{{Choices: []uint32{1}}, {Ranking: []uint32{1, 0}}, {Scores: []uint32{3, 1, 2}}, {Text: ""}},
		{{Choices: []uint32{1}}, {Ranking: []uint32{2}}, {Scores: []uint32{0, 0, 0}}, {Text: "桥"}},
		{{Choices: []uint32{0}}, {Ranking: []uint32{3, 2, 1}}, {Scores: []uint32{4, 4, 4}}, {Text: "Golden"}},
		{{Choices: []uint32{0}}, {Ranking: []uint32{1, 3}}, {Scores: []uint32{1, 2, 3}}, {Text: "a forty-five byte name for a bridge, exactly."}},
		{{Choices: []uint32{1}}, {Ranking: []uint32{2, 1, 0}}, {Scores: []uint32{2, 3, 4}}, {Text: "Unity"}},
	}
	rows := make([][]shuffle.Row, len(qs))
	for v, answers := range cast {
		c, err := ballot.GenerateCredential(rng)
		if err != nil {
			t.Fatal(err)
		}
		key, err := c.Key(m.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ballot.EncryptAnswers(rng, m, pk, key, answers)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Verify(m, pk); err != nil {
			t.Fatalf("voter %d: %v", v, err)
		}
		for q := 1; q < len(qs); q++ {
			row, err := b.MixRow(m, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(row) != m.MixWidth(q) {
				t.Fatalf("question %d: row width %d, MixWidth %d", q, len(row), m.MixWidth(q))
			}
			rows[q] = append(rows[q], shuffle.Row(row))
		}
	}
	if _, err := (&ballot.Ballot{}).MixRow(m, 0); err == nil {
		t.Fatal("a selection question gave a mix row")
	}

	decoded := make([][]ballot.Answer, len(qs))
	for q := 1; q < len(qs); q++ {
		w := m.MixWidth(q)
		out, wit, err := shuffle.Shuffle(rng, pk, rows[q], w)
		if err != nil {
			t.Fatal(err)
		}
		fp := m.Fingerprint()
		st := &shuffle.Statement{Context: append(fp[:], byte(q)), Key: pk, Width: w, Inputs: rows[q], Outputs: out}
		proof, err := shuffle.Prove(rng, st, wit)
		if err != nil {
			t.Fatal(err)
		}
		if err := shuffle.VerifyVarTime(rng, st, proof); err != nil {
			t.Fatalf("question %d: shuffle proof: %v", q, err)
		}
		for _, row := range out {
			plain := make([]*group.Element, len(row))
			for k, ct := range row {
				plain[k] = group.NewElement().Sub(ct.Beta, group.NewElement().ScalarMult(sk, ct.Alpha))
			}
			a, err := m.DecodeRow(q, plain)
			if err != nil {
				t.Fatalf("question %d: %v", q, err)
			}
			decoded[q] = append(decoded[q], a)
		}
	}

	column := func(q int) []ballot.Answer {
		var as []ballot.Answer
		for _, answers := range cast {
			as = append(as, answers[q])
		}
		return as
	}
	// Ranked: IRV and Schulze agree on the mixed and the cast ballots.
	irvMixed, err := methods.IRV(4, ballot.Rankings(decoded[1]))
	if err != nil {
		t.Fatal(err)
	}
	irvCast, _ := methods.IRV(4, ballot.Rankings(column(1)))
	if !reflect.DeepEqual(irvMixed, irvCast) {
		t.Fatalf("IRV differs after mixing:\n%+v\n%+v", irvMixed, irvCast)
	}
	sMixed, err := methods.Schulze(4, ballot.Rankings(decoded[1]))
	if err != nil {
		t.Fatal(err)
	}
	sCast, _ := methods.Schulze(4, ballot.Rankings(column(1)))
	if !reflect.DeepEqual(sMixed, sCast) {
		t.Fatal("Schulze differs after mixing")
	}
	// Score: sums and majority judgment.
	scMixed, err := methods.ScoreSums(3, 0, 4, ballot.Grades(decoded[2]))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(scMixed.Sums, []int64{14, 10, 15}) {
		t.Fatalf("score sums %v", scMixed.Sums)
	}
	mjMixed, err := methods.MajorityJudgment(3, 0, 4, ballot.Grades(decoded[2]))
	if err != nil {
		t.Fatal(err)
	}
	mjCast, _ := methods.MajorityJudgment(3, 0, 4, ballot.Grades(column(2)))
	if !reflect.DeepEqual(mjMixed, mjCast) {
		t.Fatal("majority judgment differs after mixing")
	}
	// Write-ins: the same multiset of texts.
	got, want := ballot.WriteIns(decoded[3]), ballot.WriteIns(column(3))
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("write-ins %q, want %q", got, want)
	}
	t.Logf("IRV winner %s, Schulze winners %v, score sums %v, write-ins %q", qs[1].Options[irvMixed.Winner], sMixed.Winners, scMixed.Sums, got)
}
