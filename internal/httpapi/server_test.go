package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

// followerOf returns a sample board that follows the leader n1 whose API is
// at leaderAPI: each of methods fails as a follower's board refuses what
// only the leader does, with a *replica.NotLeaderError wrapped as the
// board wraps it.
func followerOf(leaderAPI string, methods ...string) *httpapitest.Fake {
	f := httpapitest.Sample()
	f.Leader = leaderAPI
	for _, m := range methods {
		f.SetErr(m, fmt.Errorf("board: %w", &replica.NotLeaderError{LeaderID: "n1"}))
	}
	return f
}

// handler is the API of b with opts, logging to the test unless opts
// names a logger.
func handler(t *testing.T, b httpapi.Backend, opts httpapi.Options) *echo.Echo {
	if opts.Logger == nil {
		opts.Logger = testonly.Logger(t, slog.LevelDebug)
	}
	return httpapi.New(b, opts)
}

// serve serves handler(t, b, opts) on loopback until the test ends.
func serve(t *testing.T, b httpapi.Backend, opts httpapi.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler(t, b, opts))
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) errorBody(t *testing.T) api.ErrorBody {
	t.Helper()
	var e api.ErrorResponse
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %q lacks code or message", a.body)
	}
	return e.Error
}

func request(t *testing.T, srv *httptest.Server, method, path, body string, hdr ...string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// entryOf returns an entry that parses (bulletin.ParseEntry) with body
// tag, signed by a fixed key: followers parse entries before forwarding
// them, so forwarding tests post such entries (the fake leader checks
// nothing more).
func entryOf(t testing.TB, tag ...byte) []byte {
	t.Helper()
	return entryOfType(t, bulletin.TypeClose, tag...)
}

// entryOfType is entryOf with an entry of type typ.
func entryOfType(t testing.TB, typ bulletin.EntryType, tag ...byte) []byte {
	t.Helper()
	var fp [32]byte
	key, err := schnorr.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{42}, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := bulletin.NewEntry(typ, fp, bulletin.RoleAuthority, key.Public(), tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sign(bytes.NewReader(bytes.Repeat([]byte{tag[0]}, 1024)), key); err != nil {
		t.Fatal(err)
	}
	return e.Bytes()
}

func submitBody(entries ...[]byte) string {
	var req api.SubmitRequest
	for _, e := range entries {
		req.Entries = append(req.Entries, wire.EncodeB64(e))
	}
	b, _ := json.Marshal(req)
	return string(b)
}

func TestReadRoutes(t *testing.T) {
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{Version: "v9.9.9 0123456789ab"})
	tests := []struct {
		path string
		want []string // substrings of the JSON answer
	}{
		{"/api/v1/health", []string{`"status":"ok"`, `"node":"n1"`, `"role":"leader"`, `"applied":7`, `"version":"v9.9.9 0123456789ab"`}},
		// manifest {fb ff 00 01} is "-_8AAQ" in unpadded base64url, "+/8AAQ==" in std base64.
		{"/api/v1/election", []string{`"election_id":"e1"`, `"manifest":"-_8AAQ"`, `"phase":"voting"`, `"voters_voted":1`, `"view":{"questions":[]}`}},
		{"/api/v1/entries", []string{`"next":3`, `"entry":"APv_"`, `"type":"ballot"`, `"view":{"i":1}`}},
		{"/api/v1/entries?from=1&limit=1", []string{`"next":2`, `"seq":1`, `"entry":"Afv_"`}},
		{"/api/v1/entries?from=50", []string{`"entries":[]`, `"next":50`}},
		{"/api/v1/entries?limit=5000", []string{`"next":3`}},
		{"/api/v1/entries/2", []string{`"seq":2`, `"block":1`, `"entry":"Avv_"`}},
		{"/api/v1/blocks", []string{`"height":0`, `"height":1`, `"header":"_gA"`, `"first_seq":2`}},
		{"/api/v1/blocks/1", []string{`"height":1`, `"header":"_gE"`, `"log_size":3`}},
		{"/api/v1/trackers/K7QF-2MZX", []string{`"seq":2`, `"counts":true`, `"superseded_by":null`, `"audited":false`}},
		{"/api/v1/checkpoint", []string{`"size":3`, `"signers":["n1"]`}},
		{"/api/v1/proofs/inclusion?seq=1&size=3", []string{`"seq":1`, `"size":3`, `"proof":["`}},
		{"/api/v1/proofs/consistency?from=1&to=3", []string{`"from":1`, `"to":3`, `"proof":[]`}},
		{"/api/v1/receipts/2", []string{`"receipt":"__4-"`, `"tracker":"K7QF-2MZX"`}},
		{"/api/v1/results", []string{`"result_seq":9`, `"count":1`, `"trustees":[1,2]`}},
		{"/api/v1/cluster", []string{`"leader":"n1"`, `"raft_addr":"127.0.0.1:7001"`, `"suffrage":"voter"`}},
	}
	for _, tt := range tests {
		a := request(t, srv, "GET", tt.path, "")
		if a.status != http.StatusOK {
			t.Errorf("GET %s: status %d, body %s", tt.path, a.status, a.body)
			continue
		}
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: Content-Type %q", tt.path, ct)
		}
		if !json.Valid(a.body) {
			t.Errorf("GET %s: invalid JSON %s", tt.path, a.body)
		}
		if bytes.Contains(a.body, []byte("=")) {
			t.Errorf("GET %s: padded base64 in %s", tt.path, a.body)
		}
		for _, w := range tt.want {
			if !bytes.Contains(a.body, []byte(w)) {
				t.Errorf("GET %s: answer lacks %s: %s", tt.path, w, a.body)
			}
		}
	}
}

func TestRecord(t *testing.T) {
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{})
	a := request(t, srv, "GET", "/api/v1/record", "")
	if a.status != 200 || !bytes.Equal(a.body, f.Record) || a.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("record: %d %q %q", a.status, a.header.Get("Content-Type"), a.body)
	}

	// The suffix after a height (SPEC.md §3.11, "Record suffix"): the
	// range reaches the backend; a bad one is a 400.
	a = request(t, srv, "GET", "/api/v1/record?from=3&size=12", "")
	if a.status != 200 || !reflect.DeepEqual(f.RecordAsked, [][2]uint64{{0, 0}, {3, 12}}) {
		t.Fatalf("record suffix: %d, ranges asked %v", a.status, f.RecordAsked)
	}
	for _, q := range []string{"from=-1", "from=x", "size=1e3"} {
		if a = request(t, srv, "GET", "/api/v1/record?"+q, ""); a.status != 400 || a.errorBody(t).Code != api.CodeMalformed {
			t.Errorf("GET /record?%s: %d %s, want 400 malformed", q, a.status, a.body)
		}
	}
	f.SetErr("WriteRecord", fmt.Errorf("board: record: no block at height 9: %w", store.ErrNotFound))
	if a = request(t, srv, "GET", "/api/v1/record?from=9", ""); a.status != 404 {
		t.Errorf("GET /record?from=9 past the board: %d %s, want 404", a.status, a.body)
	}

	// A failure before the first byte is an ordinary error answer.
	f.SetErr("WriteRecord", errors.New("disk on fire"))
	a = request(t, srv, "GET", "/api/v1/record", "")
	if a.status != 500 || a.errorBody(t).Code != api.CodeInternal || bytes.Contains(a.body, []byte("fire")) {
		t.Fatalf("record error: %d %s", a.status, a.body)
	}

	// A failure mid-stream cuts the connection: the client must not take a
	// short record for a whole one.
	f.SetErr("WriteRecord", nil)
	f.RecordErr = errors.New("store went away")
	resp, err := srv.Client().Get(srv.URL + "/api/v1/record")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("a truncated record read cleanly")
	}
}

func TestSubmit(t *testing.T) {
	f := httpapitest.Sample()
	f.SubmitFunc = func(_ context.Context, entries [][]byte) ([]httpapi.SubmitResult, error) {
		return []httpapi.SubmitResult{
			{Seq: 0, ID: "aa", Tracker: "K7QF-2MZX", Block: 0},
			{Err: fmt.Errorf("entry 1: %w", bulletin.ErrDuplicate)},
			{Err: fmt.Errorf("ballot 0: %w", ballot.ErrInvalidProof)},
			{Err: errors.New("secret internal detail")},
		}, nil
	}
	srv := serve(t, f, httpapi.Options{})
	a := request(t, srv, "POST", "/api/v1/entries", submitBody([]byte{1}, []byte{2}, []byte{3}, []byte{4}))
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	if bytes.Contains(a.body, []byte("secret")) {
		t.Fatalf("internal error text leaked: %s", a.body)
	}
	var resp struct {
		Results []map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(a.body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 4 {
		t.Fatalf("%d results", len(resp.Results))
	}
	if string(resp.Results[0]["seq"]) != "0" || string(resp.Results[0]["tracker"]) != `"K7QF-2MZX"` || resp.Results[0]["error"] != nil {
		t.Errorf("result 0: %s", a.body)
	}
	wantCodes := []string{"", `"duplicate"`, `"invalid_proof"`, `"internal"`}
	for i := 1; i < 4; i++ {
		var e api.ErrorBody
		if err := json.Unmarshal(resp.Results[i]["error"], &e); err != nil {
			t.Fatalf("result %d: %s", i, a.body)
		}
		if `"`+e.Code+`"` != wantCodes[i] || len(resp.Results[i]) != 1 {
			t.Errorf("result %d: %s", i, a.body)
		}
	}
	if !strings.Contains(string(resp.Results[2]["error"]), `"step":"V8"`) {
		t.Errorf("invalid proof lacks its step: %s", resp.Results[2]["error"])
	}
	if len(f.Submitted) != 4 || f.Submitted[2][0] != 3 {
		t.Errorf("backend got %v", f.Submitted)
	}
}

func TestStrictDecoding(t *testing.T) {
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{MaxEntriesBody: 4096})
	ok := submitBody([]byte{1, 2, 3})
	many := make([][]byte, api.MaxEntriesPerPost+1)
	for i := range many {
		many[i] = []byte{1}
	}
	tests := []struct {
		name, body, ctype string
		status            int
		code              string
	}{
		{"unknown field", `{"entries":["AQID"],"extra":1}`, "", 400, api.CodeMalformed},
		{"trailing garbage", ok + `x`, "", 400, api.CodeMalformed},
		{"second value", ok + ok, "", 400, api.CodeMalformed},
		{"empty body", ``, "", 400, api.CodeMalformed},
		{"not JSON", `entries=AQID`, "", 400, api.CodeMalformed},
		{"wrong type", `{"entries":"AQID"}`, "", 400, api.CodeMalformed},
		{"no entries", `{"entries":[]}`, "", 400, api.CodeMalformed},
		{"padded base64", `{"entries":["AQI="]}`, "", 400, api.CodeMalformed},
		{"std base64", `{"entries":["+/8A"]}`, "", 400, api.CodeMalformed},
		{"empty entry", `{"entries":[""]}`, "", 400, api.CodeMalformed},
		{"wrong content type", ok, "text/plain", 400, api.CodeMalformed},
		{"oversized body", `{"entries":["` + strings.Repeat("A", 5000) + `"]}`, "", 413, api.CodeTooLarge},
		{"too many entries", submitBody(many...), "", 413, api.CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/entries", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			a := answer{resp.StatusCode, resp.Header, b}
			if a.status != tt.status || a.errorBody(t).Code != tt.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
		})
	}
	if len(f.Submitted) != 0 {
		t.Fatalf("rejected requests reached the backend: %d entries", len(f.Submitted))
	}
	// Chunked (no Content-Length) oversized bodies are cut too.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"entries":["`))
		pw.Write(bytes.Repeat([]byte("A"), 8000))
		pw.Write([]byte(`"]}`))
		pw.Close()
	}()
	resp, err := srv.Client().Post(srv.URL+"/api/v1/entries", "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("chunked oversized body: %d", resp.StatusCode)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{bulletin.ErrMalformed, 400, api.CodeMalformed},
		{wire.ErrMalformed, 400, api.CodeMalformed},
		{bulletin.ErrInvalidSignature, 400, api.CodeInvalidSignature},
		{ballot.ErrInvalidProof, 400, api.CodeInvalidProof},
		{bulletin.ErrInvalidProof, 400, api.CodeInvalidProof},
		{bulletin.ErrWrongElection, 400, api.CodeWrongElection},
		{bulletin.ErrInvalidBody, 400, api.CodeInvalidBody},
		{bulletin.ErrNotAuthorized, 403, api.CodeNotAuthorized},
		{bulletin.ErrUnknownCredential, 403, api.CodeUnknownCredential},
		{store.ErrNotFound, 404, api.CodeNotFound},
		{bulletin.ErrWrongPhase, 409, api.CodeWrongPhase},
		{bulletin.ErrDuplicate, 409, api.CodeDuplicate},
		{bulletin.ErrAudited, 409, api.CodeAudited},
		{bulletin.ErrAuditLimit, 409, api.CodeAuditLimit},
		{bulletin.ErrClosed, 409, api.CodeClosed},
		{replica.ErrTooLarge, 413, api.CodeTooLarge},
		{replica.ErrOverloaded, 503, api.CodeOverloaded},
		{replica.ErrLeadershipLost, 503, api.CodeNoLeader},
		{replica.ErrShutdown, 503, api.CodeNoLeader},
		{context.DeadlineExceeded, 503, api.CodeOverloaded},
		{errors.New("pq: password authentication failed for user urna"), 500, api.CodeInternal},
	}
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{RetryAfter: 1500 * time.Millisecond})
	for _, tt := range tests {
		f.SetErr("Election", fmt.Errorf("board: something: %w", tt.err))
		a := request(t, srv, "GET", "/api/v1/election", "")
		e := a.errorBody(t)
		if a.status != tt.status || e.Code != tt.code {
			t.Errorf("%v: got %d %s, want %d %s", tt.err, a.status, e.Code, tt.status, tt.code)
		}
		if ra := a.header.Get("Retry-After"); (tt.status == 503) != (ra == "2") {
			t.Errorf("%v: Retry-After %q", tt.err, ra)
		}
		if tt.code == api.CodeInternal && bytes.Contains(a.body, []byte("password")) {
			t.Errorf("internal error text reached the client: %s", a.body)
		}
	}
	// Results before the result: 409 wrong_phase.
	f.ResultsV, f.ResultsErr = nil, fmt.Errorf("board: no result yet: %w", bulletin.ErrWrongPhase)
	if a := request(t, srv, "GET", "/api/v1/results", ""); a.status != 409 || a.errorBody(t).Code != api.CodeWrongPhase {
		t.Errorf("results before the result: %d %s", a.status, a.body)
	}
}

func TestBadRequestsAndNotFound(t *testing.T) {
	srv := serve(t, httpapitest.Sample(), httpapi.Options{})
	// Each GET of paths is answered status with code.
	for _, tt := range []struct {
		status int
		code   string
		paths  []string
	}{
		{404, api.CodeNotFound, []string{
			"/api/v1/nope",
			"/api/v1/entries/99",
			"/api/v1/blocks/99",
			"/api/v1/trackers/ZZZZ-ZZZZ",
			"/api/v1/receipts/1",
			"/", // no web client configured
		}},
		{400, api.CodeMalformed, []string{
			"/api/v1/entries/abc",
			"/api/v1/entries/-1",
			"/api/v1/entries?limit=0",
			"/api/v1/entries?from=x",
			"/api/v1/blocks?limit=-3",
			"/api/v1/proofs/inclusion?seq=1",
			"/api/v1/proofs/inclusion?seq=3&size=3",
			"/api/v1/proofs/consistency?from=4&to=3",
		}},
	} {
		for _, path := range tt.paths {
			a := request(t, srv, "GET", path, "")
			if a.status != tt.status || a.errorBody(t).Code != tt.code {
				t.Errorf("GET %s: got %d %s, want %d %s", path, a.status, a.body, tt.status, tt.code)
			}
		}
	}
	// A known path with the wrong method gets a JSON error, not a panic or HTML.
	a := request(t, srv, "DELETE", "/api/v1/health", "")
	if a.status != 405 && a.status != 404 {
		t.Errorf("DELETE /health: %d", a.status)
	}
	a.errorBody(t)
}

func TestElectionBeforeManifest(t *testing.T) {
	f := httpapitest.Sample()
	f.ElectionV = nil
	srv := serve(t, f, httpapi.Options{})
	if a := request(t, srv, "GET", "/api/v1/election", ""); a.status != 404 || a.errorBody(t).Code != api.CodeNotFound {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

func TestOverloadedSubmit(t *testing.T) {
	f := httpapitest.Sample()
	f.SetErr("Submit", fmt.Errorf("board: %w", replica.ErrOverloaded))
	srv := serve(t, f, httpapi.Options{RetryAfter: 3 * time.Second})
	a := request(t, srv, "POST", "/api/v1/entries", submitBody([]byte{1}))
	if a.status != 503 || a.header.Get("Retry-After") != "3" || a.errorBody(t).Code != api.CodeOverloaded {
		t.Fatalf("%d %v %s", a.status, a.header, a.body)
	}
}

func TestForwardToLeader(t *testing.T) {
	leader := httpapitest.Sample()
	leader.EntriesV = nil
	leaderSrv := serve(t, leader, httpapi.Options{})

	follower := followerOf(leaderSrv.URL, "Submit", "Join")
	followerSrv := serve(t, follower, httpapi.Options{ClusterToken: "tok", ForwardWait: 200 * time.Millisecond})

	a := request(t, followerSrv, "POST", "/api/v1/entries", submitBody(entryOf(t, 7, 7), entryOf(t, 8)))
	if a.status != 200 || a.header.Get("X-Urna-Forwarded") == "" {
		t.Fatalf("forwarded submit: %d %v %s", a.status, a.header, a.body)
	}
	if !strings.Contains(string(a.body), `"seq":1`) {
		t.Errorf("answer is not the leader's: %s", a.body)
	}
	if len(leader.Submitted) != 2 || !bytes.Equal(leader.Submitted[0], entryOf(t, 7, 7)) {
		t.Fatalf("leader got %v", leader.Submitted)
	}

	// Cluster changes are forwarded too, vouched for with the token.
	a = request(t, followerSrv, "POST", "/api/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7004","api_addr":"http://127.0.0.1:8004"}`)
	if a.status != 200 || len(leader.Joined) != 1 || leader.Joined[0].ID != "n4" {
		t.Fatalf("forwarded join: %d %s, leader joined %v", a.status, a.body, leader.Joined)
	}

	// The leader address can come from the error when LeaderAPI is unknown.
	follower2 := httpapitest.Sample()
	follower2.SetErr("Submit", fmt.Errorf("board: %w", &replica.NotLeaderError{LeaderID: "n1", LeaderAPI: strings.TrimPrefix(leaderSrv.URL, "http://")}))
	f2Srv := serve(t, follower2, httpapi.Options{})
	if a := request(t, f2Srv, "POST", "/api/v1/entries", submitBody(entryOf(t, 9))); a.status != 200 {
		t.Fatalf("forward via NotLeaderError.LeaderAPI: %d %s", a.status, a.body)
	}

	// A follower that gets an already forwarded write does not forward it again.
	a = request(t, followerSrv, "POST", "/api/v1/entries", submitBody(entryOf(t, 1)), "X-Urna-Forwarded", "1")
	if a.status != 503 || a.errorBody(t).Code != api.CodeNoLeader || a.header.Get("Retry-After") == "" {
		t.Fatalf("second hop: %d %s", a.status, a.body)
	}

	wantNoLeader(t, follower, func() answer {
		return request(t, followerSrv, "POST", "/api/v1/entries", submitBody(entryOf(t, 1)))
	})
}

// wantNoLeader checks that what send asks of follower is answered 503
// no_leader, not a hang or a 502 page, both when the follower knows no
// leader and when the leader it names cannot be reached.
func wantNoLeader(t *testing.T, follower *httpapitest.Fake, send func() answer) {
	t.Helper()
	follower.Leader = ""
	if a := send(); a.status != 503 || a.errorBody(t).Code != api.CodeNoLeader {
		t.Fatalf("no leader: %d %s", a.status, a.body)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	follower.Leader = dead.URL
	if a := send(); a.status != 503 || a.errorBody(t).Code != api.CodeNoLeader {
		t.Fatalf("dead leader: %d %s", a.status, a.body)
	}
}

func TestClusterGuard(t *testing.T) {
	f := httpapitest.Sample()
	h := httpapi.New(f, httpapi.Options{ClusterToken: "s3cret"})
	post := func(remote, auth, path, body string) *httptest.ResponseRecorder {
		return httpapitest.PostFrom(h, remote, path, strings.NewReader(body), "Content-Type", "application/json", "Authorization", auth)
	}
	join := `{"id":"n2","raft_addr":"10.0.0.2:7000","api_addr":"http://10.0.0.2:8080"}`
	tests := []struct {
		remote, auth, path, body string
		status                   int
	}{
		{"192.0.2.1:4000", "", "/api/v1/cluster/join", join, 403},
		{"192.0.2.1:4000", "Bearer wrong", "/api/v1/cluster/join", join, 403},
		{"192.0.2.1:4000", "s3cret", "/api/v1/cluster/join", join, 403},
		{"192.0.2.1:4000", "", "/api/v1/cluster/remove", `{"id":"n2"}`, 403},
		{"192.0.2.1:4000", "Bearer s3cret", "/api/v1/cluster/join", join, 200},
		{"127.0.0.1:4000", "", "/api/v1/cluster/join", join, 200},
		{"[::1]:4000", "", "/api/v1/cluster/remove", `{"id":"n2"}`, 200},
		{"127.0.0.1:4000", "", "/api/v1/cluster/join", `{"id":"n2"}`, 400},
		{"127.0.0.1:4000", "", "/api/v1/cluster/remove", `{"id":"n2","force":true}`, 400},
	}
	for _, tt := range tests {
		rec := post(tt.remote, tt.auth, tt.path, tt.body)
		if rec.Code != tt.status {
			t.Errorf("%s from %s auth %q: %d %s, want %d", tt.path, tt.remote, tt.auth, rec.Code, rec.Body, tt.status)
		}
		if tt.status == 403 && !strings.Contains(rec.Body.String(), `"not_authorized"`) {
			t.Errorf("403 body: %s", rec.Body)
		}
	}
	if len(f.Joined) != 2 || len(f.Removed) != 1 {
		t.Fatalf("joined %v removed %v", f.Joined, f.Removed)
	}
	// Without a configured token no bearer is accepted, even an empty one.
	h2 := httpapi.New(f, httpapi.Options{})
	rec := httpapitest.PostFrom(h2, "192.0.2.1:4000", "/api/v1/cluster/remove", strings.NewReader(`{"id":"n2"}`), "Authorization", "Bearer ")
	if rec.Code != 403 {
		t.Fatalf("empty token accepted: %d", rec.Code)
	}
}

func TestRequestTimeout(t *testing.T) {
	f := httpapitest.Sample()
	f.SubmitFunc = func(ctx context.Context, _ [][]byte) ([]httpapi.SubmitResult, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("board: waiting for commit: %w", ctx.Err())
	}
	srv := serve(t, f, httpapi.Options{RequestTimeout: 50 * time.Millisecond})
	a := request(t, srv, "POST", "/api/v1/entries", submitBody([]byte{1}))
	if a.status != 503 || a.errorBody(t).Code != api.CodeOverloaded || a.header.Get("Retry-After") == "" {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

// TestCancelledRequestIsNotInternal: a request whose client gives up (a
// follower's forward, a cosigner's 10 s timeout) ends the backend's wait
// with context.Canceled; that is no internal error of the node and is not
// logged as one (the 100,000-ballot demo logged dozens under load). A
// context.Canceled from the backend while the request is still wanted
// stays an internal error.
func TestCancelledRequestIsNotInternal(t *testing.T) {
	var logs testonly.LockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	started := make(chan struct{}, 1)
	f := httpapitest.Sample()
	f.SubmitFunc = func(ctx context.Context, _ [][]byte) ([]httpapi.SubmitResult, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, fmt.Errorf("board: waiting for commit: %w", ctx.Err())
	}
	srv := serve(t, f, httpapi.Options{Logger: logger})

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v1/entries", strings.NewReader(submitBody(entryOf(t, 1))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled client got %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "request cancelled") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := logs.String(); !strings.Contains(got, "request cancelled") || strings.Contains(got, "level=ERROR") {
		t.Fatalf("a request its client cancelled, logged as:\n%s", got)
	}

	// The backend's own cancellation, the request still wanted: internal.
	f.SubmitFunc = func(context.Context, [][]byte) ([]httpapi.SubmitResult, error) {
		return nil, fmt.Errorf("board: %w", context.Canceled)
	}
	a := request(t, srv, "POST", "/api/v1/entries", submitBody(entryOf(t, 1)))
	if a.status != 500 || a.errorBody(t).Code != api.CodeInternal || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a cancellation inside the node: %d %s, logs:\n%s", a.status, a.body, logs.String())
	}
}

type panicky struct{ *httpapitest.Fake }

func (panicky) Health(context.Context) (*api.Health, error) { panic("boom with secret") }

func TestPanicIsInternal(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(panicky{httpapitest.Sample()}, httpapi.Options{}))
	defer srv.Close()
	a := request(t, srv, "GET", "/api/v1/health", "")
	if a.status != 500 || a.errorBody(t).Code != api.CodeInternal || bytes.Contains(a.body, []byte("secret")) {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

func TestStaticFiles(t *testing.T) {
	web := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html><title>Urna</title>")},
		"app.js":     {Data: []byte("console.log(1)")},
	}
	srv := serve(t, httpapitest.Sample(), httpapi.Options{Static: web})
	if a := request(t, srv, "GET", "/", ""); a.status != 200 || !bytes.Contains(a.body, []byte("<title>Urna")) {
		t.Errorf("/: %d %s", a.status, a.body)
	}
	if a := request(t, srv, "GET", "/app.js", ""); a.status != 200 || string(a.body) != "console.log(1)" {
		t.Errorf("/app.js: %d %s", a.status, a.body)
	}
	if a := request(t, srv, "GET", "/api/v1/nope", ""); a.status != 404 || a.errorBody(t).Code != api.CodeNotFound {
		t.Errorf("unknown API path under a web client: %d %s", a.status, a.body)
	}
	if a := request(t, srv, "GET", "/api/v1/health", ""); a.status != 200 {
		t.Errorf("health under a web client: %d", a.status)
	}
}

func TestEvents(t *testing.T) {
	f := httpapitest.Sample()
	f.Events = make(chan api.Block, 1)
	srv := httptest.NewUnstartedServer(httpapi.New(f, httpapi.Options{KeepAlive: 20 * time.Millisecond}))
	// A stream outlives the server's ReadTimeout.
	srv.Config.ReadTimeout = 50 * time.Millisecond
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	time.Sleep(200 * time.Millisecond)
	f.Events <- f.BlocksV[1]
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), "\n\n: keep-alive") || !strings.Contains(got.String(), "event: block\n") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("stream ended: %v; got %q", err, got.String())
		}
	}
	if !strings.Contains(got.String(), `data: {"height":1,`) || !strings.Contains(got.String(), `"header":"_gE"`) {
		t.Fatalf("stream: %q", got.String())
	}
}

// TestExtraRoutes: a route the node adds after New (internal/server's
// cosign route) is not shadowed by the API's catch-all 404.
func TestExtraRoutes(t *testing.T) {
	e := httpapi.New(httpapitest.Sample(), httpapi.Options{})
	e.POST("/api/v1/cluster/cosign", func(c echo.Context) error { return c.String(http.StatusAccepted, "cosigned") })
	srv := httptest.NewServer(e)
	defer srv.Close()
	a := request(t, srv, "POST", "/api/v1/cluster/cosign", `{}`)
	if a.status != http.StatusAccepted || string(a.body) != "cosigned" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	a = request(t, srv, "DELETE", "/api/v1/health", "")
	t.Logf("DELETE /health: %d %s", a.status, a.body)
}

// TestShutdownClosesUnusedConnection: a connection that never sent a
// request (as http.Transport leaves behind when it dialled for a request
// another connection served) does not hold up a graceful shutdown; before,
// Serve waited until it was 5 s old and failed with "context deadline
// exceeded" whenever the grace was shorter.
func TestShutdownClosesUnusedConnection(t *testing.T) {
	e := handler(t, httpapitest.Sample(), httpapi.Options{})
	ln := testonly.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- httpapi.Serve(ctx, e, ln, 4*time.Second) }()

	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// A request on a second connection: the server accepts in order, so
	// the unused connection is open on its side once this is answered.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + ln.Addr().String() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return after its grace")
	}
	_ = idle.SetReadDeadline(time.Now().Add(time.Minute))
	if n, err := idle.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the unused connection is still open (read %d bytes)", n)
	}
}

// TestEntriesStreamedAsJSON: GET /entries writes its page one entry at a
// time; the bytes are exactly what encoding/json gives for the whole
// answer (as c.JSON wrote it before), for a full page, one entry and none.
func TestEntriesStreamedAsJSON(t *testing.T) {
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{})
	for _, q := range []string{"", "?from=1&limit=1", "?from=50"} {
		a := request(t, srv, "GET", "/api/v1/entries"+q, "")
		var resp api.EntriesResponse
		if err := json.Unmarshal(a.body, &resp); err != nil {
			t.Fatalf("GET /entries%s: %v", q, err)
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(resp); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.body, want.Bytes()) {
			t.Errorf("GET /entries%s:\n got %s\nwant %s", q, a.body, want.Bytes())
		}
	}
}
