package httpapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

// movingLeader is a follower whose view of the leader changes during a test.
type movingLeader struct {
	*httpapitest.Fake
	leader atomic.Value // string
}

func (m *movingLeader) LeaderAPI() string { s, _ := m.leader.Load().(string); return s }

func newFollowerOf(t *testing.T, leader string) (*movingLeader, *httptest.Server) {
	m := &movingLeader{Fake: followerOf("", "Submit")} // m.leader names the leader
	m.leader.Store(leader)
	return m, serve(t, m, httpapi.Options{})
}

// TestForwardParsesFirst: a follower answers unparsable entries itself and
// forwards only the others; the answer has every item in its place.
func TestForwardParsesFirst(t *testing.T) {
	leader := httpapitest.Sample()
	leader.EntriesV = nil
	leaderSrv := serve(t, leader, httpapi.Options{})
	_, fsrv := newFollowerOf(t, leaderSrv.URL)

	a := request(t, fsrv, "POST", "/api/v1/entries", submitBody([]byte("junk"), []byte{1, 2, 3}))
	var out api.SubmitResponse
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil || len(out.Results) != 2 {
		t.Fatalf("junk through a follower: %d %s", a.status, a.body)
	}
	for i, it := range out.Results {
		if it.Error == nil || it.Error.Code != api.CodeMalformed || it.Error.Step != "V1" {
			t.Errorf("junk item %d: %+v", i, it)
		}
	}
	if len(leader.Submitted) != 0 {
		t.Fatalf("junk reached the leader: %d entries", len(leader.Submitted))
	}

	good1, good2 := entryOf(t, 1), entryOf(t, 2)
	a = request(t, fsrv, "POST", "/api/v1/entries", submitBody(good1, []byte("junk"), good2))
	out = api.SubmitResponse{}
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil || len(out.Results) != 3 {
		t.Fatalf("mixed post through a follower: %d %s", a.status, a.body)
	}
	if out.Results[0].Error != nil || out.Results[2].Error != nil || out.Results[0].Seq != 0 || out.Results[2].Seq != 1 {
		t.Errorf("forwarded items: %+v", out.Results)
	}
	if e := out.Results[1].Error; e == nil || e.Code != api.CodeMalformed {
		t.Errorf("junk item: %+v", out.Results[1])
	}
	if len(leader.Submitted) != 2 {
		t.Fatalf("the leader got %d entries, want the 2 that parse", len(leader.Submitted))
	}
}

// TestForwardFollowsNewLeader: the leader a write was forwarded to stops
// answering (paused: its socket accepts, nothing replies); once the
// follower learns of a new leader, the write goes there and is answered,
// instead of waiting for the old leader until the forward timeout.
func TestForwardFollowsNewLeader(t *testing.T) {
	paused := testonly.Listen(t) // accepted by the kernel, never served
	newLeader := httpapitest.Sample()
	newLeader.EntriesV = nil
	nls := serve(t, newLeader, httpapi.Options{})

	m, fsrv := newFollowerOf(t, "http://"+paused.Addr().String())
	go func() {
		time.Sleep(time.Second) // the election after the old leader went silent
		m.leader.Store(nls.URL)
	}()
	start := time.Now()
	a := request(t, fsrv, "POST", "/api/v1/entries", submitBody(entryOf(t, 3)))
	if d := time.Since(start); a.status != 200 || d > 5*time.Second {
		t.Fatalf("forward to a paused leader: %d %s after %v", a.status, a.body, d)
	}
	if len(newLeader.Submitted) != 1 {
		t.Fatalf("the new leader got %d entries", len(newLeader.Submitted))
	}
}

// TestForwardRawEntry: a binary post to a follower reaches the leader as
// it came (the same bytes, in binary) and is answered by it; an entry
// that does not parse is answered by the follower and never sent.
func TestForwardRawEntry(t *testing.T) {
	leader := httpapitest.Sample()
	leader.EntriesV = nil
	leaderSrv := serve(t, leader, httpapi.Options{})
	_, fsrv := newFollowerOf(t, leaderSrv.URL)
	addr := fsrv.Listener.Addr().String()

	junk := rawEntry(1, bulletin.TypeBallot, 10) // the identity as author key
	a := postRaw(t, addr, bytes.NewReader(junk), int64(len(junk)))
	var out api.SubmitResponse
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil || len(out.Results) != 1 || out.Results[0].Error == nil || out.Results[0].Error.Code != api.CodeMalformed {
		t.Fatalf("junk in binary through a follower: %d %s", a.status, a.body)
	}
	if len(leader.Submitted) != 0 {
		t.Fatalf("junk reached the leader: %d entries", len(leader.Submitted))
	}

	good := entryOf(t, 7)
	a = postRaw(t, addr, bytes.NewReader(good), int64(len(good)))
	out = api.SubmitResponse{}
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil || len(out.Results) != 1 || out.Results[0].Error != nil {
		t.Fatalf("an entry in binary through a follower: %d %s", a.status, a.body)
	}
	if len(leader.Submitted) != 1 || !bytes.Equal(leader.Submitted[0], good) {
		t.Fatalf("the leader got %d entries, want the one posted, byte for byte", len(leader.Submitted))
	}
}

// rawEntry is an entry's bytes as far as the node's HTTP layer reads them
// (SPEC.md §3.1 framing: the backend checks the rest): version, type, a
// zero election and key, role, a body of n bytes, a signature.
func rawEntry(version byte, t bulletin.EntryType, n int) []byte {
	e := make([]byte, 0, 71+n+64)
	e = append(e, version, byte(t))
	e = append(e, make([]byte, 32)...)
	e = append(e, byte(bulletin.RoleCredentialAuthority))
	e = append(e, make([]byte, 32)...)
	e = binary.BigEndian.AppendUint32(e, uint32(n))
	for i := range n {
		e = append(e, byte(i*7))
	}
	return append(e, bytes.Repeat([]byte{0x5a}, 64)...)
}

func postRaw(t *testing.T, addr string, body io.Reader, length int64) answer {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+addr+"/api/v1/entries", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", api.EntryContentType)
	return exchange(t, http.DefaultClient, req)
}

// TestLargeEntryPosted: a credential list larger than the JSON post's cap
// (api.MaxEntriesBody) is posted in binary, whole, up to its type's limit
// (SPEC.md §3.2), and reaches the backend byte for byte; the same entry in
// JSON is still refused by the tight cap.
func TestLargeEntryPosted(t *testing.T) {
	f := httpapitest.Sample()
	addr := serveReal(t, f, httpapi.Options{})
	list := rawEntry(1, bulletin.TypeCredentials, api.MaxEntriesBody+(1<<20))
	a := postRaw(t, addr, bytes.NewReader(list), int64(len(list)))
	var resp api.SubmitResponse
	if err := json.Unmarshal(a.body, &resp); a.status != 200 || err != nil || len(resp.Results) != 1 || resp.Results[0].Error != nil {
		t.Fatalf("a %d-byte credential list in binary: %d %s", len(list), a.status, a.body)
	}
	if len(f.Submitted) != 1 || !bytes.Equal(f.Submitted[0], list) {
		t.Fatalf("the backend got %d entries, not the list as posted", len(f.Submitted))
	}
	// Chunked (no Content-Length): the same.
	a = postRaw(t, addr, io.MultiReader(bytes.NewReader(list)), -1)
	if a.status != 200 || len(f.Submitted) != 2 || !bytes.Equal(f.Submitted[1], list) {
		t.Fatalf("the list chunked: %d %s", a.status, a.body)
	}
	js, _ := json.Marshal(api.SubmitRequest{Entries: []string{wire.EncodeB64(list)}})
	req, err := http.NewRequest("POST", "http://"+addr+"/api/v1/entries", bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a := exchange(t, http.DefaultClient, req); a.status != 413 || a.errorBody(t).Code != api.CodeTooLarge {
		t.Fatalf("the list in JSON: %d %s, want 413 too_large", a.status, a.body)
	}
}

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

	for _, typ := range []bulletin.EntryType{bulletin.TypeCredentials, bulletin.TypeShuffle, bulletin.TypeMixDecryption, bulletin.TypePartialDecryption, bulletin.TypeResult} {
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
