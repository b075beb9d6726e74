package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/tally"
)

// urnaBin is the binary under test, built once by TestMain.
var urnaBin string

func TestMain(m *testing.M) { testonly.RunWithUrna(m, "e2e", "../cmd/urna", &urnaBin) }

// urna runs one `urna` process and returns its output; wantExit is the
// exit status the test expects.
func urna(t *testing.T, wantExit int, args ...string) string {
	t.Helper()
	out, _ := urnaStreams(t, wantExit, args...)
	return out
}

// urnaStreams is urna returning the process's standard error as well.
func urnaStreams(t *testing.T, wantExit int, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, urnaBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("urna %s: %v", strings.Join(args, " "), err)
	}
	if code != wantExit {
		t.Fatalf("urna %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantExit, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

type node struct {
	id, api string
	key     ed25519.PrivateKey
	pubHex  string
	cmd     *exec.Cmd
	log     string
}

// startCluster starts three `urna node` processes; store is "bolt" or a
// PostgreSQL URL (one schema per node).
func startCluster(t *testing.T, dir, store string) []*node {
	t.Helper()
	var nodes []*node
	schemaBase := fmt.Sprintf("e2e_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	for i := 1; i <= 3; i++ {
		n := &node{id: fmt.Sprintf("n%d", i)}
		keyPath := filepath.Join(dir, n.id+".key")
		n.pubHex = strings.TrimSpace(urna(t, 0, "node-key", "-o", keyPath))
		seed, err := keyfile.Read(keyPath)
		if err != nil {
			t.Fatal(err)
		}
		s, err := server.ParseSeed(string(seed))
		if err != nil {
			t.Fatal(err)
		}
		n.key = ed25519.NewKeyFromSeed(s)
		if hex.EncodeToString(n.key.Public().(ed25519.PublicKey)) != n.pubHex {
			t.Fatalf("urna node-key printed %s, not the key's public key", n.pubHex)
		}
		httpAddr := testonly.FreeAddr(t)
		n.api = "http://" + httpAddr
		args := []string{"node", "--id", n.id, "--data", filepath.Join(dir, n.id), "--key-file", keyPath,
			"--raft", testonly.FreeAddr(t), "--http", httpAddr, "--no-web", "--log-level", "warn"}
		if i == 1 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", nodes[0].api)
		}
		if store != "bolt" {
			schema := fmt.Sprintf("%s_%s", schemaBase, n.id)
			args = append(args, "--store", store, "--pg-schema", schema)
			t.Cleanup(func() { dropSchema(t, store, schema) }) // runs after the node stopped
		}
		n.log = filepath.Join(dir, n.id+".log")
		lf, err := os.Create(n.log)
		if err != nil {
			t.Fatal(err)
		}
		n.cmd = exec.Command(urnaBin, args...)
		n.cmd.Stdout, n.cmd.Stderr = lf, lf
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lf.Close()
		nodes = append(nodes, n)
		t.Cleanup(func() {
			_ = n.cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = n.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = n.cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				b, _ := os.ReadFile(n.log)
				t.Logf("log of node %s:\n%s", n.id, tail(string(b), 3000))
			}
		})
		waitHTTP(t, n.api+"/api/v1/health", func(b []byte) bool { return bytes.Contains(b, []byte(`"leader":"n`)) })
	}
	for _, n := range nodes {
		waitHTTP(t, n.api+"/api/v1/cluster", func(b []byte) bool { return bytes.Count(b, []byte(`"raft_addr"`)) == 3 })
	}
	return nodes
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func waitHTTP(t *testing.T, url string, ok func([]byte) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && ok(buf.Bytes()) {
				return
			}
			last = buf.String()
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 30s: %s", url, last)
}

// retry runs an urna step until it succeeds: a follower may not yet have
// applied what another party just posted through another node.
func retry(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cmd := exec.Command(urnaBin, args...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			return string(out)
		}
		if time.Now().After(deadline) || !bytes.Contains(out, []byte("not ready")) {
			t.Fatalf("urna %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const manifestTemplate = `{
  "election_id": "e2e-2025",
  "title": "End-to-end test election",
  "threshold": 2,
  "questions": [
    {"text": "Best colour?", "options": ["Red", "Green", "Blue", "Gold"], "min": 1, "max": 1},
    {"text": "Two priorities?", "options": ["Parks", "Libraries", "Cycle lanes", "Transport", "Schools"], "min": 2, "max": 2}
  ]
}
`

func TestElectionBolt(t *testing.T) { election(t, "bolt") }

func TestElectionPostgres(t *testing.T) {
	election(t, testonly.PostgresURL(t))
}

// election holds a whole election with separate processes, verifies it and
// then tampers with the exported record.
func election(t *testing.T, store string) {
	start := time.Now()
	dir := t.TempDir()
	nodes := startCluster(t, dir, store)
	t.Logf("cluster up in %v", time.Since(start).Round(time.Millisecond))
	node := func(i int) string { return nodes[i%3].api }
	p := func(name string) string { return filepath.Join(dir, name) }
	var atk *attacker // the attacks through a hostile proxy, once (attack_test.go)
	if store == "bolt" {
		atk = &attacker{t: t, dir: dir, nodes: nodes}
	}

	// Setup.
	urna(t, 0, "authority", "init", "--dir", p("ea"))
	urna(t, 0, "credentials", "init", "--dir", p("ca"))
	for i := 1; i <= 3; i++ {
		out := urna(t, 0, "trustee", "init", "--dir", p(fmt.Sprintf("t%d", i)), "--name", fmt.Sprintf("trustee-%d", i))
		if !strings.Contains(out, "signing key:") {
			t.Fatalf("trustee init does not print the public part:\n%s", out)
		}
	}
	if err := os.WriteFile(p("election.json"), []byte(manifestTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	create := []string{"authority", "create", "--dir", p("ea"), "--node", node(0), "--manifest", p("election.json"),
		"--credential-authority", p("ca/credential-authority.pub")}
	for i := 1; i <= 3; i++ {
		create = append(create, "--trustee", p(fmt.Sprintf("t%d/trustee.pub", i)))
	}
	for _, n := range nodes {
		create = append(create, "--board-node", n.id+"="+n.pubHex)
	}
	urna(t, 0, create...)
	const voters = 20
	retry(t, "credentials", "issue", "--dir", p("ca"), "--node", node(1), "--count", fmt.Sprint(voters))
	if fi, err := os.Stat(p("ca/credentials.txt")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want 0600", err, fi.Mode())
	}

	// Key ceremony, each trustee through another node.
	for i := 1; i <= 3; i++ {
		retry(t, "trustee", "deal", "--dir", p(fmt.Sprintf("t%d", i)), "--node", node(i))
	}
	for i := 1; i <= 3; i++ {
		retry(t, "trustee", "check", "--dir", p(fmt.Sprintf("t%d", i)), "--node", node(i))
	}
	for i := 1; i <= 3; i++ {
		out := retry(t, "trustee", "answer", "--dir", p(fmt.Sprintf("t%d", i)), "--node", node(i))
		if !strings.Contains(out, "no complaint") {
			t.Errorf("trustee %d answer: %s", i, out)
		}
	}
	out := retry(t, "authority", "open", "--dir", p("ea"), "--node", node(0))
	if !strings.Contains(out, "qualified trustees: 1, 2 and 3") {
		t.Fatalf("open: %s", out)
	}

	// Voting: every voter once, voter 1 votes again, voter 2 challenges first.
	choices := func(v int) string { return fmt.Sprintf("%d;%d,%d", 1+v%4, 1+v%5, 1+(v+2)%5) }
	final := map[int]string{}
	creds := p("ca/credentials.txt")
	voteDir := p("voters")
	if err := os.MkdirAll(voteDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var firstReceipt string
	atk.substitutedKey(creds)
	for v := 1; v <= voters; v++ {
		args := []string{"vote", "--node", node(v), "--credential-file", creds, "--voter", fmt.Sprint(v),
			"--choices", choices(v), "--receipt-dir", voteDir}
		if v == 2 {
			args = append(args, "--challenge")
		}
		out := retry(t, args...)
		final[v] = choices(v)
		if !strings.Contains(out, "tracker:") || !strings.Contains(out, "replaces this one") {
			t.Fatalf("vote output lacks the tracker or the revote notice:\n%s", out)
		}
		if v == 2 && !strings.Contains(out, "the opening checks out") {
			t.Fatalf("challenge output:\n%s", out)
		}
		if v == 1 {
			firstReceipt = receiptPath(t, out)
			atk.snapshot(node(v))
		}
	}
	revote := "4;5,1"
	out = urna(t, 0, "vote", "--node", node(2), "--credential-file", creds, "--voter", "1", "--choices", revote, "--receipt-dir", voteDir)
	if !strings.Contains(out, "this credential had already voted: this ballot replaces your earlier ballot") || !strings.Contains(out, filepath.Base(firstReceipt)[len("receipt-"):len(filepath.Base(firstReceipt))-len(".json")]) {
		t.Fatalf("a revote does not say which earlier ballot it replaces:\n%s", out)
	}
	final[1] = revote
	out = urna(t, 0, "check-receipt", firstReceipt, "--node", node(0))
	if !strings.Contains(out, "receipt OK") || !strings.Contains(out, "replaced by a later ballot") {
		t.Fatalf("check-receipt of a replaced ballot:\n%s", out)
	}
	atk.staleReceipt(firstReceipt)
	// A voter with a bad credential gets a clear error.
	bad := urnaErr(t, "vote", "--node", node(0), "--credential", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "--choices", "1;1,2")
	if !strings.Contains(bad, "hint:") {
		t.Errorf("bad credential error has no hint:\n%s", bad)
	}

	// Tally with trustee 3 absent.
	atk.beforeClose(p("t3"), node(3))
	urna(t, 0, "authority", "close", "--dir", p("ea"), "--node", node(0))
	atk.afterClose(firstReceipt)
	atk.forkedReceipt(firstReceipt)
	atk.forkedTrustee(p("t3"))
	atk.hiddenBallots("trustee", "decrypt", "--dir", p("t1"))
	for i := 1; i <= 2; i++ {
		out := retry(t, "trustee", "decrypt", "--dir", p(fmt.Sprintf("t%d", i)), "--node", node(i))
		if !strings.Contains(out, "verified the board") {
			t.Fatalf("decrypt: %s", out)
		}
	}
	atk.hiddenBallots("tally", "--dir", p("ea"))
	hasMemory(t, p("ea"))
	out = retry(t, "tally", "--dir", p("ea"), "--node", node(0))
	want := expectedCounts(t, final)
	for _, line := range want {
		if !strings.Contains(out, line) {
			t.Errorf("tally output lacks %q:\n%s", line, out)
		}
	}

	// Export and verify.
	rec := p("record")
	// The newest entries may still await a checkpoint: export again until
	// the record reaches the result.
	var rep verifyJSON
	for deadline := time.Now().Add(15 * time.Second); ; {
		urna(t, 0, "export", "--node", node(1), "-o", rec, "--force")
		out, err := exec.Command(urnaBin, "verify", "--json", rec).Output()
		rep = verifyJSON{}
		jerr := json.Unmarshal(out, &rep)
		if err == nil && jerr == nil && rep.OK && rep.Complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify --json of the exported record: %v, ok=%v complete=%v\n%s", err, rep.OK, rep.Complete, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// V1–V13, and V14–V16 skipped (no ranked, score or write-in question)
	if len(rep.Steps) != 16 {
		t.Fatalf("verify --json reports %d steps, want 16", len(rep.Steps))
	}
	out = urna(t, 0, "verify", rec)
	if !strings.Contains(out, "V13") {
		t.Errorf("verify report does not name V13:\n%s", out)
	}
	t.Logf("election held and verified in %v", time.Since(start).Round(time.Millisecond))

	tamper(t, dir, rec, nodes)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func urnaErr(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(urnaBin, args...).CombinedOutput()
	if err == nil {
		t.Fatalf("urna %s succeeded, want an error", strings.Join(args, " "))
	}
	return string(out)
}

func receiptPath(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "receipt saved to "); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no receipt path in:\n%s", out)
	return ""
}

// expectedCounts returns the tally's output lines for the final choices.
func expectedCounts(t *testing.T, final map[int]string) []string {
	opts := [][]string{{"Red", "Green", "Blue", "Gold"}, {"Parks", "Libraries", "Cycle lanes", "Transport", "Schools"}}
	counts := [][]int{make([]int, 4), make([]int, 5)}
	for _, s := range final {
		for q, part := range strings.Split(s, ";") {
			for _, f := range strings.Split(part, ",") {
				var o int
				fmt.Sscan(f, &o)
				counts[q][o-1]++
			}
		}
	}
	var lines []string
	for q := range opts {
		w := 0
		for _, o := range opts[q] {
			w = max(w, len(o))
		}
		for o, text := range opts[q] {
			lines = append(lines, fmt.Sprintf("  %s%s %6d", text, strings.Repeat(" ", w-len(text)), counts[q][o]))
		}
	}
	return lines
}

type verifyJSON struct {
	OK       bool `json:"ok"`
	Complete bool `json:"complete"`
	Steps    []struct {
		ID       string `json:"id"`
		OK       bool   `json:"ok"`
		Failures []struct {
			Entry int64  `json:"entry"`
			Field string `json:"field"`
		} `json:"failures"`
	} `json:"steps"`
}

func (v *verifyJSON) firstFailure() string {
	for _, s := range v.Steps {
		if !s.OK {
			return s.ID
		}
	}
	return ""
}

// record is an exported record, decoded.
type record struct {
	blocks []*bulletin.RecordBlock
	notes  [][]byte
	raw    [][]byte // every entry, by seq
}

func readRecord(t *testing.T, path string) *record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &record{}
	r.blocks, r.notes = testonly.ReadRecord(t, f)
	for _, b := range r.blocks {
		r.raw = append(r.raw, b.Raw...)
	}
	return r
}

// encode writes blocks and notes as a record file.
func encode(t *testing.T, path string, blocks []*bulletin.RecordBlock, notes [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, testonly.WriteRecord(t, blocks, notes), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tamper alters the exported record in several ways; `urna verify` MUST
// reject each with exit status 1 and name the right step in --json.
func tamper(t *testing.T, dir, rec string, nodes []*node) {
	r := readRecord(t, rec)
	m, err := ballot.ParseManifest(testonly.ParseEntry(t, r.raw[0]).Body)
	if err != nil {
		t.Fatal(err)
	}
	// A sealer with the board nodes' keys rebuilds a consistent record
	// (chain, Merkle log, checkpoints) around a forged entry, as colluding
	// nodes could: only the cryptography of the entry itself can catch it.
	var keys []testonly.Node
	for _, n := range nodes {
		keys = append(keys, testonly.Node{ID: n.id, Key: n.key})
	}
	e := testonly.Resealer(t, "e2e tamper", m, keys, r.raw)
	reseal := func(entries [][]byte) []byte { return e.SealWith(entries, 8, nil).Encode() }
	seqOf := func(typ bulletin.EntryType, nth int) int {
		for i, raw := range r.raw {
			if testonly.ParseEntry(t, raw).Type == typ {
				if nth == 0 {
					return i
				}
				nth--
			}
		}
		t.Fatalf("no %s entry", typ)
		return 0
	}
	check := func(name string, data []byte, wantStep string) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "tampered-"+strings.ReplaceAll(name, " ", "-"))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := urna(t, 1, "verify", "--json", path)
			var rep verifyJSON
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("verify --json: %v\n%s", err, out)
			}
			if rep.OK {
				t.Fatalf("verify says ok on a tampered record")
			}
			if got := rep.firstFailure(); got != wantStep {
				t.Fatalf("first failing step %s, want %s\n%s", got, wantStep, out)
			}
		})
	}

	// 1. A ballot proof byte flipped, re-signed by the voter's credential.
	seq := seqOf(bulletin.TypeBallot, 3)
	be := testonly.ParseEntry(t, r.raw[seq])
	body := bytes.Clone(be.Body)
	body[len(body)-32] ^= 1 // low byte of the last range-proof response: still canonical
	voterKey := credentialKeyFor(t, filepath.Join(dir, "ca", "credentials.txt"), m, be)
	check("ballot proof", reseal(e.WithEntry(seq, e.Resign(seq, voterKey.PrivateKey(), body))), "V8")

	// 2. An entry dropped from a block of the exported record.
	{
		blocks := append([]*bulletin.RecordBlock(nil), r.blocks...)
		k := -1
		for i := len(blocks) / 2; i < len(blocks)-1; i++ {
			if len(blocks[i].Raw) >= 2 {
				k = i
				break
			}
		}
		if k >= 0 {
			// Drop the block's first entry and fix its header's counts.
			b := *blocks[k]
			h := *b.Header
			h.Count--
			h.LogSize--
			b.Header, b.Raw = &h, b.Raw[1:]
			blocks[k] = &b
		} else {
			// Every block holds one entry: drop a middle block and its entry.
			k = len(blocks) / 2
			blocks = append(blocks[:k:k], blocks[k+1:]...)
		}
		var buf bytes.Buffer
		path := filepath.Join(dir, "dropped")
		encode(t, path, blocks, r.notes)
		data, _ := os.ReadFile(path)
		buf.Write(data)
		check("drop entry", buf.Bytes(), "V2")
	}

	// 3. The result's counts changed, re-signed by the election authority.
	{
		seq := seqOf(bulletin.TypeResult, 0)
		res, err := tally.ParseResult(testonly.ParseEntry(t, r.raw[seq]).Body)
		if err != nil {
			t.Fatal(err)
		}
		res.Counts[0][0]++
		res.Counts[0][1]--
		ea, err := roles.LoadAuthority(filepath.Join(dir, "ea"))
		if err != nil {
			t.Fatal(err)
		}
		check("result counts", reseal(e.WithEntry(seq, e.Resign(seq, ea, res.Bytes()))), "V13")
	}

	// 4. A forged checkpoint signature in the exported record.
	{
		notes := make([][]byte, len(r.notes))
		for i, n := range r.notes {
			notes[i] = bytes.Clone(n)
		}
		last := notes[len(notes)-1]
		i := bytes.LastIndex(last, []byte("\n— "))
		if i < 0 {
			t.Fatalf("checkpoint note without signature lines:\n%s", last)
		}
		// Change one base64 character of the first signature line.
		j := i + len("\n— ") + len(nodes[0].id) + 1 + 10
		if last[j] == 'A' {
			last[j] = 'B'
		} else {
			last[j] = 'A'
		}
		path := filepath.Join(dir, "forged-note")
		encode(t, path, r.blocks, notes)
		data, _ := os.ReadFile(path)
		check("checkpoint signature", data, "V3")
	}

	// 5. A partial decryption altered, re-signed by its trustee.
	{
		seq := seqOf(bulletin.TypePartialDecryption, 0)
		pd, err := tally.ParsePartialDecryption(testonly.ParseEntry(t, r.raw[seq]).Body)
		if err != nil {
			t.Fatal(err)
		}
		pd.Shares[1][2].Z.Add(pd.Shares[1][2].Z, pd.Shares[0][0].Z)
		tr, err := roles.LoadTrustee(filepath.Join(dir, fmt.Sprintf("t%d", pd.Trustee)))
		if err != nil {
			t.Fatal(err)
		}
		check("partial decryption", reseal(e.WithEntry(seq, e.Resign(seq, tr.Secret.SigningKey(), pd.Bytes()))), "V12")
	}
}

// credentialKeyFor finds, in the credentials file, the key that signed entry e.
func credentialKeyFor(t *testing.T, path string, m *ballot.Manifest, e *bulletin.Entry) *ballot.CredentialKey {
	t.Helper()
	data, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	creds, order, err := roles.ParseCredentials(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range order {
		k, err := creds[n].Key(m.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		if k.Public().Equal(e.Author) {
			return k
		}
	}
	t.Fatal("no credential signed the ballot")
	return nil
}

// dropSchema removes a node's PostgreSQL schema after the test.
func dropSchema(t *testing.T, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Logf("dropping schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("dropping schema %s: %v", schema, err)
	}
}
