package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
)

// CSP is the Content-Security-Policy of every response: scripts only from
// the node itself, none inline, and WebAssembly compiled ('wasm-unsafe-eval'
// allows that and nothing else of eval); styles, images and connections
// (the API, its event stream) only from the node, the favicon as a data:
// URL; no plugins, no <base>, no framing by any site (clickjacking: another
// site must not frame the booth and lure the voter to "Cast"), forms only to
// the node. It is sent with the modules too: a worker runs under the policy
// its script came with.
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders are sent with every response of the site, errors too.
var securityHeaders = map[string]string{
	"Content-Security-Policy":    CSP,
	"X-Frame-Options":            "DENY",
	"X-Content-Type-Options":     "nosniff",
	"Referrer-Policy":            "no-referrer",
	"Cross-Origin-Opener-Policy": "same-origin",
}

// Cache-Control of the content-hashed names, which never change, and of
// the pages and the plain names, which change with every build: browsers
// keep them but ask (If-None-Match) before each use, so a new build is seen
// at once, and a page never names files the node no longer serves.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// ServeHTTP serves the site (GET and HEAD): the file at the path, "/" being
// index.html, in the encoding the client prefers of brotli, gzip and none,
// with a strong ETag per encoding, Vary: Accept-Encoding, and the headers
// above. Ranges and conditional requests are http.ServeContent's.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
	if err := s.init(); err != nil {
		http.Error(w, "web client unavailable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the web client is read with GET", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := s.files[name]
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	h.Set("Content-Type", contentType(f.name)) // the file's own name: /console is console.html, /trustee trustee.html
	if f.immutable {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	body, enc := f.body, ""
	c := f.coded()
	if c.br != nil || c.gzip != nil {
		h.Add("Vary", "Accept-Encoding")
		switch accepted(r.Header.Get("Accept-Encoding"), c) {
		case "br":
			body, enc = c.br, "br"
		case "gzip":
			body, enc = c.gzip, "gzip"
		}
	}
	tag := hex.EncodeToString(f.sum[:hashLen/2])
	if enc != "" {
		h.Set("Content-Encoding", enc)
		tag += "-" + enc
	}
	h.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// contentType is the media type of a file by its extension; browsers
// refuse modules without a JavaScript type, and compile WebAssembly while
// it downloads only when it is application/wasm.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// accepted picks the encoding to send by the request's Accept-Encoding
// (RFC 9110 §12.5.3): brotli if acceptable and available, else gzip, else
// "" (identity). A coding with q=0 is refused; "*" stands for those not
// named.
func accepted(header string, c coded) string {
	q := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		weight := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			weight = f
		}
		q[coding] = weight
	}
	ok := func(coding string) (float64, bool) {
		w, named := q[coding]
		if !named {
			w, named = q["*"]
		}
		return w, named && w > 0
	}
	br, brOK := ok("br")
	gz, gzOK := ok("gzip")
	switch {
	case brOK && c.br != nil && (!gzOK || c.gzip == nil || br >= gz):
		return "br"
	case gzOK && c.gzip != nil:
		return "gzip"
	}
	return ""
}

// coded is a file's compressed forms; nil where compressing does not pay.
type coded struct{ gzip, br []byte }

// brotliQuality for files compressed when first served: the pages and
// modules are small, and quality 5 is within a few percent of 11 on them
// at a hundredth of the time.
const brotliQuality = 5

// compress makes the compressed forms of a small file.
func compress(body []byte) coded {
	var c coded
	if z := gzipped(body, gzip.BestCompression); len(z) < len(body) {
		c.gzip = z
	}
	var b bytes.Buffer
	bw := brotli.NewWriterLevel(&b, brotliQuality)
	bw.Write(body) // writes to a bytes.Buffer cannot fail
	bw.Close()
	if b.Len() < len(body) {
		c.br = b.Bytes()
	}
	return c
}

func gzipped(body []byte, level int) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, level) // cannot fail: the levels used are valid
	zw.Write(body)                          // writes to a bytes.Buffer cannot fail
	zw.Close()
	return b.Bytes()
}

// precompressed returns the compressed forms of the WebAssembly module
// that `make wasm` wrote beside it (urna.wasm.gz and urna.wasm.br, by
// web/internal/precompress: compressing 6 MB well takes seconds), each
// checked to decompress to the module; a form that is missing or stale is
// left out, and without a good gzip one the module is gzipped now, at the
// default level.
func precompressed(under fs.FS, a *asset) coded {
	check := func(name string, open func(io.Reader) (io.Reader, error)) []byte {
		b, err := fs.ReadFile(under, name)
		if err != nil {
			return nil
		}
		r, err := open(bytes.NewReader(b))
		if err != nil {
			return nil
		}
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil || !bytes.Equal(h.Sum(nil), a.sum[:]) {
			return nil
		}
		return b
	}
	c := coded{
		gzip: check(a.name+".gz", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }),
		br:   check(a.name+".br", func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }),
	}
	if c.gzip == nil {
		c.gzip = gzipped(a.body, gzip.DefaultCompression)
	}
	return c
}
