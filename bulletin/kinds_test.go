package bulletin_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// TestKindsBallotsAccepted: a version-3 manifest (ranked, score and
// write-in questions, SPEC.md §11) decodes, and the version-2 ballots cast
// under it pass the node's proof checks (StandardProofs, V8) like version-1
// ballots; a version-2 ballot whose proof was tampered with does not.
func TestKindsBallotsAccepted(t *testing.T) {
	e := testonly.BuildKinds(t, "kinds-accepted", testonly.Config{Voters: 3, Ballots: 3}, nil)
	m, err := bulletin.DecodeBody(bulletin.TypeManifest, e.Manifest.Bytes())
	if err != nil || m.(*ballot.Manifest).Version != ballot.ManifestVersionKinds {
		t.Fatalf("version-3 manifest: %v", err)
	}
	p := &bulletin.StandardProofs{Manifest: e.Manifest, JointKey: e.JointKey}
	var entries []*bulletin.Entry
	for _, seq := range e.SeqBallots {
		en, err := bulletin.ParseEntry(e.Entries[seq])
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, en)
	}
	for i, err := range p.CheckProofs(seeded.New("w"), nil, entries) {
		if err != nil {
			t.Errorf("ballot %d refused: %v", i, err)
		}
	}
	bad := *entries[0]
	bad.Body = append([]byte(nil), bad.Body...)
	bad.Body[len(bad.Body)-40] ^= 1
	if errs := p.CheckProofs(seeded.New("w"), nil, []*bulletin.Entry{&bad}); errs[0] == nil {
		t.Error("a version-2 ballot with a changed proof was accepted")
	}
}

// replayer returns a function that applies an entry to the rules' state
// st (what V5 and a node's Apply run), committing its effects and checking
// that the state round-trips through its encoding.
func replayer(t *testing.T) (apply func(raw []byte) error, st *bulletin.ElectionState) {
	rules := bulletin.NewRules(bulletin.StandardBodies{})
	st, idx := &bulletin.ElectionState{}, bulletin.NewMemIndex()
	return func(raw []byte) error {
		en, err := bulletin.ParseEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		eff, err := rules.Apply(st, idx, en)
		if err == nil {
			idx.Commit(eff)
			back, perr := bulletin.ParseElectionState(st.Bytes())
			if perr != nil || !bytes.Equal(back.Bytes(), st.Bytes()) {
				t.Fatalf("state after %s does not round-trip: %v", en.Type, perr)
			}
		}
		return err
	}, st
}

// TestKindsCascadeRules replays a whole mixed election through the rules
// alone (what V5 and a node's Apply run): the state after every entry
// encodes as version 3 and decodes to the same bytes; the rules refuse a
// second shuffle by the same trustee, a shuffle after the first
// decryption, a decryption before T shuffles and a result before T
// decryptions of every mixed question.
func TestKindsCascadeRules(t *testing.T) {
	e := testonly.BuildKinds(t, "cascade-rules", testonly.Config{Voters: 3, Ballots: 3, N: 3, T: 2, Decrypt: []int{1, 2}}, nil)
	apply, st := replayer(t)
	for _, raw := range e.Entries {
		if err := apply(raw); err != nil {
			t.Fatal(err)
		}
	}
	if st.Bytes()[0] != bulletin.StateVersionMixed {
		t.Fatalf("state version %d, want %d", st.Bytes()[0], bulletin.StateVersionMixed)
	}
	q := e.MixQuestions()[0]
	in, err := tally.MixInput(e.Manifest, q, e.Counted)
	if err != nil {
		t.Fatal(err)
	}
	early, _ := e.MixDecryptionEntry(q, 1, in)
	if err := apply(early); !errors.Is(err, bulletin.ErrWrongPhase) {
		t.Errorf("decryption before any shuffle: %v", err)
	}
	s1, ms1 := e.ShuffleEntry(q, 1, 1, in)
	if err := apply(s1); err != nil {
		t.Fatal(err)
	}
	again, _ := e.ShuffleEntry(q, 1, 2, ms1.Outputs)
	if err := apply(again); !errors.Is(err, bulletin.ErrDuplicate) {
		t.Errorf("second shuffle by trustee 1: %v", err)
	}
	s2, ms2 := e.ShuffleEntry(q, 2, 2, ms1.Outputs)
	if err := apply(s2); err != nil {
		t.Fatal(err)
	}
	d1, _ := e.MixDecryptionEntry(q, 1, ms2.Outputs)
	if err := apply(d1); err != nil {
		t.Fatal(err)
	}
	late, _ := e.ShuffleEntry(q, 3, 3, ms2.Outputs)
	if err := apply(late); !errors.Is(err, bulletin.ErrWrongPhase) {
		t.Errorf("shuffle after a decryption: %v", err)
	}
	partials, result, _ := e.TallyEntries(e.Counted)
	for _, p := range partials {
		if err := apply(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := apply(result); !errors.Is(err, bulletin.ErrWrongPhase) {
		t.Errorf("result with one decryption of one mixed question: %v", err)
	}
}

// TestKindsAuditAccepted: the audit of a version-2 ballot (SPEC.md
// §12.10) passes the rules and the node's proof check, and burns its
// tracker: the audited ballot cast afterwards is refused (V10.3); the
// audit with one opened score changed is not accepted by the proof check.
func TestKindsAuditAccepted(t *testing.T) {
	cfg := testonly.Config{Voters: 3, Ballots: 3, Audits: 1}
	e := testonly.BuildKinds(t, "kinds-audit", cfg, nil)
	apply, st := replayer(t)
	for seq, raw := range e.Entries[:e.SeqClose] {
		if err := apply(raw); err != nil {
			t.Fatalf("entry %d: %v", seq, err)
		}
	}
	en, err := bulletin.ParseEntry(e.Entries[e.SeqAudited[0]])
	if err != nil {
		t.Fatal(err)
	}
	p := &bulletin.StandardProofs{Manifest: e.Manifest, JointKey: e.JointKey}
	if errs := p.CheckProofs(seeded.New("w"), st, []*bulletin.Entry{en}); errs[0] != nil {
		t.Fatalf("audit refused: %v", errs[0])
	}
	a, err := ballot.ParseAudit(en.Body)
	if err != nil {
		t.Fatal(err)
	}
	a.Opening.Answers[2].Scores[0]++
	bad := *en
	bad.Body = a.Bytes()
	if errs := p.CheckProofs(seeded.New("w"), st, []*bulletin.Entry{&bad}); !errors.Is(errs[0], bulletin.ErrInvalidProof) {
		t.Errorf("audit opening another score: %v", errs[0])
	}
	cast := e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[0].PrivateKey(), e.Audited[0].Bytes())
	if err := apply(cast); !errors.Is(err, bulletin.ErrAudited) {
		t.Fatalf("audited ballot cast afterwards: %v", err)
	}
}
