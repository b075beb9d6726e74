package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
)

// TestElectionRoutes: the board's elections are listed, each is read and
// posted to under its id, the un-prefixed routes are the default
// election's, and an unknown id is 404 unknown_election except for a post,
// which may create it (SPEC.md §3.14.6).
func TestElectionRoutes(t *testing.T) {
	f := httpapitest.Sample() // the default election, "e1"
	beta := httpapitest.Sample()
	beta.ElectionV.ElectionID, beta.ElectionV.Title = "beta", "Beta"
	beta.EntriesV = beta.EntriesV[:1]
	f.Others = map[string]*httpapitest.Fake{"beta": beta}
	srv := serve(t, f, httpapi.Options{})

	a := request(t, srv, "GET", "/api/v1/elections", "")
	var list api.Elections
	if err := json.Unmarshal(a.body, &list); a.status != 200 || err != nil {
		t.Fatalf("list: %d %s (%v)", a.status, a.body, err)
	}
	if len(list.Elections) != 2 || list.Elections[0].ElectionID != "e1" || !list.Elections[0].Default ||
		list.Elections[1].ElectionID != "beta" || list.Elections[1].Default || list.Elections[1].Entries != 1 {
		t.Fatalf("list: %+v", list)
	}
	for path, want := range map[string]string{
		"/api/v1/election":                  `"election_id":"e1"`,
		"/api/v1/elections/e1/election":     `"election_id":"e1"`,
		"/api/v1/elections/beta/election":   `"election_id":"beta"`,
		"/api/v1/elections/beta/entries/0":  `"seq":0`,
		"/api/v1/elections/beta/checkpoint": `"size"`,
	} {
		a := request(t, srv, "GET", path, "")
		if a.status != 200 || !bytes.Contains(a.body, []byte(want)) {
			t.Errorf("GET %s: %d %s; want %s", path, a.status, a.body, want)
		}
	}
	if a := request(t, srv, "GET", "/api/v1/elections/beta/entries/1", ""); a.status != 404 {
		t.Errorf("beta's entry 1 (beta has one): %d %s", a.status, a.body)
	}
	for _, path := range []string{"/api/v1/elections/gamma/election", "/api/v1/elections/gamma/record", "/api/v1/elections/gamma/events"} {
		a := request(t, srv, "GET", path, "")
		if a.status != 404 || a.errorBody(t).Code != api.CodeUnknownElection {
			t.Errorf("GET %s: %d %s; want 404 unknown_election", path, a.status, a.body)
		}
	}
	// A post to beta goes to beta, one to a new id to that id's backend,
	// none to the default election.
	if a := request(t, srv, "POST", "/api/v1/elections/beta/entries", submitBody([]byte{7})); a.status != 200 {
		t.Fatalf("post to beta: %d %s", a.status, a.body)
	}
	if a := request(t, srv, "POST", "/api/v1/elections/gamma/entries", submitBody([]byte{8})); a.status != 200 {
		t.Fatalf("post to a new id: %d %s", a.status, a.body)
	}
	if len(beta.Submitted) != 1 || beta.Submitted[0][0] != 7 || len(f.Submitted) != 0 ||
		f.Others["gamma"] == nil || len(f.Others["gamma"].Submitted) != 1 {
		t.Fatalf("posts landed: default %d, beta %v, gamma %v", len(f.Submitted), beta.Submitted, f.Others["gamma"])
	}
	// Archiving is the operator's (a cluster route).
	if a := request(t, srv, "POST", "/api/v1/elections/beta/archive", "{}"); a.status != 200 || len(f.Archived) != 1 || f.Archived[0] != "beta" {
		t.Fatalf("archive beta: %d %s (%v)", a.status, a.body, f.Archived)
	}
	if a := request(t, srv, "POST", "/api/v1/elections/delta/archive", "{}"); a.status != 404 || a.errorBody(t).Code != api.CodeUnknownElection {
		t.Fatalf("archive an unknown election: %d %s", a.status, a.body)
	}
}

// TestForwardElectionPost: a follower forwards a post to an election's
// route to the same route on the leader, answering junk itself as on the
// default route, and forwards an archive too.
func TestForwardElectionPost(t *testing.T) {
	leader := httpapitest.Sample()
	leaderBeta := httpapitest.Sample()
	leaderBeta.ElectionV.ElectionID, leaderBeta.EntriesV = "beta", nil
	leader.Others = map[string]*httpapitest.Fake{"beta": leaderBeta}
	leaderSrv := serve(t, leader, httpapi.Options{})

	follower := followerOf(leaderSrv.URL, "Archive")
	followerBeta := followerOf(leaderSrv.URL, "Submit")
	followerBeta.ElectionV.ElectionID = "beta"
	follower.Others = map[string]*httpapitest.Fake{"beta": followerBeta}
	followerSrv := serve(t, follower, httpapi.Options{ClusterToken: "tok", ForwardWait: 200 * time.Millisecond})

	a := request(t, followerSrv, "POST", "/api/v1/elections/beta/entries", submitBody([]byte{1, 2, 3}, entryOf(t, 5)))
	if a.status != 200 || a.header.Get("X-Urna-Forwarded") == "" {
		t.Fatalf("forwarded post: %d %v %s", a.status, a.header, a.body)
	}
	if len(leaderBeta.Submitted) != 1 || !bytes.Equal(leaderBeta.Submitted[0], entryOf(t, 5)) || len(leader.Submitted) != 0 {
		t.Fatalf("the leader's beta got %d entries, its default %d: junk must be answered by the follower", len(leaderBeta.Submitted), len(leader.Submitted))
	}
	if !bytes.Contains(a.body, []byte(api.CodeMalformed)) {
		t.Errorf("the junk entry's answer: %s", a.body)
	}
	if a := request(t, followerSrv, "POST", "/api/v1/elections/beta/archive", "{}"); a.status != 200 || len(leader.Archived) != 1 {
		t.Fatalf("forwarded archive: %d %s (leader archived %v)", a.status, a.body, leader.Archived)
	}
}

// TestStreamShare: one election's readers hold at most half of the node's
// streams, so another election's (and the default route's) still get one
// (SPEC.md §3.14.5). No timing: the held stream stays open
// until the test ends.
func TestStreamShare(t *testing.T) {
	f := httpapitest.Sample()
	beta := httpapitest.Sample()
	beta.ElectionV.ElectionID = "beta"
	f.Others = map[string]*httpapitest.Fake{"beta": beta}
	srv := serve(t, f, httpapi.Options{MaxStreams: 2})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if r := open("/api/v1/elections/beta/events"); r.StatusCode != 200 {
		t.Fatalf("beta's first stream: %d", r.StatusCode)
	}
	refusedFor := func(r *http.Response, id string) bool {
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode == 503 && bytes.Contains(b, []byte(`election \"`+id+`\" holds`))
	}
	if r := open("/api/v1/elections/beta/events"); !refusedFor(r, "beta") {
		t.Fatalf("beta's second stream of a node with 2: %d, want 503 for beta's share", r.StatusCode)
	}
	if r := open("/api/v1/events"); r.StatusCode != 200 {
		t.Fatalf("the default election's stream beside beta's: %d", r.StatusCode)
	}
	if r := open("/api/v1/elections/e1/events"); !refusedFor(r, "e1") {
		t.Fatalf("the default election by id beside its alias stream: %d, want 503 for e1's share (the same election)", r.StatusCode)
	}
}
