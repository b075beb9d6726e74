package bulletin

import (
	"errors"
	"testing"
)

// chain builds blocks over a test board's log, one block per group sizes.
func (b *board) blocks(t testing.TB, sizes ...int) []*BlockHeader {
	t.Helper()
	var hs []*BlockHeader
	var prev *BlockHeader
	seq := 0
	for i, n := range sizes {
		seq += n
		root, err := b.log.Root(uint64(seq))
		if err != nil {
			t.Fatal(err)
		}
		h, err := NextBlock(prev, 1_750_000_000_000+uint64(i), uint32(n), root)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		prev = h
	}
	return hs
}

func (el *election) checkpointFor(h *BlockHeader) *Checkpoint {
	return &Checkpoint{Origin: Origin(el.manifest.ElectionID, el.fp), Size: h.LogSize, Root: h.LogRoot, Height: h.Height, BlockHash: h.Hash()}
}

func (el *election) board() *Board {
	return &Board{Origin: Origin(el.manifest.ElectionID, el.fp), Nodes: el.nodes, Quorum: 2}
}

func TestReceiptAndConsistency(t *testing.T) {
	el := newElection(t, "receipt")
	b := newBoard()
	b.mustApply(t, el.prefix(t, PhaseOpen)...)
	b.mustApply(t, el.ballotE(t, 1, "r1"), el.ballotE(t, 2, "r2"))
	hs := b.blocks(t, 1, 5, 2, 2) // 10 entries
	ss := signers(t, el)
	oldNote := signedBy(t, el.checkpointFor(hs[1]), ss[0], ss[1])
	newNote := signedBy(t, el.checkpointFor(hs[3]), ss[1], ss[2])
	bd := el.board()

	// receipt for the ballot at seq 8
	p, err := ProveInclusion(8, 10, &b.log)
	if err != nil {
		t.Fatal(err)
	}
	r := &Receipt{Entry: b.raw[8], Seq: 8, Checkpoint: newNote, Proof: p.Hashes}
	r2, err := ParseReceipt(r.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	e, c, err := bd.VerifyReceipt(r2)
	if err != nil || e.Type != TypeBallot || c.Size != 10 {
		t.Fatalf("receipt: %v", err)
	}
	bad := []*Receipt{
		{Entry: b.raw[7], Seq: 8, Checkpoint: newNote, Proof: p.Hashes}, // wrong entry
		{Entry: b.raw[8], Seq: 7, Checkpoint: newNote, Proof: p.Hashes}, // wrong seq
		{Entry: b.raw[8], Seq: 8, Checkpoint: oldNote, Proof: p.Hashes}, // checkpoint without the entry
		{Entry: b.raw[8], Seq: 8, Checkpoint: signedBy(t, el.checkpointFor(hs[3]), ss[0]), Proof: p.Hashes},
		{Entry: b.raw[8], Seq: 8, Checkpoint: newNote, Proof: p.Hashes[1:]},
	}
	for i, r := range bad {
		if _, _, err := bd.VerifyReceipt(r); err == nil {
			t.Errorf("bad receipt %d accepted", i)
		}
	}
	for _, raw := range [][]byte{append(r.Bytes(), 0), r.Bytes()[:20], {2}} {
		if _, err := ParseReceipt(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("bad receipt encoding: %v", err)
		}
	}

	// consistency: honest
	cp, err := ProveConsistency(6, 10, &b.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := bd.CheckConsistency(oldNote, newNote, cp); err != nil {
		t.Fatal(err)
	}
	if err := bd.CheckConsistency(newNote, newNote, nil); err != nil {
		t.Fatal(err)
	}
	// a proof for other sizes proves nothing
	cp2, _ := ProveConsistency(5, 10, &b.log)
	if err := bd.CheckConsistency(oldNote, newNote, cp2); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("mismatched proof: %v", err)
	}

	// a fork: another board history of the same size 10 with a different entry
	fork := newBoard()
	fork.mustApply(t, el.prefix(t, PhaseOpen)...)
	fork.mustApply(t, el.ballotE(t, 1, "r1"), el.ballotE(t, 3, "evil"))
	fhs := fork.blocks(t, 1, 5, 2, 2)
	forkNote := signedBy(t, el.checkpointFor(fhs[3]), ss[0], ss[2])
	var inc *InconsistencyError
	if err := bd.CheckConsistency(newNote, forkNote, nil); !errors.As(err, &inc) || string(inc.Old) != string(newNote) || string(inc.New) != string(forkNote) {
		t.Fatalf("equal-size fork: %v", err)
	}
	// a longer fork of the old checkpoint: the fork's history rewrote entry 7
	fork.mustApply(t, el.ballotE(t, 2, "more"))
	fhs = fork.blocks(t, 1, 5, 2, 2, 1)
	longNote := signedBy(t, el.checkpointFor(fhs[4]), ss[0], ss[1])
	fcp, _ := ProveConsistency(10, 11, &fork.log)
	if err := bd.CheckConsistency(newNote, longNote, fcp); !errors.As(err, &inc) || inc.Proof != fcp {
		t.Fatalf("fork with proof: %v", err)
	}
	// a checkpoint that is not signed by a quorum is no evidence
	weak := signedBy(t, el.checkpointFor(fhs[4]), ss[0])
	if err := bd.CheckConsistency(newNote, weak, fcp); errors.As(err, &inc) || err == nil {
		t.Fatalf("unsigned fork: %v", err)
	}
}
