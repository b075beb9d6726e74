package methods

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// repeat returns n copies of r.
func repeat(n int, r ...int) []Ranking {
	out := make([]Ranking, n)
	for i := range out {
		out[i] = Ranking(r)
	}
	return out
}

func concat(groups ...[]Ranking) []Ranking {
	var out []Ranking
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// TestSchulzeWikipedia is the worked example of the English Wikipedia
// article "Schulze method": 45 voters, options A..E.
func TestSchulzeWikipedia(t *testing.T) {
	const A, B, C, D, E = 0, 1, 2, 3, 4
	ballots := concat(
		repeat(5, A, C, B, E, D), repeat(5, A, D, E, C, B), repeat(8, B, E, D, A, C),
		repeat(3, C, A, B, E, D), repeat(7, C, A, E, B, D), repeat(2, C, B, A, D, E),
		repeat(7, D, C, E, B, A), repeat(8, E, B, A, D, C))
	res, err := Schulze(5, ballots)
	if err != nil {
		t.Fatal(err)
	}
	wantD := [][]int64{
		{0, 20, 26, 30, 22},
		{25, 0, 16, 33, 18},
		{19, 29, 0, 17, 24},
		{15, 12, 28, 0, 14},
		{23, 27, 21, 31, 0},
	}
	wantP := [][]int64{
		{0, 28, 28, 30, 24},
		{25, 0, 28, 33, 24},
		{25, 29, 0, 29, 24},
		{25, 28, 28, 0, 24},
		{25, 28, 28, 31, 0},
	}
	if !reflect.DeepEqual(res.Pairwise, wantD) {
		t.Errorf("pairwise %v, want %v", res.Pairwise, wantD)
	}
	if !reflect.DeepEqual(res.Strongest, wantP) {
		t.Errorf("strongest paths %v, want %v", res.Strongest, wantP)
	}
	if want := [][]int{{E}, {A}, {C}, {B}, {D}}; !reflect.DeepEqual(res.Order, want) {
		t.Errorf("order %v, want %v (E > A > C > B > D)", res.Order, want)
	}
}

// tennessee is the "Tennessee capital" example of the English Wikipedia
// articles on IRV and Condorcet methods: Memphis, Nashville, Chattanooga,
// Knoxville, 100 voters in four blocs.
func tennessee() []Ranking {
	const M, N, C, K = 0, 1, 2, 3
	return concat(repeat(42, M, N, C, K), repeat(26, N, C, K, M), repeat(15, C, K, N, M), repeat(17, K, C, N, M))
}

func TestIRVTennessee(t *testing.T) {
	res, err := IRV(4, tennessee())
	if err != nil {
		t.Fatal(err)
	}
	want := []IRVRound{
		{Tallies: []int64{42, 26, 15, 17}, Excluded: 2},
		{Tallies: []int64{42, 26, 0, 32}, Excluded: 1},
		{Tallies: []int64{42, 0, 0, 58}, Excluded: -1},
	}
	if !reflect.DeepEqual(res.Rounds, want) || res.Winner != 3 {
		t.Fatalf("rounds %+v winner %d, want %+v and Knoxville (3)", res.Rounds, res.Winner, want)
	}
}

func TestSchulzeTennesseeCondorcet(t *testing.T) {
	res, err := Schulze(4, tennessee())
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{1}, {2}, {3}, {0}}; !reflect.DeepEqual(res.Order, want) {
		t.Fatalf("order %v, want Nashville > Chattanooga > Knoxville > Memphis", res.Order)
	}
}

func TestIRVOneOption(t *testing.T) {
	res, err := IRV(1, concat(repeat(3, 0), repeat(2)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Winner != 0 || len(res.Rounds) != 1 || res.Rounds[0].Tallies[0] != 3 || res.Blank != 2 {
		t.Fatalf("%+v", res)
	}
}

// TestIRVAllTies: three options in a perfect cycle. Round 1 ties all three:
// the option listed last (2) is excluded; its ballot goes to 0, which then
// has 2 of 3 and wins.
func TestIRVAllTies(t *testing.T) {
	res, err := IRV(3, []Ranking{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Winner != 0 || len(res.Rounds) != 2 || res.Rounds[0].Excluded != 2 || !res.Rounds[0].TieBroken {
		t.Fatalf("%+v", res)
	}
	// No ballots at all: options are excluded last-listed first; 0 wins.
	res, err = IRV(3, nil)
	if err != nil || res.Winner != 0 || len(res.Rounds) != 3 {
		t.Fatalf("%+v, %v", res, err)
	}
}

// TestIRVBackwardsTieBreak: in round 2, options 1 and 2 tie at 3; option 2
// had fewer ballots in round 1, so it is excluded (not 1, the listed-last
// rule is not needed).
func TestIRVBackwardsTieBreak(t *testing.T) {
	ballots := concat(repeat(4, 0), repeat(3, 1), repeat(2, 2), repeat(1, 3, 2))
	res, err := IRV(4, ballots)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rounds[0].Excluded != 3 || res.Rounds[1].Excluded != 2 || !res.Rounds[1].TieBroken {
		t.Fatalf("%+v", res.Rounds)
	}
}

func rat(a, b int64) *big.Rat { return big.NewRat(a, b) }

// formatSTV renders an STV result with exact rationals, for comparisons.
func formatSTV(r *STVResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "quota %d valid %d blank %d elected %v\n", r.Quota, r.Valid, r.Blank, r.Elected)
	for i, rd := range r.Rounds {
		fmt.Fprintf(&b, "round %d:", i+1)
		for _, v := range rd.Tallies {
			fmt.Fprintf(&b, " %s", v.RatString())
		}
		fmt.Fprintf(&b, " | exhausted %s | elected %v | action %d option %d", rd.Exhausted.RatString(), rd.Elected, rd.Action, rd.Option)
		if rd.TransferValue != nil {
			fmt.Fprintf(&b, " tv %s", rd.TransferValue.RatString())
		}
		fmt.Fprintf(&b, " tie %v\n", rd.TieBroken)
	}
	return b.String()
}

// TestSTVByHand: 2 seats, 12 ballots, quota ⌊12/3⌋ + 1 = 5, computed by hand:
//
//	7 A B · 2 B · 2 C · 1 D C
//	round 1: A 7 B 2 C 2 D 1; A elected; surplus 2, transfer value 2/7
//	round 2: A 5 B 4 C 2 D 1; D excluded, its ballot to C
//	round 3: A 5 B 4 C 3 D 0; C excluded, its 3 ballots exhausted
//	round 4: A 5 B 4 C 0 D 0, exhausted 3; B is the last continuing option
func TestSTVByHand(t *testing.T) {
	const A, B, C, D = 0, 1, 2, 3
	res, err := STV(4, 2, concat(repeat(7, A, B), repeat(2, B), repeat(2, C), repeat(1, D, C)))
	if err != nil {
		t.Fatal(err)
	}
	want := `quota 5 valid 12 blank 0 elected [0 1]
round 1: 7 2 2 1 | exhausted 0 | elected [0] | action 1 option 0 tv 2/7 tie false
round 2: 5 4 2 1 | exhausted 0 | elected [] | action 2 option 3 tie false
round 3: 5 4 3 0 | exhausted 0 | elected [] | action 2 option 2 tie false
round 4: 5 4 0 0 | exhausted 3 | elected [1] | action 0 option -1 tie false
`
	if got := formatSTV(res); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestSTVFractionalTransfer: a second-stage surplus of transferred votes
// carries the product of transfer values. 3 seats, 20 ballots, quota 6.
//
//	12 A B C · 4 C · 3 D · 1 E
//	round 1: A 12 → elected, tv 6/12 = 1/2: 12 ballots to B at 1/2
//	round 2: B 6 → elected (exactly the quota, nothing to transfer);
//	         continuing C 4 D 3 E 1, 1 seat left: E excluded
//	round 3: C 4 D 3 E 0 (E's ballot exhausted): D excluded → exhausted
//	round 4: C 4, the last continuing option for the last seat
func TestSTVFractionalTransfer(t *testing.T) {
	const A, B, C, D, E = 0, 1, 2, 3, 4
	res, err := STV(5, 3, concat(repeat(12, A, B, C), repeat(4, C), repeat(3, D), repeat(1, E)))
	if err != nil {
		t.Fatal(err)
	}
	want := `quota 6 valid 20 blank 0 elected [0 1 2]
round 1: 12 0 4 3 1 | exhausted 0 | elected [0] | action 1 option 0 tv 1/2 tie false
round 2: 6 6 4 3 1 | exhausted 0 | elected [1] | action 2 option 4 tie false
round 3: 6 6 4 3 0 | exhausted 1 | elected [] | action 2 option 3 tie false
round 4: 6 6 4 0 0 | exhausted 4 | elected [2] | action 0 option -1 tie false
`
	if got := formatSTV(res); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestMajorityJudgmentByHand: grades 0..4, five voters.
//
//	A: 1 2 2 3 4 → median 2; B: 0 1 2 4 4 → median 2; C: 0 0 3 3 3 → median 3
//	A vs B: remove a 2 from each: A 1 2 3 4 → 2, B 0 1 4 4 → 1: A above B.
func TestMajorityJudgmentByHand(t *testing.T) {
	ballots := []Grades{{4, 4, 3}, {3, 4, 3}, {2, 2, 3}, {2, 1, 0}, {1, 0, 0}}
	res, err := MajorityJudgment(3, 0, 4, ballots)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Median, []int{2, 2, 3}) || !reflect.DeepEqual(res.Order, [][]int{{2}, {0}, {1}}) {
		t.Fatalf("median %v order %v", res.Median, res.Order)
	}
	// Lower median of an even count; identical distributions stay tied.
	res, err = MajorityJudgment(2, -1, 1, []Grades{{-1, 1}, {1, -1}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Median, []int{-1, -1}) || !reflect.DeepEqual(res.Winners, []int{0, 1}) {
		t.Fatalf("median %v winners %v", res.Median, res.Winners)
	}
}

func TestScoreSums(t *testing.T) {
	res, err := ScoreSums(4, 0, 10, []Grades{{10, 0, 5, 5}, {0, 10, 5, 5}, {5, 5, 0, 10}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Sums, []int64{15, 15, 10, 20}) || !reflect.DeepEqual(res.Order, [][]int{{3}, {0, 1}, {2}}) {
		t.Fatalf("%+v", res)
	}
	res, err = ScoreSums(3, 0, 5, nil)
	if err != nil || !reflect.DeepEqual(res.Winners, []int{0, 1, 2}) {
		t.Fatalf("no ballots: %+v %v", res, err)
	}
}

func TestInvalidBallots(t *testing.T) {
	for name, rs := range map[string][]Ranking{
		"repeated option": {{0, 1, 0}},
		"negative option": {{-1}},
		"option too big":  {{3}},
		"too long":        {{0, 1, 2, 0}},
	} {
		if _, err := IRV(3, rs); err == nil {
			t.Errorf("IRV: %s accepted", name)
		}
		if _, err := STV(3, 1, rs); err == nil {
			t.Errorf("STV: %s accepted", name)
		}
		if _, err := Schulze(3, rs); err == nil {
			t.Errorf("Schulze: %s accepted", name)
		}
	}
	for name, gs := range map[string][]Grades{
		"too few grades": {{1, 2}},
		"too many":       {{1, 2, 3, 4}},
		"below range":    {{0, 1, 2}},
		"above range":    {{1, 2, 6}},
	} {
		if _, err := MajorityJudgment(3, 1, 5, gs); err == nil {
			t.Errorf("MajorityJudgment: %s accepted", name)
		}
		if _, err := ScoreSums(3, 1, 5, gs); err == nil {
			t.Errorf("ScoreSums: %s accepted", name)
		}
	}
	if _, err := STV(3, 0, nil); err == nil {
		t.Error("STV with 0 seats accepted")
	}
	if _, err := STV(3, 4, nil); err == nil {
		t.Error("STV with more seats than options accepted")
	}
	if _, err := IRV(0, nil); err == nil {
		t.Error("IRV with no options accepted")
	}
	if _, err := ScoreSums(2, 3, 1, nil); err == nil {
		t.Error("an empty grade range accepted")
	}
}

// randomRankings draws n partial rankings of options, biased toward few
// options and short rankings so that ties happen.
func randomRankings(rng *rand.Rand, options, n int) []Ranking {
	out := make([]Ranking, n)
	for i := range out {
		out[i] = Ranking(rng.Perm(options)[:rng.IntN(options+1)])
	}
	return out
}

// TestSchulzeCondorcetWinnerWins: whenever one option beats every other
// head to head, Schulze elects it alone.
func TestSchulzeCondorcetWinnerWins(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	found := 0
	for range 2000 {
		options := 1 + rng.IntN(5)
		res, err := Schulze(options, randomRankings(rng, options, rng.IntN(12)))
		if err != nil {
			t.Fatal(err)
		}
		for a := range options {
			wins := 0
			for b := range options {
				if a != b && res.Pairwise[a][b] > res.Pairwise[b][a] {
					wins++
				}
			}
			if wins == options-1 {
				found++
				if !reflect.DeepEqual(res.Winners, []int{a}) {
					t.Fatalf("Condorcet winner %d, Schulze winners %v (pairwise %v)", a, res.Winners, res.Pairwise)
				}
			}
		}
	}
	if found < 500 {
		t.Fatalf("only %d elections had a Condorcet winner", found)
	}
}

// TestSTVProperties: on random elections, every round's tallies and exhausted
// votes sum to the valid ballots, exactly Seats options are elected, and
// with one seat STV elects the IRV winner.
func TestSTVProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		options := 1 + rng.IntN(6)
		seats := 1 + rng.IntN(options)
		ballots := randomRankings(rng, options, rng.IntN(30))
		res, err := STV(options, seats, ballots)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Elected) != seats {
			t.Fatalf("%d elected for %d seats:\n%s", len(res.Elected), seats, formatSTV(res))
		}
		valid := rat(res.Valid, 1)
		for i, r := range res.Rounds {
			sum := new(big.Rat).Set(r.Exhausted)
			for _, v := range r.Tallies {
				sum.Add(sum, v)
			}
			if sum.Cmp(valid) != 0 {
				t.Fatalf("round %d sums to %s, not %d:\n%s", i+1, sum.RatString(), res.Valid, formatSTV(res))
			}
		}
		if seats == 1 {
			irv, err := IRV(options, ballots)
			if err != nil {
				t.Fatal(err)
			}
			if irv.Winner != res.Elected[0] {
				t.Fatalf("IRV elects %d, one-seat STV %d", irv.Winner, res.Elected[0])
			}
		}
	}
}

// TestDeterministic: the ballots' order does not change any result.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		options := 1 + rng.IntN(6)
		ballots := randomRankings(rng, options, rng.IntN(25))
		shuffled := append([]Ranking(nil), ballots...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		seats := 1 + rng.IntN(options)
		a, _ := STV(options, seats, ballots)
		b, _ := STV(options, seats, shuffled)
		if formatSTV(a) != formatSTV(b) {
			t.Fatalf("STV depends on ballot order:\n%s\n%s", formatSTV(a), formatSTV(b))
		}
		i1, _ := IRV(options, ballots)
		i2, _ := IRV(options, shuffled)
		s1, _ := Schulze(options, ballots)
		s2, _ := Schulze(options, shuffled)
		if !reflect.DeepEqual(i1, i2) || !reflect.DeepEqual(s1, s2) {
			t.Fatal("IRV or Schulze depends on ballot order")
		}
	}
}

func TestAllTiesNotBroken(t *testing.T) {
	// A Condorcet cycle of equal strength: Schulze reports a three-way tie.
	res, err := Schulze(3, []Ranking{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Order, [][]int{{0, 1, 2}}) {
		t.Fatalf("order %v, want one tier", res.Order)
	}
	mj, err := MajorityJudgment(3, 0, 2, []Grades{{1, 1, 1}, {2, 2, 2}})
	if err != nil || !reflect.DeepEqual(mj.Order, [][]int{{0, 1, 2}}) {
		t.Fatalf("majority judgment %+v %v", mj, err)
	}
	// STV with every tally tied: the tie rule excludes the option listed last.
	stv, err := STV(3, 1, []Ranking{{0}, {1}, {2}})
	if err != nil || !reflect.DeepEqual(stv.Elected, []int{0}) || !stv.Rounds[0].TieBroken || stv.Rounds[0].Option != 2 {
		t.Fatalf("%s %v", formatSTV(stv), err)
	}
}
