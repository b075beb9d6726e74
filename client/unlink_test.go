package client_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// linkedCredential is what an observer who wants to know whose ballot an
// audit opened can try with the board alone: for every public credential,
// is it the signer (author key, or a signature that verifies under it), do
// its 32 bytes occur anywhere in the entry, and do the proofs of the body
// (read as protocol 1.1's audited ballot) verify with it as their
// statement's credential? It returns the index of the credential found, or
// -1.
func linkedCredential(t *testing.T, e *testonly.Election, raw []byte) int {
	t.Helper()
	en, err := bulletin.ParseEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := ballot.ParseAuditedBallot(en.Body)
	for i, v := range e.Voters {
		cred := v.Public()
		forged := *en
		forged.Author = cred
		switch {
		case en.Author.Equal(cred), forged.VerifySignature() == nil, bytes.Contains(raw, cred.Bytes()):
			return i
		case legacy != nil && legacy.Ballot.Verify(e.Manifest, e.JointKey) == nil && legacy.Ballot.Credential().Equal(cred):
			return i
		}
	}
	return -1
}

// TestAttackAuditUnlinkable (issue 9, finding 7): the audit a voter's
// device posts cannot be linked to the voter's credential: it is signed by
// a one-time key that is no credential, no field equals or derives from a
// credential, and it carries no proof bound to one. Protocol 1.1's audited
// ballot, the control, is linked by every one of these trials.
func TestAttackAuditUnlinkable(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqAudited[0]
	raw := e.Entries[seq]
	en, err := bulletin.ParseEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	if en.Type != bulletin.TypeAudit || en.Role != bulletin.RoleAuditor {
		t.Fatalf("the audit is posted as %s by %s", en.Type, en.Role)
	}
	if i := linkedCredential(t, e, raw); i >= 0 {
		t.Fatalf("the audit at entry %d is linked to credential %d", seq, i)
	}
	a, err := ballot.ParseAudit(en.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing else fits in the body: fingerprint, counts, ciphertexts and the opening.
	n := 32 + 4 + 4
	for q := range a.Ciphertexts() {
		n += 4 + 4 + len(a.Ciphertexts()[q])*(64+1+32)
	}
	if len(en.Body) != n {
		t.Fatalf("audit body of %d bytes, want %d: it carries more than ciphertexts and opening", len(en.Body), n)
	}
	// The control: the same ballot audited as protocol 1.1 did is linked.
	_, b, s := e.BallotEntry(2, testonly.Pick(1, 2))
	if i := linkedCredential(t, e, e.AuditedEntry(2, b, s)); i != 2 {
		t.Fatalf("the 1.1 audited ballot of credential 2 linked to %d", i)
	}
	// And the audit verifies: V9 passes and shows what the ciphertexts encrypt.
	rep := verify(t, e.Seal(e.Entries).Encode())
	if !rep.OK() || rep.Audited != len(e.SeqAudited) {
		dump(t, rep)
		t.Fatalf("record with audits: ok %v, %d audited", rep.OK(), rep.Audited)
	}
}

// TestAttackReplayOpenedBallot: an opened ballot's choices and randomness
// are public, so anyone can cast its ciphertexts again, under the same
// credential or, with fresh proofs, under their own. Both are refused (V5,
// the rules' audited tracker), and the record still verifies otherwise.
func TestAttackReplayOpenedBallot(t *testing.T) {
	e := smallElection(t)
	choices := testonly.Pick(2, 0)
	opened, s, err := ballot.EncryptBallot(seeded.Raw("opened"), e.Manifest, e.JointKey, e.Voters[0], choices)
	if err != nil {
		t.Fatal(err)
	}
	// The same randomness under another credential: what anyone who read
	// the opening can produce (equal ciphertexts, valid proofs).
	other, _, err := ballot.EncryptBallot(seeded.Raw("opened"), e.Manifest, e.JointKey, e.Voters[1], choices)
	if err != nil {
		t.Fatal(err)
	}
	if other.Verify(e.Manifest, e.JointKey) != nil || !slices.EqualFunc(other.Ciphertexts()[0], opened.Ciphertexts()[0], func(x, y *ballot.Ciphertext) bool { return x.Equal(y) }) ||
		bytes.Equal(other.Bytes(), opened.Bytes()) || other.Tracker() != opened.Tracker() {
		t.Fatal("test setup: the replay is not a valid ballot with the opened ciphertexts")
	}
	audit := e.AuditEntry(opened, s)
	same := e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[0].PrivateKey(), opened.Bytes())
	replay := e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[1].PrivateKey(), other.Bytes())
	k := e.SeqClose
	entries := slices.Concat(e.Entries[:k], [][]byte{audit, same, replay}, e.Entries[k:])
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, k+1), at(client.StepV5, k+2))
	if n := len(rep.Step(client.StepV5).Failures); n != 2 {
		dump(t, rep)
		t.Fatalf("%d V5 failures, want the two replays", n)
	}
	if rep.Audited != len(e.SeqAudited)+1 {
		t.Fatalf("%d audited", rep.Audited)
	}
}
