package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// The trustee page's browser test: a one-node board serving the web
// client, trustees 1 and 2 through internal/roles (what `urna trustee`
// runs) and trustee 3 in headless Chromium on /trustee, from making its
// key to decrypting after the close. The page talks to the node only
// through a recording proxy, which also plays the hostile node.

// recorder is a reverse proxy to the node that keeps every request the
// page sends, and can serve a forged /api/v1/record.
type recorder struct {
	t      *testing.T
	node   string
	srv    *httptest.Server
	mu     sync.Mutex
	sent   []sentRequest
	record func([]byte) []byte // nil: the node's record as it is
	// answer, when set, may answer a request in place of the node
	// (forward passes it on to the node); false: the node answers.
	answer func(w http.ResponseWriter, req *http.Request, forward http.Handler) bool
}

type sentRequest struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

func newRecorder(t *testing.T, node string) *recorder {
	target, err := url.Parse(node)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{t: t, node: node}
	proxy := httputil.NewSingleHostReverseProxy(target)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.sent = append(r.sent, sentRequest{req.Method, req.URL.String(), req.Header.Clone(), body})
		forge, answer := r.record, r.answer
		r.mu.Unlock()
		if answer != nil && answer(w, req, proxy) {
			return
		}
		if forge != nil && req.URL.Path == "/api/v1/record" {
			rec := r.nodeRecord()
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(forge(rec))
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// nodeRecord reads the node's election record.
func (r *recorder) nodeRecord() []byte {
	resp, err := http.Get(r.node + "/api/v1/record")
	if err != nil {
		r.t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		r.t.Errorf("the node's record: %d %v", resp.StatusCode, err)
	}
	return b
}

func (r *recorder) forge(f func([]byte) []byte) {
	r.mu.Lock()
	r.record = f
	r.mu.Unlock()
}

// posts returns how many POSTs of entries the page sent so far.
func (r *recorder) posts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.sent {
		if s.Method == http.MethodPost && strings.HasPrefix(s.URL, "/api/v1/entries") {
			n++
		}
	}
	return n
}

func (r *recorder) requests() []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// trusteeBoard is the board of the test: one node, the authority, the
// credential authority and trustees 1 and 2 as the command line runs them.
type trusteeBoard struct {
	t      *testing.T
	root   string
	node   *server.Node
	cl     *apiclient.Client
	m      *ballot.Manifest
	ts     []*roles.Trustee
	creds  []ballot.Credential
	nodeSK ed25519.PrivateKey
}

func (e *trusteeBoard) dir(name string) string { return filepath.Join(e.root, name) }

// retry runs a step until the board has caught up with the previous one
// (roles.ErrNotReady), for at most a minute.
func (e *trusteeBoard) retry(what string, step func() error) {
	e.t.Helper()
	var err error
	for end := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if err = step(); err == nil || !errors.Is(err, roles.ErrNotReady) || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

func startTrusteeBoard(t *testing.T) *trusteeBoard {
	e := &trusteeBoard{t: t, root: t.TempDir()}
	seed := sha256.Sum256([]byte(t.Name() + " node key"))
	e.nodeSK = ed25519.NewKeyFromSeed(seed[:])
	e.node, e.cl = startWebNode(t, e.dir("n1"), e.nodeSK)
	for i := 1; i <= 2; i++ {
		d := e.dir(fmt.Sprintf("t%d", i))
		if _, err := roles.InitTrustee(rand.Reader, d, fmt.Sprintf("cli-%d", i)); err != nil {
			t.Fatal(err)
		}
		tr, err := roles.LoadTrustee(d)
		if err != nil {
			t.Fatal(err)
		}
		e.ts = append(e.ts, tr)
	}
	return e
}

// create posts the manifest naming trustees 1, 2 (the CLI's) and the
// page's public file as trustee 3, and the credential list.
func (e *trusteeBoard) create(pagePub string) {
	e.createElection(map[string]any{
		"election_id": "trustee-page-" + strconv.FormatInt(time.Now().UnixNano(), 36), "title": "Trustee page test", "threshold": 2,
		"questions": []map[string]any{
			{"text": "Colour?", "options": []string{"Red", "Green", "Blue"}, "min": 1, "max": 1},
			{"text": "Two of four?", "options": []string{"A", "B", "C", "D"}, "min": 0, "max": 2},
		},
	}, 4, pagePub)
}

// createElection posts the manifest of the authoring template tmpl naming
// trustees 1, 2 (the CLI's) and then the public files of more, and a
// credential list of issued voters; it keeps voters 1..3's credentials.
func (e *trusteeBoard) createElection(tmpl map[string]any, issued int, more ...string) {
	t := e.t
	ctx := context.Background()
	if _, err := roles.InitAuthority(rand.Reader, e.dir("ea")); err != nil {
		t.Fatal(err)
	}
	if _, err := roles.InitCredentialAuthority(rand.Reader, e.dir("ca")); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(tmpl)
	m, err := roles.BuildManifest(e.dir("ea"), &roles.ElectionSpec{
		Template: raw, CredentialAuthority: filepath.Join(e.dir("ca"), roles.CAPublicFile),
		Trustees:   append([]string{filepath.Join(e.dir("t1"), roles.TrusteePublicFile), filepath.Join(e.dir("t2"), roles.TrusteePublicFile)}, more...),
		BoardNodes: []ballot.BoardNode{{ID: "n1", Key: e.nodeSK.Public().(ed25519.PublicKey)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.retry("create", func() error { _, err := roles.CreateElection(ctx, rand.Reader, e.cl, e.dir("ea"), m); return err })
	e.retry("issue", func() error {
		_, err := roles.IssueCredentials(ctx, rand.Reader, e.cl, e.dir("ca"), issued)
		return err
	})
	for v := 1; v <= 3; v++ {
		c, err := roles.LoadCredential(filepath.Join(e.dir("ca"), roles.CredentialsFile), v)
		if err != nil {
			t.Fatal(err)
		}
		e.creds = append(e.creds, c)
	}
}

// count returns how many entries of type typ the node holds.
func (e *trusteeBoard) count(typ bulletin.EntryType) int {
	n := 0
	err := e.cl.AllEntries(context.Background(), 0, func(info api.Entry) error {
		ent, err := bulletin.ParseEntry(info.Entry)
		if err == nil && ent.Type == typ {
			n++
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Page helpers.

// trusteeIdle waits until the page's board section is no longer busy.
func (b *browser) trusteeIdle(what string) {
	b.t.Helper()
	b.run(what, until(`document.getElementById('sec-board').getAttribute('aria-busy') !== 'true'`))
}

// trusteeAct presses a step's button from the keyboard and waits for its
// outcome: the message key of #done, or of #err.
func (b *browser) trusteeAct(id string) (done, errKey string) {
	b.t.Helper()
	b.run("press "+id, chromedp.Focus(css("#"+id)), enter)
	b.trusteeIdle("wait for " + id)
	b.eval(`document.getElementById('done').dataset.tkey || ''`, &done)
	b.eval(`document.getElementById('err').dataset.tkey || ''`, &errKey)
	return done, errKey
}

// shown returns which of the step buttons the page shows.
func (b *browser) shown() []string {
	b.t.Helper()
	var ids []string
	b.eval(`[...document.querySelectorAll('#next button')].filter((x) => !x.hidden).map((x) => x.id)`, &ids)
	return ids
}

// bothLanguages audits the page as it is now in English and in Chinese
// (switching with the header's switcher, which keeps the page's state)
// and saves a screenshot of each.
func (b *browser) bothLanguages(where, shot string) {
	b.t.Helper()
	b.audit(where, "en")
	b.shot(shot + "-en")
	b.run("to Chinese", js(`(() => { const s = document.getElementById('lang'); s.value = 'zh'; s.dispatchEvent(new Event('change')); })()`))
	b.audit(where, "zh")
	b.shot(shot + "-zh")
	b.run("to English", js(`(() => { const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); })()`))
}

// downloaded waits until the browser saved the file name in dir (the
// download of what) and returns it.
func (b *browser) downloaded(dir, name, what string) string {
	b.t.Helper()
	var body []byte
	for end := time.Now().Add(30 * time.Second); len(body) == 0; time.Sleep(50 * time.Millisecond) {
		var err error
		if body, err = os.ReadFile(filepath.Join(dir, name)); len(body) == 0 && time.Now().After(end) {
			b.t.Fatalf("download %s: %s not saved in %s: %v", what, name, dir, err)
		}
	}
	return string(body)
}

// save clicks (or, keyboard, presses Enter on) a download link and
// returns the file saved.
func (b *browser) save(id string, keyboard bool) string {
	b.t.Helper()
	dir := b.downloadDir()
	var name string
	b.eval(`document.getElementById('`+id+`').download`, &name)
	if keyboard {
		b.run("save "+id, chromedp.Focus(css("#"+id)), enter)
	} else {
		b.run("save "+id, chromedp.Click(css("#"+id)))
	}
	return b.downloaded(dir, name, id)
}

func TestBrowserTrustee(t *testing.T) {
	path := requireBrowser(t)
	ctx := context.Background()
	e := startTrusteeBoard(t)
	rec := newRecorder(t, e.node.APIAddr)
	b := newBrowser(t, path, artifacts(t))
	b.base = rec.srv.URL

	// 1. The key, made in the page from the keyboard.
	b.open("trustee", "trustee")
	contains(t, "the page says where the key stays", b.text("main"), "Your key never leaves this computer")
	b.bothLanguages("trustee.html no key", "trustee-01-no-key")
	b.run("type a name", chromedp.Focus(css("#name")), chromedp.SendKeys(css("#name"), "page-3"), enter,
		until(`!document.getElementById('key-loaded').hidden`))
	b.focusIs("making the key", "#h-key")
	contains(t, "unsaved key", b.text("#save-state"), "save it again")
	b.bothLanguages("trustee.html new key", "trustee-02-new-key")
	pub := b.save("save-pub", false)
	keyText := b.save("save-key", true)
	contains(t, "saved key", b.text("#save-state"), "is saved")
	pubPath := filepath.Join(e.dir("page"), roles.TrusteePublicFile)
	writeFile(t, pubPath, pub, 0o644)
	// The CLI reads the page's key file as its own.
	cliCopy := filepath.Join(e.dir("page-cli"), roles.TrusteeKeyFile)
	writeFile(t, cliCopy, keyText, 0o600)
	loaded, err := roles.LoadTrustee(filepath.Dir(cliCopy))
	if err != nil {
		t.Fatalf("the CLI cannot load the page's key file: %v", err)
	}
	if p, _ := json.Marshal(loaded.Public()); !jsonEqual(t, p, []byte(pub)) {
		t.Fatalf("the CLI derives the public file %s from the page's key file, the page saved %s", p, pub)
	}

	// 2. The key ceremony: trustees 1 and 2 by the command line's code,
	// trustee 3 in the page.
	e.create(pubPath)
	for i, tr := range e.ts {
		e.retry(fmt.Sprintf("trustee %d deals", i+1), func() error { _, err := roles.Deal(ctx, rand.Reader, e.cl, tr); return err })
	}
	b.trusteeAct("refresh")
	if got := b.shown(); !slices.Equal(got, []string{"act-deal"}) {
		t.Fatalf("before dealing the page offers %v, want [act-deal]", got)
	}
	contains(t, "who the page is", b.text("#facts"), "trustee 3 of 3 (threshold 2)", "2 of 3 dealt")
	b.bothLanguages("trustee.html board before the deal", "trustee-03-board")

	posted := rec.posts()
	b.trusteeAct("act-deal")
	if !eval[bool](b, `!document.getElementById('deal-save').hidden && document.getElementById('deal-post').disabled`) {
		t.Fatal("the page offers to post the deal before the key file holding the dealer seed is saved")
	}
	if n := rec.posts(); n != posted {
		t.Fatalf("the page posted %d times before the key file with the dealer seed was saved", n-posted)
	}
	b.focusIs("signing the deal", "#deal-save-key")
	b.bothLanguages("trustee.html deal waiting for the save", "trustee-04-deal-save")
	keyText = b.save("deal-save-key", true)
	if !strings.Contains(keyText, `"dealer_seed"`) {
		t.Fatalf("the key file saved after the deal holds no dealer seed:\n%s", keyText)
	}
	b.keys("to the post button", "#deal-post", tab)
	b.run("post the deal", enter)
	b.trusteeIdle("posting the deal")
	if done := b.text("#done"); !strings.Contains(done, "Your deal is on the board") {
		t.Fatalf("after posting the deal the page says %q (error: %q)", done, b.text("#err"))
	}

	// Trustee 2 complains against the page's trustee (a complaint need not
	// be right: the dealer answers by revealing the share), then 1 and 2
	// check their shares.
	complaint, err := bulletin.NewEntry(bulletin.TypeDKGComplaint, e.m.Fingerprint(), bulletin.RoleTrustee, e.ts[1].Secret.SigningKey().Public(),
		(&tally.Complaint{Dealer: 3, Complainer: 2}).Bytes())
	if err == nil {
		err = complaint.Sign(rand.Reader, e.ts[1].Secret.SigningKey())
	}
	if err == nil {
		_, err = e.cl.SubmitOne(ctx, complaint.Bytes())
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range e.ts {
		e.retry(fmt.Sprintf("trustee %d checks", i+1), func() error { _, err := roles.Check(ctx, rand.Reader, e.cl, tr, false); return err })
	}
	b.trusteeAct("refresh")
	if got := b.shown(); !slices.Equal(got, []string{"act-check", "act-answer"}) {
		t.Fatalf("after every deal and a complaint the page offers %v, want [act-check act-answer]", got)
	}
	b.watchWorker()
	if done, errKey := b.trusteeAct("act-check"); done != "trustee.done.check" || errKey != "" {
		t.Fatalf("check: %q, error %q (%s)", done, errKey, b.text("#err"))
	}
	b.stayedResponsive("trusteeAct")
	contains(t, "check", b.text("#done"), "trustees 1, 2")
	if done, errKey := b.trusteeAct("act-answer"); done != "trustee.done.answer" || errKey != "" {
		t.Fatalf("answer: %q, error %q (%s)", done, errKey, b.text("#err"))
	}
	contains(t, "answer", b.text("#done"), "trustees 2")
	var opened *roles.OpenInfo
	e.retry("open", func() error {
		var err error
		opened, err = roles.Open(ctx, rand.Reader, e.cl, e.dir("ea"), false)
		return err
	})
	if !slices.Equal(opened.Qualified, []int{1, 2, 3}) {
		t.Fatalf("QUAL %v, want [1 2 3]: the page's deal or reveal did not count", opened.Qualified)
	}
	keyText = b.save("save-key", false)

	// Voting, by the command line's voter.
	picks := [][][]uint32{{{0}, {1}}, {{1}, {}}, {{0}, {2, 3}}}
	want := [][]uint64{{2, 1, 0}, {0, 1, 1, 1}}
	for v, choices := range picks {
		e.retry(fmt.Sprintf("voter %d", v), func() error {
			_, err := roles.Cast(ctx, rand.Reader, e.cl, roles.CastOptions{Credential: e.creds[v], Choices: choices})
			return err
		})
	}
	b.trusteeAct("refresh")
	if got := b.shown(); len(got) != 0 {
		t.Fatalf("while voting is open the page offers %v, want nothing", got)
	}
	beforeClose := rec.nodeRecord()
	e.retry("close", func() error { _, err := roles.Close(ctx, rand.Reader, e.cl, e.dir("ea"), ""); return err })
	b.trusteeAct("refresh")
	if got := b.shown(); !slices.Equal(got, []string{"act-decrypt"}) {
		t.Fatalf("after the close the page offers %v, want [act-decrypt]", got)
	}
	contains(t, "closed", b.text("#facts"), "closed, 3 ballots counted")

	// 3. Hostile nodes: the page refuses to decrypt and posts nothing.
	t.Run("AttackStaleRecord", func(t *testing.T) {
		b.trusteeAct("refresh") // the honest board: the page offers to decrypt
		// The record from before the close (no ballot counted, no close),
		// beside the node's honest newest checkpoint.
		rec.forge(func([]byte) []byte { return beforeClose })
		defer rec.forge(nil)
		posted := rec.posts()
		_, errKey := b.trusteeAct("act-decrypt")
		if errKey != "err.trustee_stale" {
			t.Fatalf("decrypt on a record older than the node's checkpoint: error %q (%s), want err.trustee_stale", errKey, b.text("#err"))
		}
		if n := rec.posts(); n != posted {
			t.Fatalf("the page posted %d entries on a stale view", n-posted)
		}
	})
	t.Run("AttackHiddenBallots", func(t *testing.T) {
		b.trusteeAct("refresh") // the honest board: the page offers to decrypt
		// The record with its newest ballot cut out of its block.
		rec.forge(func(r []byte) []byte { return hideLastBallot(t, e, r) })
		defer rec.forge(nil)
		posted := rec.posts()
		_, errKey := b.trusteeAct("act-decrypt")
		if errKey != "err.trustee_refused" && errKey != "err.malformed" {
			t.Fatalf("decrypt on a record hiding a ballot: error %q (%s), want a refusal", errKey, b.text("#err"))
		}
		if n := rec.posts(); n != posted {
			t.Fatalf("the page posted %d entries on a record hiding a ballot", n-posted)
		}
	})
	t.Run("AttackOtherKey", func(t *testing.T) {
		b.trusteeAct("refresh") // the honest board: the page offers to decrypt
		// The record with the open entry's election key replaced by one
		// whose secret someone knows.
		rec.forge(func(r []byte) []byte {
			out := bytes.ReplaceAll(r, opened.JointKey, e.nodeSK.Public().(ed25519.PublicKey))
			if bytes.Equal(out, r) {
				t.Error("the election key is not in the record's bytes")
			}
			return out
		})
		defer rec.forge(nil)
		posted := rec.posts()
		_, errKey := b.trusteeAct("act-decrypt")
		if errKey != "err.trustee_refused" {
			t.Fatalf("decrypt on a record with another election key: error %q (%s), want err.trustee_refused", errKey, b.text("#err"))
		}
		contains(t, "refusal", b.text("#err"), "does NOT verify", "posted nothing")
		if facts := b.text("#facts"); facts != "" || len(b.shown()) != 0 {
			t.Fatalf("after a refusal the page still shows the board as verified: %q, steps %v", facts, b.shown())
		}
		b.focusIs("a refusal", "#err")
		b.bothLanguages("trustee.html refused board", "trustee-05-refused")
		if n := rec.posts(); n != posted {
			t.Fatalf("the page posted %d entries on a record with another key", n-posted)
		}
	})
	if n := e.count(bulletin.TypePartialDecryption); n != 0 {
		t.Fatalf("%d partial decryptions on the board after the hostile nodes", n)
	}

	// 4. The page decrypts, trustee 1 too, the authority tallies, and the
	// record verifies with the published counts.
	b.trusteeAct("refresh")
	if done, errKey := b.trusteeAct("act-decrypt"); done != "trustee.done.decrypt" || errKey != "" {
		t.Fatalf("decrypt: %q, error %q (%s)", done, errKey, b.text("#err"))
	}
	contains(t, "decrypt", b.text("#done"), "3 counted ballots")
	b.bothLanguages("trustee.html after decrypting", "trustee-06-decrypted")
	keyText = b.save("save-key", false)
	e.retry("trustee 1 decrypts", func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.cl, e.ts[0]); return err })
	e.retry("tally", func() error { _, err := roles.Tally(ctx, rand.Reader, e.cl, e.dir("ea")); return err })
	rep, err := client.VerifyElectionRecord(bytes.NewReader(rec.nodeRecord()), client.VerifyOptions{})
	if err != nil {
		t.Fatalf("the record does not verify after the page's decryption: %v", err)
	}
	if !slices.EqualFunc(rep.Counts, want, func(a, b []uint64) bool { return slices.Equal(a, b) }) {
		t.Fatalf("verified counts %v, want %v", rep.Counts, want)
	}

	// 5. The key never left the page: no request the page sent holds the
	// secret, the dealer seed or the key file, in any encoding.
	secretsNeverSent(t, rec.requests(), keyText)

	// 6. The CLI reads the state the page kept (dealer seed, memory), and
	// the page loads a CLI trustee's directory.
	writeFile(t, cliCopy, keyText, 0o600)
	if loaded, err = roles.LoadTrustee(filepath.Dir(cliCopy)); err != nil || loaded.Seed == nil || len(loaded.Memory) != 1 {
		t.Fatalf("the CLI reads the page's final key file as %+v, %v; want its dealer seed and memory", loaded, err)
	}
	// And follows the board with it: the page's remembered checkpoint is
	// proved extended, and there is nothing left to answer.
	if done, err := roles.Answer(ctx, rand.Reader, e.cl, loaded); err != nil || len(done) != 0 {
		t.Fatalf("the CLI with the page's key file: answered %v, %v", done, err)
	}
	b.run("forget the key", chromedp.Click(css("#forget")), until(`!document.getElementById('key-none').hidden`))
	var files []string
	for _, f := range []string{roles.TrusteeKeyFile, roles.TrusteeDealerSeed, roles.MemoryFile} {
		files = append(files, filepath.Join(e.dir("t2"), f))
	}
	b.run("load trustee 2's directory", chromedp.SetUploadFiles(css("#keyfile"), files),
		until(`!document.getElementById('key-loaded').hidden`))
	contains(t, "the CLI's trustee", b.text("#key-name"), "cli-2")
	b.trusteeAct("refresh")
	contains(t, "the CLI's trustee on the board", b.text("#facts"), "trustee 2 of 3")
	if got := b.shown(); !slices.Equal(got, []string{"act-decrypt"}) {
		t.Fatalf("the page with trustee 2's directory offers %v, want [act-decrypt]", got)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// hideLastBallot cuts the newest ballot entry out of the record, as a node
// hiding a ballot would.
func hideLastBallot(t *testing.T, e *trusteeBoard, r []byte) []byte {
	var last []byte
	err := e.cl.AllEntries(context.Background(), 0, func(info api.Entry) error {
		ent, err := bulletin.ParseEntry(info.Entry)
		if err == nil && ent.Type == bulletin.TypeBallot {
			last = info.Entry
		}
		return err
	})
	if err != nil || last == nil {
		t.Errorf("finding a ballot: %v", err)
		return r
	}
	i := bytes.Index(r, last)
	if i < 0 {
		t.Error("the ballot is not in the record's bytes")
		return r
	}
	return append(r[:i:i], r[i+len(last):]...)
}

// secretsNeverSent fails if any request holds the trustee's secret, its
// dealer seed or its key file.
func secretsNeverSent(t *testing.T, sent []sentRequest, keyText string) {
	t.Helper()
	var f struct {
		Secret     string `json:"secret"`
		DealerSeed struct {
			Seed string `json:"seed"`
		} `json:"dealer_seed"`
	}
	if err := json.Unmarshal([]byte(keyText), &f); err != nil || f.Secret == "" || f.DealerSeed.Seed == "" {
		t.Fatalf("the final key file: %v; secret and dealer seed must be set", err)
	}
	var needles []string
	for _, s := range []string{f.Secret, f.DealerSeed.Seed} {
		raw, err := wire.DecodeB64(s)
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, s, hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), string(raw[:16]))
	}
	posts := 0
	for _, r := range sent {
		if r.Method == http.MethodPost {
			posts++
		}
		hay := r.URL + "\n" + string(r.Body)
		for k, v := range r.Header {
			hay += "\n" + k + ": " + strings.Join(v, ",")
		}
		for i, n := range needles {
			if strings.Contains(hay, n) {
				t.Fatalf("the page sent its secret (form %d) in %s %s", i, r.Method, r.URL)
			}
		}
	}
	// Deal, confirmation, reveal, partial decryption.
	if posts < 4 {
		t.Fatalf("the recorder saw %d POSTs of the page, want at least 4: is it in the page's path?", posts)
	}
	t.Logf("%d requests of the page inspected, %d of them POSTs: no secret in any", len(sent), posts)
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
