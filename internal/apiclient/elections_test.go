package apiclient_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
)

// TestElectionClient: a client for an election id reads and posts under
// /api/v1/elections/{id}; board-wide calls stay where they are; an
// unknown id is an *Error with code unknown_election; an invalid id is
// refused before any request.
func TestElectionClient(t *testing.T) {
	f, c := setup(t)
	beta := httpapitest.Sample()
	beta.ElectionV.ElectionID = "beta"
	beta.EntriesV = beta.EntriesV[:1]
	f.Others = map[string]*httpapitest.Fake{"beta": beta}
	ctx := context.Background()

	list, err := c.Elections(ctx)
	if err != nil || len(list) != 2 || list[1].ElectionID != "beta" {
		t.Fatalf("Elections: %+v, %v", list, err)
	}
	cb, err := c.In("beta")
	if err != nil {
		t.Fatal(err)
	}
	el, err := cb.Election(ctx)
	if err != nil || el.ElectionID != "beta" {
		t.Fatalf("beta's election: %+v, %v", el, err)
	}
	if _, next, err := cb.Entries(ctx, 0, 10); err != nil || next != 1 {
		t.Fatalf("beta's entries: next %d, %v", next, err)
	}
	if h, err := cb.Health(ctx); err != nil || h.Status != "ok" {
		t.Fatalf("health through an election client: %+v, %v", h, err)
	}
	if _, err := cb.Submit(ctx, [][]byte{{9}}); err != nil || len(beta.Submitted) != 1 || len(f.Submitted) != 0 {
		t.Fatalf("post to beta: %v; beta got %d, default %d", err, len(beta.Submitted), len(f.Submitted))
	}
	if el, err := c.Election(ctx); err != nil || el.ElectionID != "e1" {
		t.Fatalf("the default election: %+v, %v", el, err)
	}
	cg, _ := c.In("gamma")
	_, err = cg.Election(ctx)
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != api.CodeUnknownElection || ae.Path != "/api/v1/elections/gamma/election" {
		t.Fatalf("unknown election: %v", err)
	}
	if err := cb.Archive(ctx, "beta"); err != nil || len(f.Archived) != 1 || f.Archived[0] != "beta" {
		t.Fatalf("archive beta: %v (%v)", err, f.Archived)
	}
	if err := c.Archive(ctx, "gamma"); !apiclient.IsCode(err, api.CodeUnknownElection) {
		t.Fatalf("archive an unknown election: %v", err)
	}
	if _, err := c.In("Not/An/Id"); err == nil {
		t.Fatal("In accepted an invalid id")
	}
	if _, err := apiclient.New(c.BaseURL(), apiclient.Options{Election: "../x"}); err == nil {
		t.Fatal("New accepted an invalid election id")
	}
}
