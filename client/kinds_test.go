package client_test

import (
	"testing"

	"github.com/urna-vote/urna/internal/testonly"
)

// TestVerifyKindsSelectPart: a version-3 election's record (version-2
// ballots) passes the steps that check its selection part.
func TestVerifyKindsSelectPart(t *testing.T) {
	e := testonly.BuildKinds(t, "kinds-select", testonly.Config{Voters: 3, Ballots: 4}, nil)
	e.TallySelect()
	rep := verify(t, e.Record())
	if !rep.OK() {
		dump(t, rep)
		t.Fatal("version-3 record does not verify")
	}
	if rep.Counted != 3 {
		t.Errorf("counted %d, want 3", rep.Counted)
	}
}
