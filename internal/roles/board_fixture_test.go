package roles_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/servertest"
)

// liveElection is a real election on one in-process board node, driven
// through the roles package as the urna commands drive it: the parties'
// directories, the node and a client of it.
type liveElection struct {
	t        *testing.T
	root     string
	node     *server.Node
	nodeKey  ed25519.PrivateKey
	direct   *apiclient.Client
	manifest *ballot.Manifest
	trustees []*roles.Trustee
	creds    []ballot.Credential
}

// liveConfig shapes a liveElection.
type liveConfig struct {
	// Template adds keys to the manifest template (e.g. witnesses).
	Template map[string]any
	// Node tunes the node's config.
	Node func(*server.Config)
	// UntilDealt stops the key ceremony after every trustee dealt.
	UntilDealt bool
	// Manifest, if set, sees the manifest before the node starts (e.g.
	// to start the witnesses it names).
	Manifest func(*ballot.Manifest)
	// Kinds, if not 0, replaces the two selection questions by the first
	// Kinds of testonly.KindQuestions (a version-3 manifest, SPEC.md §11).
	Kinds int
}

func (e *liveElection) dir(party string) string { return filepath.Join(e.root, party) }

// newLiveElection creates the election and runs the key ceremony up to
// the open entry: 3 trustees with threshold 2, 4 credentials, 1 node.
func newLiveElection(t *testing.T, cfg liveConfig) *liveElection {
	t.Helper()
	e := &liveElection{t: t, root: t.TempDir()}
	seed := sha256.Sum256([]byte(t.Name() + " node key"))
	e.nodeKey = ed25519.NewKeyFromSeed(seed[:])
	must(t, func() error { _, err := roles.InitAuthority(rand.Reader, e.dir("ea")); return err }())
	must(t, func() error { _, err := roles.InitCredentialAuthority(rand.Reader, e.dir("ca")); return err }())
	var pubs []string
	for i := 1; i <= 3; i++ {
		d := e.dir(fmt.Sprintf("t%d", i))
		must(t, func() error { _, err := roles.InitTrustee(rand.Reader, d, fmt.Sprintf("trustee-%d", i)); return err }())
		pubs = append(pubs, filepath.Join(d, roles.TrusteePublicFile))
	}
	tmpl := map[string]any{
		"election_id": "attack-" + strconv.FormatInt(time.Now().UnixNano(), 36), "title": "Attack test", "threshold": 2,
		"questions": []map[string]any{
			{"text": "Colour?", "options": []string{"Red", "Green", "Blue"}, "min": 1, "max": 1},
			{"text": "Two of four?", "options": []string{"A", "B", "C", "D"}, "min": 0, "max": 2},
		},
	}
	if cfg.Kinds > 0 {
		tmpl["version"], tmpl["questions"] = ballot.ManifestVersionKinds, kindQuestionsJSON(cfg.Kinds)
	}
	for k, v := range cfg.Template {
		tmpl[k] = v
	}
	raw, _ := json.Marshal(tmpl)
	m, err := roles.BuildManifest(e.dir("ea"), &roles.ElectionSpec{
		Template: raw, CredentialAuthority: filepath.Join(e.dir("ca"), roles.CAPublicFile), Trustees: pubs,
		BoardNodes: []ballot.BoardNode{{ID: "n1", Key: e.nodeKey.Public().(ed25519.PublicKey)}},
	})
	must(t, err)
	e.manifest = m
	if cfg.Manifest != nil {
		cfg.Manifest(m)
	}

	sc := servertest.Config(t, "n1", e.dir("n1"), e.nodeKey)
	sc.Bootstrap = true
	if cfg.Node != nil {
		cfg.Node(&sc)
	}
	e.node = servertest.Start(t, sc)
	e.direct = e.client(e.node.APIAddr)

	ctx := context.Background()
	e.retry(func() error { _, err := roles.CreateElection(ctx, rand.Reader, e.direct, e.dir("ea"), m); return err })
	e.retry(func() error {
		_, err := roles.IssueCredentials(ctx, rand.Reader, e.direct, e.dir("ca"), 4)
		return err
	})
	creds, order, err := roles.ParseCredentials(readFile(t, filepath.Join(e.dir("ca"), roles.CredentialsFile)))
	must(t, err)
	for _, n := range order {
		e.creds = append(e.creds, creds[n])
	}
	for i := 1; i <= 3; i++ {
		tr, err := roles.LoadTrustee(e.dir(fmt.Sprintf("t%d", i)))
		must(t, err)
		e.trustees = append(e.trustees, tr)
	}
	for _, tr := range e.trustees {
		e.retry(func() error { _, err := roles.Deal(ctx, rand.Reader, e.direct, tr); return err })
	}
	if cfg.UntilDealt {
		return e
	}
	for _, tr := range e.trustees {
		e.retry(func() error { _, err := roles.Check(ctx, rand.Reader, e.direct, tr, false); return err })
	}
	e.retry(func() error { _, err := roles.Open(ctx, rand.Reader, e.direct, e.dir("ea"), false); return err })
	return e
}

// client is an API client of url that does not retry (a refusal shows at once).
func (e *liveElection) client(url string) *apiclient.Client {
	c, err := apiclient.New(url, apiclient.Options{Timeout: 20 * time.Second})
	must(e.t, err)
	return c
}

// retry runs a step until it stops failing with roles.ErrNotReady (the
// board has not caught up with the previous step yet).
func (e *liveElection) retry(step func() error) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := step()
		if err == nil {
			return
		}
		if !errors.Is(err, roles.ErrNotReady) || time.Now().After(deadline) {
			e.t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vote casts choices for voter v (0-based) directly on the node.
func (e *liveElection) vote(v int, choices [][]uint32, receiptDir string) *roles.Vote {
	e.t.Helper()
	var out *roles.Vote
	e.retry(func() error {
		var err error
		out, err = roles.Cast(context.Background(), rand.Reader, e.direct, roles.CastOptions{Credential: e.creds[v], Choices: choices})
		return err
	})
	if receiptDir != "" {
		_, err := roles.SaveReceipt(receiptDir, e.manifest.ElectionID, out)
		must(e.t, err)
	}
	return out
}

// kindQuestionsJSON returns the first n questions of testonly.KindQuestions in
// the form of the manifest template.
func kindQuestionsJSON(n int) []ballot.QuestionJSON {
	var out []ballot.QuestionJSON
	for _, q := range testonly.KindQuestions()[:n] {
		qj := ballot.QuestionJSON{Text: q.Text, Options: append([]string{}, q.Options...), Min: q.Min, Max: q.Max}
		if q.Kind != ballot.KindSelect {
			qj.Kind = q.Kind.String()
		}
		out = append(out, qj)
	}
	return out
}

// close has the authority close the election.
func (e *liveElection) close() {
	e.t.Helper()
	_, err := roles.Close(context.Background(), rand.Reader, e.direct, e.dir("ea"), "")
	must(e.t, err)
}

// voteAndClose has voters 0, 1 and 2 cast picks[v], then closes the election.
func (e *liveElection) voteAndClose() {
	e.t.Helper()
	for v := range 3 {
		e.vote(v, picks[v], "")
	}
	e.close()
}

// castKindsAndClose has every voter cast testonly.KindAnswers(v) (as
// many answers as the election of liveConfig.Kinds has questions) as a
// version-2 ballot, then closes the election.
func (e *liveElection) castKindsAndClose() {
	e.t.Helper()
	ctx := context.Background()
	el, err := roles.FetchVerifiedElection(ctx, e.direct, roles.ElectionOptions{})
	must(e.t, err)
	if el.Manifest.Version != ballot.ManifestVersionKinds {
		e.t.Fatalf("manifest version %d", el.Manifest.Version)
	}
	for v := range e.creds {
		key, err := e.creds[v].Key(el.Manifest.ElectionID)
		must(e.t, err)
		p, err := roles.PrepareAnswers(rand.Reader, el, key, testonly.KindAnswers(v)[:len(el.Manifest.Questions)])
		must(e.t, err)
		_, err = e.direct.SubmitOne(ctx, p.Entry)
		must(e.t, err)
	}
	e.close()
}

// closeAndDecrypt closes the election and has trustees 1 and 2 decrypt directly.
func (e *liveElection) closeAndDecrypt() {
	e.t.Helper()
	e.close()
	ctx := context.Background()
	for _, tr := range e.trustees[:2] {
		e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.direct, tr); return err })
	}
}

// tally has the authority post the result directly, once the board has
// caught up with the decryptions.
func (e *liveElection) tally() *roles.TallyResult {
	e.t.Helper()
	var res *roles.TallyResult
	e.retry(func() error {
		var err error
		res, err = roles.Tally(context.Background(), rand.Reader, e.direct, e.dir("ea"))
		return err
	})
	return res
}

// follow reads the node's whole record directly and follows it with the
// offline verifier.
func (e *liveElection) follow() *client.Verified {
	e.t.Helper()
	rec, err := e.direct.Record(context.Background())
	must(e.t, err)
	defer rec.Close()
	s, err := client.FollowRecord(rec, client.FollowOptions{})
	must(e.t, err)
	return s
}

// postAs posts an entry of type typ signed by trustee tr, bypassing the
// roles flows (a complaint the trustee's own check would not make).
func (e *liveElection) postAs(tr *roles.Trustee, typ bulletin.EntryType, body []byte) {
	e.t.Helper()
	ent, err := bulletin.NewEntry(typ, e.manifest.Fingerprint(), bulletin.RoleTrustee, tr.Secret.SigningKey().Public(), body)
	must(e.t, err)
	must(e.t, ent.Sign(rand.Reader, tr.Secret.SigningKey()))
	_, err = e.direct.SubmitOne(context.Background(), ent.Bytes())
	must(e.t, err)
}

// snapshot is the node's record and its checkpoint answer at one moment,
// as a hostile node keeps them to serve a stale view later.
type snapshot struct{ record, checkpoint []byte }

// snapshot waits for a checkpoint covering the board and keeps the record
// and the /checkpoint answer.
func (e *liveElection) snapshot() snapshot {
	e.t.Helper()
	ctx := context.Background()
	must(e.t, roles.WaitCheckpoint(ctx, e.direct, 15*time.Second))
	var s snapshot
	resp, err := http.Get(e.node.APIAddr + api.Prefix + "/checkpoint")
	must(e.t, err)
	s.checkpoint, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	must(e.t, err)
	var buf bytes.Buffer
	_, err = e.direct.WriteRecord(ctx, &buf)
	must(e.t, err)
	s.record = buf.Bytes()
	return s
}

// serveView returns a rewrite that serves the snapshot's record (a stale
// or forked view), its blocks and entries too (GET /blocks and /entries,
// which a party holding a saved state reads instead of the record), and
// when consistent is set its checkpoint and board size too (a liar whose
// answers agree).
func serveView(s snapshot, consistent bool) func(string, *http.Request, []byte) []byte {
	var blocks []api.Block
	var entries []api.Entry
	if rr, err := bulletin.NewRecordReader(bytes.NewReader(s.record)); err == nil {
		for {
			b, err := rr.Next()
			if err != nil {
				break
			}
			h := b.Header
			blocks = append(blocks, api.Block{Height: h.Height, FirstSeq: h.FirstSeq, Count: h.Count, LogSize: h.LogSize, Header: h.Bytes()})
			for k, raw := range b.Raw {
				entries = append(entries, api.Entry{Seq: h.FirstSeq + uint64(k), Type: b.Entries[k].Type.String(), Block: h.Height, Entry: raw})
			}
		}
	}
	return func(path string, r *http.Request, body []byte) []byte {
		switch {
		case path == api.Prefix+"/record":
			return s.record
		case path == api.Prefix+"/entries":
			return entriesPage(r, entries)
		case path == api.Prefix+"/blocks":
			from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
			from = min(from, uint64(len(blocks)))
			out, _ := json.Marshal(api.BlocksResponse{Blocks: blocks[from:]})
			return out
		case path == api.Prefix+"/checkpoint" && consistent:
			return s.checkpoint
		case path == api.Prefix+"/election" && consistent:
			var cp api.Checkpoint
			var m map[string]any
			if json.Unmarshal(s.checkpoint, &cp) == nil && json.Unmarshal(body, &m) == nil {
				m["counts"].(map[string]any)["entries"] = cp.Size
				out, _ := json.Marshal(m)
				return out
			}
		}
		return body
	}
}

// hideType returns a rewrite that serves /entries with every entry of
// type typ removed and the rest renumbered.
func hideType(t *testing.T, node *apiclient.Client, typ bulletin.EntryType) func(string, *http.Request, []byte) []byte {
	return hideEntries(t, node, func() func(api.Entry) bool {
		return func(e api.Entry) bool { return e.Type == typ.String() }
	})
}

// hideEntries returns a rewrite that serves /entries without the entries
// a fresh drop (one per request) says to hide, the rest renumbered, as a
// node showing a forged view would (the entries' own signatures stay valid).
func hideEntries(t *testing.T, node *apiclient.Client, drop func() func(api.Entry) bool) func(string, *http.Request, []byte) []byte {
	return func(path string, r *http.Request, body []byte) []byte {
		if path != api.Prefix+"/entries" {
			return body
		}
		var all []api.Entry
		hide := drop()
		err := node.AllEntries(r.Context(), 0, func(e api.Entry) error {
			if !hide(e) {
				e.Seq = uint64(len(all))
				all = append(all, e)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
			return body
		}
		return entriesPage(r, all)
	}
}

// entriesPage answers an /entries request from all.
func entriesPage(r *http.Request, all []api.Entry) []byte {
	from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	from = min(from, uint64(len(all)))
	end := min(from+uint64(limit), uint64(len(all)))
	out, _ := json.Marshal(api.EntriesResponse{Entries: all[from:end], Next: end})
	return out
}

// entries returns the node's entries, decoded.
func (e *liveElection) entries() []*bulletin.Entry {
	e.t.Helper()
	var out []*bulletin.Entry
	must(e.t, e.direct.AllEntries(context.Background(), 0, func(info api.Entry) error {
		ent, err := bulletin.ParseEntry(info.Entry)
		out = append(out, ent)
		return err
	}))
	return out
}

// count returns how many entries of type t the node holds.
func (e *liveElection) count(t bulletin.EntryType) int {
	n := 0
	for _, ent := range e.entries() {
		if ent.Type == t {
			n++
		}
	}
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	return data
}

// heldEntries decodes the entries p kept from the node.
func heldEntries(t *testing.T, p *testonly.Proxy) []*bulletin.Entry {
	var out []*bulletin.Entry
	for _, b := range p.Held() {
		var req api.SubmitRequest
		must(t, json.Unmarshal(b, &req))
		for _, b64 := range req.Entries {
			raw, err := base64.RawURLEncoding.DecodeString(b64)
			must(t, err)
			ent, err := bulletin.ParseEntry(raw)
			must(t, err)
			out = append(out, ent)
		}
	}
	return out
}

// hideBallots returns a rewrite that serves /entries with every ballot
// but the first removed (hideEntries), and the record suffix a party
// reads after its saved state (GET /record?from=) with its ballots
// removed (rewriteRecord: the blocks' counts and sizes follow).
func hideBallots(t *testing.T, node *apiclient.Client) func(string, *http.Request, []byte) []byte {
	pages := hideEntries(t, node, func() func(api.Entry) bool {
		kept := 0
		return func(e api.Entry) bool {
			if e.Type != bulletin.TypeBallot.String() {
				return false
			}
			kept++
			return kept > 1
		}
	})
	return func(path string, r *http.Request, body []byte) []byte {
		if isSuffix(path, r) {
			return rewriteRecord(t, body, func(blocks []*bulletin.RecordBlock) {
				next := blocks[0].Header.FirstSeq
				for _, b := range blocks {
					b.Raw = slices.DeleteFunc(b.Raw, func(raw []byte) bool {
						e, err := bulletin.ParseEntry(raw)
						return err == nil && e.Type == bulletin.TypeBallot
					})
					b.Header.FirstSeq, b.Header.Count = next, uint32(len(b.Raw))
					b.Header.LogSize = next + uint64(len(b.Raw))
					next = b.Header.LogSize
				}
			})
		}
		return pages(path, r, body)
	}
}

// isSuffix: the request is for the record suffix after a party's saved
// state (SPEC.md §3.11).
func isSuffix(path string, r *http.Request) bool {
	return path == api.Prefix+"/record" && r.URL.Query().Has(api.RecordFromParam)
}

// rewriteRecord returns the record (or suffix) body with its blocks changed by edit
// (its checkpoints kept), framed again; a body that is no record is
// returned as it is.
func rewriteRecord(t *testing.T, body []byte, edit func([]*bulletin.RecordBlock)) []byte {
	rr, err := bulletin.NewRecordReader(bytes.NewReader(body))
	if err != nil {
		return body
	}
	var blocks []*bulletin.RecordBlock
	for {
		b, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return body
		}
		blocks = append(blocks, b)
	}
	edit(blocks)
	return testonly.WriteRecord(t, blocks, rr.Checkpoints())
}
