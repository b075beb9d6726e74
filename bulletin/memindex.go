package bulletin

// MemIndex is an in-memory Index, for verifiers replaying a record (V5)
// and for tests. Commit stores an entry's Effects.
type MemIndex struct {
	creds    map[[32]byte]bool
	weights  map[[32]byte]uint32 // weights other than 1
	ids      map[[32]byte]bool
	trackers map[[32]byte]TrackerRecord
	last     map[[32]byte]uint64
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex {
	return &MemIndex{creds: map[[32]byte]bool{}, weights: map[[32]byte]uint32{}, ids: map[[32]byte]bool{}, trackers: map[[32]byte]TrackerRecord{}, last: map[[32]byte]uint64{}}
}

// HasCredential implements Index.
func (m *MemIndex) HasCredential(c [32]byte) (bool, error) { return m.creds[c], nil }

// Weight returns the weight of the registered credential c (SPEC.md §5.3).
func (m *MemIndex) Weight(c [32]byte) (uint32, bool) {
	if !m.creds[c] {
		return 0, false
	}
	if w, ok := m.weights[c]; ok {
		return w, true
	}
	return 1, true
}

// EntrySeen implements Index.
func (m *MemIndex) EntrySeen(id [32]byte) (bool, error) { return m.ids[id], nil }

// Tracker implements Index.
func (m *MemIndex) Tracker(t [32]byte) (TrackerRecord, bool, error) {
	r, ok := m.trackers[t]
	return r, ok, nil
}

// LastBallot returns the sequence number of credential c's latest cast ballot.
func (m *MemIndex) LastBallot(c [32]byte) (uint64, bool) { s, ok := m.last[c]; return s, ok }

// Commit stores eff, as the node stores it after Apply.
func (m *MemIndex) Commit(eff *Effects) {
	m.ids[eff.ID] = true
	for i, c := range eff.Credentials {
		m.creds[c] = true
		if i < len(eff.Weights) && eff.Weights[i] != 1 {
			m.weights[c] = eff.Weights[i]
		}
	}
	if eff.Tracker != nil {
		m.trackers[eff.Tracker.Tracker] = *eff.Tracker
	}
	if eff.LastBallot != nil {
		m.last[eff.LastBallot.Credential] = eff.LastBallot.Seq
	}
}
