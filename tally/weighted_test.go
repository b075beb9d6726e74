package tally

import (
	"errors"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestWeightedTally: ballots of credentials of weights 1, 7 and 1000
// aggregate to Σ w·E (SPEC.md §9.1) and decrypt to the weighted counts,
// found by the discrete-log search up to maxCount = Σ weights (§9.3); a
// result that counts the heavy ballot once fails V13.4.
func TestWeightedTally(t *testing.T) {
	c := runCeremony(t, "weighted", 3, 2)
	rng := seeded.New("weighted")
	votes := [][]uint64{{1, 0}, {0, 1}, {1, 1}}
	weights := []uint32{1, 7, ballot.MaxWeight}
	var cts [][][]*ballot.Ciphertext
	for _, v := range votes {
		row := []*ballot.Ciphertext{}
		for _, m := range v {
			r, _ := group.RandomNonZeroScalar(rng)
			row = append(row, elgamal(c.key, m, r))
		}
		cts = append(cts, [][]*ballot.Ciphertext{row})
	}
	agg, err := WeightedAggregate([]int{2}, cts, weights)
	if err != nil {
		t.Fatal(err)
	}
	// The streaming form agrees, including a revote taken out.
	a, _ := NewAggregator([]int{2})
	for i := range cts {
		if err := a.Add(weights[i], cts[i]); err != nil {
			t.Fatal(err)
		}
	}
	a.Add(5, cts[0])
	a.Sub(5, cts[0])
	// Its per-weight sums, added to an empty aggregator, give it back
	// (what a resumed verifier does).
	ws, sums := a.Sums()
	b, _ := NewAggregator([]int{2})
	for i, w := range ws {
		if err := b.Add(w, sums[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []*Aggregator{a, b} {
		for o, ct := range x.Aggregate()[0] {
			if !ct.Alpha.Equal(agg[0][o].Alpha) || !ct.Beta.Equal(agg[0][o].Beta) {
				t.Fatalf("Aggregator disagrees with WeightedAggregate at option %d", o)
			}
		}
	}
	maxCount := uint64(1 + 7 + ballot.MaxWeight)
	parts := c.decrypt(t, rng, agg, 1, 3)
	res, _, err := Combine(c.params, c.vk, agg, parts, maxCount)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1 + ballot.MaxWeight, 7 + ballot.MaxWeight}; res.Counts[0][0] != want[0] || res.Counts[0][1] != want[1] {
		t.Fatalf("counts %v, want %v", res.Counts[0], want)
	}
	if err := VerifyResult(c.params, c.vk, agg, parts, maxCount, res); err != nil {
		t.Fatal(err)
	}
	// Unweighted counting of the same ballots is another result.
	wrong := &Result{Counts: [][]uint64{{2, 2}}, Trustees: res.Trustees}
	if err := VerifyResult(c.params, c.vk, agg, parts, maxCount, wrong); !errors.Is(err, ErrResultMismatch) {
		t.Fatalf("unweighted counts accepted: %v", err)
	}
}

// TestAttackAggregatorWeights: a weight outside 1..MaxWeight, or a ballot
// of another shape, is refused and leaves the aggregate unchanged.
func TestAttackAggregatorWeights(t *testing.T) {
	a, _ := NewAggregator([]int{1})
	ct := [][]*ballot.Ciphertext{{elgamal(group.Generator(), 1, group.ScalarFromUint64(3))}}
	for _, w := range []uint32{0, ballot.MaxWeight + 1, 1 << 31} {
		if err := a.Add(w, ct); !errors.Is(err, ErrMalformed) {
			t.Errorf("weight %d: %v", w, err)
		}
	}
	if err := a.Add(1, [][]*ballot.Ciphertext{{ct[0][0], ct[0][0]}}); !errors.Is(err, ErrMalformed) {
		t.Errorf("shape: %v", err)
	}
	if !a.Aggregate()[0][0].Alpha.IsIdentity() {
		t.Fatal("a refused ballot changed the aggregate")
	}
	if _, err := WeightedAggregate([]int{1}, [][][]*ballot.Ciphertext{ct}, []uint32{1, 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("weights of another length: %v", err)
	}
}
