package methods_test

import (
	"fmt"

	"github.com/urna-vote/urna/tally/methods"
)

// Three options, five ballots: option 2 is excluded first and its ballot
// moves to option 1, which then has three of five.
func ExampleIRV() {
	ballots := []methods.Ranking{{0}, {0, 2}, {1}, {1, 0}, {2, 1}}
	res, err := methods.IRV(3, ballots)
	if err != nil {
		panic(err)
	}
	for i, r := range res.Rounds {
		fmt.Println("round", i+1, r.Tallies, "excluded", r.Excluded)
	}
	fmt.Println("winner", res.Winner)
	// Output:
	// round 1 [2 2 1] excluded 2
	// round 2 [2 3 0] excluded -1
	// winner 1
}
