package web_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/web"
)

var pages = []string{"index.html", "booth.html", "check.html", "board.html", "results.html", "console.html", "trustee.html"}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(web.FS(), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(b)
}

// TestPagesReferenceExistingFiles: every script, stylesheet and module
// import of every page is in the embedded tree.
func TestPagesReferenceExistingFiles(t *testing.T) {
	ref := regexp.MustCompile(`(?:src|href)="([^":#?]+)"`)
	imp := regexp.MustCompile(`(?m)^import [^'"]*['"](\./[^'"]+|\.\./[^'"]+)['"]|\bimport\(['"](\./[^'"]+|\.\./[^'"]+)['"]\)`)
	for _, p := range pages {
		html := read(t, p)
		for _, want := range []string{`<html lang="en">`, `<meta name="viewport"`, `<main id="main"`, `role="status"`, `<header id="top">`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s lacks %s", p, want)
			}
		}
		for _, m := range ref.FindAllStringSubmatch(html, -1) {
			if strings.HasPrefix(m[1], "/") {
				continue // the node's API, not a file
			}
			if _, err := fs.Stat(web.FS(), m[1]); err != nil {
				t.Errorf("%s references %s: %v", p, m[1], err)
			}
		}
	}
	scripts, _ := fs.Glob(web.FS(), "js/*.js")
	if len(scripts) < 8 {
		t.Fatalf("only %d scripts embedded: %v", len(scripts), scripts)
	}
	for _, s := range scripts {
		for _, m := range imp.FindAllStringSubmatch(read(t, s), -1) {
			target := path.Join(path.Dir(s), m[1]+m[2])
			if target == "js/wasm_exec.js" && !web.HasWasm() {
				continue // copied by `make wasm`
			}
			if _, err := fs.Stat(web.FS(), target); err != nil {
				t.Errorf("%s imports %s (%s): %v", s, m[1]+m[2], target, err)
			}
		}
	}
}

// TestTranslationsComplete: English and Chinese have the same keys, and
// every key the pages and scripts use exists.
func TestTranslationsComplete(t *testing.T) {
	src := read(t, "js/messages.js")
	en, zh, ok := strings.Cut(src, "\n  zh: {")
	if !ok {
		t.Fatal("messages.js has no zh block")
	}
	// The header's language switcher offers exactly the languages with
	// messages.
	offered := regexp.MustCompile(`<option value="(\w+)"`).FindAllStringSubmatch(read(t, "index.html"), -1)
	blocks := regexp.MustCompile(`(?m)^  (\w+): \{$`).FindAllStringSubmatch(src, -1)
	if len(offered) != len(blocks) {
		t.Errorf("the switcher offers %d languages, messages.js has %d", len(offered), len(blocks))
	}
	for i := range min(len(offered), len(blocks)) {
		if offered[i][1] != blocks[i][1] {
			t.Errorf("language %d: the switcher offers %q, messages.js has %q", i, offered[i][1], blocks[i][1])
		}
	}
	keyRe := regexp.MustCompile(`(?m)^\s+'([\w.-]+)':`)
	keys := func(s string) []string {
		var out []string
		for _, m := range keyRe.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	ke, kz := keys(en), keys(zh)
	if len(ke) < 100 {
		t.Fatalf("only %d English keys found", len(ke))
	}
	for _, k := range ke {
		if _, found := slices.BinarySearch(kz, k); !found {
			t.Errorf("Chinese lacks %q", k)
		}
	}
	for _, k := range kz {
		if _, found := slices.BinarySearch(ke, k); !found {
			t.Errorf("English lacks %q", k)
		}
	}
	used := regexp.MustCompile(`data-i18n="([\w.-]+)"|data-page-title="([\w.-]+)"|:([\w-]+\.[\w.-]+)"|\b(?:t|setT\([^,]+,|i18n:) ?\(?'([\w-]+\.[\w.-]+)'`)
	files := append([]string{}, pages...)
	scripts, _ := fs.Glob(web.FS(), "js/*.js")
	files = append(files, scripts...)
	n := 0
	for _, f := range files {
		for _, m := range used.FindAllStringSubmatch(read(t, f), -1) {
			k := m[1] + m[2] + m[3] + m[4]
			n++
			if _, found := slices.BinarySearch(ke, k); !found {
				t.Errorf("%s uses the unknown message %q", f, k)
			}
		}
	}
	if n < 100 {
		t.Errorf("found only %d uses of messages: is the pattern still right?", n)
	}
}

// TestEveryEntryTypeNamed: the board explorer names each entry by
// "type." and its registered name (SPEC.md §3.2), a key the pages build at
// run time: every type the board accepts has one, in English and Chinese
// (the explorer showed "type.shuffle" in a ranked election).
func TestEveryEntryTypeNamed(t *testing.T) {
	src := read(t, "js/messages.js")
	en, zh, ok := strings.Cut(src, "\n  zh: {")
	if !ok {
		t.Fatal("messages.js has no zh block")
	}
	n := 0
	for i := range 256 {
		typ := bulletin.EntryType(i)
		if !typ.Valid() {
			continue
		}
		n++
		key := "'type." + typ.String() + "':"
		if !strings.Contains(en, key) || !strings.Contains(zh, key) {
			t.Errorf("entry type %d (%s): messages.js lacks %s in English or Chinese", i, typ, key)
		}
	}
	if n < 16 {
		t.Errorf("only %d entry types found", n)
	}
}

// TestModulesHaveNoSideEffects: only the entry points (js/main.js, which
// every page loads, and the workers: the verifier's and the officials') run
// code when imported; every
// other module only declares, and pages call their start function. No
// module keeps state for the tests: what the browser tests wait for, they
// read through testdata/harness.js.
func TestModulesHaveNoSideEffects(t *testing.T) {
	decl := regexp.MustCompile(`^(?:$|//|import |export (?:async )?(?:function|class|const|let) |(?:async )?function |class |const |let |[}\]);,]+$)`)
	hook := regexp.MustCompile(`urnaTiming|markReady|body\.dataset\.\w+ *=[^=]|delete [\w.]*body\.dataset`)
	scripts, _ := fs.Glob(web.FS(), "js/*.js")
	for _, s := range scripts {
		src := read(t, s)
		if m := hook.FindString(src); m != "" {
			t.Errorf("%s has %q: test hooks belong in testdata/harness.js", s, m)
		}
		if s == "js/main.js" || s == "js/verify-worker.js" || s == "js/officials-worker.js" {
			continue
		}
		for i, line := range strings.Split(src, "\n") {
			if !decl.MatchString(line) && !strings.HasPrefix(line, " ") {
				t.Errorf("%s:%d runs code on import: %s", s, i+1, line)
			}
		}
	}
}

// TestServed: the tree works as http.FileServerFS serves it (what
// internal/httpapi does with Options.Static).
func TestServed(t *testing.T) {
	srv := httptest.NewServer(http.FileServerFS(web.FS()))
	defer srv.Close()
	for _, p := range []string{"/", "/booth.html", "/style.css", "/js/urna.js"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if strings.HasSuffix(p, ".js") && !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
			t.Errorf("GET %s: Content-Type %q: browsers refuse modules without a JavaScript type", p, resp.Header.Get("Content-Type"))
		}
	}
	if web.HasWasm() {
		resp, err := http.Get(srv.URL + "/urna.wasm")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("urna.wasm served as %q, want application/wasm (streaming compilation)", ct)
		}
	}
}
