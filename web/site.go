package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Site is the web client as it is served. Every file has a content-hashed
// name besides its own, which pages use and browsers may keep for a year:
//
//	urna.<hash>.wasm    the booth's WebAssembly module
//	officials.<hash>.wasm  the officials' (console, trustee page)
//	style.<hash>.css    the stylesheet
//	js.<hash>/NAME.js   every module of js/, with Go's loader (wasm_exec.js)
//	                    and js/assets.js rewritten to name urna.<hash>.wasm
//
// The modules share one directory named by the hash of them all, because
// they import each other by relative names (and urna.js names its worker,
// which imports urna.js back): renaming each one by its own hash would
// mean rewriting their sources. Pages keep their names and are rendered
// from the layout with the hashed names and their Subresource Integrity.
//
// A Site is built when first used (a node that serves no page pays
// nothing), and each file is compressed when first asked for (serve.go).
type Site struct {
	once      sync.Once
	err       error
	under     fs.FS             // static/, for directory listings (fs.Glob)
	files     map[string]served // by the path requested, without its leading "/"
	boothInfo *Booth            // the booth's code digest (booth.go)
	booth     []byte            // and as /api/v1/booth answers it
}

// served is a file at one of its names.
type served struct {
	*asset
	immutable bool // the content-hashed name: cached for a year
}

// asset is one file's bytes, with its digest and its compressed forms.
type asset struct {
	name   string // its own name: "js/booth.js", "urna.wasm", "booth.html"
	body   []byte
	sum    [sha256.Size]byte
	coded  func() coded // made once, when first asked for
	hashed string       // its content-hashed name, "" for pages
}

func newAsset(name string, body []byte) *asset {
	a := &asset{name: name, body: body, sum: sha256.Sum256(body)}
	a.coded = sync.OnceValue(func() coded { return compress(a.body) })
	return a
}

// integrity is the asset's Subresource Integrity metadata.
func (a *asset) integrity() string {
	return "sha256-" + base64.StdEncoding.EncodeToString(a.sum[:])
}

// hashLen is how many hex digits of SHA-256 name a file: 64 bits tell
// apart every version a browser could hold.
const hashLen = 16

// hashedName puts the hash before name's extension: urna.wasm becomes
// urna.<hash>.wasm.
func hashedName(name string, sum []byte) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum)[:hashLen] + ext
}

// init builds the site once.
func (s *Site) init() error {
	s.once.Do(func() { s.err = s.build() })
	return s.err
}

func (s *Site) build() error {
	under, err := fs.Sub(static, "static")
	if err != nil {
		return fmt.Errorf("web: embedded static directory missing: %w", err) // cannot happen: checked at compile time
	}
	s.under, s.files = under, map[string]served{}
	read := func(name string) ([]byte, error) {
		b, err := fs.ReadFile(under, name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("web: reading embedded %s: %w", name, err)
		}
		return b, nil
	}

	// The booth's module and the officials' (the console's and the
	// trustee page's code, apart so that voters never download it).
	wasmAsset := func(name string) (*asset, error) {
		b, err := read(name)
		if b == nil {
			return nil, err
		}
		a := newAsset(name, b)
		a.coded = sync.OnceValue(func() coded { return precompressed(under, a) })
		s.add(a, hashedName(name, a.sum[:]))
		return a, nil
	}
	wasm, err := wasmAsset("urna.wasm")
	if err != nil {
		return err
	}
	officials, err := wasmAsset("officials.wasm")
	if err != nil {
		return err
	}
	css, err := read("style.css")
	if err != nil {
		return err
	}
	style := newAsset("style.css", css)
	s.add(style, hashedName("style.css", style.sum[:]))

	modules, err := s.modules(wasm, officials)
	if err != nil {
		return err
	}
	booth := s.digest()
	pages, err := render(func(name string) Links {
		l := Links{Style: ref{style.hashed, style.integrity()}, Digest: booth.Digest}
		main := modules["js/main.js"]
		l.Main = ref{main.hashed, main.integrity()}
		graph := moduleGraph(modules, name)
		for _, m := range graph {
			if m != main {
				l.Preload = append(l.Preload, ref{m.hashed, m.integrity()})
			}
		}
		if wasm != nil && slices.Contains(graph, modules["js/urna.js"]) {
			l.Wasm = &ref{wasm.hashed, wasm.integrity()}
		}
		return l
	})
	if err != nil {
		return fmt.Errorf("web: %w", err) // cannot happen: the embedded templates are tested
	}
	for _, p := range allPages() {
		a := newAsset(p.File, pages[p.File])
		s.files[p.File] = served{asset: a}
		booth.Pages = append(booth.Pages, boothFile(a))
	}
	for _, p := range tools {
		s.files[strings.TrimSuffix(p.File, ".html")] = s.files[p.File]
	}
	s.boothInfo = booth
	s.booth, err = booth.marshal()
	return err
}

// add serves a at its name and at its content-hashed name.
func (s *Site) add(a *asset, hashed string) {
	a.hashed = hashed
	s.files[a.name] = served{asset: a}
	s.files[hashed] = served{asset: a, immutable: true}
}

// modules adds the modules of js/, Go's loader and the generated
// js/assets.js under js.<hash>/, the hash of them all.
func (s *Site) modules(wasm, officials *asset) (map[string]*asset, error) {
	names, err := fs.Glob(s.under, "js/*.js")
	if err != nil {
		return nil, fmt.Errorf("web: listing the modules: %w", err)
	}
	src := map[string][]byte{}
	for _, n := range names {
		if src[n], err = fs.ReadFile(s.under, n); err != nil {
			return nil, fmt.Errorf("web: reading embedded %s: %w", n, err)
		}
	}
	if b, err := fs.ReadFile(s.under, "wasm_exec.js"); err == nil {
		src["js/wasm_exec.js"] = b
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("web: reading embedded wasm_exec.js: %w", err)
	}
	if wasm != nil && officials != nil {
		src["js/assets.js"] = assetsModule(wasm, officials)
	}
	names = names[:0]
	for n := range src {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	out := make(map[string]*asset, len(names))
	for _, n := range names {
		out[n] = newAsset(n, src[n])
		fmt.Fprintf(h, "%x  %s\n", out[n].sum, n)
	}
	dir := "js." + hex.EncodeToString(h.Sum(nil))[:hashLen] + "/"
	for _, n := range names {
		s.add(out[n], dir+strings.TrimPrefix(n, "js/"))
	}
	return out, nil
}

// assetsModule is js/assets.js naming the served WebAssembly modules.
func assetsModule(wasm, officials *asset) []byte {
	return fmt.Appendf(nil, `// Generated by web.FS (web/site.go) from js/assets.js: the content-hashed
// names of urna.wasm and officials.wasm and their Subresource Integrity.

export const wasm = { path: '%s', integrity: '%s' };
export const officials = { path: '%s', integrity: '%s' };
`, wasm.hashed, wasm.integrity(), officials.hashed, officials.integrity())
}

// importRe finds a module's imports of other modules: static (group 1) and
// dynamic (group 2), by relative name.
var importRe = regexp.MustCompile(`(?m)^import [^'"]*['"]\./([^'"/]+)['"]|\bimport\(['"]\./([^'"/]+)['"]\)`)

// moduleGraph lists the modules a page runs: js/main.js with its static
// imports, and the page's own module (which main.js imports by name) with
// everything it imports. main.js's imports of the other pages' modules are
// left out: that page does not run them.
func moduleGraph(modules map[string]*asset, page string) []*asset {
	var out []*asset
	seen := map[string]bool{}
	var visit func(name string, dynamic bool)
	visit = func(name string, dynamic bool) {
		a, ok := modules[name]
		if !ok || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, a)
		for _, m := range importRe.FindAllSubmatch(a.body, -1) {
			if len(m[1]) > 0 {
				visit("js/"+string(m[1]), dynamic)
			} else if dynamic {
				visit("js/"+string(m[2]), dynamic)
			}
		}
	}
	visit("js/main.js", false)
	visit("js/"+page+".js", true)
	return out
}

// Open opens a file as served, at its own name or its hashed name; other
// names (directories) open in static/.
func (s *Site) Open(name string) (fs.File, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	if f, ok := s.files[name]; ok {
		return &memFile{Reader: bytes.NewReader(f.body), name: path.Base(name), size: int64(len(f.body))}, nil
	}
	return s.under.Open(name)
}

// memFile is a served file. It seeks, so http.FileServerFS serves ranges
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
