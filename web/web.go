// Package web is Urna's web client: the voting booth, "check my ballot",
// the board explorer and the results page, as plain HTML, CSS and ES
// modules (static/), with the protocol code (packages ballot, bulletin and
// client) compiled to WebAssembly from ./wasm by `make wasm` into
// static/urna.wasm.
//
// The pages are written once each in pages/ and share one layout
// (pages/layout.html: the head, the header with the navigation and the
// language switcher, the status region and the footer). FS renders them
// when it is first called, so the tree it serves is plain files: no
// template runs per request, and no page has an inline script (every page
// loads js/main.js, which starts the page's own module).
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
	"io"
	"io/fs"
	"sync"
	"time"
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

// The languages of the header's switcher; each has a block of messages in
// static/js/messages.js (TestTranslationsComplete checks).
var languages = []struct{ Code, Name string }{
	{"en", "English"},
	{"zh", "中文"},
}

// FS returns the web client rooted at its index.html, to be served at "/"
// (internal/httpapi Options.Static, internal/server Config.Static).
func FS() fs.FS { return site() }

var site = sync.OnceValue(func() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded static directory missing: " + err.Error()) // cannot happen: checked at compile time
	}
	pages, err := render()
	if err != nil {
		panic("web: " + err.Error()) // cannot happen: the embedded templates are tested
	}
	return overlay{files: pages, under: sub}
})

// render executes the layout once per page of nav.
func render() (map[string][]byte, error) {
	funcs := template.FuncMap{"dict": dict}
	out := make(map[string][]byte, len(nav))
	for _, p := range nav {
		t, err := template.New("").Funcs(funcs).ParseFS(pageSources, "pages/layout.html", "pages/"+p.File)
		if err != nil {
			return nil, fmt.Errorf("parsing page %s: %w", p.File, err)
		}
		var b bytes.Buffer
		data := struct {
			File, Name string
			Nav        []page
			Languages  []struct{ Code, Name string }
		}{p.File, p.File[:len(p.File)-len(".html")], nav, languages}
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

// overlay serves the rendered pages at the root and every other file from
// under.
type overlay struct {
	files map[string][]byte
	under fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if b, ok := o.files[name]; ok {
		return &memFile{Reader: bytes.NewReader(b), name: name, size: int64(len(b))}, nil
	}
	return o.under.Open(name)
}

// memFile is a rendered page. It seeks, so http.FileServerFS serves ranges
// and sniffs nothing.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Size() int64                { return f.size }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }

var _ io.ReadSeeker = (*memFile)(nil)

// HasWasm reports whether the WebAssembly module was built into the binary.
func HasWasm() bool {
	_, err := fs.Stat(FS(), "urna.wasm")
	return err == nil
}
