package roles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestMixedElectionFlows runs a ranked, score and write-in election on a
// real node through the roles flows: voters cast version-2 ballots, the
// trustees mix (each after verifying the board) and decrypt, the authority
// publishes, and the verified result holds the IRV, STV, Schulze and
// score outcomes of the cast answers.
func TestMixedElectionFlows(t *testing.T) {
	e := newLiveElection(t, liveConfig{Template: map[string]any{
		"version": 3,
		"questions": []map[string]any{
			{"text": "Chair", "options": []string{"Ada", "Grace", "Edsger"}, "min": 1, "max": 1},
			{"text": "Rank the venues", "options": []string{"Lyon", "Oslo", "Pisa", "Kyoto"}, "min": 1, "max": 4, "kind": "ranked"},
			{"text": "Grade the menus", "options": []string{"fish", "pasta", "salad"}, "min": 0, "max": 5, "kind": "score"},
			{"text": "Motto", "options": []string{}, "min": 0, "max": 20, "kind": "write-in"},
		},
	}})
	ctx := context.Background()
	el, err := roles.FetchVerifiedElection(ctx, e.direct, roles.ElectionOptions{})
	must(t, err)
	if el.Manifest.Version != ballot.ManifestVersionKinds {
		t.Fatalf("manifest version %d", el.Manifest.Version)
	}
	for v := range e.creds {
		key, err := e.creds[v].Key(el.Manifest.ElectionID)
		must(t, err)
		p, err := roles.PrepareAnswers(rand.Reader, el, key, testonly.KindAnswers(v))
		must(t, err)
		_, err = e.direct.SubmitOne(ctx, p.Entry)
		must(t, err)
	}
	_, err = roles.Close(ctx, rand.Reader, e.direct, e.dir("ea"), "")
	must(t, err)
	// Decrypting before T shuffles posts only the homomorphic part.
	e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.direct, e.trustees[0]); return err })
	for _, tr := range e.trustees[:2] {
		e.retry(func() error {
			r, err := roles.Mix(ctx, rand.Reader, e.direct, tr)
			if err == nil && len(r.Seqs) != 3 {
				t.Errorf("trustee %s posted %d shuffles, want 3", tr.Name, len(r.Seqs))
			}
			return err
		})
	}
	if _, err := roles.Mix(ctx, rand.Reader, e.direct, e.trustees[0]); !errors.Is(err, roles.ErrExists) {
		t.Errorf("second mix by the same trustee: %v", err)
	}
	for _, tr := range e.trustees[:2] {
		e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.direct, tr); return err })
	}
	if n := e.count(bulletin.TypeMixDecryption); n != 6 {
		t.Fatalf("%d mix decryptions on the board, want 6", n)
	}
	var res *roles.TallyResult
	e.retry(func() error {
		var err error
		res, err = roles.Tally(ctx, rand.Reader, e.direct, e.dir("ea"))
		return err
	})
	if len(res.Result.Mixed) != 3 || len(res.Result.Mixed[0].Answers) != len(e.creds) {
		t.Fatalf("result's mixed answers: %+v", res.Result.Mixed)
	}
	rec, err := e.direct.Record(ctx)
	must(t, err)
	defer rec.Close()
	s, err := client.FollowRecord(rec, client.FollowOptions{})
	must(t, err)
	if len(s.Mixed) != 3 || s.Mixed[0].IRV == nil || s.Mixed[0].Schulze == nil || s.Mixed[1].Score == nil {
		t.Fatalf("verified outcomes: %+v", s.Mixed)
	}
}
