package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/web"
)

// The console tests hold a one-node board with the web client and no
// election, and the parties other than the election authority as files
// and role flows (internal/roles, as `urna trustee` and `urna credentials`
// run them); the authority acts only through /console in Chromium.

// consoleBoard is a fresh board and the parties' directories.
type consoleBoard struct {
	url     string
	nodeKey string // hex, as `urna node-key` prints it
	dir     string
	cl      *apiclient.Client
}

func newConsoleBoard(t *testing.T) *consoleBoard {
	t.Helper()
	dir := t.TempDir()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	node, cl := startWebNode(t, filepath.Join(dir, "n1"), key)
	if _, err := roles.InitCredentialAuthority(rand.Reader, filepath.Join(dir, "ca")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := roles.InitTrustee(rand.Reader, filepath.Join(dir, fmt.Sprintf("t%d", i)), fmt.Sprintf("trustee-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return &consoleBoard{url: node.APIAddr, nodeKey: hex.EncodeToString(pub), dir: dir, cl: cl}
}

// startWebNode starts a one-node board (node n1, its state in dir)
// serving the web client on 127.0.0.1, and returns it with a client once
// it leads.
func startWebNode(t *testing.T, dir string, key ed25519.PrivateKey) (*server.Node, *apiclient.Client) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Bootstrap, cfg.SigningKey, cfg.Static = "n1", dir, true, key, web.FS()
	cfg.RaftBind, cfg.HTTPListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = testonly.Logger(t, slog.LevelError)
	node, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Stop() })
	cl, err := apiclient.New(node.APIAddr, apiclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := cl.Health(context.Background())
		if err == nil && h.Leader != "" {
			return node, cl
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (cb *consoleBoard) path(s string) string { return filepath.Join(cb.dir, s) }

func (cb *consoleBoard) trustee(t *testing.T, i int) *roles.Trustee {
	t.Helper()
	tr, err := roles.LoadTrustee(cb.path(fmt.Sprintf("t%d", i)))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// requests records the body of every request a tab sends (Chromium's
// network events), for TestAttackConsoleNeverSendsKey's check.
type requests struct {
	mu     sync.Mutex
	bodies map[string][]byte // by request id
	urls   []string
	empty  []string // requests with a body Chromium did not report
}

func (b *browser) record() *requests {
	b.t.Helper()
	r := &requests{bodies: map[string][]byte{}}
	err := chromedp.Listen(b.ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.urls = append(r.urls, e.Request.URL)
		var body []byte
		for _, p := range e.Request.PostDataEntries {
			body = append(body, p.Bytes...)
		}
		if e.Request.HasPostData && len(body) == 0 {
			r.empty = append(r.empty, e.Request.URL)
		}
		r.bodies[string(e.RequestID)] = append(r.bodies[string(e.RequestID)], body...)
	})
	if err != nil {
		b.t.Fatalf("listening to requests: %v", err)
	}
	b.run("record requests", call(network.Enable, network.EnableParams{}))
	return r
}

// secretForms are the encodings in which an authority key file's secret
// could travel: the file itself, the scalar raw, hex, base64 and
// base64url (padded or not), and its JSON string.
func secretForms(t *testing.T, keyFile []byte) [][]byte {
	t.Helper()
	var f struct{ Secret string }
	if err := json.Unmarshal(keyFile, &f); err != nil || f.Secret == "" {
		t.Fatalf("key file: %v", err)
	}
	raw, err := wire.DecodeB64(f.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{keyFile, raw, []byte(hex.EncodeToString(raw)), []byte(strings.ToUpper(hex.EncodeToString(raw))),
		[]byte(base64.StdEncoding.EncodeToString(raw)), []byte(base64.RawStdEncoding.EncodeToString(raw)),
		[]byte(base64.URLEncoding.EncodeToString(raw)), []byte(f.Secret), []byte(base64.StdEncoding.EncodeToString(keyFile))}
}

// noSecret fails when any request the tab sent carried the key.
func (r *requests) noSecret(t *testing.T, forms [][]byte) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.empty) > 0 {
		t.Errorf("requests with a body Chromium did not report, so unchecked: %v", r.empty)
	}
	posts := 0
	for id, body := range r.bodies {
		if len(body) > 0 {
			posts++
		}
		for _, f := range forms {
			if bytes.Contains(body, f) {
				t.Errorf("request %s sent the authority key (%d bytes matched): %.200s", id, len(f), body)
			}
		}
	}
	for _, u := range r.urls {
		for _, f := range forms[1:] {
			if strings.Contains(u, string(f)) {
				t.Errorf("a request URL carries the authority key: %s", u)
			}
		}
	}
	return posts
}

// loadKey gives the console the key file at path through its file input.
func (b *browser) loadKey(path string) {
	b.t.Helper()
	b.run("load the key file", chromedp.SetUploadFiles(css("#key-file"), []string{path}),
		until(`!document.getElementById('key-out').hidden`))
}

// fillElection writes the election into the console's form: two
// questions (1 of 3; approval of 3), the credential authority, three
// trustees (threshold 2), the board's node from /cluster with its key.
func (b *browser) fillElection(cb *consoleBoard, id string) {
	b.t.Helper()
	b.run("write the election",
		chromedp.SendKeys(css("#eid"), id),
		chromedp.SendKeys(css("#etitle-in"), "Console election"),
		chromedp.SendKeys(css("#q0-text"), "Best colour?"),
		chromedp.SetValue(css("#q0-options"), "Red\nGreen\nBlue"),
		chromedp.Click(css("#add-q")),
		chromedp.SendKeys(css("#q1-text"), "Which parks?"),
		chromedp.SetValue(css("#q1-kind"), "approval"),
		chromedp.SetValue(css("#q1-options"), "North\nSouth\nEast"),
		chromedp.SetUploadFiles(css("#ca-file"), []string{cb.path("ca/credential-authority.pub")}),
		chromedp.SetUploadFiles(css("#trustee-files"), []string{cb.path("t1/trustee.pub"), cb.path("t2/trustee.pub")}),
		until(`document.querySelectorAll('#trustee-list li').length === 2`))
	pub, err := os.ReadFile(cb.path("t3/trustee.pub"))
	if err != nil {
		b.t.Fatal(err)
	}
	b.run("paste the third trustee, list the nodes",
		chromedp.SetValue(css("#trustee-paste"), string(pub)),
		chromedp.Click(css("#trustee-add")),
		until(`document.querySelectorAll('#trustee-list li').length === 3`),
		chromedp.SetValue(css("#threshold"), "2"),
		chromedp.Click(css("#nodes-load")),
		until(`document.getElementById('node0-id')?.value === 'n1'`),
		chromedp.SendKeys(css("#node0-key"), cb.nodeKey))
}

// prepareAndPost prepares the manifest, checks the fingerprint shown
// against the one the board then holds, and posts it.
func (b *browser) prepareAndPost(cb *consoleBoard) string {
	b.t.Helper()
	b.run("prepare", chromedp.Click(css(`#create-form button[type=submit]`)),
		until(`!document.getElementById('draft').hidden || document.getElementById('create-err').textContent !== ''`))
	if e := b.text("#create-err"); e != "" {
		b.t.Fatalf("the console refused the election: %s", e)
	}
	shown := strings.ReplaceAll(b.text("#draft-fp"), " ", "")
	b.run("post the manifest", chromedp.Click(css("#post-manifest")),
		until(`document.getElementById('act').dataset.tkey === 'console.draft.posted' || document.getElementById('err').textContent !== ''`))
	if e := b.text("#err"); e != "" {
		b.t.Fatalf("posting the manifest: %s", e)
	}
	st, err := cb.cl.Election(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	if st.Fingerprint != shown || len(shown) != 64 {
		b.t.Fatalf("the console showed fingerprint %q, the board holds %q", shown, st.Fingerprint)
	}
	return shown
}

// act clicks a console button and waits for its outcome message.
func (b *browser) act(button, done string) {
	b.t.Helper()
	b.run("click "+button, chromedp.Click(css("#"+button)),
		until(fmt.Sprintf(`document.getElementById('act').dataset.tkey === %q || document.getElementById('err').textContent !== ''`, done)))
	if e := b.text("#err"); e != "" {
		b.fail(button, fmt.Errorf("the console says: %s", e))
	}
}

// watchWorker has the page note, for each call it sends the officials'
// worker (officials.js), how many tasks the page's own thread ran before
// the answer came: a verification that blocked the page would let none
// run. It counts tasks, not time, so a slow machine cannot fail it.
func (b *browser) watchWorker() {
	b.t.Helper()
	b.run("watch the worker", js(`(() => {
		window.workerCalls = [];
		const post = Worker.prototype.postMessage;
		Worker.prototype.postMessage = function (m, ...rest) {
			if (m && m.fn) {
				const call = { fn: m.fn, tasks: 0, answered: false, ms: 0 };
				const t0 = performance.now();
				window.workerCalls.push(call);
				this.addEventListener('message', (ev) => {
					if (ev.data.id === m.id) { call.answered = true; call.ms = performance.now() - t0; }
				});
				const tick = () => { if (!call.answered) { call.tasks++; setTimeout(tick, 0); } };
				setTimeout(tick, 0);
			}
			return post.call(this, m, ...rest);
		};
	})()`))
}

// stayedResponsive checks that the page ran tasks of its own while the
// worker answered every call fn it was sent since watchWorker.
func (b *browser) stayedResponsive(fn string) {
	b.t.Helper()
	var calls []struct {
		Fn       string
		Tasks    int
		Answered bool
		Ms       float64
	}
	b.eval(`window.workerCalls`, &calls)
	n := 0
	for _, c := range calls {
		if c.Fn != fn {
			continue
		}
		n++
		b.t.Logf("%s in the officials' worker: %.0f ms, %d tasks of the page ran meanwhile", fn, c.Ms, c.Tasks)
		if !c.Answered || c.Tasks == 0 {
			b.t.Errorf("%s: answered %v, the page ran %d tasks while the worker verified: want the page responsive", fn, c.Answered, c.Tasks)
		}
	}
	if n == 0 {
		b.t.Errorf("no %s call went to the officials' worker: the page verified on its own thread", fn)
	}
}

// TestBrowserConsole runs a whole election with the authority in the
// console: a new key saved from the page, the election written in the
// form, the key ceremony followed, voting opened, turnout, closed, tallied
// and published; every state audited in English and Chinese.
func TestBrowserConsole(t *testing.T) {
	path := requireBrowser(t)
	dir := artifacts(t)
	cb := newConsoleBoard(t)
	ctx := context.Background()
	b := newBrowser(t, path, dir)
	b.base = cb.url
	reqs := b.record()
	audit := func(where, shot string) {
		t.Helper()
		b.audit("console "+where, "en")
		b.shot("console-" + shot + "-en")
		b.run("zh", js(`localStorage.setItem('urna.lang', 'zh')`), chromedp.SetValue(css("#lang"), "zh"),
			js(`document.getElementById('lang').dispatchEvent(new Event('change'))`), until(`document.documentElement.lang === 'zh-Hans'`))
		contains(t, "console in Chinese", b.text("main"), "选举主管机构控制台", "您的密钥只留在这台电脑上")
		b.audit("console "+where, "zh")
		b.shot("console-" + shot + "-zh")
		b.run("en", js(`localStorage.removeItem('urna.lang')`), chromedp.SetValue(css("#lang"), "en"),
			js(`document.getElementById('lang').dispatchEvent(new Event('change'))`), until(`document.documentElement.lang === 'en'`))
	}

	b.open("console", "console")
	contains(t, "console", b.text("main"), "Your key stays on this computer", "never sent", "holds no election yet")
	audit("no key", "01-key")

	// A new key, saved from the page (a download, not a request).
	keyDir := b.downloadDir()
	b.run("new key", chromedp.Click(css("#key-new")), until(`!document.getElementById('key-save').hidden`))
	b.run("save the key", chromedp.Click(css("#dl-key")))
	keyFile := []byte(b.downloaded(keyDir, "authority.key", "the key"))
	// The saved file is the CLI's: `urna authority` loads it.
	if err := os.MkdirAll(cb.path("ea"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cb.path("ea/authority.key"), keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	sk, err := roles.LoadAuthority(cb.path("ea"))
	if err != nil {
		t.Fatalf("the key the console saved does not load in the CLI: %v", err)
	}
	if got := b.text("#key-pub"); got != wire.EncodeB64(sk.Public().Bytes()) {
		t.Fatalf("the console shows public key %s, the saved file holds %s", got, wire.EncodeB64(sk.Public().Bytes()))
	}
	audit("new key", "02-new-key")

	// A fresh page: the key is gone with it; load the saved file.
	b.open("console", "console")
	b.run("a file that is no key", chromedp.SetUploadFiles(css("#key-file"), []string{cb.path("t1/trustee.pub")}),
		until(`document.getElementById('key-err').textContent !== ''`))
	contains(t, "wrong key file", b.text("#key-err"), "not an authority key file")
	b.loadKey(cb.path("ea/authority.key"))
	b.fillElection(cb, "console-1")
	// A bad election first: no options for a question.
	b.run("no options", js(`document.getElementById('q0-options').value = ''`), chromedp.Click(css(`#create-form button[type=submit]`)),
		until(`document.getElementById('create-err').textContent !== ''`))
	contains(t, "invalid manifest", b.text("#create-err"), "not valid")
	audit("create with an error", "03-create-error")
	b.run("options again", chromedp.SetValue(css("#q0-options"), "Red\nGreen\nBlue"))
	// In English and Chinese, with a schedule (opened long ago, closing
	// far ahead, by hand before that too).
	b.run("languages and schedule",
		chromedp.SendKeys(css("#langs"), "en, zh"),
		chromedp.Click(css("#tr-update")),
		until(`document.getElementById('tr-zh-q1-options') !== null`),
		chromedp.SendKeys(css("#tr-zh-title"), "控制台选举"),
		chromedp.SendKeys(css("#tr-zh-q0-text"), "最喜欢的颜色？"),
		chromedp.SetValue(css("#tr-zh-q0-options"), "红\n绿\n蓝"),
		chromedp.SendKeys(css("#tr-zh-q1-text"), "哪些公园？"),
		chromedp.SetValue(css("#tr-zh-q1-options"), "北\n南\n东"),
		chromedp.SetValue(css("#opens"), "2020-01-01T00:00"),
		chromedp.SetValue(css("#closes"), "2099-12-31T23:00"))
	audit("create with translations", "03b-create-translations")
	fp := b.prepareAndPost(cb)
	st, err := cb.cl.Election(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != ballot.ManifestVersionExtended || strings.Join(m.Languages, ",") != "en,zh" || len(m.Translations) != 1 ||
		m.Translations[0].Title != "控制台选举" || m.Schedule.OpensAt == 0 || m.Schedule.ClosesAt <= m.Schedule.OpensAt || !m.Schedule.Manual {
		t.Fatalf("the posted manifest: version %d, languages %v, translations %+v, schedule %+v", m.Version, m.Languages, m.Translations, m.Schedule)
	}
	audit("ceremony", "04-ceremony")

	// Opening before the ceremony is refused, and nothing is posted.
	b.run("open too early", chromedp.Click(css("#open")), until(`document.getElementById('err').textContent !== ''`))
	contains(t, "open too early", b.text("#err"), "Not yet", "credential list is not posted")
	st, _ = cb.cl.Election(ctx)
	if st.Phase != "setup" && st.Phase != "key-ceremony" {
		t.Fatalf("phase %s after a refused open", st.Phase)
	}

	// The credential authority and the trustees, through the board.
	issued, err := roles.IssueCredentials(ctx, rand.Reader, cb.cl, cb.path("ca"), 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := roles.Deal(ctx, rand.Reader, cb.cl, cb.trustee(t, i)); err != nil {
			t.Fatalf("trustee %d deals: %v", i, err)
		}
	}
	for i := 1; i <= 3; i++ {
		if _, err := roles.Check(ctx, rand.Reader, cb.cl, cb.trustee(t, i), false); err != nil {
			t.Fatalf("trustee %d checks: %v", i, err)
		}
	}
	b.run("ceremony shown", until(`[...document.querySelectorAll('#trustees tbody tr')].filter(r => r.cells[1].textContent === 'yes').length === 3`))
	b.act("open", "console.open.done")
	contains(t, "opened", b.text("#act"), "Voting is open", "qualified trustees: 1, 2, 3")
	if st, _ = cb.cl.Election(ctx); st.Phase != "open" {
		t.Fatalf("phase %s after the console opened", st.Phase)
	}

	// Two voters; the turnout follows.
	creds, _, err := roles.ParseCredentials(mustRead(t, issued.Path))
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 2; v++ {
		if _, err := roles.Cast(ctx, rand.Reader, cb.cl, roles.CastOptions{Credential: creds[v], Choices: [][]uint32{{0}, {1, 2}}}); err != nil {
			t.Fatalf("voter %d: %v", v, err)
		}
	}
	b.run("turnout", until(`document.getElementById('turnout-now').textContent.startsWith('2 ballots')`))
	contains(t, "turnout", b.text("#turnout"), "2")
	audit("turnout", "05-turnout")
	b.run("reason", chromedp.SendKeys(css("#close-reason"), "the polls are closed"))
	b.watchWorker()
	b.act("close", "console.close.done")
	b.stayedResponsive("consoleAct")

	for i := 1; i <= 2; i++ {
		if _, err := roles.Decrypt(ctx, rand.Reader, cb.cl, cb.trustee(t, i)); err != nil {
			t.Fatalf("trustee %d decrypts: %v", i, err)
		}
	}
	b.run("decrypted shown", until(`document.getElementById('tally-state').textContent.includes('trustee-2')`))
	audit("tally", "06-tally")
	b.act("tally", "console.tally.done.posted")
	contains(t, "published", b.text("#act"), "2 ballots counted")
	res, err := cb.cl.Results(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]uint64{{2, 0, 0}, {0, 2, 2}}
	for q := range want {
		for o := range want[q] {
			if got := res.Questions[q].Options[o].Count; got != want[q][o] {
				t.Errorf("result question %d option %d: %d, want %d", q, o, got, want[q][o])
			}
		}
	}
	b.run("results link", until(`!document.getElementById('result-link').hidden`))
	audit("published", "07-published")

	// The results page verifies what the console published.
	var href string
	b.eval(`document.querySelector('#result-link a').getAttribute('href')`, &href)
	b.open(href, "results")
	b.run("results verify", until(`document.body.dataset.verify === 'ok'`))
	if got := b.text("main"); !strings.Contains(got, "checks passed") {
		t.Errorf("results page: %s", got)
	}
	_ = fp

	// Keyboard alone reaches every control of a fresh console.
	b.open("console", "console")
	keyboardReaches(t, b, "key-file", "key-new")

	if n := reqs.noSecret(t, secretForms(t, keyFile)); n < 4 {
		t.Errorf("%d requests with a body seen, want the manifest, open, close and result posts at least: the capture missed them", n)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// keyboardReaches tabs through the page from the top and fails unless
// focus reaches each element id.
func keyboardReaches(t *testing.T, b *browser, ids ...string) {
	t.Helper()
	seen := map[string]bool{}
	b.run("focus the top", js(`document.activeElement.blur()`))
	for i := 0; i < 40 && len(seen) < len(ids); i++ {
		b.run("Tab", chromedp.KeyEvent("\t"))
		var id string
		b.eval(`document.activeElement.id`, &id)
		for _, want := range ids {
			if id == want {
				seen[want] = true
			}
		}
	}
	for _, want := range ids {
		if !seen[want] {
			t.Errorf("the keyboard never reaches #%s", want)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttackConsoleNeverSendsKey: the authority's key file, loaded into
// the console, never leaves the browser. Every request the page makes is
// captured from Chromium's network events, and no body or URL may hold
// the key in any encoding; nor may the page's storage or its DOM. The
// node the console talks to then turns hostile and serves a tampered
// election record: the console refuses to sign, and posts nothing.
func TestAttackConsoleNeverSendsKey(t *testing.T) {
	path := requireBrowser(t)
	dir := artifacts(t)
	cb := newConsoleBoard(t)
	ctx := context.Background()
	if _, err := roles.InitAuthority(rand.Reader, cb.path("ea")); err != nil {
		t.Fatal(err)
	}
	keyFile := mustRead(t, cb.path("ea/authority.key"))
	forms := secretForms(t, keyFile)

	b := newBrowser(t, path, dir)
	b.base = cb.url
	reqs := b.record()
	b.open("console", "console")
	b.loadKey(cb.path("ea/authority.key"))
	b.fillElection(cb, "attack-1")
	b.prepareAndPost(cb)
	if _, err := roles.IssueCredentials(ctx, rand.Reader, cb.cl, cb.path("ca"), 2); err != nil {
		t.Fatal(err)
	}
	// The honest node: opening is refused (no trustee dealt), nothing signed.
	b.run("open before the ceremony", chromedp.Click(css("#open")), until(`document.getElementById('err').textContent !== ''`))
	contains(t, "open before the ceremony", b.text("#err"), "Not yet", "has not dealt")

	// Nothing holds the key: not the page's storage, not its DOM.
	var stored string
	b.eval(`JSON.stringify(Object.entries(localStorage)) + JSON.stringify(Object.entries(sessionStorage)) + document.documentElement.outerHTML`, &stored)
	for _, f := range forms[1:] {
		if strings.Contains(stored, string(f)) {
			t.Errorf("the page keeps the authority key in its storage or DOM")
		}
	}

	// A hostile node: the record it serves has one byte changed.
	rogue := tamperingProxy(t, cb.url, "/api/v1/record", func(body []byte) []byte {
		body = bytes.Clone(body)
		body[len(body)/2] ^= 0x01
		return body
	})
	hb := b.tab()
	hb.base = rogue
	hreqs := hb.record()
	hb.open("console", "console")
	hb.loadKey(cb.path("ea/authority.key"))
	before, err := cb.cl.Election(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hb.run("open on a tampered record", chromedp.Click(css("#open")), until(`document.getElementById('err').textContent !== ''`))
	msg := hb.text("#err")
	if strings.Contains(msg, "Not yet") {
		t.Fatalf("the console decided on a tampered record instead of refusing it: %s", msg)
	}
	contains(t, "tampered record", msg, "signed nothing")
	hb.audit("console refusing a tampered board", "en")
	hb.shot("console-08-tampered-board")
	after, err := cb.cl.Election(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Counts.Entries != before.Counts.Entries {
		t.Errorf("the board grew from %d to %d entries after the console refused", before.Counts.Entries, after.Counts.Entries)
	}
	if n := reqs.noSecret(t, forms) + hreqs.noSecret(t, forms); n != 1 {
		t.Errorf("%d requests with a body, want exactly the manifest's post", n)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
