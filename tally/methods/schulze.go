package methods

// SchulzeResult is the outcome of the Schulze method.
type SchulzeResult struct {
	Pairwise  [][]int64 // Pairwise[a][b]: ballots ranking a above b
	Strongest [][]int64 // Strongest[a][b]: strength of the strongest path from a to b (0 on the diagonal)
	Order     [][]int   // tiers, best first: each tier is the options not beaten by any option of a later tier, in increasing index
	Winners   []int     // Order[0]: every option no other option beats; more than one is a tie
}

// Schulze counts the Schulze method with winning votes. A ballot prefers a
// to b when it ranks a and ranks b lower or not at all (unranked options are
// equal to each other); blank ballots have no effect. The link a→b has
// strength Pairwise[a][b] if Pairwise[a][b] > Pairwise[b][a], else 0; the
// strength of a path is its weakest link, and Strongest holds the strongest
// path between every pair (Floyd–Warshall widest paths). a beats b iff
// Strongest[a][b] > Strongest[b][a]. Ties are not broken: Winners lists
// every option that no option beats.
func Schulze(options int, ballots []Ranking) (*SchulzeResult, error) {
	if err := checkRankings(options, ballots); err != nil {
		return nil, err
	}
	square := func() [][]int64 {
		m := make([][]int64, options)
		for i := range m {
			m[i] = make([]int64, options)
		}
		return m
	}
	d, p := square(), square()
	ranked := make([]bool, options)
	for _, r := range ballots {
		clear(ranked)
		for _, a := range r {
			ranked[a] = true
		}
		for i, a := range r {
			for _, b := range r[i+1:] {
				d[a][b]++
			}
			for b := range options {
				if !ranked[b] {
					d[a][b]++
				}
			}
		}
	}
	for a := range options {
		for b := range options {
			if a != b && d[a][b] > d[b][a] {
				p[a][b] = d[a][b]
			}
		}
	}
	for k := range options {
		for a := range options {
			if a == k {
				continue
			}
			for b := range options {
				if b != a && b != k {
					p[a][b] = max(p[a][b], min(p[a][k], p[k][b]))
				}
			}
		}
	}
	res := &SchulzeResult{Pairwise: d, Strongest: p}
	res.Order = tiers(options, func(a, b int) bool { return p[a][b] > p[b][a] })
	res.Winners = res.Order[0]
	return res, nil
}

// tiers splits 0..n−1 into tiers, best first: each tier holds the remaining
// options that no remaining option beats. beats MUST be a strict partial
// order (as Schulze's relation and every total preorder are), so every tier
// is non-empty.
func tiers(n int, beats func(a, b int) bool) [][]int {
	left := indices(n)
	var out [][]int
	for len(left) > 0 {
		var top, rest []int
		for _, a := range left {
			beaten := false
			for _, b := range left {
				if beats(b, a) {
					beaten = true
					break
				}
			}
			if beaten {
				rest = append(rest, a)
			} else {
				top = append(top, a)
			}
		}
		out = append(out, top)
		left = rest
	}
	return out
}
