package server

// Adversarial tests against running in-process clusters on 127.0.0.1
// (docs/SECURITY-REVIEW.md, "Node and API"): every bad post gets its error
// code, the board is unchanged by it, and nothing acknowledged is lost or
// counted twice.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

// startElection makes the board test election for voters and starts a
// cluster of n nodes for it, as startCluster does.
func startElection(t *testing.T, voters, n int, tune func(*Config)) (*testonly.Election, []*Node) {
	t.Helper()
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: voters})
	return e, startCluster(t, e, n, tune)
}

// startWithManifest starts a cluster of n nodes for a 2-voter election,
// as startElection does, posts its manifest through the first node and
// waits until every node applied it.
func startWithManifest(t *testing.T, n int, tune func(*Config)) (*testonly.Election, []*Node) {
	t.Helper()
	e, nodes := startElection(t, 2, n, tune)
	mustPost(t, &http.Client{Timeout: 10 * time.Second}, nodes[0].APIAddr, e.ManifestEntry())
	settled(t, nodes)
	return e, nodes
}

// startCluster starts n in-process nodes on loopback (n1 bootstraps, the
// others join through it) and stops them at the end of the test.
func startCluster(t testing.TB, e *testonly.Election, n int, tune func(*Config)) []*Node {
	t.Helper()
	base := t.TempDir()
	var nodes []*Node
	t.Cleanup(func() {
		for _, nd := range nodes {
			_ = nd.Stop()
		}
	})
	for i := range n {
		cfg := nodeConfig(t, e, base, fmt.Sprintf("n%d", i+1))
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = nodes[0].APIAddr
		}
		if tune != nil {
			tune(&cfg)
		}
		nd, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, nd)
	}
	return nodes
}

// nodeConfig is the config of test node id of e's board, with its data
// under base, loopback listeners on free ports and testRaftTiming.
func nodeConfig(t testing.TB, e *testonly.Election, base, id string) Config {
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir = id, filepath.Join(base, id)
	cfg.RaftBind, cfg.HTTPListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.SigningKey = e.NodeKeys()[id]
	cfg.Logger = testonly.Logger(t, slog.LevelWarn)
	cfg.Replica = testRaftTiming
	return cfg
}

// testRaftTiming makes elections quick enough for tests while leaving a
// margin for a machine whose cores are shared with other work: a 100 ms
// lease (with heartbeat and election timeouts equal to it) made leaders
// step down whenever a test process went unscheduled for a tenth of a
// second, and TestAttackCluster failed 3 runs in 5 under load.
func testRaftTiming(rc *replica.Config) {
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 600*time.Millisecond, 600*time.Millisecond, 400*time.Millisecond
}

type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a rawAnswer) code() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

func (a rawAnswer) items(t *testing.T) []submitItem {
	t.Helper()
	var out struct {
		Results []submitItem `json:"results"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil {
		t.Fatalf("not a processed request: %d %.300s", a.status, a.body)
	}
	return out.Results
}

func rawPost(t *testing.T, url, ctype string, body []byte) rawAnswer {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return rawDo(t, req)
}

// rawDo sends req and returns the answer as it came.
func rawDo(t *testing.T, req *http.Request) rawAnswer {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, resp.Header, b}
}

// retryable reports whether an answer is the cluster's "try again" (a
// leader change or overload in progress) rather than the board's verdict.
func (a rawAnswer) retryable() bool {
	return a.status == http.StatusServiceUnavailable && (a.code() == api.CodeNoLeader || a.code() == api.CodeOverloaded)
}

// postRetry posts until the answer is not retryable (or 30 s passed). A
// retry is safe: posting is idempotent, so an entry whose first attempt
// was committed before a leader change is answered with its position.
func postRetry(t *testing.T, url, ctype string, body []byte) rawAnswer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := rawPost(t, url, ctype, body)
		if !a.retryable() || time.Now().After(deadline) {
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// submitVia posts entries to node n, retrying while the cluster elects a
// leader, and returns the items.
func submitVia(t *testing.T, n *Node, entries ...[]byte) []submitItem {
	t.Helper()
	return postRetry(t, n.APIAddr+"/api/v1/entries", "application/json", submitJSON(entries...)).items(t)
}

func submitJSON(entries ...[]byte) []byte {
	var req struct {
		Entries []string `json:"entries"`
	}
	for _, e := range entries {
		req.Entries = append(req.Entries, wire.EncodeB64(e))
	}
	b, _ := json.Marshal(req)
	return b
}

// boardState is what an attack must not change.
type boardState struct {
	Phase   string
	Entries uint64
	Ballots uint64
	Size    uint64
	Root    string
}

// stateClient reads the nodes' state (an HTTPS client in TLS tests).
var stateClient = &http.Client{Timeout: 10 * time.Second}

func stateOf(t *testing.T, n *Node) boardState {
	t.Helper()
	hc := stateClient
	var st struct {
		Phase  string `json:"phase"`
		Counts struct {
			Entries uint64 `json:"entries"`
			Ballots uint64 `json:"ballots"`
		} `json:"counts"`
	}
	var cp struct {
		Size uint64 `json:"size"`
		Root string `json:"root"`
	}
	if err := getJSON(context.Background(), hc, n.APIAddr+"/api/v1/election", &st); err != nil {
		t.Fatal(err)
	}
	// A node serves no checkpoint until one is signed by a quorum (never,
	// when fewer nodes run than the manifest's quorum): size 0 then.
	if err := getJSON(context.Background(), hc, n.APIAddr+"/api/v1/checkpoint", &cp); err != nil && !strings.Contains(err.Error(), "status 404") {
		t.Fatal(err)
	}
	return boardState{st.Phase, st.Counts.Entries, st.Counts.Ballots, cp.Size, cp.Root}
}

// settled waits until every node has applied what the current leader has
// applied (the leader is looked up afresh each round: it may change) and
// the nodes agree on the board, and returns that state.
func settled(t *testing.T, nodes []*Node) boardState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var target uint64
		for _, n := range nodes {
			if n.Replica.IsLeader() {
				target = n.Board.AppliedIndex()
			}
		}
		caught := target > 0
		for _, n := range nodes {
			caught = caught && n.Board.AppliedIndex() >= target
		}
		if !caught {
			continue
		}
		s := stateOf(t, nodes[0])
		same := true
		for _, n := range nodes[1:] {
			if o := stateOf(t, n); o != s {
				same = false
			}
		}
		if same {
			return s
		}
	}
	t.Fatalf("nodes do not converge")
	return boardState{}
}

func leaderOf(t *testing.T, nodes []*Node) (leader *Node, followers []*Node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n.Replica.IsLeader() {
				for _, f := range nodes {
					if f != n {
						followers = append(followers, f)
					}
				}
				return n, followers
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no leader")
	return nil, nil
}

// cosignCmd frames a cosign command as internal/board does (SPEC.md §3.8:
// node ID, size, root, raw signature).
func cosignCmd(node string, size uint64, root []byte, sig []byte) []byte {
	b := []byte{2, byte(len(node))}
	b = append(b, node...)
	b = binary.BigEndian.AppendUint64(b, size)
	b = append(b, root...)
	b = append(b, byte(len(sig)))
	return append(b, sig...)
}

// TestAttackCluster runs the bad-input attacks of the brief against a
// 3-node cluster and checks, after each, that every node's board is as
// before.
func TestAttackCluster(t *testing.T) {
	e, nodes := startElection(t, 6, 3, nil)
	hc := &http.Client{Timeout: 10 * time.Second}
	mustPost(t, hc, nodes[0].APIAddr, e.ManifestEntry())
	mustPost(t, hc, nodes[1].APIAddr, e.CredentialsEntry())
	mustPost(t, hc, nodes[2].APIAddr, e.DealEntries()...)
	mustPost(t, hc, nodes[0].APIAddr, e.ConfirmationEntries()...)
	mustPost(t, hc, nodes[0].APIAddr, e.OpenEntry())
	// leader and followers are the roles at the start; the leader may
	// change during the test (a slow machine), so every request that must
	// reach the leader looks it up again (leaderOf) and retries while
	// there is none (postRetry), and requests sent to "leader" below are
	// sent to whichever role that node has by then.
	leader, followers := leaderOf(t, nodes)
	entriesURL := func(n *Node) string { return n.APIAddr + "/api/v1/entries" }

	// A ballot through a follower is forwarded and committed once.
	b0, bal0, _ := e.BallotEntry(0, testonly.Pick(1, 0))
	items := submitVia(t, followers[0], b0)
	if items[0].Error != nil {
		t.Fatalf("ballot through a follower: %s", items[0].Error.Code)
	}
	b0Seq := items[0].Seq
	before := settled(t, nodes)
	if before.Ballots != 1 || before.Phase != "open" {
		t.Fatalf("state after one ballot: %+v", before)
	}
	unchanged := func(what string) {
		t.Helper()
		// Anything wrongly committed was committed before its answer;
		// settled waits until every node applied it.
		settled(t, nodes)
		for _, n := range nodes {
			if s := stateOf(t, n); s.Entries != before.Entries || s.Ballots != before.Ballots || s.Phase != before.Phase {
				t.Errorf("%s changed the board of %s: %+v, was %+v", what, n.ID, s, before)
			}
		}
	}

	stranger := e.Stranger()
	body := func(raw []byte) []byte {
		en, err := bulletin.ParseEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		return en.Body
	}
	forged := bytes.Clone(b0)
	forged[len(forged)-1] ^= 1 // the signature's last byte
	otherElection := func() []byte {
		fp := e.Fingerprint()
		fp[0] ^= 1
		en, err := bulletin.NewEntry(bulletin.TypeBallot, fp, bulletin.RoleVoter, stranger.Public(), body(b0))
		if err != nil {
			t.Fatal(err)
		}
		if err := en.Sign(e.Rand, stranger); err != nil {
			t.Fatal(err)
		}
		return en.Bytes()
	}()
	unknownCred := e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, stranger, body(b0))
	strangerClose := e.Entry(bulletin.TypeClose, bulletin.RoleAuthority, stranger, (&bulletin.CloseBody{Reason: "coup"}).Bytes())
	secondOpen := e.OpenEntry() // the authority's, but the election is open already

	itemCases := []struct {
		name  string
		entry []byte
		code  string
	}{
		{"forged signature", forged, "invalid_signature"},
		{"another election", otherElection, "wrong_election"},
		{"unknown credential", unknownCred, "unknown_credential"},
		{"close by a stranger", strangerClose, "not_authorized"},
		{"second open", secondOpen, "wrong_phase"},
		{"garbage bytes", []byte("not an entry at all"), "malformed"},
		{"truncated entry", b0[:len(b0)/2], "malformed"},
	}
	// Posting is idempotent (docs/API.md): the same bytes again, through
	// any node, answer the position they took and change nothing.
	for _, n := range []*Node{leader, followers[0], followers[1]} {
		items := submitVia(t, n, b0)
		if items[0].Error != nil || items[0].Seq != b0Seq {
			t.Errorf("replay via %s: %+v, want the position %d of the first post", n.ID, items[0], b0Seq)
		}
	}
	unchanged("replay")
	for _, tc := range itemCases {
		for _, n := range []*Node{leader, followers[0], followers[1]} {
			items := submitVia(t, n, tc.entry)
			if items[0].Error == nil || items[0].Error.Code != tc.code {
				t.Errorf("%s via %s: %+v, want %s", tc.name, n.ID, items[0], tc.code)
			}
		}
		unchanged(tc.name)
	}

	// Request-level rejections: nothing is processed.
	many := make([][]byte, 257)
	for i := range many {
		many[i] = b0
	}
	big := append([]byte(`{"entries":["`), bytes.Repeat([]byte("A"), 16<<20+1-16)...)
	big = append(big, `"]}`...)
	reqCases := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"257 entries", submitJSON(many...), 413, "too_large"},
		{"16 MiB + 1", big, 413, "too_large"},
		{"duplicate key", []byte(`{"entries":["` + wire.EncodeB64(b0) + `"],"entries":["AQID"]}`), 400, "malformed"},
		{"trailing garbage", append(submitJSON(b0), '!'), 400, "malformed"},
		{"padded base64", []byte(`{"entries":["` + wire.EncodeB64(b0) + `="]}`), 400, "malformed"},
	}
	for _, tc := range reqCases {
		for _, n := range []*Node{leader, followers[0]} {
			a := postRetry(t, entriesURL(n), "application/json", tc.body)
			if a.status != tc.status || a.code() != tc.code {
				t.Errorf("%s via %s: %d %.200s", tc.name, n.ID, a.status, a.body)
			}
		}
		unchanged(tc.name)
	}

	// A mixed request: the valid entry is committed, the others get their
	// codes, in order.
	b1, bal1, _ := e.BallotEntry(1, testonly.Pick(2, 1))
	items = submitVia(t, followers[1], b1, b0, unknownCred, b1)
	codes := []string{"", "", "unknown_credential", ""}
	for i, it := range items {
		got := ""
		if it.Error != nil {
			got = it.Error.Code
		}
		if got != codes[i] {
			t.Errorf("mixed item %d: %q, want %q", i, got, codes[i])
		}
	}
	// b0 again answers its first position; b1 twice in one request takes
	// one position, answered to both.
	if items[1].Seq != b0Seq || items[3].Seq != items[0].Seq || items[0].Seq == b0Seq {
		t.Errorf("mixed positions: b1 %d and %d, b0 %d (first at %d)", items[0].Seq, items[3].Seq, items[1].Seq, b0Seq)
	}
	b1Seq := items[0].Seq
	before = settled(t, nodes)
	if before.Ballots != 2 {
		t.Fatalf("after the mixed request: %+v", before)
	}

	t.Run("cosign", func(t *testing.T) {
		cp := settled(t, nodes)
		root, _ := hex.DecodeString(cp.Root)
		sig := bytes.Repeat([]byte{7}, 68)
		// The cosign route is not forwarded (a follower answers 503
		// no_leader): post to the leader of the moment, again after a
		// leader change.
		postCosign := func(cmd []byte) rawAnswer {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for {
				l, _ := leaderOf(t, nodes)
				a := rawPost(t, l.APIAddr+api.CosignPath, "application/octet-stream", cmd)
				if !a.retryable() || time.Now().After(deadline) {
					return a
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		signers := func() string {
			var c struct {
				Signers []string `json:"signers"`
			}
			l, _ := leaderOf(t, nodes)
			_ = getJSON(context.Background(), hc, l.APIAddr+"/api/v1/checkpoint", &c)
			return strings.Join(c.Signers, ",")
		}
		smuggled := []byte{1}
		smuggled = binary.BigEndian.AppendUint64(smuggled, 0)
		smuggled = binary.BigEndian.AppendUint32(smuggled, 1)
		smuggled = binary.BigEndian.AppendUint32(smuggled, uint32(len(strangerClose)))
		smuggled = append(smuggled, strangerClose...)
		cases := []struct {
			name   string
			cmd    []byte
			status int
			code   string
		}{
			{"bad signature", cosignCmd("n2", cp.Size, root, sig), 409, "cosign_rejected"},
			{"wrong root", cosignCmd("n2", cp.Size, bytes.Repeat([]byte{9}, 32), sig), 409, "cosign_rejected"},
			{"unknown node", cosignCmd("n9", cp.Size, root, sig), 409, "cosign_rejected"},
			{"size beyond the log", cosignCmd("n2", cp.Size+1000, root, sig), 409, "cosign_rejected"},
			{"size zero", cosignCmd("n2", 0, root, sig), 409, "cosign_rejected"},
			{"truncated", cosignCmd("n2", cp.Size, root, sig)[:20], 400, "malformed"},
			{"empty", nil, 400, "malformed"},
			{"an entries command", smuggled, 400, "malformed"},
			{"oversized", bytes.Repeat([]byte{2}, 4096), 413, "too_large"},
		}
		was := signers()
		for _, tc := range cases {
			a := postCosign(tc.cmd)
			if a.status != tc.status || a.code() != tc.code {
				t.Errorf("%s: %d %s", tc.name, a.status, a.body)
			}
			if bytes.Contains(a.body, []byte("board:")) {
				t.Errorf("%s: internal error text: %s", tc.name, a.body)
			}
		}
		unchanged("cosign attacks")
		if now := signers(); strings.Contains(now, "n9") || len(now) < len(was) {
			t.Errorf("checkpoint signers %q, were %q", now, was)
		}
		// From a non-loopback peer (simulated; no traffic leaves the host),
		// with no, a wrong or a malformed token.
		node := httpapi.New(httpapi.NewNode(leader.Board), httpapi.Options{ClusterToken: "tok"})
		for _, auth := range []string{"", "Bearer wrong", "tok", "Bearer tok ", "bearer tok"} {
			for _, remote := range []string{"192.0.2.7:5000", "[2001:db8::1]:5000", "localhost:5000"} {
				rec := httpapitest.PostFrom(node, remote, api.CosignPath, bytes.NewReader(cosignCmd("n2", cp.Size, root, sig)), "X-Forwarded-For", "127.0.0.1", "Authorization", auth)
				a := rawAnswer{rec.Code, rec.Header(), rec.Body.Bytes()}
				if a.status != 403 || a.code() != "not_authorized" {
					t.Errorf("cosign from %s auth %q: %d %s", remote, auth, a.status, a.body)
				}
			}
		}
		// With the token, a non-loopback peer reaches the FSM's check (on
		// the leader of the moment).
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			l, _ := leaderOf(t, nodes)
			node := httpapi.New(httpapi.NewNode(l.Board), httpapi.Options{ClusterToken: "tok"})
			rec := httpapitest.PostFrom(node, "192.0.2.7:5000", api.CosignPath, bytes.NewReader(cosignCmd("n2", cp.Size, root, sig)), "Authorization", "Bearer tok")
			a := rawAnswer{rec.Code, rec.Header(), rec.Body.Bytes()}
			if a.retryable() && time.Now().Before(deadline) {
				continue
			}
			if a.status != 409 || a.code() != "cosign_rejected" {
				t.Errorf("cosign with the token: %d %s", a.status, a.body)
			}
			break
		}
		unchanged("cosign attacks from outside")
	})

	var bal2 *ballot.Ballot
	t.Run("forwarding loop through leader metadata", func(t *testing.T) {
		// Point the leader's API metadata at a follower (a join from
		// loopback may update a member's addresses). Followers then
		// forward to that follower, which must not forward again. A
		// leader change in the middle rewrites the metadata (a new leader
		// records its own address), so the scenario is run again then.
		var b2 []byte
		b2, bal2, _ = e.BallotEntry(2, testonly.Pick(0, 0))
		for attempt := 1; ; attempt++ {
			problems, stable := forwardingLoop(t, nodes, b2)
			if stable || attempt == 3 {
				for _, p := range problems {
					t.Error(p)
				}
				break
			}
			t.Logf("the leader changed during attempt %d; again", attempt)
		}
		items := submitVia(t, followers[0], b2)
		if items[0].Error != nil {
			t.Fatalf("after restoring the metadata: %s", items[0].Error.Code)
		}
		before = settled(t, nodes)
	})

	t.Run("after the close and the result", func(t *testing.T) {
		mustPost(t, hc, leader.APIAddr, e.CloseEntry())
		before = settled(t, nodes)
		if before.Phase != "closed" {
			t.Fatalf("phase %q after close", before.Phase)
		}
		late, _, _ := e.BallotEntry(3, testonly.Pick(0, 0))
		reopen := e.OpenEntry()
		// The very bytes of a ballot cast before the close answer their
		// position: no new ballot enters.
		if items := submitVia(t, followers[0], b1); items[0].Error != nil || items[0].Seq != b1Seq {
			t.Errorf("ballot b1 again after the close: %+v, want its position %d", items[0], b1Seq)
		}
		for _, tc := range []struct {
			name  string
			entry []byte
			code  string
		}{
			{"ballot after the close", late, "closed"},
			{"open after the close", reopen, "wrong_phase"},
		} {
			items := submitVia(t, followers[0], tc.entry)
			if items[0].Error == nil || items[0].Error.Code != tc.code {
				t.Errorf("%s: %+v %+v, want %s", tc.name, items[0], items[0].Error, tc.code)
			}
		}
		unchanged("posts after the close")

		if bal2 == nil || before.Ballots != 3 {
			t.Fatalf("expected 3 ballots before the tally: %+v", before)
		}
		partials, result, _ := e.TallyEntries([]*ballot.Ballot{bal0, bal1, bal2})
		mustPost(t, hc, leader.APIAddr, partials...)
		resultSeq := mustPost(t, hc, leader.APIAddr, result)[0].Seq
		before = settled(t, nodes)
		if items := submitVia(t, followers[1], result); items[0].Error != nil || items[0].Seq != resultSeq {
			t.Errorf("the result again: %+v, want its position %d", items[0], resultSeq)
		}
		late2, _, _ := e.BallotEntry(4, testonly.Pick(1, 1))
		for _, tc := range []struct {
			name  string
			entry []byte
			code  string
		}{
			{"ballot after the result", late2, "closed"},
			{"close again", e.CloseEntry(), "closed"},
		} {
			items := submitVia(t, followers[1], tc.entry)
			if items[0].Error == nil || items[0].Error.Code != tc.code {
				t.Errorf("%s: %+v %+v, want %s", tc.name, items[0], items[0].Error, tc.code)
			}
		}
		unchanged("posts after the result")
	})
}

// forwardingLoop points the leader's API metadata at a follower f1, checks
// that writes through either follower answer 503 no_leader quickly instead
// of looping, and restores the metadata. It returns what went wrong and
// whether the leader stayed the same throughout (else the problems are
// not the code's).
func forwardingLoop(t *testing.T, nodes []*Node, entry []byte) (problems []string, stable bool) {
	t.Helper()
	leader, followers := leaderOf(t, nodes)
	term := leader.Replica.Stats().Term
	f0, f1 := followers[0], followers[1]
	join := func(api string) bool {
		body := fmt.Sprintf(`{"id":%q,"raft_addr":%q,"api_addr":%q}`, leader.ID, leader.RaftAddr, api)
		a := rawPost(t, leader.APIAddr+"/api/v1/cluster/join", "application/json", []byte(body))
		if a.status != 200 {
			problems = append(problems, fmt.Sprintf("join: %d %s", a.status, a.body))
		}
		return a.status == 200
	}
	waitLeaderAPI := func(n *Node, want string) bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if n.Board.LeaderAPI() == want {
				return true
			}
		}
		problems = append(problems, fmt.Sprintf("%s: leader API %q, want %q", n.ID, n.Board.LeaderAPI(), want))
		return false
	}
	stillLeader := func() bool { return leader.Replica.IsLeader() && leader.Replica.Stats().Term == term }
	if join(f1.APIAddr) && waitLeaderAPI(f0, f1.APIAddr) && waitLeaderAPI(f1, f1.APIAddr) {
		for _, n := range []*Node{f0, f1} {
			start := time.Now()
			a := rawPost(t, n.APIAddr+"/api/v1/entries", "application/json", submitJSON(entry))
			if a.status != 503 || a.code() != "no_leader" || a.header.Get("Retry-After") == "" {
				problems = append(problems, fmt.Sprintf("via %s with the leader's metadata on %s: %d %s", n.ID, f1.ID, a.status, a.body))
			}
			if d := time.Since(start); d > 5*time.Second {
				problems = append(problems, fmt.Sprintf("via %s: answered after %v", n.ID, d))
			}
		}
	}
	stable = stillLeader()
	if st := settled(t, nodes); st.Ballots != 2 {
		problems = append(problems, fmt.Sprintf("a write during the metadata loop changed the board: %+v", st))
	}
	join(leader.APIAddr)
	waitLeaderAPI(f0, leader.APIAddr)
	return problems, stable && stillLeader()
}

// TestAttackOverload: many concurrent submitters against a node with a tiny
// submission queue get 503 overloaded with Retry-After, and after retrying
// every ballot is on the board exactly once. Pre-checks are skipped so that
// the CPUs do not serialise the submitters before the queue (the entries
// are valid ballots anyway).
func TestAttackOverload(t *testing.T) {
	const voters = 48
	e, nodes := startElection(t, voters, 1, func(c *Config) {
		c.SkipChecks = true
		prev := c.Replica
		c.Replica = func(rc *replica.Config) {
			prev(rc)
			rc.QueueSize, rc.MaxInflight, rc.MaxBatch = 1, 1, 1
		}
	})
	hc := &http.Client{Timeout: 10 * time.Second}
	n := nodes[0]
	mustPost(t, hc, n.APIAddr, e.ManifestEntry())
	mustPost(t, hc, n.APIAddr, e.CredentialsEntry())
	for _, d := range e.DealEntries() { // MaxBatch 1: one entry per request
		mustPost(t, hc, n.APIAddr, d)
	}
	for _, c := range e.ConfirmationEntries() {
		mustPost(t, hc, n.APIAddr, c)
	}
	mustPost(t, hc, n.APIAddr, e.OpenEntry())
	start := stateOf(t, n)

	ballots := make([][]byte, voters)
	for v := range voters {
		ballots[v], _, _ = e.BallotEntry(v, testonly.Pick(v%3, v%2))
	}
	var mu sync.Mutex
	overloaded, acked := 0, map[string]bool{}
	var wg sync.WaitGroup
	for v := range voters {
		wg.Go(func() {
			for attempt := 0; attempt < 200; attempt++ {
				a := rawPost(t, n.APIAddr+"/api/v1/entries", "application/json", submitJSON(ballots[v]))
				if a.status == 503 {
					if a.code() != "overloaded" || a.header.Get("Retry-After") != "1" {
						t.Errorf("503 answer: %v %s", a.header, a.body)
					}
					mu.Lock()
					overloaded++
					mu.Unlock()
					time.Sleep(time.Duration(5+attempt) * time.Millisecond)
					continue
				}
				items := a.items(t)
				if it := items[0]; it.Error != nil && it.Error.Code != "duplicate" {
					t.Errorf("ballot %d: %s", v, it.Error.Code)
				}
				mu.Lock()
				acked[items[0].ID] = true
				mu.Unlock()
				return
			}
			t.Errorf("ballot %d never accepted", v)
		})
	}
	wg.Wait()
	if overloaded == 0 {
		t.Fatal("no submitter was refused with 503: the queue limit was not reached")
	}
	end := stateOf(t, n)
	if end.Ballots != voters || end.Entries != start.Entries+voters || len(acked) != voters {
		t.Fatalf("after %d 503s: %+v (was %+v), %d acknowledged", overloaded, end, start, len(acked))
	}
	// Exactly once: the entries after the setup are the ballots, each once.
	var page struct {
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
	}
	if err := getJSON(context.Background(), hc, fmt.Sprintf("%s/api/v1/entries?from=%d&limit=1000", n.APIAddr, start.Entries), &page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range page.Entries {
		if seen[en.ID] || !acked[en.ID] {
			t.Fatalf("entry %s: twice or never acknowledged", en.ID)
		}
		seen[en.ID] = true
	}
	t.Logf("%d answers were 503 overloaded; all %d ballots on the board once", overloaded, voters)
}
