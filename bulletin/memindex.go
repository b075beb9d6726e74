package bulletin

import "github.com/urna-vote/urna/internal/keyindex"

// MemIndex is an in-memory Index, for verifiers replaying a record (V5)
// and for tests. Commit stores an entry's Effects.
//
// It is laid out for a million voters: every set of keys is a
// keyindex.Index (about 45 bytes a key, no pointers per key) and the
// values are slices indexed by the key's number, so that a credential's
// key is stored once for its registration and its latest ballot, and a
// tracker's record does not repeat the tracker.
type MemIndex struct {
	creds   keyindex.Index      // registered credentials
	last    []uint64            // by credential number: 1 + seq of its latest cast ballot, 0 for none
	weights map[[32]byte]uint32 // weights other than 1
	ids     keyindex.Index
	// trackers, by tracker number: kind and sequence number.
	trackers keyindex.Index
	trKind   []TrackerKind
	trSeq    []uint64
	// lastOther is the latest ballot of a credential that is not
	// registered (the rules never accept one, but Commit stores any
	// Effects), or of sequence number 2^64 - 1.
	lastOther map[[32]byte]uint64
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex {
	return &MemIndex{weights: map[[32]byte]uint32{}, lastOther: map[[32]byte]uint64{}}
}

// HasCredential implements Index.
func (m *MemIndex) HasCredential(c [32]byte) (bool, error) {
	_, ok := m.creds.Find(c)
	return ok, nil
}

// Weight returns the weight of the registered credential c (SPEC.md §5.3).
func (m *MemIndex) Weight(c [32]byte) (uint32, bool) {
	if _, ok := m.creds.Find(c); !ok {
		return 0, false
	}
	if w, ok := m.weights[c]; ok {
		return w, true
	}
	return 1, true
}

// EntrySeen implements Index.
func (m *MemIndex) EntrySeen(id [32]byte) (bool, error) {
	_, ok := m.ids.Find(id)
	return ok, nil
}

// Tracker implements Index.
func (m *MemIndex) Tracker(t [32]byte) (TrackerRecord, bool, error) {
	i, ok := m.trackers.Find(t)
	if !ok {
		return TrackerRecord{}, false, nil
	}
	return TrackerRecord{Tracker: t, Kind: m.trKind[i], Seq: m.trSeq[i]}, true, nil
}

// LastBallot returns the sequence number of credential c's latest cast ballot.
func (m *MemIndex) LastBallot(c [32]byte) (uint64, bool) {
	if i, ok := m.creds.Find(c); ok && m.last[i] != 0 {
		return m.last[i] - 1, true
	}
	s, ok := m.lastOther[c]
	return s, ok
}

// Commit stores eff, as the node stores it after Apply.
func (m *MemIndex) Commit(eff *Effects) {
	m.ids.Add(eff.ID)
	for i, c := range eff.Credentials {
		if _, added := m.creds.Add(c); added {
			m.last = append(m.last, 0)
		}
		if i < len(eff.Weights) && eff.Weights[i] != 1 {
			m.weights[c] = eff.Weights[i]
		}
	}
	if t := eff.Tracker; t != nil {
		i, added := m.trackers.Add(t.Tracker)
		if added {
			m.trKind, m.trSeq = append(m.trKind, t.Kind), append(m.trSeq, t.Seq)
		} else {
			m.trKind[i], m.trSeq[i] = t.Kind, t.Seq
		}
	}
	if b := eff.LastBallot; b != nil {
		if i, ok := m.creds.Find(b.Credential); ok && b.Seq+1 != 0 {
			m.last[i] = b.Seq + 1
		} else {
			m.lastOther[b.Credential] = b.Seq
		}
	}
}
