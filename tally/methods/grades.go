package methods

import (
	"cmp"
	"slices"
)

// JudgmentResult is the outcome of majority judgment.
type JudgmentResult struct {
	Min, Max int
	Counts   [][]int64 // Counts[o][g−Min]: ballots giving option o grade g
	Median   []int     // majority grade of each option (the lower median)
	Order    [][]int   // tiers, best first, each in increasing index
	Winners  []int     // Order[0]; more than one is a tie
}

// MajorityJudgment counts majority judgment (Balinski and Laraki). Every
// ballot grades every option in min..max, higher is better. An option's
// majority grade is the lower median of its grades (with n grades sorted
// in increasing order, the one at position ⌊(n−1)/2⌋, counting from 0).
// Options are ordered by their majority grades; between options with equal
// majority grades, one copy of that grade is removed from each and the
// majority grades of what remains are compared, repeatedly (Balinski and
// Laraki's majority ranking). Options whose grades are all removed in step
// with equal medians have identical grade counts and stay tied.
func MajorityJudgment(options, min, max int, ballots []Grades) (*JudgmentResult, error) {
	if err := checkGrades(options, min, max, ballots); err != nil {
		return nil, err
	}
	res := &JudgmentResult{Min: min, Max: max, Counts: gradeCounts(options, min, max, ballots), Median: make([]int, options)}
	for o, c := range res.Counts {
		res.Median[o] = min + lowerMedian(c, int64(len(ballots)))
	}
	res.Order = rank(options, func(a, b int) int {
		return compareJudgment(res.Counts[a], res.Counts[b], int64(len(ballots)))
	})
	res.Winners = res.Order[0]
	return res, nil
}

func gradeCounts(options, min, max int, ballots []Grades) [][]int64 {
	counts := make([][]int64, options)
	for o := range counts {
		counts[o] = make([]int64, max-min+1)
	}
	for _, g := range ballots {
		for o, v := range g {
			counts[o][v-min]++
		}
	}
	return counts
}

// lowerMedian returns the index of the lower median grade of counts, which
// hold n grades (n > 0); with n = 0 it returns 0.
func lowerMedian(counts []int64, n int64) int {
	k := (n - 1) / 2 // position of the lower median, from 0
	for g, c := range counts {
		if k < c {
			return g
		}
		k -= c
	}
	return 0
}

// compareJudgment compares two options' grade counts (n grades each) by the
// majority ranking: positive if a ranks above b.
func compareJudgment(a, b []int64, n int64) int {
	a, b = append([]int64(nil), a...), append([]int64(nil), b...)
	for ; n > 0; n-- {
		ma, mb := lowerMedian(a, n), lowerMedian(b, n)
		if ma != mb {
			return ma - mb
		}
		a[ma]--
		b[mb]--
	}
	return 0
}

// ScoreResult is the outcome of score voting.
type ScoreResult struct {
	Sums    []int64 // sum of each option's grades
	Order   [][]int // tiers by decreasing sum, each in increasing index
	Winners []int   // Order[0]; more than one is a tie
}

// ScoreSums counts score (range) voting: each option's grades are summed and
// the largest sum wins. Ties are not broken.
func ScoreSums(options, min, max int, ballots []Grades) (*ScoreResult, error) {
	if err := checkGrades(options, min, max, ballots); err != nil {
		return nil, err
	}
	res := &ScoreResult{Sums: make([]int64, options)}
	for _, g := range ballots {
		for o, v := range g {
			res.Sums[o] += int64(v)
		}
	}
	res.Order = rank(options, func(a, b int) int { return cmp.Compare(res.Sums[a], res.Sums[b]) })
	res.Winners = res.Order[0]
	return res, nil
}

// rank groups 0..n−1 into tiers, best first, by compare, which MUST be a
// total preorder (positive: a ranks above b). Each tier is in increasing
// index. It sorts, so it makes O(n log n) comparisons.
func rank(n int, compare func(a, b int) int) [][]int {
	order := indices(n)
	slices.SortStableFunc(order, func(a, b int) int { return compare(b, a) })
	var out [][]int
	for i, o := range order {
		if i == 0 || compare(order[i-1], o) != 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], o)
	}
	return out
}

// indices returns 0, 1, …, n−1.
func indices(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
