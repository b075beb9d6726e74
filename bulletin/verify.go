package bulletin

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/batch"
)

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

// StepError reports which verification step failed and where (SPEC.md §3.12).
type StepError struct {
	Step   string // e.g. "V2.3"
	Seq    int64  // entry sequence number, or -1
	Height int64  // block height, or -1
	Err    error
}

func (e *StepError) Error() string {
	loc := ""
	if e.Height >= 0 {
		loc += fmt.Sprintf(" block %d", e.Height)
	}
	if e.Seq >= 0 {
		loc += fmt.Sprintf(" entry %d", e.Seq)
	}
	return fmt.Sprintf("%s failed at%s: %v", e.Step, loc, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// RecordSummary is what VerifyRecord learned.
type RecordSummary struct {
	State      *ElectionState // state after the last entry
	Index      *MemIndex      // credentials, trackers, last ballot per credential
	Blocks     uint64
	Checkpoint *Checkpoint // the checkpoint covering the whole record
}

// EntryFunc is called for every entry VerifyRecord accepted, in order, so
// the caller can run the later V-steps (V6–V13) in the same pass.
type EntryFunc func(seq uint64, raw []byte, e *Entry, eff *Effects) error

// VerifyRecord runs V1, V2, V3 and V5 of SPEC.md §3.12 over a record
// stream: strict decoding, the block chain, the Merkle log against every
// block and the signed checkpoints, the envelope signatures, and the replay
// of the election rules with rules (whose Bodies decode the typed bodies).
// rand supplies batch-verification weights. fn may be nil. The first
// failure is returned as a *StepError.
func VerifyRecord(rand io.Reader, r io.Reader, rules *Rules, fn EntryFunc) (*RecordSummary, error) {
	rr, err := NewRecordReader(r)
	if err != nil {
		return nil, &StepError{Step: "V1.1", Seq: -1, Height: -1, Err: err}
	}
	st := &ElectionState{}
	idx := NewMemIndex()
	var log MemoryLog
	var prev *BlockHeader
	type blockAt struct {
		height uint64
		hash   [32]byte
		root   tlog.Hash
	}
	bySize := map[uint64]blockAt{}
	for {
		b, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &StepError{Step: "V1", Seq: int64(log.Size()), Height: -1, Err: err}
		}
		h := b.Header
		if err := CheckLink(prev, h); err != nil {
			return nil, &StepError{Step: "V2", Seq: -1, Height: int64(h.Height), Err: err}
		}
		// V1.4: envelope signatures of the block, batched.
		v := batch.New()
		for k, e := range b.Entries {
			e.AddToBatch(v, k)
		}
		if ok, err := v.Verify(rand); err != nil || !ok {
			bad, ferr := v.Failed(rand)
			if err == nil {
				err = ferr
			}
			if err != nil {
				return nil, err
			}
			if len(bad) > 0 {
				return nil, &StepError{Step: "V1.4", Seq: int64(h.FirstSeq) + int64(bad[0]), Height: int64(h.Height), Err: ErrInvalidSignature}
			}
		}
		for k, e := range b.Entries {
			seq := h.FirstSeq + uint64(k)
			if err := log.Append(b.Raw[k]); err != nil {
				return nil, err
			}
			eff, err := rules.Apply(st, idx, e)
			if err != nil {
				return nil, &StepError{Step: "V5", Seq: int64(seq), Height: int64(h.Height), Err: err}
			}
			idx.Commit(eff)
			if fn != nil {
				if err := fn(seq, b.Raw[k], e, eff); err != nil {
					return nil, err
				}
			}
		}
		root, err := log.Root(h.LogSize)
		if err != nil {
			return nil, err
		}
		if root != h.LogRoot {
			return nil, &StepError{Step: "V3.5", Seq: -1, Height: int64(h.Height), Err: fmt.Errorf("%w: block log root is not the Merkle root of the entries", ErrInvalidProof)}
		}
		bySize[h.LogSize] = blockAt{h.Height, h.Hash(), root}
		prev = h
	}
	if st.Phase == PhaseEmpty {
		return nil, &StepError{Step: "V5.1", Seq: -1, Height: -1, Err: errors.New("bulletin: empty record")}
	}
	board := st.Board()
	sum := &RecordSummary{State: st, Index: idx, Blocks: prev.Height + 1}
	for _, n := range rr.Checkpoints() {
		c, err := board.Open(n)
		if err != nil {
			step := "V3.1" // V3.1–V3.4: origin, signatures, quorum
			if errors.Is(err, ErrMalformed) {
				step = "V1.5"
			}
			return nil, &StepError{Step: step, Seq: -1, Height: -1, Err: err}
		}
		at, ok := bySize[c.Size]
		if !ok || at.root != c.Root || at.height != c.Height || at.hash != c.BlockHash {
			return nil, &StepError{Step: "V3.5", Seq: -1, Height: int64(c.Height), Err: fmt.Errorf("%w: checkpoint of size %d does not match the record's blocks", ErrCheckpoint, c.Size)}
		}
		if c.Size == log.Size() {
			sum.Checkpoint = c
		}
	}
	if sum.Checkpoint == nil {
		return nil, &StepError{Step: "V3.6", Seq: -1, Height: -1, Err: fmt.Errorf("%w: no checkpoint covers the whole record", ErrCheckpoint)}
	}
	return sum, nil
}
