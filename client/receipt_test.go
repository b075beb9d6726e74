package client_test

import (
	"errors"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

// receiptFor returns the receipt of entry seq under the sealed record's
// first checkpoint, and its size.
func receiptFor(t *testing.T, e *testonly.Election, s *testonly.Sealed, entries [][]byte, seq int) ([]byte, uint64) {
	c, err := bulletin.ParseCheckpointText(noteText(t, s.Notes[0]))
	if err != nil {
		t.Fatal(err)
	}
	return testonly.Receipt(t, entries, seq, s.Notes[0], c.Size).Bytes(), c.Size
}

func noteText(t *testing.T, n []byte) []byte {
	// the text is everything up to the blank line before the signatures
	for i := 0; i+1 < len(n); i++ {
		if n[i] == '\n' && n[i+1] == '\n' {
			return n[:i+1]
		}
	}
	t.Fatal("no note text")
	return nil
}

func TestCheckReceipt(t *testing.T) {
	e := smallElection(t)
	s := e.Seal(e.Entries)
	seq := e.SeqBallots[0]
	rec, size := receiptFor(t, e, s, e.Entries, seq)
	last, _ := bulletin.ParseCheckpointText(noteText(t, s.Notes[1]))
	cp := testonly.Consistency(t, e.Entries, size, last.Size)
	st, err := client.CheckReceipt(rec, []client.FreshCheckpoint{{Note: s.Notes[1], Proof: cp}, {Note: s.Notes[0]}}, e.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if st.Seq != uint64(seq) || st.Tracker == nil || st.Consistent != 2 || st.Latest.Size != last.Size {
		t.Errorf("status %+v", st)
	}

	t.Run("fork", func(t *testing.T) {
		// The board rewrites history after the receipt: it drops the
		// receipt's ballot and signs a log without it.
		forked := append([][]byte(nil), e.Entries[:seq]...)
		forked = append(forked, e.Entries[seq+1:]...)
		fs := e.Seal(forked)
		fc, _ := bulletin.ParseCheckpointText(noteText(t, fs.Notes[1]))
		p := testonly.Consistency(t, forked, size, fc.Size)
		_, err := client.CheckReceipt(rec, []client.FreshCheckpoint{{Note: fs.Notes[1], Proof: p}}, e.Manifest)
		var inc *bulletin.InconsistencyError
		if !errors.As(err, &inc) || inc.Old == nil || inc.New == nil {
			t.Fatalf("fork not detected with evidence: %v", err)
		}
	})
	t.Run("bad-inclusion", func(t *testing.T) {
		r, _ := bulletin.ParseReceipt(rec)
		r.Seq++
		if _, err := client.CheckReceipt(r.Bytes(), nil, e.Manifest); !errors.Is(err, bulletin.ErrInvalidProof) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("below-quorum", func(t *testing.T) {
		one := e.SealWith(e.Entries, e.Config.BlockSize, []int{2})
		r, _ := bulletin.ParseReceipt(rec)
		r.Checkpoint = one.Notes[0]
		if _, err := client.CheckReceipt(r.Bytes(), nil, e.Manifest); !errors.Is(err, bulletin.ErrCheckpoint) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("fresh-without-proof", func(t *testing.T) {
		_, err := client.CheckReceipt(rec, []client.FreshCheckpoint{{Note: s.Notes[1]}}, e.Manifest)
		if !errors.Is(err, bulletin.ErrInvalidProof) {
			t.Fatalf("err = %v", err)
		}
	})
}
