package roll

import (
	"fmt"
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
	sorted := sortedByID(voters)
	t := transcript.New(transcript.VoterRoll).Uint64(uint64(len(sorted)))
	for _, v := range sorted {
		t.String(v.ID).Uint64(uint64(v.Weight))
	}
	return t.Digest()
}

func sortedByID(voters []Voter) []Voter {
	sorted := slices.Clone(voters)
	slices.SortFunc(sorted, func(a, b Voter) int { return strings.Compare(a.ID, b.ID) })
	return sorted
}

// FormatPublic writes the public roll that Fingerprint covers, for anyone
// to recompute it: the line "voter_id,weight", then one "id,weight" line
// per voter in the order of SPEC.md §5.4. Voter ids need no CSV quoting.
func FormatPublic(voters []Voter) []byte {
	b := []byte("voter_id,weight\n")
	for _, v := range sortedByID(voters) {
		b = fmt.Appendf(b, "%s,%d\n", v.ID, v.Weight)
	}
	return b
}
