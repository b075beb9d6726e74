package ballot

import "github.com/urna-vote/urna/internal/keyindex"

// CountEntry is one ballot-bearing board entry, in board order, as the
// counting rule sees it (SPEC.md V10).
type CountEntry struct {
	Credential [32]byte // encoding of the ballot's public credential
	Tracker    Tracker
	Audited    bool // an audited (opened) ballot rather than a cast one
	Valid      bool // the entry passed V5 and V8 (cast) or V9 (audited)
	// Weight is the weight of the credential (SPEC.md §5.3), 1..MaxWeight;
	// 0 reads as 1, the weight of every credential of an unweighted list.
	Weight uint32
}

// CastEntry returns the CountEntry of a cast ballot of a credential of
// weight 1.
func CastEntry(b *Ballot, valid bool) CountEntry { return WeightedCastEntry(b, valid, 1) }

// WeightedCastEntry returns the CountEntry of a cast ballot whose
// credential has weight w (SPEC.md §5.3).
func WeightedCastEntry(b *Ballot, valid bool, w uint32) CountEntry {
	e := CountEntry{Tracker: b.tracker, Valid: valid, Weight: w}
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

// Counter applies the counting rule of SPEC.md V10 to entries given one at
// a time, in board order, so that a verifier can stream a record:
//
//  1. an invalid entry never counts and has no effect;
//  2. a valid audited entry never counts, and its tracker is burnt;
//  3. a valid cast entry whose tracker is burnt (an earlier valid audited or
//     cast entry had it) is rejected; otherwise its tracker is burnt;
//  4. of the remaining valid cast entries, the last one per credential
//     counts and the earlier ones are superseded (revoting).
//
// It is the only implementation of the rule: SelectCounted runs it over a
// slice and package client over a record. The zero value is not usable;
// call NewCounter.
type Counter struct {
	n      int            // entries added so far
	burnt  keyindex.Index // trackers of valid audited and cast entries
	creds  keyindex.Index // credentials with a counted entry
	last   []countedAt    // by credential number: its counted entry
	weight uint64         // Σ weights of the counted entries
}

type countedAt struct {
	i int
	w uint32
}

// NewCounter returns a Counter that has seen no entry. Its sets are
// keyindex.Index (about 45 bytes a key, a million voters being the
// target), not maps.
func NewCounter() *Counter { return &Counter{} }

// Add applies the rule to the next entry, whose index is the number of
// entries added before it. It returns the entry's status and, when the
// entry counts in place of an earlier entry of the same credential, that
// entry's index, which is from now on Superseded; otherwise superseded is -1.
func (c *Counter) Add(e CountEntry) (status CountStatus, superseded int) {
	i := c.n
	c.n++
	switch {
	case !e.Valid:
		return Invalid, -1
	case e.Audited:
		c.burnt.Add(e.Tracker)
		return Audited, -1
	}
	if _, added := c.burnt.Add(e.Tracker); !added {
		return ReusedTracker, -1
	}
	superseded = -1
	w := max(e.Weight, 1)
	k, added := c.creds.Add(e.Credential)
	if added {
		c.last = append(c.last, countedAt{i, w})
	} else {
		j := c.last[k]
		superseded = j.i
		c.weight -= uint64(j.w)
		c.last[k] = countedAt{i, w}
	}
	c.weight += uint64(w)
	return Counted, superseded
}

// Counted returns the number of entries that count so far: the number of
// credentials with a counted ballot.
func (c *Counter) Counted() int { return c.creds.Len() }

// CredentialNumber returns the number of credential cred among the
// credentials with a counted entry (0, 1, … in the order each first
// counted), and false if cred has none: a verifier keeps what it knows of
// each counted ballot in a slice indexed by it rather than in a map.
func (c *Counter) CredentialNumber(cred [32]byte) (int, bool) {
	k, ok := c.creds.Find(cred)
	return int(k), ok
}

// CountedCredential returns the credential numbered k (CredentialNumber);
// k MUST be less than Counted.
func (c *Counter) CountedCredential(k int) [32]byte { return c.creds.Key(uint32(k)) }

// MaxCount returns the sum of the weights of the credentials with a
// counted ballot: maxCount of SPEC.md V10.6, the bound of every count of
// the result (the number of counted ballots when every weight is 1).
func (c *Counter) MaxCount() uint64 { return c.weight }

// SelectCounted applies the counting rule of SPEC.md V10 (see Counter) to
// the entries in board order and returns the status of each.
func SelectCounted(entries []CountEntry) []CountStatus {
	st := make([]CountStatus, len(entries))
	c := NewCounter()
	for i, e := range entries {
		var prev int
		st[i], prev = c.Add(e)
		if prev >= 0 {
			st[prev] = Superseded
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
