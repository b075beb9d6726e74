package roles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/roles"
)

// kindTemplate is the questions of a version-3 manifest: a selection, a
// ranking of up to 3 of 4 options, scores 0..5 of 3 options, a write-in.
var kindTemplate = map[string]any{"version": 3, "questions": []map[string]any{
	{"text": "Chair", "options": []string{"Ada", "Grace", "Edsger"}, "min": 1, "max": 1},
	{"text": "Rank the venues", "options": []string{"Lyon", "Oslo", "Pisa", "Kyoto"}, "min": 1, "max": 3, "kind": "ranked"},
	{"text": "Grade the menus", "options": []string{"fish", "pasta", "salad"}, "min": 0, "max": 5, "kind": "score"},
	{"text": "Motto", "options": []string{}, "min": 0, "max": 20, "kind": "write-in"},
}}

// TestCastAnswers: a voter casts ranked, score and write-in answers given
// as urna vote --answers reads them; the board holds a version-2 ballot;
// bad answers are refused with the question named, and nothing is sent.
func TestCastAnswers(t *testing.T) {
	e := newLiveElection(t, liveConfig{Template: kindTemplate})
	m := e.manifest
	as, err := roles.ParseAnswers(m, []byte(`[{"choices":[2]}, {"ranking":[3,1]}, {"scores":[5,0,3]}, {"text":"Zoë 李"}]`))
	must(t, err)
	want := []ballot.Answer{{Choices: []uint32{1}}, {Ranking: []uint32{2, 0}}, {Scores: []uint32{5, 0, 3}}, {Text: "Zoë 李"}}
	if !reflect.DeepEqual(as, want) {
		t.Fatalf("ParseAnswers = %+v, want %+v", as, want)
	}

	// Bad answers: each message names the question (from 1) and the fault.
	for name, c := range map[string]struct{ json, want string }{
		"option ranked twice":    {`[{"choices":[1]}, {"ranking":[2,2]}, {"scores":[0,0,0]}, {}]`, `question 2 ("Rank the venues"): option 2 ("Oslo") is listed twice`},
		"no option 5":            {`[{"choices":[1]}, {"ranking":[5]}, {"scores":[0,0,0]}, {}]`, `question 2 ("Rank the venues"): 5 is not an option number 1..4`},
		"option 0":               {`[{"choices":[0]}, {"ranking":[1]}, {"scores":[0,0,0]}, {}]`, `question 1 ("Chair"): 0 is not an option number 1..3`},
		"choices for a ranking":  {`[{"choices":[1]}, {"choices":[1]}, {"scores":[0,0,0]}, {}]`, `question 2 ("Rank the venues"): is a ranked question: give "ranking", not "choices"`},
		"text for scores":        {`[{"choices":[1]}, {"ranking":[1]}, {"text":"5"}, {}]`, `question 3 ("Grade the menus"): is a score question: give "scores", not "text"`},
		"three answers":          {`[{"choices":[1]}, {"ranking":[1]}, {"scores":[0,0,0]}]`, `3 answers, the election has 4 questions`},
		"unknown field":          {`[{"choices":[1]}, {"rank":[1]}, {"scores":[0,0,0]}, {}]`, `unknown field "rank"`},
		"trailing data":          {`[{"choices":[1]}, {"ranking":[1]}, {"scores":[0,0,0]}, {}] []`, `trailing data`},
		"not an array":           {`{"ranking":[1]}`, `want a JSON array`},
		"negative option number": {`[{"choices":[-1]}, {"ranking":[1]}, {"scores":[0,0,0]}, {}]`, `want a JSON array`},
	} {
		_, err := roles.ParseAnswers(m, []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ParseAnswers = %v, want an error with %q", name, err, c.want)
		}
	}

	// The rules of each kind are package ballot's: a well-formed input that
	// breaks them is refused before anything is sent, the question (and the
	// option) named from 1 as the voter wrote them.
	for name, c := range map[string]struct{ json, want string }{
		"four ranks of at most 3": {`[{"choices":[1]}, {"ranking":[1,2,3,4]}, {"scores":[0,0,0]}, {}]`, `question 2 ("Rank the venues"): 4 options ranked, want 1..3`},
		"empty ranking":           {`[{"choices":[1]}, {}, {"scores":[0,0,0]}, {}]`, `question 2 ("Rank the venues"): 0 options ranked, want 1..3`},
		"score above the range":   {`[{"choices":[1]}, {"ranking":[1]}, {"scores":[0,6,0]}, {}]`, `question 3 ("Grade the menus"): option 2 ("pasta"): scored 6, outside 0..5`},
		"two scores":              {`[{"choices":[1]}, {"ranking":[1]}, {"scores":[0,1]}, {}]`, `question 3 ("Grade the menus"): 2 scores for 3 options`},
		"write-in too long":       {`[{"choices":[1]}, {"ranking":[1]}, {"scores":[0,0,0]}, {"text":"twenty-one bytes long"}]`, `question 4 ("Motto"): the write-in must be at most 20 bytes`},
	} {
		bad, err := roles.ParseAnswers(m, []byte(c.json))
		if err != nil {
			t.Fatalf("%s: ParseAnswers: %v", name, err)
		}
		_, err = roles.Cast(context.Background(), rand.Reader, e.direct, roles.CastOptions{Credential: e.creds[1], Answers: bad})
		if !errors.Is(err, ballot.ErrInvalidChoice) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Cast = %v, want ErrInvalidChoice with %q", name, err, c.want)
		}
	}
	if n := e.count(bulletin.TypeBallot); n != 0 {
		t.Fatalf("%d ballots on the board after refused answers", n)
	}

	var v *roles.Vote
	e.retry(func() error {
		v, err = roles.Cast(context.Background(), rand.Reader, e.direct, roles.CastOptions{Credential: e.creds[0], Answers: as})
		return err
	})
	if v.Receipt == nil {
		t.Fatal("no receipt")
	}
	var found bool
	for _, ent := range e.entries() {
		if ent.Type != bulletin.TypeBallot {
			continue
		}
		b, err := ballot.ParseBallot(ent.Body)
		must(t, err)
		if b.Tracker() != v.Tracker {
			continue
		}
		found = true
		if b.Version() != ballot.BallotVersionKinds {
			t.Fatalf("cast ballot has version %d, want %d", b.Version(), ballot.BallotVersionKinds)
		}
		el, err := roles.FetchElection(context.Background(), e.direct)
		must(t, err)
		must(t, b.Verify(m, el.JointKey))
	}
	if !found {
		t.Fatal("the cast ballot is not on the board")
	}

	// urna vote --challenge: a ballot of answers is posted opened as an
	// audit (SPEC.md §12.10), checked, and a fresh ballot cast.
	cv, err := roles.Cast(context.Background(), rand.Reader, e.direct, roles.CastOptions{Credential: e.creds[2], Answers: as, Challenge: true})
	must(t, err)
	opened := [][]string{{"Grace"}, {"Pisa", "Lyon"}, {"fish: 5", "pasta: 0", "salad: 3"}, {"Zoë 李"}}
	if cv.Audit == nil || !cv.Audit.Verified || !reflect.DeepEqual(cv.Audit.Selections, opened) {
		t.Fatalf("challenge: %+v, want the opened answers %q", cv.Audit, opened)
	}
	if cv.Receipt == nil || cv.Tracker == cv.Audit.Tracker {
		t.Fatal("no fresh ballot cast after the challenge")
	}
	audits := 0
	for _, ent := range e.entries() {
		if ent.Type != bulletin.TypeAudit {
			continue
		}
		audits++
		a, err := ballot.ParseAudit(ent.Body)
		must(t, err)
		if a.Tracker() != cv.Audit.Tracker || a.Version() != ballot.BallotVersionKinds {
			t.Errorf("audit on the board: tracker %s, version %d", a.Tracker(), a.Version())
		}
	}
	if audits != 1 {
		t.Fatalf("%d audits on the board, want 1", audits)
	}
}
