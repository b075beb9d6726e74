package ballot

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
)

// Tracker identifies a ballot's encrypted choices (SPEC.md §7.1, protocol
// 1.2): Digest("choices-tracker"; choices), where choices is the election
// fingerprint and the option ciphertexts (Ballot.ChoicesBytes). It binds what the
// ballot encrypts but not the credential or the proofs, so that a cast
// ballot and the audit of the same encryption (an Audit) carry the same
// tracker while the audit shows nothing of the credential. A voter checks
// that the tracker shown by the booth is on the board; the short form is
// for reading aloud and comparing by eye, the full hash for machines.
//
// A version-2 ballot (ranked, score and write-in questions) and its audit
// have Digest("kind-choices-tracker"; choices2) (SPEC.md §12.10): the
// kinds, counts and every ciphertext, under a label of their own.
type Tracker [32]byte

// trackerOfChoices is the tracker of a choices encoding: §7.1's for
// BallotVersion, §12.10's for BallotVersionKinds.
func trackerOfChoices(version uint8, choices []byte) Tracker {
	return Tracker(transcript.DigestOf(choicesLabel(version), choices))
}

// choicesLabel is the tracker's label for a ballot of the version.
func choicesLabel(version uint8) transcript.Label {
	if version == BallotVersionKinds {
		return transcript.KindChoicesTracker
	}
	return transcript.ChoicesTracker
}

// TrackerOf returns the tracker of canonical ballot bytes (version 1 or 2).
// It reads the ciphertexts by their offsets without decoding any group
// element, so it is only meaningful for bytes whose strict decoding was
// checked; for bytes without the layout of SPEC.md §6.1 or §12.2 it
// returns Digest("ballot-tracker"; bytes), which is never the tracker of a
// ballot.
func TrackerOf(ballotBytes []byte) Tracker {
	if parts, ok := choiceParts(ballotBytes); ok {
		return Tracker(transcript.DigestOfJoined(choicesLabel(ballotBytes[0]), parts...))
	}
	return Tracker(transcript.DigestOf(transcript.BallotTracker, ballotBytes))
}

// ChoicesBytes returns the choices encoding the ballot's tracker hashes:
// SPEC.md §7.1's for a version-1 ballot, choices2 of §12.10 for a
// version-2 ballot. It is the first part of the ballot's audit.
func (b *Ballot) ChoicesBytes() []byte {
	c, _ := choicesOfBallot(b.raw) // b was built or strictly decoded
	return c
}

// choicesOfBallot extracts the choices encoding from the bytes of a ballot:
// for a version-1 ballot (SPEC.md §6.1, §7.1) the fingerprint, then per
// question the option count and every option's α ‖ β; for a version-2
// ballot (§12.2, §12.10) the fingerprint, then per question the kind, its
// counts (n; n and k; n; w) and every ciphertext's α ‖ β. The credential and
// the proofs (branches, a score's or total's branch count, a write-in's t
// and s) are skipped. ok is false if raw does not have either layout.
func choicesOfBallot(raw []byte) (out []byte, ok bool) {
	parts, ok := choiceParts(raw)
	if !ok {
		return nil, false
	}
	return bytes.Join(parts, nil), true
}

// choiceParts is choicesOfBallot as the pieces of raw that make up the
// choices encoding, in order (no copy): every field of it (the
// fingerprint, the kinds, the counts, the ciphertexts) is in the ballot's
// encoding as it is in the choices'.
func choiceParts(raw []byte) (out [][]byte, ok bool) {
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
	count := func(lo, hi int) int { // a u32 in lo..hi, copied to out; -1 otherwise
		v := u32()
		if v < lo || v > hi {
			return -1
		}
		out = append(out, raw[off-4:off])
		return v
	}
	// cts copies n ciphertexts, each followed by skip bytes of proof.
	cts := func(n, skip int) {
		for i := 0; i < n && off <= len(raw); i++ {
			if ct := take(CiphertextSize); ct != nil {
				out = append(out, ct)
			}
			take(skip)
		}
	}
	// branches skips a u32 branch count in lo..hi and its branches.
	branches := func(lo, hi int) bool {
		nb := u32()
		take(nb * branchSize)
		return nb >= lo && nb <= hi
	}
	v := take(1)
	if v == nil || (v[0] != BallotVersion && v[0] != BallotVersionKinds) {
		return nil, false
	}
	out = make([][]byte, 0, 16)
	out = append(out, take(32)) // fingerprint
	take(32)                    // credential
	nq := count(1, MaxQuestions)
	if nq < 0 {
		return nil, false
	}
	for q := 0; q < nq && off <= len(raw); q++ {
		kind := KindSelect
		if v[0] == BallotVersionKinds {
			k := take(1)
			if k == nil || k[0] > uint8(KindWriteIn) {
				return nil, false
			}
			kind = QuestionKind(k[0])
			out = append(out, k)
		}
		switch kind {
		case KindSelect:
			n := count(MinOptions, MaxOptions)
			cts(n, 2*branchSize)
			if n < 0 || !branches(1, maxRangeBranch) {
				return nil, false
			}
		case KindRanked:
			n := count(MinOptions, MaxOptions)
			k := count(1, max(n, 1))
			if n < 0 || k < 0 {
				return nil, false
			}
			cts(n*k, 2*branchSize)
			take((n + 2*k - 1) * 2 * branchSize) // row, column and step proofs
			if !branches(1, k+1) {
				return nil, false
			}
		case KindScore:
			n := count(MinOptions, MaxOptions)
			nb := u32() // B: not in choices2
			if n < 0 || nb < 2 || nb > MaxScore+1 {
				return nil, false
			}
			cts(n, nb*branchSize)
		case KindWriteIn:
			w := count(1, maxWriteInCts)
			if w < 0 {
				return nil, false
			}
			cts(w, 2*group.Size) // t ‖ s
		}
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
