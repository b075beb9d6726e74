package client_test

import (
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/tally"
)

// TestAttackComplaintImpersonation: trustee 1 posts a complaint in trustee
// 3's name against dealer 2 (who never answers it). If the observer counted
// it, dealer 2 would have an unanswered complaint and the open entry's QUAL
// would be wrong. The complaint is refused as not authorized (V5), and V7
// still agrees with the open entry.
func TestAttackComplaintImpersonation(t *testing.T) {
	e := smallElection(t)
	forged := &tally.Complaint{Dealer: 2, Complainer: 3}
	en := e.EntryFor(e.Manifest.Fingerprint(), bulletin.TypeDKGComplaint, bulletin.RoleTrustee, e.Trustees[0].SigningKey(), forged.Bytes())
	entries := insert(e.Entries, e.SeqOpen, en)
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqOpen))
	for _, f := range rep.Step(client.StepV7).Failures {
		t.Errorf("V7 counted the impersonated complaint: %s", f)
	}
	if !rep.Step(client.StepV13).OK {
		t.Error("the result no longer verifies")
	}
}

// TestAttackSelfComplaint: a trustee complaining about itself (to force a
// public reveal of its own share, or to confuse V7) does not decode.
func TestAttackSelfComplaint(t *testing.T) {
	e := smallElection(t)
	self := []byte{0, 1, 0, 1} // Complaint{Dealer: 1, Complainer: 1}
	en := e.EntryFor(e.Manifest.Fingerprint(), bulletin.TypeDKGComplaint, bulletin.RoleTrustee, e.Trustees[0].SigningKey(), self)
	rep := verify(t, e.Seal(insert(e.Entries, e.SeqOpen, en)).Encode())
	expectFailures(t, rep, client.StepV1, at(client.StepV1, e.SeqOpen))
	for _, f := range rep.Step(client.StepV7).Failures {
		t.Errorf("V7 affected by the self-complaint: %s", f)
	}
}

// TestAttackBallotReplay: a voter's superseded ballot posted again (same
// body, fresh envelope) after the revote would, if it counted, undo the
// revote. Its tracker is burnt: the board refuses it (V5) and V10 never
// counts it, so the result still verifies.
func TestAttackBallotReplay(t *testing.T) {
	e := smallElection(t)
	old := e.SeqSuperseded[0]
	replay := e.Resign(old, e.VoterKey(old), e.Body(old))
	rep := verify(t, e.Seal(insert(e.Entries, e.SeqClose, replay)).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose))
	for _, id := range []client.Step{client.StepV12, client.StepV13} {
		if !rep.Step(id).OK {
			dump(t, rep)
			t.Errorf("%s fails: the replay changed the count", id)
		}
	}
}
