package methods

// status of an option during an IRV or STV count.
type status uint8

const (
	continuing status = iota
	elected
	excluded
)

// next returns the first position at or after p in r whose option is still
// continuing, or len(r) if the ballot is exhausted.
func next(r Ranking, p int, st []status) int {
	for p < len(r) && st[r[p]] != continuing {
		p++
	}
	return p
}

// continuingOptions lists the continuing options in increasing order.
func continuingOptions(st []status) []int {
	var out []int
	for o, s := range st {
		if s == continuing {
			out = append(out, o)
		}
	}
	return out
}

// nonBlank returns the rankings that rank at least one option, and how many
// were blank.
func nonBlank(ballots []Ranking) ([]Ranking, int) {
	out := make([]Ranking, 0, len(ballots))
	for _, r := range ballots {
		if len(r) > 0 {
			out = append(out, r)
		}
	}
	return out, len(ballots) - len(out)
}
