package methods

import (
	"fmt"
	"math/big"
)

// STVAction is what ends an STV round.
type STVAction uint8

const (
	STVDone     STVAction = iota // the count ended in this round
	STVSurplus                   // an elected option's surplus was transferred
	STVExcluded                  // an option was excluded and its ballots transferred
)

// STVRound is one round (stage) of an STV count. Values are exact rationals.
type STVRound struct {
	Tallies       []*big.Rat // votes at each option (the quota for an elected option whose surplus was transferred; 0 for excluded options)
	Exhausted     *big.Rat   // votes on exhausted ballots
	Elected       []int      // options elected in this round, in order of election
	Action        STVAction
	Option        int      // whose surplus was transferred, or who was excluded; −1 with STVDone
	TransferValue *big.Rat // surplus ÷ votes of Option, with STVSurplus
	TieBroken     bool     // Elected's order or Option was decided by the package's tie rule
}

// STVResult is the outcome of an STV count.
type STVResult struct {
	Seats   int
	Valid   int64 // non-blank ballots
	Blank   int64
	Quota   int64 // Droop quota ⌊Valid/(Seats+1)⌋ + 1
	Rounds  []STVRound
	Elected []int // in order of election
}

// STV counts the single transferable vote by the Weighted Inclusive Gregory
// Method (WIGM) with the Droop quota and exact rational arithmetic, in the
// manner of Scottish STV but with no rounding or truncation of transfer
// values. The rules, applied in each round:
//
//  1. Every non-blank ballot sits at its highest-ranked option that is
//     neither elected nor excluded (or at an elected option whose surplus is
//     not transferred yet), with a weight, initially 1. Tallies are the sums
//     of these weights; an elected option whose surplus was transferred
//     keeps exactly the quota.
//  2. Every continuing option whose tally reaches the quota is elected, in
//     decreasing order of tally (ties: the package's tie rule).
//  3. If all seats are filled the count ends. If the continuing options are
//     exactly as many as the seats left, they are all elected, in
//     decreasing order of tally (ties: the tie rule), and the count ends.
//  4. Otherwise, if an elected option has an untransferred surplus (tally −
//     quota > 0), the largest such surplus (ties: the tie rule) is
//     transferred: every ballot at that option has its weight multiplied by
//     surplus ÷ tally (inclusive: all its ballots, at their current weights)
//     and moves to its next continuing option, or is exhausted.
//  5. Otherwise the continuing option with the smallest tally (ties: the tie
//     rule, which excludes the option listed last) is excluded and its
//     ballots move, at their current weights, to their next continuing
//     options.
//
// The sum of the tallies and the exhausted votes is Valid in every round.
func STV(options, seats int, ballots []Ranking) (*STVResult, error) {
	if err := checkRankings(options, ballots); err != nil {
		return nil, err
	}
	if seats < 1 || seats > options {
		return nil, fmt.Errorf("methods: %d seats for %d options", seats, options)
	}
	bs, blank := nonBlank(ballots)
	res := &STVResult{Seats: seats, Valid: int64(len(bs)), Blank: int64(blank), Quota: int64(len(bs))/int64(seats+1) + 1}
	quota := new(big.Rat).SetInt64(res.Quota)
	st := make([]status, options)
	pos := make([]int, len(bs))
	weight := make([]*big.Rat, len(bs))
	for i := range weight {
		weight[i] = big.NewRat(1, 1)
	}
	transferred := make([]bool, options) // an elected option's surplus is settled
	cmpIn := func(r *STVRound) func(a, b int) int {
		return func(a, b int) int { return r.Tallies[a].Cmp(r.Tallies[b]) }
	}
	history := func(r, a, b int) int { return cmpIn(&res.Rounds[r])(a, b) }
	// order returns opts in decreasing order of tally, ties by the tie rule.
	order := func(r *STVRound, opts []int) []int {
		var out []int
		for len(opts) > 0 {
			o, tie := pick(opts, cmpIn(r), len(res.Rounds), history, false)
			r.TieBroken = r.TieBroken || tie
			out = append(out, o)
			opts = remove(opts, o)
		}
		return out
	}
	for {
		r := STVRound{Tallies: make([]*big.Rat, options), Exhausted: new(big.Rat), Option: -1}
		for o := range r.Tallies {
			r.Tallies[o] = new(big.Rat)
			if transferred[o] {
				r.Tallies[o].Set(quota)
			}
		}
		for i, b := range bs {
			if pos[i] == len(b) {
				r.Exhausted.Add(r.Exhausted, weight[i])
			} else if o := b[pos[i]]; !transferred[o] {
				r.Tallies[o].Add(r.Tallies[o], weight[i])
			}
		}
		// Rule 2.
		var reached []int
		for _, o := range continuingOptions(st) {
			if r.Tallies[o].Cmp(quota) >= 0 {
				reached = append(reached, o)
			}
		}
		for _, o := range order(&r, reached) {
			st[o] = elected
			r.Elected = append(r.Elected, o)
			res.Elected = append(res.Elected, o)
		}
		// Rule 3.
		cont := continuingOptions(st)
		if len(res.Elected) < seats && len(cont) == seats-len(res.Elected) {
			for _, o := range order(&r, cont) {
				st[o] = elected
				r.Elected = append(r.Elected, o)
				res.Elected = append(res.Elected, o)
			}
		}
		if len(res.Elected) == seats {
			res.Rounds = append(res.Rounds, r)
			return res, nil
		}
		// Rule 4.
		var pending []int
		for o, s := range st {
			if s == elected && !transferred[o] {
				if r.Tallies[o].Cmp(quota) > 0 {
					pending = append(pending, o)
				} else {
					transferred[o] = true // exactly the quota: nothing to transfer, its ballots stay
				}
			}
		}
		if len(pending) > 0 {
			var tie bool
			r.Option, tie = pick(pending, cmpIn(&r), len(res.Rounds), history, false)
			r.TieBroken = r.TieBroken || tie
			r.Action = STVSurplus
			surplus := new(big.Rat).Sub(r.Tallies[r.Option], quota)
			r.TransferValue = surplus.Quo(surplus, r.Tallies[r.Option])
			transferred[r.Option] = true
		} else {
			// Rule 5.
			var tie bool
			r.Option, tie = pick(cont, cmpIn(&r), len(res.Rounds), history, true)
			r.TieBroken = r.TieBroken || tie
			r.Action = STVExcluded
			st[r.Option] = excluded
		}
		for i, b := range bs {
			if pos[i] < len(b) && b[pos[i]] == r.Option {
				if r.TransferValue != nil {
					weight[i] = new(big.Rat).Mul(weight[i], r.TransferValue)
				}
				pos[i] = next(b, pos[i]+1, st)
			}
		}
		res.Rounds = append(res.Rounds, r)
	}
}

// remove returns opts without o (a new slice).
func remove(opts []int, o int) []int {
	out := make([]int, 0, len(opts))
	for _, x := range opts {
		if x != o {
			out = append(out, x)
		}
	}
	return out
}
