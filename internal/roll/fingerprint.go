package roll

import (
	"slices"
	"strings"

	"github.com/urna-vote/urna/internal/transcript"
)

// Fingerprint returns the public fingerprint of a roll (SPEC.md §5.4):
//
//	Digest("voter-roll"; u64(N), then for each voter in increasing byte
//	order of voter id: id, u64(weight))
//
// It covers the voter ids and weights only; names and contacts are
// private. The voters MUST come from Parse (valid, distinct ids); their
// order does not matter.
func Fingerprint(voters []Voter) [32]byte {
	sorted := slices.Clone(voters)
	slices.SortFunc(sorted, func(a, b Voter) int { return strings.Compare(a.ID, b.ID) })
	t := transcript.New(transcript.VoterRoll).Uint64(uint64(len(sorted)))
	for _, v := range sorted {
		t.String(v.ID).Uint64(uint64(v.Weight))
	}
	return t.Digest()
}
