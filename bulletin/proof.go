package bulletin

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/wire"
)

// Board is what a client needs to check the board's statements: the
// election's checkpoint origin, the board nodes of the manifest and the
// quorum of their signatures a checkpoint needs (SPEC.md §3.8), and the
// witnesses and the quorum of their cosignatures it needs (§3.13; zero:
// none). BoardFor builds it from a manifest.
type Board struct {
	Origin        string
	Nodes         []NodeKey
	Quorum        int
	Witnesses     []WitnessKey
	WitnessQuorum int
}

// Open verifies a signed checkpoint note (SPEC.md V3.1–V3.4, and V3.9
// when the board has a witness quorum).
func (b *Board) Open(noteText []byte) (*Checkpoint, error) {
	return openCheckpoint(noteText, b.Origin, b.Nodes, b.Quorum, b.Witnesses, b.WitnessQuorum)
}

// VerifyInclusion checks that entryBytes is entry number p.Seq of the log
// committed to by the signed checkpoint note (SPEC.md V3.7). The proof's
// size MUST be the checkpoint's size.
func (b *Board) VerifyInclusion(noteText []byte, entryBytes []byte, p *InclusionProof) (*Checkpoint, error) {
	c, err := b.Open(noteText)
	if err != nil {
		return nil, err
	}
	if p.Size != c.Size {
		return nil, ErrInvalidProof
	}
	if err := p.Check(c.Root, entryBytes); err != nil {
		return nil, err
	}
	return c, nil
}

// InconsistencyError is returned when two checkpoints, each signed by a
// quorum of board nodes, describe logs that are not one the prefix of the
// other. It is proof that the board misbehaved: Old and New are the signed
// notes and Proof the consistency proof the board served (nil when the
// checkpoints already contradict each other, e.g. equal sizes with different
// roots). A client MUST keep and publish this evidence.
type InconsistencyError struct {
	Old, New []byte
	Proof    *ConsistencyProof
	Reason   string
}

func (e *InconsistencyError) Error() string {
	return "bulletin: inconsistent checkpoints: " + e.Reason
}

// CheckConsistency verifies that the log of the signed checkpoint oldNote is
// a prefix of that of newNote (SPEC.md V3.8). Both notes MUST carry a quorum
// of signatures; if they do and the log is not append-only, the error is an
// *InconsistencyError carrying the evidence. A proof that merely does not
// match the sizes of the checkpoints is ErrInvalidProof (it proves nothing).
// p may be nil when the sizes are equal.
func (b *Board) CheckConsistency(oldNote, newNote []byte, p *ConsistencyProof) error {
	oc, err := b.Open(oldNote)
	if err != nil {
		return fmt.Errorf("old checkpoint: %w", err)
	}
	nc, err := b.Open(newNote)
	if err != nil {
		return fmt.Errorf("new checkpoint: %w", err)
	}
	evidence := func(reason string) error {
		return &InconsistencyError{Old: append([]byte(nil), oldNote...), New: append([]byte(nil), newNote...), Proof: p, Reason: reason}
	}
	switch {
	case oc.Size > nc.Size:
		return fmt.Errorf("bulletin: old checkpoint size %d is larger than new %d", oc.Size, nc.Size)
	case oc.Size == nc.Size:
		if oc.Root != nc.Root {
			return evidence(fmt.Sprintf("two roots for size %d", oc.Size))
		}
		if oc.Height != nc.Height || oc.BlockHash != nc.BlockHash {
			return evidence(fmt.Sprintf("two blocks for size %d", oc.Size))
		}
		return nil
	case oc.Height >= nc.Height:
		return evidence(fmt.Sprintf("log grew from %d to %d but block height did not (%d → %d)", oc.Size, nc.Size, oc.Height, nc.Height))
	}
	if p == nil || p.OldSize != oc.Size || p.NewSize != nc.Size {
		return ErrInvalidProof
	}
	if err := p.Check(oc.Root, nc.Root); err != nil {
		return evidence(fmt.Sprintf("consistency proof from %d to %d fails", oc.Size, nc.Size))
	}
	return nil
}

// Receipt is what a voter keeps after posting: the entry, its sequence
// number, a signed checkpoint and the inclusion proof of the entry in it
// (SPEC.md §3.10).
type Receipt struct {
	Entry      []byte // canonical entry bytes
	Seq        uint64
	Checkpoint []byte // signed checkpoint note
	Proof      []tlog.Hash
}

// ReceiptVersion is the version byte of the receipt encoding.
const ReceiptVersion = 1

// Bytes returns u8 version || bytes entry || u64 seq || bytes note || u32
// count || count × hash (SPEC.md §3.10).
func (r *Receipt) Bytes() []byte {
	w := wire.NewWriter(32 + len(r.Entry) + len(r.Checkpoint) + 32*len(r.Proof)).
		U8(ReceiptVersion).Bytes(r.Entry).U64(r.Seq).Bytes(r.Checkpoint)
	return appendHashes(w, r.Proof).Out()
}

// ParseReceipt decodes a receipt strictly; the entry MUST itself decode
// (ParseEntry). Signatures and proofs are not checked (VerifyReceipt does).
func ParseReceipt(b []byte) (*Receipt, error) {
	rd := wire.NewReader(b)
	if v := rd.U8("version"); rd.Err() == nil && v != ReceiptVersion {
		return nil, fmt.Errorf("%w: receipt version %d", ErrMalformed, v)
	}
	r := &Receipt{Entry: rd.Bytes("entry", MaxEntrySize), Seq: rd.U64("seq"), Checkpoint: rd.Bytes("checkpoint", MaxNoteSize)}
	r.Proof = readHashes(rd)
	if err := rd.Done(); err != nil {
		return nil, fmt.Errorf("%w: receipt: %v", ErrMalformed, err)
	}
	if _, err := ParseEntry(r.Entry); err != nil {
		return nil, err
	}
	return r, nil
}

// VerifyReceipt checks a receipt against the board's keys (SPEC.md §3.10):
// the entry decodes and its envelope signature verifies, the checkpoint is
// signed by a quorum, and the entry is leaf Seq of the checkpoint's log.
// It returns the decoded entry and checkpoint.
func (b *Board) VerifyReceipt(r *Receipt) (*Entry, *Checkpoint, error) {
	e, err := ParseEntry(r.Entry)
	if err != nil {
		return nil, nil, err
	}
	if err := e.VerifySignature(); err != nil {
		return nil, nil, err
	}
	c, err := b.Open(r.Checkpoint)
	if err != nil {
		return nil, nil, err
	}
	p := &InclusionProof{Seq: r.Seq, Size: c.Size, Hashes: r.Proof}
	if err := p.Check(c.Root, r.Entry); err != nil {
		return nil, nil, err
	}
	return e, c, nil
}
