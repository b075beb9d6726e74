package methods

import "cmp"

// IRVRound is one round of an instant-runoff count.
type IRVRound struct {
	Tallies   []int64 // ballots at each option this round (0 for excluded options)
	Exhausted int64   // non-blank ballots with no continuing option left
	Excluded  int     // option excluded at the end of the round, or −1 in the last round
	TieBroken bool    // Excluded was chosen by the package's tie rule
}

// IRVResult is the outcome of IRV with every round.
type IRVResult struct {
	Blank  int64 // empty rankings (counted in no round)
	Rounds []IRVRound
	Winner int
}

// IRV counts single-winner instant-runoff voting. Each round every non-blank
// ballot counts for its highest-ranked continuing option. An option with
// more than half of the round's non-exhausted ballots wins, as does the last
// continuing option; otherwise the option with the fewest ballots is
// excluded, ties broken by the package's tie rule (backwards, then the
// option listed last is excluded). With one option it wins in round one.
func IRV(options int, ballots []Ranking) (*IRVResult, error) {
	if err := checkRankings(options, ballots); err != nil {
		return nil, err
	}
	bs, blank := nonBlank(ballots)
	res := &IRVResult{Blank: int64(blank)}
	st := make([]status, options)
	pos := make([]int, len(bs))
	for {
		round := IRVRound{Tallies: make([]int64, options), Excluded: -1}
		var active int64
		for i, r := range bs {
			pos[i] = next(r, pos[i], st)
			if pos[i] == len(r) {
				round.Exhausted++
				continue
			}
			round.Tallies[r[pos[i]]]++
			active++
		}
		cont := continuingOptions(st)
		now := func(a, b int) int { return cmp.Compare(round.Tallies[a], round.Tallies[b]) }
		top := extremes(cont, now, false)
		if len(cont) == 1 || 2*round.Tallies[top[0]] > active {
			res.Rounds = append(res.Rounds, round)
			res.Winner = top[0]
			return res, nil
		}
		round.Excluded, round.TieBroken = pick(cont, now, len(res.Rounds), func(r, a, b int) int {
			return cmp.Compare(res.Rounds[r].Tallies[a], res.Rounds[r].Tallies[b])
		}, true)
		st[round.Excluded] = excluded
		res.Rounds = append(res.Rounds, round)
	}
}
