package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
)

// TestAttackElectionFillsItsBytes: an election that posts until it
// reaches the byte cap (SPEC.md §3.14.5) is refused by every replica
// alike, whatever the Raft grouping, and the election beside it goes on
// being posted to. The count survives a snapshot restore and a store
// written before the count existed (counted once at load).
func TestAttackElectionFillsItsBytes(t *testing.T) {
	es := makeElections(t, 2, "alpha", "beta")
	a, b := es[0], es[1]
	aDeals, bDeals := a.DealEntries(), b.DealEntries()
	// alpha may hold its manifest, credentials and first deal, and not one
	// byte more than its second deal needs.
	capBytes := uint64(len(a.ManifestEntry()) + len(a.CredentialsEntry()) + len(aDeals[0]) + len(aDeals[1]) - 1)
	saved := maxElectionBytes
	maxElectionBytes = capBytes
	t.Cleanup(func() { maxElectionBytes = saved })

	cmd := func(e []byte) []byte { return encodeEntryCmd(1_700_000_000_000, e) }
	log := []replica.Entry{
		{Index: 3, Cmds: [][]byte{cmd(a.ManifestEntry()), cmd(b.ManifestEntry())}},
		{Index: 4, Cmds: [][]byte{cmd(a.CredentialsEntry()), cmd(aDeals[0]), cmd(aDeals[1]), cmd(b.CredentialsEntry())}},
		{Index: 5, Cmds: [][]byte{cmd(bDeals[0]), cmd(aDeals[1]), cmd(bDeals[1])}},
	}
	ref, refSt := openApplyBoard(t, t.TempDir())
	var want [][]replica.Result
	for _, e := range log {
		want = append(want, ref.ApplyBatch(e.Index, e.Cmds))
	}
	for k, r := range want {
		for i, res := range r {
			refused := (k == 1 && i == 2) || (k == 2 && i == 1)
			if refused != (res.Err != nil) || (refused && !errors.Is(res.Err, ErrQuota)) {
				t.Fatalf("raft entry %d command %d: %v (refusal expected: %v)", k, i, res.Err, refused)
			}
			if refused && !strings.Contains(res.Err.Error(), `election "alpha"`) {
				t.Fatalf("the refusal does not name the election: %v", res.Err)
			}
		}
	}
	bs := ref.FSM.board()
	if got := bs.elections[0].bytes; got != capBytes-uint64(len(aDeals[1]))+1 {
		t.Fatalf("alpha holds %d bytes, want %d", got, capBytes-uint64(len(aDeals[1]))+1)
	}
	if bs.elections[1].entries != 4 {
		t.Fatalf("beta holds %d entries, want 4: alpha's cap starved it", bs.elections[1].entries)
	}
	wantState := stateOf(t, ref)
	sameUnderGroupings(t, log, want, wantState, 2, 3)

	// A snapshot restores the count: the restored replica refuses alike.
	ctx := context.Background()
	restored, _ := openApplyBoard(t, t.TempDir())
	if err := restored.Restore(readCloser{bytes.NewBuffer(storetest.SnapshotBytes(t, refSt))}); err != nil {
		t.Fatal(err)
	}
	next := []replica.Entry{{Index: 6, Cmds: [][]byte{cmd(aDeals[1])}}}
	for name, fsm := range map[string]*Board{"the reference": ref, "the restored replica": restored} {
		if r := fsm.ApplyEntries(next)[0][0]; !errors.Is(r.Err, ErrQuota) {
			t.Fatalf("%s: alpha's entry past the cap: %v, want quota", name, r.Err)
		}
	}
	sameState(t, "restored", stateOf(t, restored), stateOf(t, ref))

	// A store without the count (written before it) is counted at load.
	err := refSt.Update(ctx, func(tx store.WriteTx) error {
		for p := range bs.elections {
			if err := tx.WriteIn(store.Partition(p)).Delete(store.NSMeta, keyBytes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old, err := loadBoard(ctx, refSt)
	if err != nil {
		t.Fatal(err)
	}
	for p, v := range old.elections {
		if v.bytes != bs.elections[p].bytes {
			t.Fatalf("election %d counted %d bytes at load, the replica kept %d", p, v.bytes, bs.elections[p].bytes)
		}
	}
}

// TestElectionByteAdmission: a node with a lower byte cap of its own
// proposes nothing past it, judged on the replicated count.
func TestElectionByteAdmission(t *testing.T) {
	es := makeElections(t, 2, "alpha")
	a := es[0]
	held := uint64(len(a.ManifestEntry()) + len(a.CredentialsEntry()))
	b := openLoneBoard(t, Config{SkipChecks: true, MaxElectionBytes: held + 10}, a.ManifestEntry(), a.CredentialsEntry())
	rep := &blockingReplica{release: make(chan struct{})}
	close(rep.release)
	b.Attach(rep)
	s, _ := b.Scope("alpha")
	_, err := s.Submit(context.Background(), [][]byte{a.DealEntries()[0]})
	if !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), fmt.Sprintf("holds %d bytes", held)) {
		t.Fatalf("a deal past this node's byte cap: %v, want quota naming %d bytes", err, held)
	}
	if rep.held() != 0 {
		t.Fatalf("%d posts past the cap were proposed", rep.held())
	}
}
