package ballot

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/urna-vote/urna/internal/transcript"
)

// Tracker identifies a ballot's encrypted choices (SPEC.md §7.1, protocol
// 1.2): Digest("choices-tracker"; choices), where choices is the election
// fingerprint and the option ciphertexts (ChoicesBytes). It binds what the
// ballot encrypts but not the credential or the proofs, so that a cast
// ballot and the audit of the same encryption (an Audit) carry the same
// tracker while the audit shows nothing of the credential. A voter checks
// that the tracker shown by the booth is on the board; the short form is
// for reading aloud and comparing by eye, the full hash for machines.
type Tracker [32]byte

func trackerOfChoices(choices []byte) Tracker {
	return Tracker(transcript.New(transcript.ChoicesTracker).Bytes(choices).Digest())
}

// TrackerOf returns the tracker of canonical ballot bytes. It reads the
// ciphertexts by their offsets without decoding any group element, so it
// is only meaningful for bytes whose strict decoding was checked; for bytes
// without the layout of SPEC.md §6.1 it returns Digest("ballot-tracker";
// bytes), which is never the tracker of a ballot.
func TrackerOf(ballotBytes []byte) Tracker {
	if c, ok := choicesOfBallot(ballotBytes); ok {
		return trackerOfChoices(c)
	}
	return Tracker(transcript.New(transcript.BallotTracker).Bytes(ballotBytes).Digest())
}

// choicesOfBallot extracts the choices encoding (SPEC.md §7.1) from the
// bytes of a ballot laid out as §6.1: fingerprint, then per question the
// option count and every option's α ‖ β, skipping the credential and the
// proofs. ok is false if raw does not have that layout.
func choicesOfBallot(raw []byte) (out []byte, ok bool) {
	off := 0
	take := func(n int) []byte {
		if n < 0 || len(raw)-off < n {
			off = len(raw) + 1
			return nil
		}
		off += n
		return raw[off-n : off]
	}
	u32 := func() int {
		b := take(4)
		if b == nil {
			return -1
		}
		return int(binary.BigEndian.Uint32(b))
	}
	if v := take(1); v == nil || v[0] != BallotVersion {
		return nil, false
	}
	out = make([]byte, 0, 64+len(raw)/4)
	out = append(out, take(32)...) // fingerprint
	take(32)                       // credential
	nq := u32()
	if nq < 1 || nq > MaxQuestions {
		return nil, false
	}
	out = binary.BigEndian.AppendUint32(out, uint32(nq))
	for q := 0; q < nq; q++ {
		no := u32()
		if no < MinOptions || no > MaxOptions {
			return nil, false
		}
		out = binary.BigEndian.AppendUint32(out, uint32(no))
		for i := 0; i < no; i++ {
			out = append(out, take(CiphertextSize)...)
			take(2 * branchSize)
		}
		nb := u32()
		if nb < 1 || nb > maxRangeBranch {
			return nil, false
		}
		take(nb * branchSize)
	}
	if off != len(raw) {
		return nil, false
	}
	return out, true
}

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

// A TrackerQuery is a tracker as a person typed or pasted it (SPEC.md §7.1):
// its short form, and the full tracker when all of it was given.
type TrackerQuery struct {
	Short string   // "XXXX-XXXX"
	Full  *Tracker // nil when only the short form was given
}

// ParseTrackerQuery reads a tracker as typed or pasted: 64 hex digits are
// the full tracker; otherwise 8 symbols are the short form, read as
// ParseCredential reads credentials (separators of any kind skipped,
// full-width forms, lower case and the look-alikes O, I and L folded). A
// bad character is a *SymbolError, a wrong count a *LengthError; both wrap
// ErrInvalidTracker.
func ParseTrackerQuery(s string) (TrackerQuery, error) {
	if len(s) > 1024 {
		return TrackerQuery{}, fmt.Errorf("%w: %d bytes", ErrInvalidTracker, len(s))
	}
	var digits []byte
	for i := 0; i < len(s); {
		r, size, sep := nextChar(s, i)
		i += size
		if !sep && r < utf8.RuneSelf {
			digits = append(digits, byte(r))
		}
	}
	if len(digits) == 2*len(Tracker{}) {
		var t Tracker
		if _, err := hex.Decode(t[:], digits); err == nil {
			return TrackerQuery{Short: t.Short(), Full: &t}, nil
		}
	}
	vals, err := readSymbols(s, ErrInvalidTracker)
	if err != nil {
		return TrackerQuery{}, err
	}
	if len(vals) != 8 {
		return TrackerQuery{}, &LengthError{Got: len(vals), Want: 8, what: ErrInvalidTracker}
	}
	short := make([]byte, 0, 9)
	for i, v := range vals {
		if i == 4 {
			short = append(short, '-')
		}
		short = append(short, CredentialAlphabet[v])
	}
	return TrackerQuery{Short: string(short)}, nil
}

// String returns the form to look the tracker up by: the full tracker in
// hex when it was given, else the short form.
func (q TrackerQuery) String() string {
	if q.Full != nil {
		return q.Full.Hex()
	}
	return q.Short
}

// Prefix returns the leading bytes of the tracker that the query fixes: all
// 32, or the 5 (40 bits) of the short form.
func (q TrackerQuery) Prefix() []byte {
	if q.Full != nil {
		return q.Full[:]
	}
	var t Tracker
	var v uint64
	for _, c := range strings.ReplaceAll(q.Short, "-", "") {
		v = v<<5 | uint64(strings.IndexRune(CredentialAlphabet, c))
	}
	binary.BigEndian.PutUint64(t[:8], v<<24)
	return t[:5]
}

// Matches reports whether t is the tracker asked for.
func (q TrackerQuery) Matches(t Tracker) bool {
	if q.Full != nil {
		return *q.Full == t
	}
	return t.Short() == q.Short
}
