package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
)

// TestVoteSchedule runs a version-4 election (languages en and zh, a
// window opening in an hour) on an in-process node: `urna vote` shows the
// schedule and refuses before the opening and after the closing on its own
// clock, sending nothing; a ballot sent anyway (roles.Cast, no local
// check) is refused by the node with not_open_yet and the times; and GET
// /api/v1/election's view carries the languages and the schedule.
func TestVoteSchedule(t *testing.T) {
	ctx := context.Background()
	opens := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	closes := opens.Add(time.Hour)
	N, p, _, vote := voteElection(t, fmt.Sprintf(`{"version":4,"election_id":"sched-1","title":"Schedule","threshold":2,
	 "questions":[{"text":"Q1","options":["A","B"],"min":1,"max":1}],
	 "languages":["en","zh"],"translations":{"zh":{"title":"日程","questions":[{"text":"问题","options":["甲","乙"]}]}},
	 "opens_at":%q,"closes_at":%q}`, opens.Format(time.RFC3339), closes.Format(time.RFC3339)))
	out, err := vote(time.Now(), "--choices", "1", "--lang", "zh")
	if err == nil || !strings.Contains(err.Error(), "opens at "+opens.Format(time.RFC3339)) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("vote before the opening: %v\n%s", err, out)
	}
	for _, want := range []string{`(日程)`, "voting opens " + opens.Format(time.RFC3339) + ", closes " + closes.Format(time.RFC3339)} {
		if !strings.Contains(out, want) {
			t.Errorf("vote output lacks %q:\n%s", want, out)
		}
	}
	if out, err = vote(closes, "--choices", "1"); err == nil || !strings.Contains(err.Error(), "closed at "+closes.Format(time.RFC3339)) {
		t.Fatalf("vote after the closing: %v\n%s", err, out)
	}
	if _, err = vote(opens, "--choices", "1", "--lang", "fr"); err == nil || !strings.Contains(err.Error(), "en, zh") {
		t.Fatalf("vote --lang fr: %v", err)
	}

	// The node refuses a ballot sent before the opening, whatever the client.
	cl, err := apiclient.New(strings.TrimPrefix(N, "--node="), apiclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := roles.LoadCredential(p("ca/credentials.txt"), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = roles.Cast(ctx, rand.Reader, cl, roles.CastOptions{Credential: cred, Choices: [][]uint32{{0}}})
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Code != "not_open_yet" || !strings.Contains(ae.Message, "the election opens at "+opens.Format(time.RFC3339)) {
		t.Fatalf("ballot before the opening: %v", err)
	}
	st, err := cl.Election(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifestJSON(st.View)
	if err != nil {
		t.Fatalf("the election view is no manifest: %v", err)
	}
	if w := m.Window(); w.OpensAt != uint64(opens.UnixMilli()) || w.ClosesAt != uint64(closes.UnixMilli()) || !w.Manual || m.Languages[1] != "zh" {
		t.Fatalf("view: window %+v, languages %v", w, m.Languages)
	}
}
