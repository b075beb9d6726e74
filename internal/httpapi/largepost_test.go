package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
)

// slowBackend accepts every entry after checking it for d, unless the
// request's context ends first (then it answers as the board does).
func slowBackend(d time.Duration) *httpapitest.Fake {
	f := httpapitest.Sample()
	f.SubmitFunc = func(ctx context.Context, entries [][]byte) ([]httpapi.SubmitResult, error) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, fmt.Errorf("board: checking: %w", ctx.Err())
		}
		out := make([]httpapi.SubmitResult, len(entries))
		for i := range entries {
			out[i] = httpapi.SubmitResult{Seq: uint64(i + 1), ID: fmt.Sprintf("%064x", i+1)}
		}
		return out, nil
	}
	return f
}

// short are a node's options whose request and write timeouts a check of
// 600 ms outlasts, while a long check gets 30 s.
var short = httpapi.Options{RequestTimeout: 100 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, LongCheckTimeout: 30 * time.Second}

// TestLongCheckOutlivesRequestTimeouts: a shuffle of a 100,000-ballot
// election took the leader minutes to check, longer than the request and
// write timeouts, and the mixer saw the connection close (EOF) although
// the shuffle was valid. An entry checked against the whole election gets
// LongCheckTimeout, posted to the leader or through a follower, in binary
// or JSON.
func TestLongCheckOutlivesRequestTimeouts(t *testing.T) {
	leader := slowBackend(600 * time.Millisecond)
	leaderAddr := serveReal(t, leader, short)
	follower := followerOf("http://"+leaderAddr, "Submit")
	followerAddr := serveReal(t, follower, short)

	for _, typ := range []bulletin.EntryType{bulletin.TypeCredentials, bulletin.TypeShuffle, bulletin.TypeMixDecryption, bulletin.TypeResult} {
		e := entryOfType(t, typ, 100)
		for name, addr := range map[string]string{"leader": leaderAddr, "follower": followerAddr} {
			a := postRaw(t, addr, bytes.NewReader(e), int64(len(e)))
			var out api.SubmitResponse
			if a.status != 200 || json.Unmarshal(a.body, &out) != nil || len(out.Results) != 1 || out.Results[0].Error != nil {
				t.Fatalf("a %s checked for 600 ms, posted in binary to the %s: %d %s", typ, name, a.status, a.body)
			}
		}
	}
	// In JSON, beside an ordinary entry: the post is long as a whole.
	a := request(t, serve(t, leader, short), "POST", "/api/v1/entries", submitBody(entryOf(t, 1), entryOfType(t, bulletin.TypeShuffle, 10)))
	if a.status != 200 {
		t.Fatalf("a JSON post with a shuffle: %d %s", a.status, a.body)
	}
}

// TestAttackLongCheckBounded: the longer time is the entry type's, not
// the client's to choose: an ordinary entry checked as long still ends at
// RequestTimeout (503 overloaded, Retry-After), and a long check ends at
// LongCheckTimeout, so a slow post cannot hold the node's resources
// forever.
func TestAttackLongCheckBounded(t *testing.T) {
	const long = 3 * time.Second
	slow := slowBackend(time.Hour)
	addr := serveReal(t, slow, httpapi.Options{RequestTimeout: 100 * time.Millisecond, LongCheckTimeout: long})
	for _, tc := range []struct {
		typ      bulletin.EntryType
		min, max time.Duration
	}{
		// An ordinary entry is cut at RequestTimeout, well before long.
		{bulletin.TypeClose, 100 * time.Millisecond, long - time.Second},
		{bulletin.TypeBallot, 100 * time.Millisecond, long - time.Second},
		// A long check is cut at long (the slack is for a busy machine).
		{bulletin.TypeShuffle, long, long + 20*time.Second},
	} {
		e := rawEntry(1, tc.typ, 10)
		start := time.Now()
		a := postRaw(t, addr, bytes.NewReader(e), int64(len(e)))
		took := time.Since(start)
		if a.status != 503 || a.errorBody(t).Code != api.CodeOverloaded || a.header.Get("Retry-After") == "" {
			t.Fatalf("a %s never checked: %d %s", tc.typ, a.status, a.body)
		}
		if took < tc.min || took > tc.max {
			t.Fatalf("a %s answered after %v, want between %v and %v", tc.typ, took, tc.min, tc.max)
		}
	}
}
