package tally

import (
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally/shuffle"
)

// mixSeeds are a shuffle of 3 rows of width 2 and trustee 1's decryption
// of it, under a test key.
func mixSeeds(f *testing.F) (*MixShuffle, *MixDecryption) {
	rng := seeded.New("mix fuzz")
	c := runCeremony(f, "mix fuzz", 3, 2)
	var rows []shuffle.Row
	for i := range 3 {
		row := shuffle.Row{}
		for k := range 2 {
			r := group.ScalarFromUint64(uint64(10*i + k + 1))
			row = append(row, ballot.EncryptElement(c.key, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(i))), r))
		}
		rows = append(rows, row)
	}
	ms, err := Mix(rng, c.params.Fingerprint, c.key, 1, 1, 1, 2, rows)
	if err != nil {
		f.Fatal(err)
	}
	md, err := DecryptMix(rng, c.params, c.shares[0], 1, 2, ms.Outputs)
	if err != nil {
		f.Fatal(err)
	}
	return ms, md
}

func FuzzParseMixShuffle(f *testing.F) {
	ms, _ := mixSeeds(f)
	f.Add(ms.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		canonical(t, "shuffle", in, ParseMixShuffle)
	})
}

func FuzzParseMixDecryption(f *testing.F) {
	_, md := mixSeeds(f)
	f.Add(md.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		canonical(t, "mix decryption", in, ParseMixDecryption)
	})
}

func FuzzParseMixedResult(f *testing.F) {
	res := &Result{Counts: [][]uint64{{1, 2}, {}}, Trustees: []int{1, 2}, Mixed: []MixedAnswers{
		{Question: 1, Kind: ballot.KindRanked, Seats: 1, Answers: []ballot.Answer{{Ranking: []uint32{2, 0}}, {Ranking: []uint32{1}}}},
		{Question: 2, Kind: ballot.KindScore, Answers: []ballot.Answer{{Scores: []uint32{0, 5, 3}}}},
		{Question: 3, Kind: ballot.KindWriteIn, Answers: []ballot.Answer{{Text: "hi"}, {}, {Text: ""}}, Invalid: []int{1}},
	}}
	f.Add(res.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		canonical(t, "result", in, ParseResult)
	})
}
