package bulletin

// MemIndex is an in-memory Index, for verifiers replaying a record (V5)
// and for tests. Commit stores an entry's Effects.
type MemIndex struct {
	creds    map[[32]byte]bool
	ids      map[[32]byte]bool
	trackers map[[32]byte]TrackerRecord
	last     map[[32]byte]uint64
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex {
	return &MemIndex{creds: map[[32]byte]bool{}, ids: map[[32]byte]bool{}, trackers: map[[32]byte]TrackerRecord{}, last: map[[32]byte]uint64{}}
}

// HasCredential implements Index.
func (m *MemIndex) HasCredential(c [32]byte) (bool, error) { return m.creds[c], nil }

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
	for _, c := range eff.Credentials {
		m.creds[c] = true
	}
	if eff.Tracker != nil {
		m.trackers[eff.Tracker.Tracker] = *eff.Tracker
	}
	if eff.LastBallot != nil {
		m.last[eff.LastBallot.Credential] = eff.LastBallot.Seq
	}
}
