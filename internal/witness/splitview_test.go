package witness

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
)

// TestAttackSplitViewCaughtByWitnesses (issue 9, finding 5): operators
// holding every node key show one trustee a history without ballot 3 (a
// split view). The manifest asks for 2 of 2 witnesses. The witnesses
// cosigned the honest history everyone else sees; they refuse the forged
// one (and keep it as evidence), so the trustee's check of the checkpoint
// — the one Board.Open of every party — fails before it acts on it. Had
// the forged view reached the witnesses first, the honest one would be
// refused instead: both views can never both carry the witness quorum.
func TestAttackSplitViewCaughtByWitnesses(t *testing.T) {
	f := newFixture(t)
	wa, wb := f.witness(0, ""), f.witness(1, "")
	board := f.board()
	if board.WitnessQuorum != 2 || len(board.Witnesses) != 2 {
		t.Fatalf("the manifest's rules: %+v", board)
	}
	honest := newHistory(t, leaves("ballot", 0, 6)...)
	cosign := func(h *history, old, size uint64) ([]byte, error) {
		n := f.checkpoint(h, size, "n1", "n2", "n3")
		out := append([]byte(nil), n...)
		var first error
		for _, w := range []*Witness{wa, wb} {
			line, err := w.AddCheckpoint(&Request{OldSize: old, Proof: h.proof(t, old, size), Note: n})
			if err != nil && first == nil {
				first = err
			}
			out = append(out, line...)
		}
		return out, first
	}
	seen, err := cosign(honest, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := board.Open(seen); err != nil {
		t.Fatalf("the honest checkpoint: %v", err)
	}
	// The split view: the same first three ballots, ballot 3 dropped, the
	// others re-appended; signed by all three nodes.
	var forgedLeaves []string
	for i, l := range leaves("ballot", 0, 6) {
		if i != 3 {
			forgedLeaves = append(forgedLeaves, l)
		}
	}
	forged := newHistory(t, forgedLeaves...)
	forged.add(t, "ballot entry 6", "ballot entry 7")
	// Shown with node signatures only, the trustee refuses it.
	_, err = board.Open(f.checkpoint(forged, 7, "n1", "n2", "n3"))
	if !errors.Is(err, bulletin.ErrCheckpoint) || !strings.Contains(err.Error(), "0 witness cosignatures, witness quorum is 2") {
		t.Fatalf("forged view without cosignatures: %v", err)
	}
	// The operators ask the witnesses: from the honest size (no proof can
	// link the forged root), and from scratch (a conflict).
	for _, old := range []uint64{6, 0} {
		if _, err := cosign(forged, old, 7); err == nil {
			t.Fatalf("a witness cosigned the forged view from size %d", old)
		}
	}
	for _, w := range []*Witness{wa, wb} {
		if ev, _ := w.Evidence(); len(ev) == 0 {
			t.Fatal("a witness kept no evidence of the forged checkpoint")
		}
		if got := w.Latest(f.origin); !bytes.Equal(got[:bytes.Index(got, []byte("\n\n"))], seen[:bytes.Index(seen, []byte("\n\n"))]) {
			t.Fatal("a witness moved off the honest checkpoint")
		}
	}
	// The forged note with one borrowed honest cosignature: invalid (the
	// line signs another text), so no party accepts it either.
	fn := f.checkpoint(forged, 7, "n1", "n2", "n3")
	hl := seen[bytes.LastIndex(seen[:len(seen)-1], []byte("\n"))+1:]
	if _, err := board.Open(append(fn, hl...)); !errors.Is(err, bulletin.ErrCheckpoint) {
		t.Fatalf("forged view with a borrowed cosignature: %v", err)
	}
	// The honest history keeps being cosigned.
	honest.add(t, leaves("ballot", 6, 9)...)
	if n, err := cosign(honest, 6, 9); err != nil {
		t.Fatal(err)
	} else if _, err := board.Open(n); err != nil {
		t.Fatal(err)
	}
}
