package client_test

import (
	"testing"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

// kindElection is a version-3 election mixed by trustees 2, 3, 1 and
// decrypted by 1 and 3, with its cascades.
func kindElection(t testing.TB, seed string) (*testonly.KindElection, map[int]*testonly.MixState) {
	t.Helper()
	e := testonly.BuildKinds(t, seed, testonly.Config{Voters: 5, Ballots: 7, N: 3, T: 2, Decrypt: []int{1, 3}}, nil)
	return e, e.TallyMixed([]int{2, 3, 1})
}

// TestVerifyKindsElection: a whole ranked/score/write-in election verifies
// with every step run, V14–V16 included, and the report's counts are the
// selection question's.
func TestVerifyKindsElection(t *testing.T) {
	e, _ := kindElection(t, "kinds-whole")
	rep := verify(t, e.Record())
	if !rep.OK() || !rep.Complete {
		dump(t, rep)
		t.Fatal("version-3 record does not verify")
	}
	for _, s := range rep.Steps {
		// V9: no audits (version-2 ballots have no opening format yet, K.9)
		if s.ID != "V9" && (!s.Ran || s.Checked == 0) {
			t.Errorf("%s: ran=%v checked=%d", s.ID, s.Ran, s.Checked)
		}
	}
	if rep.Counted != 5 {
		t.Errorf("counted %d, want 5", rep.Counted)
	}
}

// TestVerifyKindsSelectOnlyResultRefused: a version-3 record whose result
// comes without shuffles and decryptions of the mixed questions fails V5
// (the rules want T mix decryptions per mixed question before the result).
func TestVerifyKindsSelectOnlyResultRefused(t *testing.T) {
	e := testonly.BuildKinds(t, "kinds-select", testonly.Config{Voters: 3, Ballots: 4}, nil)
	e.TallySelect()
	rep := verify(t, e.Record())
	if rep.OK() || len(rep.Step(client.StepV5).Failures) != 1 {
		dump(t, rep)
		t.Fatal("a result without the mixed answers verified")
	}
}
