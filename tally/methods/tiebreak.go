package methods

// breakTie picks one option among tied, whose tallies in the current round
// are equal (the package's tie rule). cmp(r, a, b) compares the tallies of a
// and b in earlier round r (negative: a's is smaller). It looks back from
// round rounds−1 to round 0 and keeps the options with the smallest tally
// (fewest) or the largest (otherwise) in each round where they differ; if
// several remain it returns the highest index when fewest (the option listed
// last is excluded) and the lowest otherwise (the option listed first is
// elected first).
func breakTie(tied []int, rounds int, cmp func(r, a, b int) int, fewest bool) int {
	cands := append([]int(nil), tied...)
	for r := rounds - 1; r >= 0 && len(cands) > 1; r-- {
		best := cands[:1]
		for _, o := range cands[1:] {
			c := cmp(r, o, best[0])
			if !fewest {
				c = -c
			}
			switch {
			case c < 0:
				best = append(best[:0:0], o)
			case c == 0:
				best = append(best, o)
			}
		}
		cands = best
	}
	pick := cands[0]
	for _, o := range cands[1:] {
		if (fewest && o > pick) || (!fewest && o < pick) {
			pick = o
		}
	}
	return pick
}

// extremes returns the options of among whose value is the smallest (fewest)
// or the largest, by cmp(a, b) on the current round.
func extremes(among []int, cmp func(a, b int) int, fewest bool) []int {
	var best []int
	for _, o := range among {
		if len(best) == 0 {
			best = []int{o}
			continue
		}
		c := cmp(o, best[0])
		if !fewest {
			c = -c
		}
		switch {
		case c < 0:
			best = []int{o}
		case c == 0:
			best = append(best, o)
		}
	}
	return best
}

// pick returns the option of cands with the smallest (fewest) or largest
// tally in the current round by now(a, b), a tie broken by breakTie over the
// earlier rounds, and whether the tie rule decided.
func pick(cands []int, now func(a, b int) int, rounds int, past func(r, a, b int) int, fewest bool) (int, bool) {
	top := extremes(cands, now, fewest)
	if len(top) == 1 {
		return top[0], false
	}
	return breakTie(top, rounds, past, fewest), true
}
