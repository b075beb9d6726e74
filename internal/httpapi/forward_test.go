package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/testonly"
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
	srv := httptest.NewServer(httpapi.New(m, httpapi.Options{Logger: testonly.Logger(t, slog.LevelWarn)}))
	t.Cleanup(srv.Close)
	return m, srv
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
