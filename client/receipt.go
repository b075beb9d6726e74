package client

import (
	"errors"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// FreshCheckpoint is a checkpoint the voter fetched after posting (from
// any board node, ideally several), with the board's consistency proof from
// the receipt's checkpoint to it. Proof may be nil when the sizes are equal.
type FreshCheckpoint struct {
	Note  []byte
	Proof *bulletin.ConsistencyProof
}

// ReceiptStatus is what CheckReceipt established.
type ReceiptStatus struct {
	Seq        uint64               // the entry's sequence number
	EntryID    [32]byte             // the entry's identifier
	Type       bulletin.EntryType   // ballot or audited ballot, usually
	Tracker    *ballot.Tracker      // the ballot's tracker, for ballots
	Checkpoint *bulletin.Checkpoint // the receipt's checkpoint, verified
	// Latest is the largest fresh checkpoint the receipt's checkpoint is
	// consistent with (nil when no fresh checkpoint was given).
	Latest *bulletin.Checkpoint
	// Consistent counts the fresh checkpoints proved consistent.
	Consistent int
}

// CheckReceipt checks a voter's receipt (SPEC.md §3.10, V3.6–V3.7) against
// the manifest m, which the voter obtained independently: the receipt's
// entry decodes, is signed by its author and belongs to this election; the
// receipt's checkpoint carries a quorum of signatures of m's board nodes;
// the entry is leaf Seq of that checkpoint's log; and every fresh
// checkpoint is signed by a quorum and extends the receipt's checkpoint.
//
// If the board forked or rewrote its history after the receipt, the error
// is a *bulletin.InconsistencyError carrying both signed checkpoints and
// the proof: the voter MUST keep and publish it. Other errors wrap the
// sentinels of package bulletin.
func CheckReceipt(receipt []byte, fresh []FreshCheckpoint, m *ballot.Manifest) (*ReceiptStatus, error) {
	if m == nil {
		return nil, errors.New("client: no manifest")
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	r, err := bulletin.ParseReceipt(receipt)
	if err != nil {
		return nil, fmt.Errorf("client: receipt: %w", err)
	}
	board := boardOf(m)
	e, c, err := board.VerifyReceipt(r)
	if err != nil {
		return nil, fmt.Errorf("client: receipt: %w", err)
	}
	if e.Election != m.Fingerprint() {
		return nil, fmt.Errorf("client: receipt: %w: the entry belongs to another election", bulletin.ErrWrongElection)
	}
	st := &ReceiptStatus{Seq: r.Seq, EntryID: bulletin.EntryID(r.Entry), Type: e.Type, Checkpoint: c}
	switch e.Type {
	case bulletin.TypeBallot:
		tr := ballot.TrackerOf(e.Body)
		st.Tracker = &tr
	case bulletin.TypeAuditedBallot:
		if a, err := ballot.ParseAuditedBallot(e.Body); err == nil {
			tr := a.Ballot.Tracker()
			st.Tracker = &tr
		}
	case bulletin.TypeAudit:
		if a, err := ballot.ParseAudit(e.Body); err == nil {
			tr := a.Tracker()
			st.Tracker = &tr
		}
	}
	for i, f := range fresh {
		nc, err := board.Open(f.Note)
		if err != nil {
			return st, fmt.Errorf("client: fresh checkpoint %d: %w", i, err)
		}
		if nc.Size < c.Size {
			// An older checkpoint: check it the other way round.
			err = board.CheckConsistency(f.Note, r.Checkpoint, f.Proof)
		} else {
			err = board.CheckConsistency(r.Checkpoint, f.Note, f.Proof)
		}
		if err != nil {
			var inc *bulletin.InconsistencyError
			if errors.As(err, &inc) {
				return st, err
			}
			return st, fmt.Errorf("client: fresh checkpoint %d: %w", i, err)
		}
		st.Consistent++
		if st.Latest == nil || nc.Size > st.Latest.Size {
			st.Latest = nc
		}
	}
	return st, nil
}

// boardOf returns the checkpoint-verification keys the manifest fixes.
func boardOf(m *ballot.Manifest) *bulletin.Board {
	return bulletin.BoardFor(m)
}
