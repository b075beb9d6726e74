package ballot

// CountEntry is one ballot-bearing board entry, in board order, as the
// counting rule sees it (SPEC.md V10).
type CountEntry struct {
	Credential [32]byte // encoding of the ballot's public credential
	Tracker    Tracker
	Audited    bool // an audited (opened) ballot rather than a cast one
	Valid      bool // the entry passed V5 and V8 (cast) or V9 (audited)
}

// CastEntry returns the CountEntry of a cast ballot.
func CastEntry(b *Ballot, valid bool) CountEntry {
	e := CountEntry{Tracker: b.tracker, Valid: valid}
	copy(e.Credential[:], b.raw[33:33+32])
	return e
}

// AuditEntry returns the CountEntry of an audited ballot.
func AuditEntry(a *AuditedBallot, valid bool) CountEntry {
	e := CastEntry(a.Ballot, valid)
	e.Audited = true
	return e
}

// CountStatus is the fate of one entry under the counting rule.
type CountStatus uint8

// The statuses of SPEC.md V10.
const (
	Counted       CountStatus = iota + 1 // the credential's last valid cast ballot
	Superseded                           // valid, but the same credential cast a later valid ballot
	Invalid                              // failed V5/V8/V9
	Audited                              // an audited ballot: never counts
	ReusedTracker                        // a cast ballot whose tracker equals an earlier valid audited or cast ballot's
)

var statusNames = [...]string{"?", "counted", "superseded", "invalid", "audited", "reused-tracker"}

func (s CountStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "?"
}

// SelectCounted applies the counting rule of SPEC.md V10 to the entries in
// board order and returns the status of each:
//
//  1. an invalid entry never counts and has no effect;
//  2. a valid audited entry never counts, and its tracker is burnt;
//  3. a valid cast entry whose tracker is burnt (an earlier valid audited or
//     cast entry had it) is rejected; otherwise its tracker is burnt;
//  4. of the remaining valid cast entries, the last one per credential
//     counts and the earlier ones are superseded (revoting).
func SelectCounted(entries []CountEntry) []CountStatus {
	st := make([]CountStatus, len(entries))
	burnt := map[Tracker]bool{}
	last := map[[32]byte]int{}
	for i, e := range entries {
		switch {
		case !e.Valid:
			st[i] = Invalid
		case e.Audited:
			st[i] = Audited
			burnt[e.Tracker] = true
		case burnt[e.Tracker]:
			st[i] = ReusedTracker
		default:
			burnt[e.Tracker] = true
			if j, ok := last[e.Credential]; ok {
				st[j] = Superseded
			}
			last[e.Credential] = i
			st[i] = Counted
		}
	}
	return st
}

// CountedIndexes returns the indexes of the entries that count, in board order.
func CountedIndexes(entries []CountEntry) []int {
	var out []int
	for i, s := range SelectCounted(entries) {
		if s == Counted {
			out = append(out, i)
		}
	}
	return out
}
