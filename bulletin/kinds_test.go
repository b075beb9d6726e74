package bulletin_test

import (
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
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
