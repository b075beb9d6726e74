package ballot

import (
	"encoding/hex"

	"github.com/urna-vote/urna/internal/transcript"
)

// Tracker identifies a ballot (SPEC.md §7.1): Digest("ballot-tracker";
// canonical ballot bytes). A voter checks that the tracker shown by the
// booth is on the board; the short form is for reading aloud and comparing
// by eye, the full hash for machines.
type Tracker [32]byte

func trackerOf(raw []byte) Tracker {
	return Tracker(transcript.New(transcript.BallotTracker).Bytes(raw).Digest())
}

// TrackerOf returns the tracker of canonical ballot bytes.
func TrackerOf(ballotBytes []byte) Tracker { return trackerOf(ballotBytes) }

// Short returns the first 40 bits of the tracker as 8 symbols of
// CredentialAlphabet (5 bits each, most significant first) in two groups of
// four, e.g. "K7QF-2MZX" (SPEC.md §7.1).
func (t Tracker) Short() string {
	v := uint64(t[0])<<32 | uint64(t[1])<<24 | uint64(t[2])<<16 | uint64(t[3])<<8 | uint64(t[4])
	out := make([]byte, 0, 9)
	for i := 7; i >= 0; i-- {
		if i == 3 {
			out = append(out, '-')
		}
		out = append(out, CredentialAlphabet[(v>>(5*uint(i)))&31])
	}
	return string(out)
}

// String returns the short form.
func (t Tracker) String() string { return t.Short() }

// Hex returns the full tracker in lower-case hex.
func (t Tracker) Hex() string { return hex.EncodeToString(t[:]) }
