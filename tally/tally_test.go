package tally

import (
	"bytes"
	"errors"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

type tallyFixture struct {
	c        *ceremony
	agg      [][]*ballot.Ciphertext
	partials map[int]*PartialDecryption
	counts   [][]uint64
}

func newTallyFixture(t testing.TB, seed string) *tallyFixture {
	t.Helper()
	c := runCeremony(t, seed, 4, 3)
	rng := seeded.New(seed + "/tally")
	counts := [][]uint64{{3, 0, 7}, {12}}
	f := &tallyFixture{c: c, counts: counts, agg: encryptAgg(t, rng, c.key, counts)}
	f.partials = c.decrypt(t, rng, f.agg, 1, 2, 3, 4)
	return f
}

func TestTallyRoundTrip(t *testing.T) {
	f := newTallyFixture(t, "tally")
	rng := seeded.New("weights")
	for j, pd := range f.partials {
		if err := VerifyPartial(f.c.params, f.c.vk[j-1], f.agg, pd); err != nil {
			t.Fatal(err)
		}
		if err := VerifyPartialBatch(rng, f.c.params, f.c.vk[j-1], f.agg, pd); err != nil {
			t.Fatal(err)
		}
	}
	res, rejected, err := Combine(f.c.params, f.c.vk, f.agg, f.partials, 20)
	if err != nil || len(rejected) != 0 {
		t.Fatal(err, rejected)
	}
	if got := res.Counts; len(got) != 2 || got[0][0] != 3 || got[0][1] != 0 || got[0][2] != 7 || got[1][0] != 12 {
		t.Fatalf("counts %v", got)
	}
	if len(res.Trustees) != 3 || res.Trustees[0] != 1 || res.Trustees[2] != 3 {
		t.Fatalf("trustees %v", res.Trustees)
	}
	if err := VerifyResult(f.c.params, f.c.vk, f.agg, f.partials, 20, res); err != nil {
		t.Fatal(err)
	}
	// Any T present trustees give the same counts.
	sub := map[int]*PartialDecryption{2: f.partials[2], 3: f.partials[3], 4: f.partials[4]}
	res2, _, err := Combine(f.c.params, f.c.vk, f.agg, sub, 20)
	if err != nil || !bytes.Equal(res2.Bytes()[4+6:], res.Bytes()[4+6:]) {
		t.Fatal("different subsets disagree", err)
	}
	// maxCount below a total.
	if _, _, err := Combine(f.c.params, f.c.vk, f.agg, f.partials, 11); !errors.Is(err, ErrNoDiscreteLog) {
		t.Fatalf("count above maxCount: %v", err)
	}
	if err := VerifyResult(f.c.params, f.c.vk, f.agg, f.partials, 11, res); !errors.Is(err, ErrResultMismatch) {
		t.Fatalf("VerifyResult with small maxCount: %v", err)
	}
	// Too few.
	if _, _, err := Combine(f.c.params, f.c.vk, f.agg, map[int]*PartialDecryption{1: f.partials[1], 2: f.partials[2]}, 20); !errors.Is(err, ErrTooFewTrustees) {
		t.Fatal("combined with T-1 partials")
	}
}

// pdTamperings returns every single-field modification of a partial decryption.
func pdTamperings(pd *PartialDecryption) map[string]*PartialDecryption {
	cp := func() *PartialDecryption { return mustReparse(pd.Bytes(), ParsePartialDecryption) }
	g := group.Generator()
	one := group.ScalarFromUint64(1)
	out := map[string]*PartialDecryption{}
	q := cp()
	q.Trustee = q.Trustee%4 + 1
	out["trustee"] = q
	for qi, row := range pd.Shares {
		for o := range row {
			at := string(rune('0'+qi)) + "/" + string(rune('0'+o))
			for name, mut := range map[string]func(s *DecryptionShare){
				"D": func(s *DecryptionShare) { s.D = group.NewElement().Add(s.D, g) },
				"A": func(s *DecryptionShare) { s.A = group.NewElement().Add(s.A, g) },
				"B": func(s *DecryptionShare) { s.B = group.NewElement().Add(s.B, g) },
				"z": func(s *DecryptionShare) { s.Z = group.NewScalar().Add(s.Z, one) },
			} {
				q = cp()
				mut(&q.Shares[qi][o])
				out[name+" "+at] = q
			}
		}
	}
	q = cp()
	q.Shares[0] = q.Shares[0][:1]
	out["dropped option"] = q
	q = cp()
	q.Shares = q.Shares[:1]
	out["dropped question"] = q
	// Swapping two factors moves proofs to other positions.
	q = cp()
	q.Shares[0][0], q.Shares[0][1] = q.Shares[0][1], q.Shares[0][0]
	out["swapped factors"] = q
	return out
}

func TestPartialDecryptionTampering(t *testing.T) {
	f := newTallyFixture(t, "tamper-pd")
	rng := seeded.New("w")
	pd := f.partials[2]
	X := f.c.vk[1]
	for name, q := range pdTamperings(pd) {
		if err := VerifyPartial(f.c.params, X, f.agg, q); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if err := VerifyPartialBatch(rng, f.c.params, X, f.agg, q); err == nil {
			t.Errorf("%s: accepted by batch", name)
		}
	}
	// Bisection names the bad position.
	q, _ := ParsePartialDecryption(pd.Bytes())
	q.Shares[1][0].Z = group.NewScalar().Add(q.Shares[1][0].Z, group.ScalarFromUint64(1))
	bad, err := FailedFactors(rng, f.c.params, X, f.agg, q)
	if err != nil || len(bad) != 1 || bad[0] != (Position{1, 0}) {
		t.Fatalf("FailedFactors = %v %v", bad, err)
	}
	// The proof binds X, the ciphertext and the fingerprint.
	if VerifyPartial(f.c.params, f.c.vk[2], f.agg, pd) == nil {
		t.Error("accepted under another verification key")
	}
	agg2 := [][]*ballot.Ciphertext{{f.agg[0][0], f.agg[0][1], f.agg[0][2]}, {{Alpha: f.agg[1][0].Alpha, Beta: group.NewElement().Add(f.agg[1][0].Beta, group.Generator())}}}
	if VerifyPartial(f.c.params, X, agg2, pd) == nil {
		t.Error("accepted for another Beta")
	}
	p2 := cloneParams(f.c.params)
	p2.Fingerprint[5] ^= 1
	if VerifyPartial(&p2, X, f.agg, pd) == nil {
		t.Error("accepted under another fingerprint")
	}
	// Combine skips a bad partial and reports it.
	parts := map[int]*PartialDecryption{1: f.partials[1], 2: q, 3: f.partials[3], 4: f.partials[4]}
	res, rejected, err := Combine(f.c.params, f.c.vk, f.agg, parts, 20)
	if err != nil || len(rejected) != 1 || rejected[0] != 2 || res.Trustees[1] != 3 {
		t.Fatalf("Combine with a bad partial: %v %v %v", res, rejected, err)
	}
}

func TestResultTampering(t *testing.T) {
	f := newTallyFixture(t, "tamper-result")
	res, _, err := Combine(f.c.params, f.c.vk, f.agg, f.partials, 20)
	if err != nil {
		t.Fatal(err)
	}
	cp := func() *Result { r, _ := ParseResult(res.Bytes()); return r }
	var bad []*Result
	for q, row := range res.Counts {
		for o := range row {
			r := cp()
			r.Counts[q][o]++
			bad = append(bad, r)
		}
	}
	r := cp()
	r.Trustees = []int{1, 2, 4}
	bad = append(bad, r)
	r = cp()
	r.Trustees = []int{1, 2}
	bad = append(bad, r)
	r = cp()
	r.Counts = r.Counts[:1]
	bad = append(bad, r)
	r = cp()
	r.Counts[1] = append(r.Counts[1], 0)
	bad = append(bad, r)
	for k, r := range bad {
		if err := VerifyResult(f.c.params, f.c.vk, f.agg, f.partials, 20, r); !errors.Is(err, ErrResultMismatch) {
			t.Errorf("tampering %d accepted: %v", k, err)
		}
	}
	if res.Digest(f.c.params.Fingerprint) == cp().Digest([32]byte{}) {
		t.Error("digest does not bind the fingerprint")
	}
}

func TestEmptyAggregate(t *testing.T) {
	c := runCeremony(t, "empty", 3, 2)
	rng := seeded.New("empty")
	agg, err := Aggregate([]int{2, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := c.decrypt(t, rng, agg, 1, 2)
	res, _, err := Combine(c.params, c.vk, agg, parts, 0)
	if err != nil || res.Counts[0][0] != 0 || res.Counts[1][0] != 0 {
		t.Fatal(res, err)
	}
	if _, err := Aggregate([]int{2}, [][][]*ballot.Ciphertext{{{elgamal(group.Generator(), 0, group.ScalarFromUint64(1))}}}); !errors.Is(err, ErrMalformed) {
		t.Fatal("ballot of the wrong shape aggregated")
	}
}

func TestDiscreteLogEdges(t *testing.T) {
	for _, max := range []uint64{0, 1, 2, 3, 15, 16, 17, 1000} {
		bs := newBabySteps(max)
		for _, m := range []uint64{0, 1, max / 2, max - min(max, 1), max, max + 1, max + 2} {
			M := group.NewElement().ScalarBaseMult(group.ScalarFromUint64(m))
			got, ok := bs.varTimeLog(M)
			if want := m <= max; ok != want || (ok && got != m) {
				t.Errorf("max %d m %d: got %d %v", max, m, got, ok)
			}
		}
		if _, ok := bs.varTimeLog(group.NewElement().Neg(group.Generator())); ok {
			t.Errorf("max %d: found log of -G", max)
		}
	}
}

func TestLagrange(t *testing.T) {
	// f(x) = 5 + 3x: f(1)=8, f(4)=17 interpolate to 5.
	lam := Lagrange([]int{1, 4})
	v := group.NewScalar().Mul(lam[0], group.ScalarFromUint64(8))
	v.Add(v, group.NewScalar().Mul(lam[1], group.ScalarFromUint64(17)))
	if !v.Equal(group.ScalarFromUint64(5)) {
		t.Fatal("Lagrange at 0")
	}
}

func TestTallyEncodingsStrict(t *testing.T) {
	f := newTallyFixture(t, "strict")
	pdb := f.partials[1].Bytes()
	res, _, _ := Combine(f.c.params, f.c.vk, f.agg, f.partials, 20)
	rb := res.Bytes()
	for name, in := range map[string][]byte{
		"pd trailing":     append(bytes.Clone(pdb), 0),
		"pd short":        pdb[:len(pdb)-1],
		"pd trustee 0":    append([]byte{0, 0}, pdb[2:]...),
		"pd bad scalar":   append(bytes.Clone(pdb[:len(pdb)-32]), bytes.Repeat([]byte{0xff}, 32)...),
		"pd bad element":  append(append(bytes.Clone(pdb[:10]), bytes.Repeat([]byte{0xff}, 32)...), pdb[42:]...),
		"pd huge count":   append(append(bytes.Clone(pdb[:2]), 0xff, 0xff, 0xff, 0xff), pdb[6:]...),
		"res trailing":    append(bytes.Clone(rb), 0),
		"res short":       rb[:len(rb)-1],
		"res unsorted":    append([]byte{0, 0, 0, 2, 0, 2, 0, 1}, rb[10:]...),
		"res dup trustee": append([]byte{0, 0, 0, 2, 0, 1, 0, 1}, rb[10:]...),
	} {
		var err error
		if name[:2] == "pd" {
			_, err = ParsePartialDecryption(in)
		} else {
			_, err = ParseResult(in)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

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
