package methods

import "fmt"

// Ranking is a ranked ballot: option indices, most preferred first, each at
// most once. It may be partial or empty.
type Ranking []int

// Grades is a score or grade ballot: one integer per option, higher is better.
type Grades []int

// checkOptions rejects a question with no options.
func checkOptions(options int) error {
	if options < 1 {
		return fmt.Errorf("methods: %d options; a question has at least one", options)
	}
	return nil
}

// checkRankings validates every ranking against options (indices in range,
// none repeated) and reports the first bad ballot by its position.
func checkRankings(options int, ballots []Ranking) error {
	if err := checkOptions(options); err != nil {
		return err
	}
	seen := make([]int, options) // seen[o] = 1 + index of the last ballot that ranked o
	for b, r := range ballots {
		if len(r) > options {
			return fmt.Errorf("methods: ballot %d ranks %d options of %d", b, len(r), options)
		}
		for _, o := range r {
			if o < 0 || o >= options {
				return fmt.Errorf("methods: ballot %d ranks option %d, outside 0..%d", b, o, options-1)
			}
			if seen[o] == b+1 {
				return fmt.Errorf("methods: ballot %d ranks option %d twice", b, o)
			}
			seen[o] = b + 1
		}
	}
	return nil
}

// checkGrades validates every grade ballot: one grade per option, each in
// min..max.
func checkGrades(options, min, max int, ballots []Grades) error {
	if err := checkOptions(options); err != nil {
		return err
	}
	if min > max {
		return fmt.Errorf("methods: grade range %d..%d is empty", min, max)
	}
	for b, g := range ballots {
		if len(g) != options {
			return fmt.Errorf("methods: ballot %d has %d grades for %d options", b, len(g), options)
		}
		for o, v := range g {
			if v < min || v > max {
				return fmt.Errorf("methods: ballot %d grades option %d with %d, outside %d..%d", b, o, v, min, max)
			}
		}
	}
	return nil
}
