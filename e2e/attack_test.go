package e2e

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// The attacks of issue 9 on the real `urna` processes: a hostile man in
// the middle (a reverse proxy in the test process) between a party and an
// honest node substitutes the election key, hides ballots, serves a stale
// view, or, holding the board nodes' keys as colluding operators do,
// serves a forked history. Every command MUST refuse (exit 1), say what it
// caught, post nothing, and keep the evidence of a fork where it saw one.
// They run on the bolt election only, inside its own flow (attacker's
// methods do nothing on a nil attacker).

// newProxy is the man in the middle: it forwards GETs to the node, answers
// from rewrite where it likes, and keeps every POST from the node (503).
func newProxy(t *testing.T, target string, rewrite func(path string, body []byte) []byte) *testonly.Proxy {
	p := testonly.NewProxy(t, target)
	p.Set(func(path string, _ *http.Request, body []byte) []byte { return rewrite(path, body) }, testonly.HoldAll)
	return p
}

// view is a board as a liar serves it: a record, its newest checkpoint
// and its size, all agreeing.
type view struct {
	record     []byte
	checkpoint []byte // the /checkpoint answer
	size       uint64
}

// serve is a rewrite serving v wherever the node would show its board.
func (v *view) serve(path string, body []byte) []byte {
	switch path {
	case api.Prefix + "/record":
		return v.record
	case api.Prefix + "/checkpoint":
		return v.checkpoint
	case api.Prefix + "/election":
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			m["counts"].(map[string]any)["entries"] = v.size
			out, _ := json.Marshal(m)
			return out
		}
	}
	return body
}

// attacker holds what the attacks need across the election's flow.
type attacker struct {
	t      *testing.T
	dir    string
	nodes  []*node
	stale  *view // the board right after voter 1's first ballot
	fork   *view // after the close, voter 1's first ballot removed, re-signed by the nodes
	hidden *view // after the close, every ballot removed, key-less (no checkpoint covers it)
}

// refused runs an urna command that MUST refuse: exit status 1 and every
// one of want in its output.
func refused(t *testing.T, want []string, args ...string) string {
	t.Helper()
	stdout, stderr := urnaStreams(t, 1, args...)
	out := stdout + stderr
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("urna %s refused without saying %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	t.Logf("urna %s refused:\n%s", args[0], out)
	return out
}

// noPosts fails the test if the proxy kept any POST: the party sent
// nothing it made on the attacker's view.
func noPosts(t *testing.T, p *testonly.Proxy, what string) {
	t.Helper()
	if n := len(p.Held()); n != 0 {
		t.Fatalf("%s sent %d requests to post on the attacker's view", what, n)
	}
}

// evidence returns the one evidence file in dir, after checking that
// `urna verify --evidence` proves the fork with it, offline.
func evidence(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "evidence-*.json"))
	if len(files) != 1 {
		t.Fatalf("%d evidence files in %s, want 1", len(files), dir)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("evidence file %s: %v, mode %v; want 0600", files[0], err, fi.Mode())
	}
	if out := urna(t, 0, "verify", "--evidence", files[0]); !strings.Contains(out, "Verdict: PROVEN") {
		t.Fatalf("urna verify --evidence %s:\n%s", files[0], out)
	}
	return files[0]
}

// hasMemory fails the test unless dir holds the party's memory of the board.
func hasMemory(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "board-memory.json")); err != nil {
		t.Fatalf("no memory of the board in %s: %v", dir, err)
	}
}

// substitutedKey: `urna vote` through a proxy whose /election states
// another election key (issue 9, finding 1) refuses to encrypt.
func (a *attacker) substitutedKey(creds string) {
	if a == nil {
		return
	}
	t := a.t
	p := newProxy(t, a.nodes[0].api, func(path string, body []byte) []byte {
		var m map[string]any
		if path != api.Prefix+"/election" || json.Unmarshal(body, &m) != nil {
			return body
		}
		m["joint_key"] = hex.EncodeToString(bytes.Repeat([]byte{0x58}, 32)) // not the ceremony's key
		out, _ := json.Marshal(m)
		return out
	})
	voter := filepath.Join(a.dir, "attacked-voter")
	refused(t, []string{"refusing to encrypt", "states another election key"},
		"vote", "--node", p.URL(), "--credential-file", creds, "--voter", "3", "--choices", "1;1,2", "--receipt-dir", voter)
	noPosts(t, p, "urna vote")
	if rs, _ := filepath.Glob(filepath.Join(voter, "receipt-*.json")); len(rs) != 0 {
		t.Fatalf("a refused vote left receipts %v", rs)
	}
	hasMemory(t, voter)
}

// snapshot keeps node's board as it is now (a checkpoint covers it: the
// vote just made waited for its receipt), to serve it later as a stale view.
func (a *attacker) snapshot(nodeURL string) {
	if a == nil {
		return
	}
	get := func(path string) []byte {
		resp, err := http.Get(nodeURL + api.Prefix + path)
		if err != nil {
			a.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			a.t.Fatalf("GET %s: %v %s", path, err, resp.Status)
		}
		return b
	}
	v := &view{checkpoint: get("/checkpoint"), record: get("/record")}
	var cp api.Checkpoint
	if err := json.Unmarshal(v.checkpoint, &cp); err != nil {
		a.t.Fatal(err)
	}
	v.size = cp.Size
	a.stale = v
}

// staleReceipt: `urna check-receipt` through a node serving, consistently,
// the board as it was when the ballot was cast (issue 9, finding 4) refuses:
// the voter's memory holds a newer checkpoint.
func (a *attacker) staleReceipt(receipt string) {
	if a == nil {
		return
	}
	p := newProxy(a.t, a.nodes[0].api, a.stale.serve)
	refused(a.t, []string{"older board than the party already saw"}, "check-receipt", receipt, "--node", p.URL())
}

// beforeClose has trustee dir try to decrypt before the close: it is
// told to wait, and remembers the board with every ballot.
func (a *attacker) beforeClose(dir, nodeURL string) {
	if a == nil {
		return
	}
	refused(a.t, []string{"not closed yet"}, "trustee", "decrypt", "--dir", dir, "--node", nodeURL)
	hasMemory(a.t, dir)
}

// afterClose builds the forked and the hidden views from the board after
// the close: the fork drops the entry hide (a ballot) and is re-signed by
// the board nodes' keys; the hidden view drops every ballot from the
// record's blocks without any key.
func (a *attacker) afterClose(receipt string) {
	if a == nil {
		return
	}
	t := a.t
	f, _, err := roles.LoadReceipt(receipt)
	if err != nil {
		t.Fatal(err)
	}
	hide := f.Seq
	rec := filepath.Join(a.dir, "attack-record")
	var r *record
	for deadline := time.Now().Add(15 * time.Second); ; {
		urna(t, 0, "export", "--node", a.nodes[0].api, "-o", rec, "--force")
		r = readRecord(t, rec)
		if testonly.ParseEntry(t, r.raw[len(r.raw)-1]).Type == bulletin.TypeClose {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the export never reached the close entry")
		}
		time.Sleep(200 * time.Millisecond)
	}
	m, err := ballot.ParseManifest(testonly.ParseEntry(t, r.raw[0]).Body)
	if err != nil {
		t.Fatal(err)
	}
	var keys []testonly.Node
	for _, n := range a.nodes {
		keys = append(keys, testonly.Node{ID: n.id, Key: n.key})
	}
	var forked [][]byte
	for i, raw := range r.raw {
		if uint64(i) != hide {
			forked = append(forked, raw)
		}
	}
	sealed := testonly.Resealer(t, "e2e fork", m, keys, forked).SealWith(forked, 8, nil)
	note := sealed.Notes[len(sealed.Notes)-1]
	cp, err := bulletin.BoardFor(m).Open(note)
	if err != nil {
		t.Fatal(err)
	}
	cpJSON, _ := json.Marshal(api.Checkpoint{Size: cp.Size, Root: hex.EncodeToString(cp.Root[:]), Note: string(note)})
	a.fork = &view{record: sealed.Encode(), checkpoint: cpJSON, size: cp.Size}

	var blocks []*bulletin.RecordBlock
	var size uint64
	for _, b := range r.blocks {
		var kept [][]byte
		for _, raw := range b.Raw {
			if testonly.ParseEntry(t, raw).Type != bulletin.TypeBallot {
				kept = append(kept, raw)
			}
		}
		if len(kept) == 0 {
			continue
		}
		h := *b.Header
		h.FirstSeq, h.Count, h.LogSize = size, uint32(len(kept)), size+uint64(len(kept))
		size = h.LogSize
		blocks = append(blocks, &bulletin.RecordBlock{Header: &h, Raw: kept})
	}
	path := filepath.Join(a.dir, "attack-hidden")
	encode(t, path, blocks, r.notes)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a.hidden = &view{record: data}
}

// forkedReceipt: `urna check-receipt` shown the forked history (its own
// ballot gone, every checkpoint signed by the board nodes) refuses and
// keeps the evidence beside the receipt.
func (a *attacker) forkedReceipt(receipt string) {
	if a == nil {
		return
	}
	p := newProxy(a.t, a.nodes[1].api, a.fork.serve)
	refused(a.t, []string{"two contradicting signed histories", "evidence kept in"}, "check-receipt", receipt, "--node", p.URL())
	evidence(a.t, filepath.Dir(receipt))
}

// forkedTrustee: `urna trustee decrypt` shown the forked history (a
// ballot it saw before the close gone) refuses, decrypts nothing and
// keeps the evidence in its directory.
func (a *attacker) forkedTrustee(dir string) {
	if a == nil {
		return
	}
	p := newProxy(a.t, a.nodes[2].api, a.fork.serve)
	refused(a.t, []string{"refusing to decrypt", "two contradicting signed histories", "evidence kept in"},
		"trustee", "decrypt", "--dir", dir, "--node", p.URL())
	noPosts(a.t, p, "urna trustee decrypt")
	evidence(a.t, dir)
}

// hiddenBallots: `urna trustee decrypt` and `urna tally` through a node
// that hides every ballot from its record (issue 9, findings 2 and 3)
// refuse: the record no longer verifies.
func (a *attacker) hiddenBallots(step ...string) {
	if a == nil {
		return
	}
	p := newProxy(a.t, a.nodes[0].api, func(path string, body []byte) []byte {
		switch path {
		case api.Prefix + "/record":
			return a.hidden.record
		case api.Prefix + "/entries":
			// A party that saved its verified state reads only the newer
			// entries (client.FollowOptions.State): hide the ballots there
			// too, as a consistent liar would.
			return withoutBallots(a.t, body)
		}
		return body
	})
	what := "refusing to decrypt"
	if step[0] == "tally" {
		what = "refusing to tally"
		// The authority's saved state (roles.StateFile) already covers every
		// ballot (it closed the election): the liar's view cannot touch what
		// it verified, and it would tally the honest board. Without that
		// state (lost, or a new machine) it reads the whole record, the
		// liar's: set the state aside for this attack.
		state := filepath.Join(step[len(step)-1], roles.StateFile)
		if err := os.Rename(state, state+".aside"); err != nil {
			a.t.Fatal(err)
		}
		defer func() {
			if err := os.Rename(state+".aside", state); err != nil {
				a.t.Fatal(err)
			}
		}()
	}
	refused(a.t, []string{what, "the board's record does not verify"}, append(step, "--node", p.URL())...)
	noPosts(a.t, p, "urna "+step[0])
}

// withoutBallots is a GET /entries page with its ballots left out.
func withoutBallots(t *testing.T, body []byte) []byte {
	var page map[string]json.RawMessage
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(body, &page); err != nil {
		t.Errorf("entries page: %v", err)
		return body
	}
	if err := json.Unmarshal(page["entries"], &entries); err != nil {
		t.Errorf("entries page: %v", err)
		return body
	}
	kept := entries[:0]
	for _, e := range entries {
		if string(e["type"]) != `"ballot"` {
			kept = append(kept, e)
		}
	}
	page["entries"], _ = json.Marshal(kept)
	out, _ := json.Marshal(page)
	return out
}
