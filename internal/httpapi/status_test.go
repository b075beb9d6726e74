package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/board"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// loneNode serves a one-node board on loopback, with e's node key, until
// the test ends; it returns once the node leads.
func loneNode(t *testing.T, e *testonly.Election) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenBolt(filepath.Join(dir, "state.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := board.Open(board.Config{NodeID: "n1", Store: st, Key: e.NodeKeys()["n1"], Logger: testonly.Logger(t, slog.LevelWarn)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	rc := replica.DefaultConfig()
	rc.ID, rc.DataDir, rc.RaftBind, rc.APIAddr, rc.Bootstrap = "n1", filepath.Join(dir, "raft"), "127.0.0.1:0", "http://n1.invalid", true
	rc.Logger = testonly.Logger(t, slog.LevelWarn)
	r, err := replica.New(rc, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown() })
	b.Attach(r)
	b.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return serve(t, httpapi.NewNode(b), httpapi.Options{})
}

// TestElectionStatusTypes: a node's election status, on the default
// route and the election's own, names each entry type on the log (as
// /entries names it) with its first entry and count, and the number of
// blocks, as the log holds them: before the close and, after more posts,
// with the close, the partial decryptions and the result.
func TestElectionStatusTypes(t *testing.T) {
	e := testonly.Build(t, "status types", testonly.Config{Voters: 3, Ballots: 5, Audits: 1, Nodes: 1, ElectionID: "status-types"})
	srv := loneNode(t, e)
	closeAt := -1
	for i, raw := range e.Entries {
		if raw[1] == byte(bulletin.TypeClose) {
			closeAt = i
		}
	}
	for _, upTo := range []int{closeAt, len(e.Entries)} {
		from := 0
		if upTo == len(e.Entries) {
			from = closeAt
		}
		for _, raw := range e.Entries[from:upTo] {
			if a := request(t, srv, "POST", "/api/v1/entries", submitBody(raw)); a.status != 200 {
				t.Fatalf("post: %d %s", a.status, a.body)
			}
		}
		want := map[string]api.TypeSpan{}
		for seq, raw := range e.Entries[:upTo] {
			en, err := bulletin.ParseEntry(raw)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := want[en.Type.String()]
			if !ok {
				s.First = uint64(seq)
			}
			s.Count++
			want[en.Type.String()] = s
		}
		var blocks api.BlocksResponse
		if a := request(t, srv, "GET", "/api/v1/blocks?limit=1000", ""); a.status != 200 || json.Unmarshal(a.body, &blocks) != nil {
			t.Fatalf("blocks: %d %s", a.status, a.body)
		}
		for _, path := range []string{"/api/v1/election", "/api/v1/elections/status-types/election"} {
			a := request(t, srv, "GET", path, "")
			var el api.Election
			if err := json.Unmarshal(a.body, &el); a.status != 200 || err != nil {
				t.Fatalf("GET %s: %d %s (%v)", path, a.status, a.body, err)
			}
			if el.Counts.Entries != uint64(upTo) || !maps.Equal(el.Types, want) {
				t.Fatalf("GET %s after %d entries: %d entries, types %v; want %v", path, upTo, el.Counts.Entries, el.Types, want)
			}
			if el.Counts.Blocks != uint64(len(blocks.Blocks)) || el.Counts.Blocks == 0 {
				t.Fatalf("GET %s: %d blocks, /blocks lists %d", path, el.Counts.Blocks, len(blocks.Blocks))
			}
		}
	}
	if closeAt <= 0 {
		t.Fatal("the election has no close entry")
	}
}
