package httpapi_test

// Adversarial tests of the HTTP layer (docs/SECURITY-REVIEW.md, "Node and
// API"): every bad request gets a JSON error with a stable code and never
// reaches the backend; forwarding cannot loop; slow and stalled clients are
// cut by the server's timeouts. Traffic stays on 127.0.0.1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
)

func postEntries(t *testing.T, srv *httptest.Server, body io.Reader, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+"/api/v1/entries", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return exchange(t, srv.Client(), req)
}

// exchange sends req and reads the whole answer.
func exchange(t *testing.T, hc *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// TestAttackMalformedBodies posts bodies that encoding/json or base64 would
// accept leniently, or that are too big, with the default 16 MiB limit.
func TestAttackMalformedBodies(t *testing.T) {
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{})
	many := make([][]byte, api.MaxEntriesPerPost+1)
	for i := range many {
		many[i] = []byte{1}
	}
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"duplicate key", `{"entries":["AQID"],"entries":["BAUG"]}`, 400, api.CodeMalformed},
		{"key differing in case", `{"ENTRIES":["AQID"]}`, 400, api.CodeMalformed},
		{"duplicate key by case", `{"entries":["AQID"],"Entries":["BAUG"]}`, 400, api.CodeMalformed},
		{"nested 9 deep", `{"entries":[[[[[[[[["AQID"]]]]]]]]]}`, 400, api.CodeMalformed},
		{"nested 100000 deep", `{"entries":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, 400, api.CodeMalformed},
		{"object in entries", `{"entries":[{"a":1,"a":2}]}`, 400, api.CodeMalformed},
		{"invalid UTF-8", "{\"entries\":[\"AQ\xffID\"]}", 400, api.CodeMalformed},
		{"invalid UTF-8 key", "{\"entries\xff\":[\"AQID\"]}", 400, api.CodeMalformed},
		{"trailing garbage", `{"entries":["AQID"]}}`, 400, api.CodeMalformed},
		{"trailing second object", `{"entries":["AQID"]} {"entries":["AQID"]}`, 400, api.CodeMalformed},
		{"null entries", `{"entries":null}`, 400, api.CodeMalformed},
		{"number entry", `{"entries":[1]}`, 400, api.CodeMalformed},
		{"base64 with LF", `{"entries":["AQ\nID"]}`, 400, api.CodeMalformed},
		{"base64 with CR", `{"entries":["AQID\r"]}`, 400, api.CodeMalformed},
		{"base64 padded", `{"entries":["AQI="]}`, 400, api.CodeMalformed},
		{"base64 std alphabet", `{"entries":["+/8A"]}`, 400, api.CodeMalformed},
		{"base64 non-zero trailing bits", `{"entries":["AR"]}`, 400, api.CodeMalformed},
		{"base64 space", `{"entries":["AQ ID"]}`, 400, api.CodeMalformed},
		{"257 entries", submitBody(many...), 413, api.CodeTooLarge},
		{"16 MiB + 1", `{"entries":["` + strings.Repeat("A", 16<<20+1-16) + `"]}`, 413, api.CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := postEntries(t, srv, strings.NewReader(tt.body))
			if a.status != tt.status || a.errorBody(t).Code != tt.code {
				t.Fatalf("got %d %.200s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
		})
	}
	// The same oversized body, chunked (no Content-Length).
	big := `{"entries":["` + strings.Repeat("A", 16<<20+1-16) + `"]}`
	a := postEntries(t, srv, io.MultiReader(strings.NewReader(big))) // a reader of unknown length: chunked
	if a.status != 413 || a.errorBody(t).Code != api.CodeTooLarge {
		t.Fatalf("chunked 16 MiB + 1: %d %.200s", a.status, a.body)
	}
	if len(f.Submitted) != 0 {
		t.Fatalf("rejected bodies reached the backend: %d entries", len(f.Submitted))
	}

	// Control: exactly 16 MiB is accepted, and so is 256 entries.
	b64 := strings.Repeat("A", 16<<20-16)
	if len(b64)%4 == 1 {
		t.Fatal("bad control length")
	}
	if a := postEntries(t, srv, strings.NewReader(`{"entries":["`+b64+`"]}`)); a.status != 200 {
		t.Fatalf("16 MiB body: %d %.200s", a.status, a.body)
	}
	if a := postEntries(t, srv, strings.NewReader(submitBody(many[:256]...))); a.status != 200 {
		t.Fatalf("256 entries: %d %.200s", a.status, a.body)
	}
	if len(f.Submitted) != 257 {
		t.Fatalf("backend got %d entries, want 257", len(f.Submitted))
	}
}

// rawExchange writes req on a fresh loopback connection, half-closes it if
// closeWrite, and returns the first response (or the read error).
func rawExchange(t *testing.T, addr, req string, closeWrite bool) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return nil, nil, err
	}
	if closeWrite {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b, nil
}

// TestAttackContentLengthLies sends hand-written requests whose framing lies.
func TestAttackContentLengthLies(t *testing.T) {
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{})
	addr := srv.Listener.Addr().String()
	head := "POST /api/v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	code := func(b []byte) string {
		var e api.ErrorResponse
		_ = json.Unmarshal(b, &e)
		return e.Error.Code
	}

	// Announces 1 GiB: refused at once, before any body byte is read.
	resp, body, err := rawExchange(t, addr, head+"Content-Length: 1073741824\r\n\r\n{", false)
	if err != nil || resp.StatusCode != 413 || code(body) != api.CodeTooLarge {
		t.Fatalf("1 GiB Content-Length: %v %v %s", resp, err, body)
	}
	// Announces fewer bytes than sent: the body is cut at Content-Length
	// (undecodable), and the rest is not taken as part of it.
	valid := `{"entries":["AQID"]}`
	resp, body, err = rawExchange(t, addr, head+"Content-Length: 10\r\n\r\n"+valid, false)
	if err != nil || resp.StatusCode != 400 || code(body) != api.CodeMalformed {
		t.Fatalf("short Content-Length: %v %v %s", resp, err, body)
	}
	// Announces more bytes than sent, then the client stops writing.
	resp, body, err = rawExchange(t, addr, head+"Content-Length: 100\r\n\r\n"+valid, true)
	if err != nil || resp.StatusCode != 400 || code(body) != api.CodeMalformed {
		t.Fatalf("long Content-Length: %v %v %s", resp, err, body)
	}
	if bytes.Contains(body, []byte("EOF")) || bytes.Contains(body, []byte("127.0.0.1")) {
		t.Errorf("read error text reached the client: %s", body)
	}
	// Both Content-Length and chunked (request smuggling): net/http lets the
	// chunked framing win (RFC 9112 §6.3), so the body is read whole, once;
	// the 4 bytes Content-Length names are not taken as a body.
	resp, _, err = rawExchange(t, addr, head+"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n"+valid+"\r\n0\r\n\r\n", false)
	if err != nil || resp.StatusCode != 200 || len(f.Submitted) != 1 || !bytes.Equal(f.Submitted[0], []byte{1, 2, 3}) {
		t.Fatalf("Content-Length with chunked: %v %v, backend got %v", resp, err, f.Submitted)
	}
	f.Submitted = nil
	// Two Content-Length headers that disagree: refused by net/http.
	resp, _, err = rawExchange(t, addr, head+"Content-Length: 20\r\nContent-Length: 5\r\n\r\n"+valid, false)
	if err == nil && resp.StatusCode != 400 {
		t.Fatalf("two Content-Lengths: %d", resp.StatusCode)
	}
	// A chunked body that grows past the limit is cut.
	small := serve(t, f, httpapi.Options{MaxEntriesBody: 1024})
	var chunked strings.Builder
	chunked.WriteString(head + "Transfer-Encoding: chunked\r\n\r\n")
	for range 20 {
		chunk := strings.Repeat("A", 100)
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	chunked.WriteString("0\r\n\r\n")
	resp, body, err = rawExchange(t, small.Listener.Addr().String(), chunked.String(), false)
	if err != nil || resp.StatusCode != 413 || code(body) != api.CodeTooLarge {
		t.Fatalf("chunked over the limit: %v %v %s", resp, err, body)
	}
	if len(f.Submitted) != 0 {
		t.Fatalf("lying requests reached the backend: %d entries", len(f.Submitted))
	}
}

// serveReal runs the API with its own http.Server settings (timeouts) on a
// loopback listener, as a node does; httptest.Server would use its own.
func serveReal(t *testing.T, f httpapi.Backend, opts httpapi.Options) string {
	t.Helper()
	ln := testonly.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpapi.Serve(ctx, handler(t, f, opts), ln, time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// TestAttackSlowClients: slowloris headers and bodies are cut by the
// server's ReadHeaderTimeout and ReadTimeout, and never reach the backend.
func TestAttackSlowClients(t *testing.T) {
	f := httpapitest.Sample()
	addr := serveReal(t, f, httpapi.Options{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond})

	// dribble writes s one byte every 40 ms until the server stops it,
	// and reports how long the connection lasted.
	dribble := func(prefix, s string) time.Duration {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		_ = conn.SetDeadline(start.Add(10 * time.Second))
		io.WriteString(conn, prefix)
		closed := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, conn) // the answer, then EOF when cut
			close(closed)
		}()
		for i := 0; i < len(s); i++ {
			select {
			case <-closed:
				return time.Since(start)
			case <-time.After(40 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{s[i]}); err != nil {
				break
			}
		}
		<-closed
		return time.Since(start)
	}
	hdrs := "POST /api/v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	if d := dribble("", hdrs); d > 3*time.Second {
		t.Fatalf("slow headers held the connection for %v", d)
	}
	body := `{"entries":["` + strings.Repeat("A", 200) + `"]}`
	if d := dribble(fmt.Sprintf("POST /api/v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)), body); d > 3*time.Second {
		t.Fatalf("slow body held the connection for %v", d)
	}
	if len(f.Submitted) != 0 {
		t.Fatalf("a slow request reached the backend: %d entries", len(f.Submitted))
	}
}

// TestAttackStalledStreams: SSE clients that never read hold at most
// MaxStreams slots (one more is refused with 503 and Retry-After), and a
// stalled stream is cut after WriteTimeout, which frees its slot.
func TestAttackStalledStreams(t *testing.T) {
	f := httpapitest.Sample()
	f.Events = make(chan api.Block)
	const slots = 4
	addr := serveReal(t, f, httpapi.Options{MaxStreams: slots, WriteTimeout: 300 * time.Millisecond, KeepAlive: time.Hour})
	base := "http://" + addr
	hc := &http.Client{Timeout: 5 * time.Second}

	var stalled []net.Conn
	for range slots {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Shrink the receive buffer so that the node's writes stall soon.
		_ = conn.(*net.TCPConn).SetReadBuffer(4096)
		io.WriteString(conn, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
		// Wait until the node serves this stream (its status line), so the
		// slots are all held before the probe below; then stop reading.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.Contains(status, " 200 ") {
			t.Fatalf("stalled client %d: %q, %v", len(stalled), status, err)
		}
		stalled = append(stalled, conn)
	}
	// Wait until every stalled client holds a slot: a further stream is refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := hc.Get(base + "/api/v1/events")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 503 {
			// The stalled clients' requests are not all handled yet (a slow
			// machine): this probe got a slot. Drop it at once, which frees
			// the slot, and try again; reading the stream would block.
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("a stream beyond MaxStreams was served: %d", resp.StatusCode)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		var e api.ErrorResponse
		if json.Unmarshal(b, &e) != nil || e.Error.Code != api.CodeOverloaded || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("stream over the limit: %d %v %s", resp.StatusCode, resp.Header, b)
		}
		break
	}
	// Flood the streams with big blocks: the stalled ones block in write and
	// are cut after WriteTimeout.
	blk := f.BlocksV[1]
	blk.Header = bytes.Repeat([]byte{0xfe}, 256<<10)
	stop := time.Now().Add(10 * time.Second)
	for time.Now().Before(stop) {
		select {
		case f.Events <- blk:
			continue
		case <-time.After(50 * time.Millisecond):
		}
		// No handler takes blocks: all are stalled in a write (or gone).
		resp, err := hc.Get(base + "/api/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		probe, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = probe.SetDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(probe, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
		r, err := http.ReadResponse(bufio.NewReader(probe), nil)
		probe.Close()
		if err == nil && r.StatusCode == 200 {
			return // a stalled stream was cut and its slot reused
		}
	}
	t.Fatal("stalled streams were never cut")
}

// countingHandler counts the requests reaching h: those for path, or
// every one when path is empty.
type countingHandler struct {
	h    http.Handler
	path string
	n    atomic.Int64
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.path == "" || r.URL.Path == c.path {
		c.n.Add(1)
	}
	c.h.ServeHTTP(w, r)
}

// TestAttackForwardLoop: two followers that each name the other as leader,
// and a follower whose leader metadata names itself, answer 503 no_leader
// after one hop; a client's own X-Urna-Forwarded only stops forwarding.
func TestAttackForwardLoop(t *testing.T) {
	newFollower := func() (*httpapitest.Fake, *countingHandler, *httptest.Server) {
		f := followerOf("", "Submit", "Join") // each names the other below
		ch := &countingHandler{h: handler(t, f, httpapi.Options{ClusterToken: "tok"})}
		srv := httptest.NewServer(ch)
		t.Cleanup(srv.Close)
		return f, ch, srv
	}
	fa, ca, sa := newFollower()
	fb, cb, sb := newFollower()
	fa.Leader, fb.Leader = sb.URL, sa.URL

	check := func(name string, a answer, wantA, wantB int64) {
		t.Helper()
		if a.status != 503 || a.errorBody(t).Code != api.CodeNoLeader || a.header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %v %s", name, a.status, a.header, a.body)
		}
		if ca.n.Load() != wantA || cb.n.Load() != wantB {
			t.Errorf("%s: %d requests reached A and %d B, want %d and %d", name, ca.n.Load(), cb.n.Load(), wantA, wantB)
		}
		ca.n.Store(0)
		cb.n.Store(0)
	}
	check("A→B→A", request(t, sa, "POST", "/api/v1/entries", submitBody(entryOf(t, 1))), 1, 1)
	check("join A→B→A", request(t, sa, "POST", "/api/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:1","api_addr":"http://127.0.0.1:2"}`), 1, 1)

	// A names itself as leader (stale or forged metadata): one self-hop.
	fa.Leader = sa.URL
	check("A→A", request(t, sa, "POST", "/api/v1/entries", submitBody(entryOf(t, 1))), 2, 0)

	// A client-set X-Urna-Forwarded is not a bypass: it only stops the hop.
	fa.Leader = sb.URL
	check("spoofed header", request(t, sa, "POST", "/api/v1/entries", submitBody(entryOf(t, 1)), "X-Urna-Forwarded", "1"), 1, 0)

	// The leader changes under the follower: the old leader refuses the
	// forwarded write without forwarding it again; once the follower knows
	// the new leader, the retry reaches it.
	newLeader := httpapitest.Sample()
	nl := &countingHandler{h: httpapi.New(newLeader, httpapi.Options{})}
	snl := httptest.NewServer(nl)
	defer snl.Close()
	fb.Leader = snl.URL // B (the old leader) now knows the new one
	check("to the old leader", request(t, sa, "POST", "/api/v1/entries", submitBody(entryOf(t, 1))), 1, 1)
	if nl.n.Load() != 0 {
		t.Fatalf("the old leader forwarded a forwarded write")
	}
	fa.Leader = snl.URL
	if a := request(t, sa, "POST", "/api/v1/entries", submitBody(entryOf(t, 7))); a.status != 200 || nl.n.Load() != 1 || len(newLeader.Submitted) != 1 {
		t.Fatalf("retry after the leader change: %d %s", a.status, a.body)
	}
	// Reads are never forwarded.
	ca.n.Store(0)
	cb.n.Store(0)
	if a := request(t, sa, "GET", "/api/v1/health", ""); a.status != 200 || cb.n.Load() != 0 {
		t.Fatalf("read: %d, B saw %d", a.status, cb.n.Load())
	}
}

// TestAttackClusterGuardSpoofing: headers that name loopback, malformed
// bearer tokens and odd peer addresses never pass the cluster guard.
func TestAttackClusterGuardSpoofing(t *testing.T) {
	f := httpapitest.Sample()
	h := httpapi.New(f, httpapi.Options{ClusterToken: "s3cret"})
	join := `{"id":"n2","raft_addr":"10.0.0.2:7000","api_addr":"http://10.0.0.2:8080"}`
	tests := []struct {
		name, remote string
		hdr          []string
	}{
		{"X-Forwarded-For loopback", "192.0.2.1:4000", []string{"X-Forwarded-For", "127.0.0.1"}},
		{"X-Real-IP loopback", "192.0.2.1:4000", []string{"X-Real-Ip", "127.0.0.1"}},
		{"Forwarded loopback", "192.0.2.1:4000", []string{"Forwarded", "for=127.0.0.1"}},
		{"lower-case bearer", "192.0.2.1:4000", []string{"Authorization", "bearer s3cret"}},
		{"token with trailing space", "192.0.2.1:4000", []string{"Authorization", "Bearer s3cret "}},
		{"token prefix", "192.0.2.1:4000", []string{"Authorization", "Bearer s3cre"}},
		{"token twice", "192.0.2.1:4000", []string{"Authorization", "Bearer s3crets3cret"}},
		{"basic auth", "192.0.2.1:4000", []string{"Authorization", "Basic czNjcmV0"}},
		{"token in query", "192.0.2.1:4000", nil},
		{"host name peer", "localhost:4000", nil},
		{"loopback-looking host", "127.0.0.1.example:4000", nil},
		{"unspecified address", "0.0.0.0:4000", nil},
		{"IPv6 unspecified", "[::]:4000", nil},
		{"empty peer", "", nil},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/v1/cluster/join", "/api/v1/cluster/remove"} {
			body := join
			if strings.HasSuffix(path, "remove") {
				body = `{"id":"n2"}`
			}
			target := path
			if tt.name == "token in query" {
				target += "?token=s3cret"
			}
			rec := httpapitest.PostFrom(h, tt.remote, target, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, tt.hdr...)...)
			if rec.Code != 403 || !strings.Contains(rec.Body.String(), `"not_authorized"`) {
				t.Errorf("%s %s: %d %s", tt.name, path, rec.Code, rec.Body)
			}
		}
	}
	if len(f.Joined) != 0 || len(f.Removed) != 0 {
		t.Fatalf("spoofed requests changed the cluster: joined %v removed %v", f.Joined, f.Removed)
	}
}

// TestAttackErrorBodiesNeverLeak: internal errors from every read route and
// from submitted items reach the client as "internal" without their text;
// overload and leadership errors have fixed messages.
func TestAttackErrorBodiesNeverLeak(t *testing.T) {
	const secret = "postgres://urna:hunter2@10.1.2.3/urna"
	f := httpapitest.Sample()
	srv := serve(t, f, httpapi.Options{})
	routes := map[string]string{
		"Health": "/api/v1/health", "Election": "/api/v1/election", "Entries": "/api/v1/entries",
		"Blocks": "/api/v1/blocks", "Tracker": "/api/v1/trackers/K7QF-2MZX", "Checkpoint": "/api/v1/checkpoint",
		"InclusionProof": "/api/v1/proofs/inclusion?seq=0&size=2", "ConsistencyProof": "/api/v1/proofs/consistency?from=1&to=2",
		"Receipt": "/api/v1/receipts/2", "Cluster": "/api/v1/cluster", "WriteRecord": "/api/v1/record",
	}
	for method, path := range routes {
		f.Errs = map[string]error{method: fmt.Errorf("store: dial %s: connection refused", secret)}
		a := request(t, srv, "GET", path, "")
		if a.status != 500 || a.errorBody(t).Code != api.CodeInternal || bytes.Contains(a.body, []byte("hunter2")) {
			t.Errorf("%s: %d %s", path, a.status, a.body)
		}
	}
	f.Errs = nil
	f.RecordErr = nil
	for _, err := range []error{
		fmt.Errorf("board: %s: %w", secret, replica.ErrOverloaded),
		fmt.Errorf("board: %s: %w", secret, replica.ErrLeadershipLost),
		fmt.Errorf("board: %s: %w", secret, &replica.NotLeaderError{LeaderID: "n2", LeaderAPI: secret}),
		fmt.Errorf("board: %s: %w", secret, context.DeadlineExceeded),
	} {
		f.SetErr("Submit", err)
		f.Leader = ""
		a := request(t, srv, "POST", "/api/v1/entries", submitBody(entryOf(t, 1)))
		if a.status != 503 || bytes.Contains(a.body, []byte("hunter2")) || a.header.Get("Retry-After") == "" {
			t.Errorf("%v: %d %s", err, a.status, a.body)
		}
	}
	f.SetErr("Submit", nil)
	f.SubmitFunc = func(context.Context, [][]byte) ([]httpapi.SubmitResult, error) {
		return []httpapi.SubmitResult{{Err: fmt.Errorf("store: %s", secret)}}, nil
	}
	a := request(t, srv, "POST", "/api/v1/entries", submitBody([]byte{1}))
	if a.status != 200 || !bytes.Contains(a.body, []byte(`"internal"`)) || bytes.Contains(a.body, []byte("hunter2")) {
		t.Errorf("item error: %d %s", a.status, a.body)
	}
}

// TestAttackOversizedEntries: binary posts whose entry is larger than its
// type allows, or whose framing lies, are refused with a clear error from
// the envelope's header (before the rest of the body is read, so a huge
// declared size costs the node nothing) and never reach the backend.
func TestAttackOversizedEntries(t *testing.T) {
	f := httpapitest.Sample()
	addr := serveReal(t, f, httpapi.Options{})
	head := "POST /api/v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: " + api.EntryContentType + "\r\n"
	code := func(b []byte) (string, string) {
		var e api.ErrorResponse
		_ = json.Unmarshal(b, &e)
		return e.Error.Code, e.Error.Message
	}

	// Declared past the type's limit: refused on the header alone, while
	// the client still holds the rest of the (announced) body.
	for _, tc := range []struct {
		t    bulletin.EntryType
		body int
	}{
		{bulletin.TypeBallot, bulletin.TypeBallot.MaxBodySize() + 1},
		{bulletin.TypeCredentials, bulletin.TypeCredentials.MaxBodySize() + 1},
		{bulletin.TypeShuffle, 1<<32 - 1},
	} {
		e := rawEntry(1, tc.t, 0)
		binary.BigEndian.PutUint32(e[67:], uint32(tc.body))
		req := fmt.Sprintf("%sContent-Length: %d\r\n\r\n%s", head, 71+tc.body+64, e[:71])
		// Why closeWrite for a small one: net/http reads what is left of a
		// small body (up to 256 KiB) before it answers, to keep the
		// connection; a large one it closes instead.
		resp, body, err := rawExchange(t, addr, req, tc.body < 1<<20)
		c, msg := code(body)
		if err != nil || resp.StatusCode != 413 || c != api.CodeTooLarge || !strings.Contains(msg, "limit") {
			t.Errorf("a %s body of %d bytes: %v %v %s, want 413 too_large naming the limit", tc.t, tc.body, resp, err, body)
		}
	}

	ballot := rawEntry(1, bulletin.TypeBallot, 1000)
	for _, tc := range []struct {
		name   string
		body   []byte
		length int64
		status int
		code   string
	}{
		{"bytes after the entry", append(bytes.Clone(ballot), 0), -1, 413, api.CodeTooLarge},
		{"two entries in one binary post", append(bytes.Clone(ballot), ballot...), -1, 413, api.CodeTooLarge},
		{"shorter than its header declares", ballot[:len(ballot)-1], -1, 400, api.CodeMalformed},
		{"cut inside the header", ballot[:40], -1, 400, api.CodeMalformed},
		{"Content-Length other than the header's size", append(bytes.Clone(ballot), 0), int64(len(ballot) + 1), 400, api.CodeMalformed},
		{"an unknown type", rawEntry(1, 99, 10), -1, 400, api.CodeMalformed},
		{"another envelope version", rawEntry(2, bulletin.TypeBallot, 10), -1, 400, api.CodeMalformed},
		{"nothing", nil, 0, 400, api.CodeMalformed},
	} {
		a := postRaw(t, addr, bytes.NewReader(tc.body), tc.length)
		if c, msg := code(a.body); a.status != tc.status || c != tc.code || msg == "" {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}
	if len(f.Submitted) != 0 {
		t.Fatalf("refused posts reached the backend: %d entries", len(f.Submitted))
	}
	// The node still takes an honest post.
	if a := postRaw(t, addr, bytes.NewReader(ballot), int64(len(ballot))); a.status != 200 || len(f.Submitted) != 1 {
		t.Fatalf("an honest binary post after the attacks: %d %s", a.status, a.body)
	}
}

// TestAttackSlowLargeEntry: a slowloris client starts a large binary post
// (one over MaxEntriesBody) and stops sending. It holds one of the
// MaxLargePosts tokens, so another large post meanwhile is refused with
// 503 and Retry-After (memory stays bounded), small posts go on, and once
// ReadTimeout cuts it the token is free again; nothing of it reaches the
// backend. The same tokens bound answers of GET /entries whose entries
// exceed MaxEntriesBody: one is refused alike while the token is held.
func TestAttackSlowLargeEntry(t *testing.T) {
	f := httpapitest.Sample()
	addr := serveReal(t, f, httpapi.Options{MaxEntriesBody: 4096, MaxLargePosts: 1, ReadTimeout: 5 * time.Second})
	large := rawEntry(1, bulletin.TypeCredentials, 8192)
	small := rawEntry(1, bulletin.TypeBallot, 100)
	bigSeq := uint64(len(f.EntriesV))
	f.EntriesV = append(f.EntriesV, api.Entry{Seq: bigSeq, Type: "credentials", Entry: large})
	read := func(path string) answer {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return exchange(t, http.DefaultClient, req)
	}
	bigReads := []string{fmt.Sprintf("/api/v1/entries?from=%d", bigSeq), fmt.Sprintf("/api/v1/entries/%d", bigSeq)}
	for i, p := range bigReads {
		a := read(p)
		var page api.EntriesResponse
		var err error
		if i == 0 {
			err = json.Unmarshal(a.body, &page)
		} else {
			page.Entries = make([]api.Entry, 1)
			err = json.Unmarshal(a.body, &page.Entries[0])
		}
		if a.status != 200 || err != nil || len(page.Entries) != 1 || !bytes.Equal(page.Entries[0].Entry, large) {
			t.Fatalf("GET %s with the token free: %d (%v), want 200 with the entry", p, a.status, err)
		}
	}

	// startSlow sends a large post's header and its first bytes, then
	// nothing.
	startSlow := func() net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
		fmt.Fprintf(conn, "POST /api/v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", api.EntryContentType, len(large))
		conn.Write(large[:200])
		return conn
	}
	// answered tells whether the server has already answered the slow
	// post: it was itself refused (a large post of the loop below held the
	// token when it arrived) or, on a busy machine, cut by ReadTimeout
	// before the loop saw a refusal. Either way it holds no token.
	answered := func(conn net.Conn) bool {
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		var one [1]byte
		n, err := conn.Read(one[:])
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
		var ne net.Error
		return n > 0 || !(errors.As(err, &ne) && ne.Timeout())
	}
	conn := startSlow()
	defer func() { conn.Close() }()

	// Another large post is refused while the slow one holds the token.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if answered(conn) {
			conn.Close()
			conn = startSlow()
		}
		a := postRaw(t, addr, bytes.NewReader(large), int64(len(large)))
		if a.status == 503 {
			if a.errorBody(t).Code != api.CodeOverloaded || a.header.Get("Retry-After") == "" {
				t.Fatalf("a large post beside the slow one: %d %v %s, want 503 overloaded with Retry-After", a.status, a.header, a.body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no large post was refused while a slow one held the only token (last: %d %s)", a.status, a.body)
		}
		f.Submitted = nil // accepted before the slow post took the token
	}
	if a := postRaw(t, addr, bytes.NewReader(small), int64(len(small))); a.status != 200 {
		t.Fatalf("a small post beside the slow large one: %d %s", a.status, a.body)
	}
	for _, p := range bigReads {
		if a := read(p); a.status != 503 || a.errorBody(t).Code != api.CodeOverloaded || a.header.Get("Retry-After") == "" {
			t.Fatalf("GET %s beside the slow post: %d %s, want 503 overloaded with Retry-After", p, a.status, a.body)
		}
	}
	if a := read(fmt.Sprintf("/api/v1/entries?from=0&limit=%d", bigSeq)); a.status != 200 {
		t.Fatalf("a page of small entries beside the slow post: %d %s", a.status, a.body)
	}

	// The slow post is cut by the read timeout, with a clear error (or a
	// closed connection), and frees its token.
	b, _ := io.ReadAll(conn)
	if len(b) > 0 && !bytes.Contains(b, []byte(api.CodeMalformed)) {
		t.Errorf("the slow post's answer: %s", b)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		a := postRaw(t, addr, bytes.NewReader(large), int64(len(large)))
		if a.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the token was not freed after the slow post was cut: %d %s", a.status, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, e := range f.Submitted {
		if !bytes.Equal(e, small) && !bytes.Equal(e, large) {
			t.Fatalf("a part of the slow post reached the backend (%d bytes)", len(e))
		}
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
