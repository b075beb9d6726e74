package tally

import (
	"fmt"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally/shuffle"
)

const mixVectorsFile = "testdata/mix-vectors.txt"

// mixVectors regenerates the known answers of SPEC.md §11 with a seeded
// reader: a 3-trustee, threshold-2 key, 3 input rows of width 2 encrypting
// i·G and (i+3)·G, trustee 2's shuffle at position 1 of question 1 (its
// context, output and proof in one body), the decryption entries of
// trustees 2 and 3, the plaintexts their combination gives, and a result
// with a mixed section. Every line is "name hex".
func mixVectors(t *testing.T) []byte {
	rng := seeded.New("urna/v1 mix known-answer vectors")
	var out strings.Builder
	put := func(name string, b []byte) { fmt.Fprintf(&out, "%s %x\n", name, b) }
	c := runCeremony(t, "urna/v1 mix known-answer vectors", 3, 2)
	put("fingerprint", c.params.Fingerprint[:])
	put("joint-key", c.key.Bytes())
	put("mix-context-q1-t2-p1", MixContext(c.params.Fingerprint, 1, 2, 1))
	var rows []shuffle.Row
	for i := range 3 {
		var row shuffle.Row
		for k := range 2 {
			r, err := group.RandomNonZeroScalar(rng)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, ballot.EncryptElement(c.key, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(i+3*k))), r))
			put(fmt.Sprintf("input-%d-%d", i+1, k+1), row[k].Bytes())
		}
		rows = append(rows, row)
	}
	ms, err := Mix(rng, c.params.Fingerprint, c.key, 1, 2, 1, 2, rows)
	if err != nil {
		t.Fatal(err)
	}
	put("shuffle", ms.Bytes())
	decs := map[int]*MixDecryption{}
	for _, j := range []int{2, 3} {
		md, err := DecryptMix(rng, c.params, c.shares[j-1], 1, 2, ms.Outputs)
		if err != nil {
			t.Fatal(err)
		}
		decs[j] = md
		put(fmt.Sprintf("mix-decryption-%d", j), md.Bytes())
	}
	plain, _, err := CombineMix(c.params, ms.Outputs, decs)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range plain {
		for k, m := range row {
			put(fmt.Sprintf("plaintext-%d-%d", i+1, k+1), m.Bytes())
		}
	}
	res := &Result{Counts: [][]uint64{{1, 2}, {}}, Trustees: []int{2, 3}, Mixed: []MixedAnswers{
		{Question: 1, Kind: ballot.KindRanked, Seats: 1, Answers: []ballot.Answer{{Ranking: []uint32{1, 0}}, {Ranking: []uint32{0}}}},
		{Question: 2, Kind: ballot.KindWriteIn, Answers: []ballot.Answer{{Text: "Vote!"}, {}}, Invalid: []int{1}},
	}}
	put("result", res.Bytes())
	return []byte(out.String())
}

// TestMixVectors pins the vectors, checks that the pinned shuffle and
// decryptions verify and re-encode, and that the plaintexts are the
// inputs' (as a multiset of rows).
func TestMixVectors(t *testing.T) {
	golden.Check(t, mixVectorsFile, mixVectors(t), *update)
	c := runCeremony(t, "urna/v1 mix known-answer vectors", 3, 2)
	var lines = map[string][]byte{}
	for _, l := range strings.Split(strings.TrimSpace(string(mixVectors(t))), "\n") {
		name, hx, _ := strings.Cut(l, " ")
		lines[name] = golden.Hex(t, hx)
	}
	ms, err := ParseMixShuffle(lines["shuffle"])
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []int{2, 3} {
		md, err := ParseMixDecryption(lines[fmt.Sprintf("mix-decryption-%d", j)])
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyMixDecryption(c.params.Fingerprint, c.vk[j-1], ms.Outputs, md); err != nil {
			t.Errorf("pinned decryption of trustee %d: %v", j, err)
		}
	}
	mustReencode(t, "shuffle", lines["shuffle"], ParseMixShuffle)
	mustReencode(t, "result", lines["result"], ParseResult)
	seen := map[string]bool{}
	for i := 1; i <= 3; i++ {
		seen[fmt.Sprintf("%x%x", lines[fmt.Sprintf("plaintext-%d-1", i)], lines[fmt.Sprintf("plaintext-%d-2", i)])] = true
	}
	for i := range 3 {
		a := group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(i)))
		b := group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(i + 3)))
		if !seen[fmt.Sprintf("%x%x", a.Bytes(), b.Bytes())] {
			t.Errorf("input row %d is not among the decrypted rows", i+1)
		}
	}
}
