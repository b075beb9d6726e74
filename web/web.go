// Package web is Urna's web client: the voting booth, "check my ballot",
// the board explorer, the results page and the election authority's
// console (/console, outside the voters' navigation), as plain HTML, CSS
// and ES modules (static/), with the protocol code (packages ballot,
// bulletin and client) compiled to WebAssembly from ./wasm by `make wasm`
// into static/urna.wasm, and the officials' (the console's and the
// trustee page's: internal/authority and internal/trustee too) into
// static/officials.wasm, which runs in a Web Worker and which the voters'
// pages never load.
//
// The pages are written once each in pages/ and share one layout
// (pages/layout.html: the head, the header with the navigation and the
// language switcher, the status region and the footer). A Site (site.go)
// renders them once, when first used, naming every script, the stylesheet
// and the WebAssembly module by content-hashed names with their
// Subresource Integrity, and showing the digest of the booth's code
// (booth.go, served at /api/v1/booth). No template runs per request, and
// no page has an inline script (every page loads js/main.js, which starts
// the page's own module).
//
// The Site is also the http.Handler that serves it (serve.go): each file
// precompressed in brotli and gzip, chosen by Accept-Encoding; hashed names
// cached for a year, pages revalidated; and on every response a strict
// Content-Security-Policy, X-Frame-Options, nosniff and no referrer.
//
// The whole tree is embedded, so the binary serves whatever was built:
// without `make wasm` the pages load and the module request 404s, which
// the pages report ("run make wasm"). Nothing here runs on the server:
// every check a page shows (the election key the booth encrypts under,
// SPEC.md §10.6; encryption, proofs, receipts, Merkle inclusion and
// consistency, checkpoint signatures, the full verifier) runs in the
// browser.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"slices"
	"strings"
)

var (
	//go:embed static
	static embed.FS
	//go:embed pages
	pageSources embed.FS
)

// A page of the web client: its file and the message naming it in the
// navigation. The order is the navigation's.
type page struct{ File, Key string }

var nav = []page{
	{"index.html", "nav.home"},
	{"booth.html", "nav.booth"},
	{"check.html", "nav.check"},
	{"board.html", "nav.board"},
	{"results.html", "nav.results"},
}

// Pages served but not in the navigation, for the parties who run the
// election rather than the voters: each also at its name without ".html"
// (/console, /trustee).
var tools = []page{
	{"console.html", "nav.console"},
	{"trustee.html", "nav.trustee"},
}

// allPages lists every page served: the navigation's, then the tools.
func allPages() []page { return append(slices.Clone(nav), tools...) }

// The languages of the header's switcher; each has a block of messages in
// static/js/messages.js (TestTranslationsComplete checks).
var languages = []struct{ Code, Name string }{
	{"en", "English"},
	{"zh", "中文"},
}

// FS returns the web client rooted at its index.html, to be served at "/"
// (internal/httpapi Options.Static, internal/server Config.Static). It is
// a *Site: an fs.FS of the files as served, and the http.Handler that
// serves them (site.go).
func FS() fs.FS { return theSite }

var theSite = &Site{}

// pageData is what the layout renders a page from.
type pageData struct {
	File, Name string
	Nav        []page
	Languages  []struct{ Code, Name string }
	Links
}

// Links are the files a page loads, by their content-hashed names with
// their Subresource Integrity (site.go), and the booth's code digest
// (booth.go) for the footer.
type Links struct {
	Style, Main ref
	Preload     []ref // the page's whole module graph, fetched at once and checked
	Wasm        *ref  // pages that run the WebAssembly module fetch it at once
	Digest      string
}

// ref is a file as a page names it.
type ref struct{ URL, Integrity string }

// render executes the layout once per page (allPages); links gives each
// page's files.
func render(links func(name string) Links) (map[string][]byte, error) {
	funcs := template.FuncMap{"dict": dict}
	out := make(map[string][]byte, len(nav)+len(tools))
	for _, p := range allPages() {
		t, err := template.New("").Funcs(funcs).ParseFS(pageSources, "pages/layout.html", "pages/"+p.File)
		if err != nil {
			return nil, fmt.Errorf("parsing page %s: %w", p.File, err)
		}
		var b bytes.Buffer
		name := strings.TrimSuffix(p.File, ".html")
		data := pageData{p.File, name, nav, languages, links(name)}
		if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
			return nil, fmt.Errorf("rendering page %s: %w", p.File, err)
		}
		out[p.File] = b.Bytes()
	}
	return out, nil
}

// dict makes a map of its key, value arguments, to pass several values to
// a template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// HasWasm reports whether the WebAssembly module was built into the binary.
func HasWasm() bool {
	_, err := fs.Stat(FS(), "urna.wasm")
	return err == nil
}
