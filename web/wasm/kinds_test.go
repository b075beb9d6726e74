package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// kindsQuestions is a version-3 election: a selection, a ranking of up to
// 3 of 4 (at least 1), scores 0..5 for 3 options, a write-in of 40 bytes.
var kindsQuestions = []ballot.Question{
	{Text: "Colour", Options: []string{"Red", "Green", "Blue"}, Min: 1, Max: 1},
	{Text: "Rank", Kind: ballot.KindRanked, Options: []string{"Ann", "Bo", "Cy", "Di"}, Min: 1, Max: 3},
	{Text: "Grade", Kind: ballot.KindScore, Options: []string{"X", "Y", "Z"}, Min: 0, Max: 5},
	{Text: "Name", Kind: ballot.KindWriteIn, Min: 0, Max: 40},
}

func kindsFixture(t *testing.T) *fixture {
	t.Helper()
	e := testonly.NewElection(t, "web kinds", testonly.Config{Voters: 1, Questions: kindsQuestions})
	if e.Manifest.Version != ballot.ManifestVersionKinds {
		t.Fatalf("manifest version %d, want %d", e.Manifest.Version, ballot.ManifestVersionKinds)
	}
	return fixtureOf(e)
}

func TestEncryptAnswersKinds(t *testing.T) {
	f := kindsFixture(t)
	v, err := parseManifest(f.mb64)
	if err != nil {
		t.Fatal(err)
	}
	if kinds := []string{v.Questions[0].Kind, v.Questions[1].Kind, v.Questions[2].Kind, v.Questions[3].Kind}; !slices.Equal(kinds, []string{"", "ranked", "score", "write-in"}) {
		t.Fatalf("the page sees kinds %q", kinds)
	}
	b := f.booth(t)
	s, err := b.EncryptAnswers([]AnswerJSON{{Choices: []uint32{2}}, {Ranking: []uint32{3, 0}}, {Scores: []uint32{5, 0, 3}}, {Text: "Zoë 李"}})
	if err != nil {
		t.Fatal(err)
	}
	e := parseEntryB64(t, s.Entry)
	if e.Type != bulletin.TypeBallot || e.VerifySignature() != nil {
		t.Fatalf("ballot entry: type %v", e.Type)
	}
	bl, err := ballot.ParseBallot(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Body[0] != ballot.BallotVersionKinds {
		t.Fatalf("ballot version %d, want %d", e.Body[0], ballot.BallotVersionKinds)
	}
	if err := bl.Verify(f.m, f.key); err != nil {
		t.Fatalf("the booth's version-2 ballot does not verify: %v", err)
	}
	if bl.Tracker().Short() != s.Tracker {
		t.Fatalf("tracker %s, ballot has %s", s.Tracker, bl.Tracker().Short())
	}
	// An empty ranking is an answer when the question allows it; here it
	// does not (min 1), and the error names the question and the rule.
	_, err = b.EncryptAnswers([]AnswerJSON{{Choices: []uint32{2}}, {}, {Scores: []uint32{5, 0, 3}}, {}})
	wantCode(t, "nothing ranked, min 1", err, "invalid_choice")
	if !strings.Contains(err.Error(), "question 1") || !strings.Contains(err.Error(), "0 options ranked, want 1..3") {
		t.Fatalf("empty ranking: %v", err)
	}
	if b.pending != nil {
		t.Fatal("a refused answer left a ballot pending")
	}
}

// TestAttackBoothAnswers: a page (or script injected into it) that sends
// answers breaking a question's rules gets no ballot: the rules are package
// ballot's, checked in wasm, not the page's.
func TestAttackBoothAnswers(t *testing.T) {
	f := kindsFixture(t)
	b := f.booth(t)
	ok := []AnswerJSON{{Choices: []uint32{0}}, {Ranking: []uint32{1}}, {Scores: []uint32{1, 2, 3}}, {Text: "ok"}}
	with := func(q int, a AnswerJSON) []AnswerJSON {
		as := slices.Clone(ok)
		as[q] = a
		return as
	}
	for name, as := range map[string][]AnswerJSON{
		"option ranked twice":       with(1, AnswerJSON{Ranking: []uint32{1, 1}}),
		"four ranks of at most 3":   with(1, AnswerJSON{Ranking: []uint32{0, 1, 2, 3}}),
		"ranked option 4 of 4":      with(1, AnswerJSON{Ranking: []uint32{4}}),
		"score above the range":     with(2, AnswerJSON{Scores: []uint32{1, 6, 3}}),
		"two scores for 3 options":  with(2, AnswerJSON{Scores: []uint32{1, 2}}),
		"write-in of 41 bytes":      with(3, AnswerJSON{Text: strings.Repeat("a", 41)}),
		"write-in not UTF-8":        with(3, AnswerJSON{Text: "\xff"}),
		"a ranking for a selection": with(0, AnswerJSON{Ranking: []uint32{0}}),
		"scores and a ranking":      with(1, AnswerJSON{Ranking: []uint32{0}, Scores: []uint32{1, 2, 3}}),
		"three answers of four":     ok[:3],
	} {
		if _, err := b.EncryptAnswers(as); err == nil {
			t.Errorf("%s: encrypted", name)
		} else {
			wantCode(t, name, err, "invalid_choice")
		}
	}
}

// TestChallengeKinds: a ballot of ranked, score and write-in answers is
// challenged (SPEC.md §12.10): the booth returns the opened answers of
// every kind and the audit entry, signed by a one-time key, with the
// tracker it showed; another device opens it from the entry alone and
// shows the same answers; the challenged ballot cannot be cast.
func TestChallengeKinds(t *testing.T) {
	f := kindsFixture(t)
	b := f.booth(t)
	s, err := b.EncryptAnswers([]AnswerJSON{{Choices: []uint32{2}}, {Ranking: []uint32{3, 0}}, {Scores: []uint32{5, 0, 3}}, {Text: "Zoë 李"}})
	if err != nil {
		t.Fatal(err)
	}
	pub := b.PublicCredential()
	c, err := b.Challenge()
	if err != nil {
		t.Fatal(err)
	}
	want := []OpenedAnswer{{Choices: []uint32{2}}, {Ranking: []uint32{3, 0}}, {Scores: []uint32{5, 0, 3}}, {Text: "Zoë 李"}}
	if !c.Verified || c.Tracker != s.Tracker || !slices.EqualFunc(c.Answers, want, openedEqual) {
		t.Fatalf("challenged %+v, want answers %+v", c, want)
	}
	if sel := c.Selections; !slices.Equal(sel[1], []string{"Di", "Ann"}) || !slices.Equal(sel[2], []string{"X: 5", "Y: 0", "Z: 3"}) || !slices.Equal(sel[3], []string{"Zoë 李"}) {
		t.Fatalf("selections %q", sel)
	}
	raw, _ := wire.DecodeB64(c.Entry)
	e := parseEntry(t, raw)
	if e.Type != bulletin.TypeAudit || e.Role != bulletin.RoleAuditor || e.VerifySignature() != nil || hex.EncodeToString(e.Author.Bytes()) == pub {
		t.Fatalf("audit entry: type %v role %v", e.Type, e.Role)
	}
	a, err := ballot.ParseAudit(e.Body)
	if err != nil || a.Version() != ballot.BallotVersionKinds || a.Tracker().Short() != s.Tracker || ballot.VerifyAudit(f.m, f.key, a) != nil {
		t.Fatalf("audit2 on the board: %v", err)
	}
	o, err := openAudited(f.mb64, f.jointKey, raw)
	if err != nil || !o.Verified || o.Tracker != s.Tracker || !slices.EqualFunc(o.Answers, want, openedEqual) || o.Choices != nil {
		t.Fatalf("opened from another device: %+v, %v", o, err)
	}
	if b.pending != nil || b.secrets != nil {
		t.Fatal("the challenged ballot is still pending: it could be cast")
	}
}

func openedEqual(a, b OpenedAnswer) bool {
	return slices.Equal(a.Choices, b.Choices) && slices.Equal(a.Ranking, b.Ranking) && slices.Equal(a.Scores, b.Scores) && a.Text == b.Text
}

// TestMixedViews: the page gets package client's verified outcomes
// (client.Outcome, V16.4) as they are, with write-ins grouped.
func TestMixedViews(t *testing.T) {
	f := kindsFixture(t)
	// 2 × (A > B), 2 × (B > C), 1 × (C); an unranked option is below
	// every ranked one.
	var rs []ballot.Answer
	for _, r := range [][]uint32{{0, 1}, {0, 1}, {1, 2}, {1, 2}, {2}} {
		rs = append(rs, ballot.Answer{Ranking: r})
	}
	var outs []*client.MixedOutcome
	for _, a := range []*tally.MixedAnswers{
		{Question: 1, Kind: ballot.KindRanked, Answers: rs},
		{Question: 2, Kind: ballot.KindScore, Answers: []ballot.Answer{{Scores: []uint32{5, 0, 3}}, {Scores: []uint32{4, 1, 3}}, {Scores: []uint32{0, 5, 3}}}},
		{Question: 3, Kind: ballot.KindWriteIn, Answers: []ballot.Answer{{Text: "Bo"}, {Text: "Al"}, {Text: "Bo"}, {}, {}}, Invalid: []int{4}},
	} {
		o, err := client.Outcome(f.m, a)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	vs := mixedViews(f.m, outs)
	if len(vs) != 3 {
		t.Fatalf("%d views of 3 outcomes", len(vs))
	}
	v := vs[0]
	if v.Kind != "ranked" || v.Ballots != 5 || v.IRV == nil || v.STV == nil || v.Schulze == nil {
		t.Fatalf("ranked view %+v", v)
	}
	if first := v.IRV.Rounds[0]; !slices.Equal(first.Tallies, []int64{2, 2, 1, 0}) || first.Excluded != 3 {
		t.Fatalf("IRV first round %+v", first)
	}
	if v.Schulze.Pairwise[0][1] != 2 || v.Schulze.Pairwise[1][0] != 2 || v.Schulze.Pairwise[1][2] != 4 {
		t.Fatalf("Schulze pairwise %v", v.Schulze.Pairwise)
	}
	if st := v.STV; st.Seats != outs[0].STVSeats || st.Quota != outs[0].STV.Quota || len(st.Rounds) != len(outs[0].STV.Rounds) ||
		st.Rounds[0].Tallies[0] != "2.000" || st.Rounds[len(st.Rounds)-1].Action != "done" {
		t.Fatalf("STV view %+v", st)
	}
	v = vs[1]
	if !slices.Equal(v.Score.Sums, []int64{9, 6, 9}) || v.Judgment.Median[0] != 4 || len(v.Judgment.Counts[0]) != 6 || v.Judgment.Max != 5 {
		t.Fatalf("score view %+v %+v", v.Score, v.Judgment)
	}
	v = vs[2]
	if !slices.Equal(v.WriteIns, []WriteInCount{{"Bo", 2}, {"Al", 1}}) || v.Invalid != 1 || v.Ballots != 5 {
		t.Fatalf("write-ins %+v invalid %d", v.WriteIns, v.Invalid)
	}
}

// TestVerifyViewOnePass: the results page verifies a record with mixed
// questions once (client.FollowRecord gives the report and the mixed
// outcomes together); its view is exactly the one of the two passes it
// made before (client.VerifyElectionRecord's report, then FollowRecord's
// outcomes), on the honest record, on one with a hostile shuffle and on
// one closed but not tallied yet.
func TestVerifyViewOnePass(t *testing.T) {
	honest := testonly.BuildKinds(t, "wasm-one-pass", testonly.MixedConfig(), nil)
	honest.TallyMixed(testonly.Mixers())
	attack := testonly.ShuffleAttacks()[0]
	tampered := testonly.BuildKinds(t, "wasm-one-pass", testonly.MixedConfig(), nil)
	tampered.TallyMixedTampered(attack.Tamper)
	closed := testonly.BuildKinds(t, "wasm-one-pass", testonly.MixedConfig(), nil) // closed, not tallied
	for name, rec := range map[string][]byte{"honest": honest.Record(), attack.Name: tampered.Record(), "closed": closed.Record()} {
		got, err := verifyElectionRecord(rand.Reader, rec, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep, verr := client.VerifyElectionRecord(bytes.NewReader(rec), client.VerifyOptions{Rand: rand.Reader})
		want := reportView(rep)
		want.OK, want.Failure = verr == nil, failureOf(rep, verr)
		if want.OK {
			s, err := client.FollowRecord(bytes.NewReader(rec), client.FollowOptions{Rand: rand.Reader})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want.Mixed = mixedViews(s.Manifest, s.Mixed)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("%s: one pass gives\n%s\ntwo passes gave\n%s", name, gj, wj)
		}
		switch name {
		case "honest":
			if !got.OK || len(got.Mixed) != 3 {
				t.Fatalf("honest record: ok %v, %d mixed outcomes, failure %q", got.OK, len(got.Mixed), got.Failure)
			}
		case "closed":
			if !got.OK || got.Complete || got.Mixed != nil {
				t.Fatalf("closed record: ok %v, complete %v, %d mixed outcomes, failure %q", got.OK, got.Complete, len(got.Mixed), got.Failure)
			}
		default:
			if got.OK || !strings.HasPrefix(got.Failure, "V14") || got.Mixed != nil {
				t.Fatalf("%s: ok %v, failure %q, %d mixed outcomes", name, got.OK, got.Failure, len(got.Mixed))
			}
		}
	}
}
