package client_test

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally/methods"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

// kindElection is a version-3 election mixed by trustees 2, 3, 1 and
// decrypted by 1 and 3, with its cascades.
func kindElection(t testing.TB, seed string) (*testonly.KindElection, map[int]*testonly.MixState) {
	t.Helper()
	e := testonly.BuildKinds(t, seed, testonly.MixedConfig(), nil)
	return e, e.TallyMixed(testonly.Mixers())
}

// auditedKinds is a version-3 election up to its close in which voters 0
// and 1 first challenge a ballot (the audits at e.SeqAudited).
func auditedKinds(t *testing.T, seed string) *testonly.KindElection {
	t.Helper()
	cfg := testonly.MixedConfig()
	cfg.Audits = 2
	return testonly.BuildKinds(t, seed, cfg, nil)
}

// TestVerifyKindsAudits: the audits of ranked, score and write-in ballots
// verify (V9 checks both) and the report lists what each opened: the
// selection, the ranking in order, the scores, the write-in text, under
// the tracker the booth showed.
func TestVerifyKindsAudits(t *testing.T) {
	e := auditedKinds(t, "audit2-record")
	rep := verify(t, e.Record())
	if !rep.OK() {
		dump(t, rep)
		t.Fatal("record with version-2 audits does not verify")
	}
	if s := rep.Step(client.StepV9); !s.Ran || s.Checked != 2 || rep.Audited != 2 {
		t.Fatalf("V9 ran=%v checked=%d, audited %d", s.Ran, s.Checked, rep.Audited)
	}
	if len(rep.Audits) != 2 {
		t.Fatalf("%d opened audits reported", len(rep.Audits))
	}
	for i, a := range rep.Audits {
		want := [][]string{{"Ada"}, {"Lyon", "Oslo", "Pisa", "Kyoto"}, {"fish: 0", "pasta: 0", "salad: 3"}, {"Less is more"}}
		if i == 1 {
			want = [][]string{{"Grace"}, {"Oslo", "Lyon"}, {"fish: 1", "pasta: 2", "salad: 4"}, {""}}
		}
		if a.Seq != int64(e.SeqAudited[i]) || a.Tracker != e.Audited[i].Tracker().Hex() || a.Short != e.Audited[i].Tracker().Short() ||
			!slices.EqualFunc(a.Answers, want, slices.Equal) {
			t.Errorf("audit %d: %+v, want %q", i, a, want)
		}
	}
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

// TestFollowKindsOutcomes: FollowRecord exports the verified outcomes of
// the mixed questions: IRV and STV rounds, the Schulze matrices, majority
// judgment and score sums, the write-ins; they are the methods' outcomes
// over the cast answers of the counted ballots.
func TestFollowKindsOutcomes(t *testing.T) {
	e, mixes := kindElection(t, "kinds-outcomes")
	s, err := client.FollowRecord(bytes.NewReader(e.Record()), client.FollowOptions{Rand: seeded.New("follow")})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Mixed) != 3 {
		t.Fatalf("%d mixed outcomes, want 3", len(s.Mixed))
	}
	ranked, score, writeIn := s.Mixed[0], s.Mixed[1], s.Mixed[2]
	var cast [][]ballot.Answer
	for _, seq := range e.SeqCounted {
		cast = append(cast, e.Answers[seq])
	}
	col := func(q int) []ballot.Answer {
		var out []ballot.Answer
		for _, a := range cast {
			out = append(out, a[q])
		}
		return out
	}
	irv, _ := methods.IRV(4, ballot.Rankings(col(1)))
	schulze, _ := methods.Schulze(4, ballot.Rankings(col(1)))
	sums, _ := methods.ScoreSums(3, 0, 5, ballot.Grades(col(2)))
	if ranked.IRV == nil || ranked.IRV.Winner != irv.Winner || len(ranked.IRV.Rounds) != len(irv.Rounds) {
		t.Errorf("IRV %+v, want %+v", ranked.IRV, irv)
	}
	if ranked.STV == nil || ranked.STVSeats != 2 || len(ranked.STV.Elected) != 2 {
		t.Errorf("STV %+v", ranked.STV)
	}
	if ranked.Schulze == nil || !reflect.DeepEqual(ranked.Schulze.Pairwise, schulze.Pairwise) {
		t.Errorf("Schulze %+v, want %+v", ranked.Schulze, schulze)
	}
	if score.Score == nil || !reflect.DeepEqual(score.Score.Sums, sums.Sums) || score.Judgment == nil {
		t.Errorf("score sums %+v, want %+v", score.Score, sums)
	}
	want := ballot.WriteIns(col(3))
	got := slices.Clone(writeIn.WriteIns)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) || !slices.Equal(writeIn.WriteIns, ballot.WriteIns(mixes[3].Answers.Answers)) {
		t.Errorf("write-ins %q, cast %q", writeIn.WriteIns, want)
	}
}
