package client_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

var (
	windowOnce sync.Once
	windowed   *testonly.Election
)

// windowedElection is SmallConfig with a version-4 window that holds the
// blocks of its audits and ballots as Seal times them (testonly.BlockTime),
// and the manual close.
func windowedElection(t testing.TB) (*testonly.Election, ballot.Schedule) {
	t.Helper()
	cfg := testonly.SmallConfig()
	first := 2 + 2*cfg.N + 3 // after the manifest, credentials, deals, confirmations, complaint, reveal and open: the first audit
	w := ballot.Schedule{OpensAt: testonly.BlockTime(first / cfg.BlockSize), ClosesAt: testonly.BlockTime(100), Manual: true}
	windowOnce.Do(func() {
		cfg.Schedule = &w
		windowed = testonly.Build(nil, "client-window", cfg)
	})
	last := windowed.SeqBallots[len(windowed.SeqBallots)-1] / cfg.BlockSize
	if windowed.SeqAudited[0]/cfg.BlockSize < first/cfg.BlockSize || last >= 100 {
		t.Fatalf("the window [%d, 100) does not hold the voting blocks %d..%d", first/cfg.BlockSize, windowed.SeqAudited[0]/cfg.BlockSize, last)
	}
	return windowed, w
}

// TestWindowedRecordVerifies: an honest version-4 record whose ballots all
// lie in the window verifies.
func TestWindowedRecordVerifies(t *testing.T) {
	e, _ := windowedElection(t)
	if rep := verify(t, e.Record()); !rep.OK() {
		dump(t, rep)
		t.Fatal("the windowed record does not verify")
	}
}

// TestAttackBallotOutsideWindow: a hostile leader that stamps the block of
// counted ballots after closes_at (or the block of the first audit before
// opens_at) with the times still non-decreasing: V5.7 fails at every
// voting entry of those blocks, first of all steps.
func TestAttackBallotOutsideWindow(t *testing.T) {
	e, w := windowedElection(t)
	bs := e.Config.BlockSize
	late := e.SeqBallots[len(e.SeqBallots)-1]
	lateBlock := late / bs
	rec := e.SealTimed(e.Entries, bs, nil, func(h int) uint64 {
		if h >= lateBlock {
			return w.ClosesAt + uint64(h-lateBlock)
		}
		return testonly.BlockTime(h)
	}).Encode()
	rep := verify(t, rec)
	expectFailures(t, rep, client.StepV5, at(client.StepV5, late))
	for _, f := range rep.Step(client.StepV5).Failures {
		if f.Field != "V5.7 window" || !strings.Contains(f.Detail, "the election closed at") {
			t.Errorf("V5 failure %s: %s, want V5.7 window", f.Field, f.Detail)
		}
	}

	early := e.SeqAudited[0]
	rec = e.SealTimed(e.Entries, bs, nil, func(h int) uint64 {
		if h <= early/bs {
			return w.OpensAt - 1000 + uint64(h)
		}
		return testonly.BlockTime(h)
	}).Encode()
	rep = verify(t, rec)
	expectFailures(t, rep, client.StepV5, at(client.StepV5, early))
	if f := rep.Step(client.StepV5).Failures[0]; f.Field != "V5.7 window" || !strings.Contains(f.Detail, "opens at") {
		t.Errorf("V5 failure %s: %s, want V5.7 window before the opening", f.Field, f.Detail)
	}
}

// TestAttackTimeGoesBack: a hostile leader that stamps a late ballot's
// block back inside the window, behind the block before it: V2.4 fails at
// that block first.
func TestAttackTimeGoesBack(t *testing.T) {
	e, w := windowedElection(t)
	bs := e.Config.BlockSize
	lateBlock := e.SeqBallots[len(e.SeqBallots)-1] / bs
	rec := e.SealTimed(e.Entries, bs, nil, func(h int) uint64 {
		switch {
		case h == lateBlock-1:
			return w.ClosesAt
		case h == lateBlock:
			return w.ClosesAt - 1
		}
		return testonly.BlockTime(h)
	}).Encode()
	rep := verify(t, rec)
	expectFailures(t, rep, client.StepV2, atBlock(client.StepV2, lateBlock))
}
