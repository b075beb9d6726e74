package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/replica"
)

// consistentRoutes are the reads that take ?consistent=1.
var consistentRoutes = []string{
	"/api/v1/election", "/api/v1/entries?from=0", "/api/v1/entries/0", "/api/v1/blocks", "/api/v1/blocks/0",
	"/api/v1/trackers/K7QF-2MZX", "/api/v1/checkpoint", "/api/v1/proofs/inclusion?seq=0&size=3",
	"/api/v1/proofs/consistency?from=1&to=3", "/api/v1/receipts/2", "/api/v1/results", "/api/v1/record",
}

func withParam(path, kv string) string {
	if strings.Contains(path, "?") {
		return path + "&" + kv
	}
	return path + "?" + kv
}

// TestConsistentReadOnLeader: with ?consistent=1 every read waits until
// the node applied the read index; plain reads and consistent=0 never wait.
func TestConsistentReadOnLeader(t *testing.T) {
	f := httpapitest.Sample()
	f.ReadIndexV, f.AppliedV = 9, 9
	srv := serve(t, f, httpapi.Options{})
	for _, p := range consistentRoutes {
		if a := request(t, srv, "GET", p, ""); a.status != 200 {
			t.Errorf("GET %s: %d %s", p, a.status, a.body)
		}
		if a := request(t, srv, "GET", withParam(p, "consistent=0"), ""); a.status != 200 {
			t.Errorf("GET %s consistent=0: %d %s", p, a.status, a.body)
		}
	}
	if w := f.WaitedFor(); len(w) != 0 {
		t.Fatalf("plain reads waited for %v", w)
	}
	for _, p := range consistentRoutes {
		if a := request(t, srv, "GET", withParam(p, "consistent=1"), ""); a.status != 200 {
			t.Errorf("GET %s consistent=1: %d %s", p, a.status, a.body)
		}
	}
	if w := f.WaitedFor(); len(w) != len(consistentRoutes) || slices.IndexFunc(w, func(i uint64) bool { return i != 9 }) >= 0 {
		t.Fatalf("consistent reads waited for %v, want read index 9 for each of %d routes", w, len(consistentRoutes))
	}
	for _, bad := range []string{"consistent=yes", "consistent=2", "consistent=", "consistent=1&consistent=1"} {
		a := request(t, srv, "GET", "/api/v1/entries/0?"+bad, "")
		if a.status != 400 || a.errorBody(t).Code != api.CodeMalformed {
			t.Errorf("%s: %d %s, want 400 malformed", bad, a.status, a.body)
		}
	}
}

// TestConsistentReadBehind: a node that has not applied the read index
// answers 503 not_ready (with Retry-After) instead of its older state, and
// serves the read once it caught up.
func TestConsistentReadBehind(t *testing.T) {
	f := httpapitest.Sample()
	f.ReadIndexV, f.AppliedV = 9, 5
	srv := serve(t, f, httpapi.Options{ConsistentWait: 200 * time.Millisecond})
	a := request(t, srv, "GET", "/api/v1/entries/0?consistent=1", "")
	if a.status != 503 || a.errorBody(t).Code != api.CodeNotReady || a.header.Get("Retry-After") == "" {
		t.Fatalf("behind: %d %v %s", a.status, a.header, a.body)
	}
	if strings.Contains(string(a.body), `"seq"`) {
		t.Fatalf("the stale entry was served: %s", a.body)
	}
	f.SetApplied(9)
	if a := request(t, srv, "GET", "/api/v1/entries/0?consistent=1", ""); a.status != 200 {
		t.Fatalf("caught up: %d %s", a.status, a.body)
	}
	// A plain read is served from the state as it is.
	f.SetApplied(5)
	if a := request(t, srv, "GET", "/api/v1/entries/0", ""); a.status != 200 {
		t.Fatalf("plain read: %d %s", a.status, a.body)
	}
}

// TestConsistentReadOnFollower: a follower gets the read index from the
// leader's cluster route (with the cluster token) and waits for it.
func TestConsistentReadOnFollower(t *testing.T) {
	leader := httpapitest.Sample()
	leader.ReadIndexV = 42
	asked := &countingHandler{h: httpapi.New(leader, httpapi.Options{ClusterToken: "tok"}), path: api.ReadIndexPath}
	leaderSrv := httptest.NewServer(asked)
	t.Cleanup(leaderSrv.Close)

	follower := followerOf(leaderSrv.URL, "ReadIndex")
	follower.AppliedV = 42
	srv := serve(t, follower, httpapi.Options{ClusterToken: "tok", ConsistentWait: 2 * time.Second, ForwardWait: 100 * time.Millisecond})
	if a := request(t, srv, "GET", "/api/v1/trackers/K7QF-2MZX?consistent=1", ""); a.status != 200 {
		t.Fatalf("consistent read on a follower: %d %s", a.status, a.body)
	}
	if asked.n.Load() != 1 || !slices.Equal(follower.WaitedFor(), []uint64{42}) {
		t.Fatalf("leader asked %d times; follower waited for %v, want [42]", asked.n.Load(), follower.WaitedFor())
	}

	// Behind the leader's index: not_ready, never the stale answer.
	follower.SetApplied(41)
	a := request(t, srv, "GET", "/api/v1/trackers/K7QF-2MZX?consistent=1", "")
	if a.status != 503 || a.errorBody(t).Code != api.CodeNotReady {
		t.Fatalf("behind the leader: %d %s", a.status, a.body)
	}

	// No leader known, or one that cannot be reached: no_leader.
	wantNoLeader(t, follower, func() answer { return request(t, srv, "GET", "/api/v1/entries/0?consistent=1", "") })
}

// TestAttackReadIndexRoute: the read index route is a cluster route (a
// stranger gets 403), and a node that does not lead answers no_leader
// rather than forwarding or guessing.
func TestAttackReadIndexRoute(t *testing.T) {
	f := httpapitest.Sample()
	f.ReadIndexV = 7
	h := httpapi.New(f, httpapi.Options{ClusterToken: "s3cret"})
	get := func(remote, auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", api.ReadIndexPath, nil)
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		remote, auth string
		status       int
	}{
		{"192.0.2.1:4000", "", 403},
		{"192.0.2.1:4000", "Bearer wrong", 403},
		{"192.0.2.1:4000", "Bearer s3cret", 200},
		{"127.0.0.1:4000", "", 200},
	} {
		rec := get(tc.remote, tc.auth)
		if rec.Code != tc.status {
			t.Errorf("from %s auth %q: %d %s, want %d", tc.remote, tc.auth, rec.Code, rec.Body, tc.status)
		}
		if tc.status == 200 && strings.TrimSpace(rec.Body.String()) != `{"index":7}` {
			t.Errorf("answer %s", rec.Body)
		}
	}
	f.Leader = "http://192.0.2.9:8080"
	f.SetErr("ReadIndex", &replica.NotLeaderError{LeaderID: "n2", LeaderAPI: f.Leader})
	rec := get("127.0.0.1:4000", "")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), api.CodeNoLeader) {
		t.Fatalf("follower's read index route: %d %s", rec.Code, rec.Body)
	}
}

// TestAttackLyingReadIndex: a "leader" whose read index answer is not the
// documented object (junk, a negative or fractional index, extra fields,
// an oversized body) gives the follower nothing to wait for: the
// consistent read fails with 503 and the follower's state is not served.
func TestAttackLyingReadIndex(t *testing.T) {
	for _, body := range []string{
		`junk`, `{"index":-1}`, `{"index":1.5}`, `{"index":"9"}`, `{"index":9,"extra":1}`, `{"index":9}{"index":10}`,
		`{"index":9,"pad":"` + strings.Repeat("x", 8<<10) + `"}`,
	} {
		liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		follower := followerOf(liar.URL, "ReadIndex")
		follower.AppliedV = 100
		srv := serve(t, follower, httpapi.Options{ConsistentWait: 500 * time.Millisecond, ForwardWait: 100 * time.Millisecond})
		a := request(t, srv, "GET", "/api/v1/entries/0?consistent=1", "")
		if a.status != 503 || a.errorBody(t).Code != api.CodeNoLeader {
			t.Errorf("leader answered %.40q: follower answered %d %s", body, a.status, a.body)
		}
		if w := follower.WaitedFor(); len(w) != 0 {
			t.Errorf("leader answered %.40q: follower waited for %v", body, w)
		}
		liar.Close()
	}
}
