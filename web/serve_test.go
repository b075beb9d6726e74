package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/urna-vote/urna/web"
)

func site(t *testing.T) *httptest.Server {
	t.Helper()
	h, ok := web.FS().(http.Handler)
	if !ok {
		t.Fatal("web.FS is not an http.Handler")
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte // decoded
	wire   int    // bytes as sent
}

// get requests path with the request headers kv (name, value, ...) and
// decodes the body by its Content-Encoding.
func get(t *testing.T, srv *httptest.Server, path string, kv ...string) response {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", "identity")
	for ; len(kv) >= 2; kv = kv[2:] {
		req.Header.Set(kv[0], kv[1])
	}
	resp, err := srv.Client().Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: raw, wire: len(raw)}
	var dec io.Reader
	switch e := resp.Header.Get("Content-Encoding"); e {
	case "":
		return r
	case "gzip":
		if dec, err = gzip.NewReader(bytes.NewReader(raw)); err != nil {
			t.Fatalf("GET %s: gzip: %v", path, err)
		}
	case "br":
		dec = brotli.NewReader(bytes.NewReader(raw))
	default:
		t.Fatalf("GET %s: Content-Encoding %q", path, e)
	}
	if r.body, err = io.ReadAll(dec); err != nil {
		t.Fatalf("GET %s: decoding %s: %v", path, resp.Header.Get("Content-Encoding"), err)
	}
	return r
}

// hashedRefs are the files a page names by their content-hashed names, with
// the integrity it gives them.
var hashedRefs = regexp.MustCompile(`<(script|link)\b[^>]*?(?:src|href)="([^"]+\.[0-9a-f]{16}\.\w+|js\.[0-9a-f]{16}/[\w-]+\.js)"(?: integrity="([^"]*)")?`)

// TestSecurityHeaders: every response, pages, files and errors alike,
// carries the policy that keeps the booth from being framed, scripts from
// anywhere else, and types from being sniffed.
func TestSecurityHeaders(t *testing.T) {
	srv := site(t)
	want := map[string]string{
		"Content-Security-Policy": web.CSP,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	for _, d := range []string{"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval';", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(web.CSP, d) {
			t.Errorf("the policy lacks %q: %s", d, web.CSP)
		}
	}
	if strings.Contains(web.CSP, "unsafe-inline") || strings.Contains(web.CSP, "'unsafe-eval'") {
		t.Errorf("the policy allows inline scripts or eval: %s", web.CSP)
	}
	paths := []string{"/", "/index.html", "/js/main.js", "/style.css", "/nope.html", "/js/"}
	for _, p := range pages {
		paths = append(paths, "/"+p)
	}
	for _, p := range paths {
		r := get(t, srv, p)
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("GET %s: %s %q, want %q", p, k, got, v)
			}
		}
	}
	if r := get(t, srv, "/nope.html"); r.status != 404 {
		t.Errorf("GET /nope.html: %d", r.status)
	}
	if r := get(t, srv, "/js/"); r.status != 404 {
		t.Errorf("GET /js/ (a directory): %d, want 404, no listing", r.status)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/booth.html", strings.NewReader("x"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /booth.html: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestCaching: pages name every script, stylesheet and the WebAssembly
// module by a content-hashed name with its Subresource Integrity; those
// names are cached for a year, the pages revalidated each time; every
// answer has a strong ETag per encoding and a matching If-None-Match gets
// 304.
func TestCaching(t *testing.T) {
	srv := site(t)
	scripts := regexp.MustCompile(`<script\b[^>]*>`)
	hashed := 0
	// The modules import each other by relative names: they share a
	// directory named by the hash of their listing (their lines of the
	// booth's listing).
	b, err := web.BoothDigest()
	if err != nil {
		t.Fatal(err)
	}
	var js strings.Builder
	for _, line := range strings.SplitAfter(b.Listing, "\n") {
		if strings.Contains(line, "  js/") {
			js.WriteString(line)
		}
	}
	sum := sha256.Sum256([]byte(js.String()))
	modules := "js." + hex.EncodeToString(sum[:])[:16] + "/"
	for _, p := range pages {
		page := get(t, srv, "/"+p)
		if page.status != 200 || page.header.Get("Cache-Control") != "no-cache" || page.header.Get("ETag") == "" {
			t.Errorf("%s: %d, Cache-Control %q, ETag %q: a page must be revalidated", p, page.status, page.header.Get("Cache-Control"), page.header.Get("ETag"))
		}
		for _, tag := range scripts.FindAllString(string(page.body), -1) {
			if !hashedRefs.MatchString(tag) || !strings.Contains(tag, ` integrity="sha256-`) {
				t.Errorf("%s: %s has no hashed name or no integrity", p, tag)
			}
		}
		refs := hashedRefs.FindAllStringSubmatch(string(page.body), -1)
		if len(refs) < 4 {
			t.Fatalf("%s names only %d files by hash: %q", p, len(refs), refs)
		}
		for _, m := range refs {
			hashed++
			r := get(t, srv, "/"+m[2], "Accept-Encoding", "gzip, br")
			if r.status != 200 {
				t.Errorf("%s names %s: %d", p, m[2], r.status)
				continue
			}
			sum := sha256.Sum256(r.body)
			if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); html.UnescapeString(m[3]) != want {
				t.Errorf("%s: %s has integrity %q, the file served %q", p, m[2], m[3], want)
			}
			if want := hex.EncodeToString(sum[:])[:16]; !strings.HasPrefix(m[2], "js.") && !strings.Contains(m[2], want) {
				t.Errorf("%s: %s is not named by its content's hash %s", p, m[2], want)
			} else if strings.HasPrefix(m[2], "js.") && !strings.HasPrefix(m[2], modules) {
				t.Errorf("%s: %s is not in the modules' directory %s", p, m[2], modules)
			}
			if cc := r.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", m[2], cc)
			}
			etag := r.header.Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{16}(-gzip|-br)?"$`).MatchString(etag) {
				t.Errorf("%s: ETag %q", m[2], etag)
			}
			nm := get(t, srv, "/"+m[2], "Accept-Encoding", "gzip, br", "If-None-Match", etag)
			if nm.status != 304 || len(nm.body) != 0 {
				t.Errorf("%s with If-None-Match %s: %d, %d bytes", m[2], etag, nm.status, len(nm.body))
			}
		}
		nm := get(t, srv, "/"+p, "If-None-Match", page.header.Get("ETag"))
		if nm.status != 304 {
			t.Errorf("%s with If-None-Match: %d", p, nm.status)
		}
	}
	if hashed < 30 {
		t.Errorf("only %d hashed references in all pages", hashed)
	}
	// The plain names still answer, revalidated: what an older page names.
	if r := get(t, srv, "/js/main.js"); r.status != 200 || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("/js/main.js: %d %q", r.status, r.header.Get("Cache-Control"))
	}
}

// TestEncodings: each file is sent in the encoding the client prefers,
// with Vary: Accept-Encoding, and decodes to the same bytes.
func TestEncodings(t *testing.T) {
	srv := site(t)
	files := []string{"/booth.html", "/js/messages.js", "/style.css"}
	if web.HasWasm() {
		files = append(files, "/urna.wasm")
	}
	for _, f := range files {
		plain := get(t, srv, f)
		if plain.header.Get("Content-Encoding") != "" || plain.header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s with identity: Content-Encoding %q, Vary %q", f, plain.header.Get("Content-Encoding"), plain.header.Get("Vary"))
		}
		for _, c := range []struct{ accept, want string }{
			{"gzip", "gzip"},
			{"gzip, deflate, br, zstd", "br"},
			{"br;q=0, gzip", "gzip"},
			{"gzip;q=0.5, br;q=0.4", "gzip"},
			{"*", "br"},
			{"gzip;q=0, br;q=0", ""},
			{"deflate", ""},
		} {
			r := get(t, srv, f, "Accept-Encoding", c.accept)
			if got := r.header.Get("Content-Encoding"); got != c.want {
				t.Errorf("%s with Accept-Encoding %q: %q, want %q", f, c.accept, got, c.want)
			}
			if !bytes.Equal(r.body, plain.body) {
				t.Errorf("%s with Accept-Encoding %q decodes to other bytes", f, c.accept)
			}
			if c.want != "" && r.wire >= plain.wire {
				t.Errorf("%s in %s: %d bytes, plain %d", f, c.want, r.wire, plain.wire)
			}
			if et := r.header.Get("ETag"); c.want != "" && !strings.HasSuffix(et, "-"+c.want+`"`) {
				t.Errorf("%s in %s: ETag %s names no encoding", f, c.want, et)
			}
		}
	}
	if web.HasWasm() {
		r := get(t, srv, "/urna.wasm", "Accept-Encoding", "gzip, br")
		if r.header.Get("Content-Type") != "application/wasm" {
			t.Errorf("urna.wasm: Content-Type %q", r.header.Get("Content-Type"))
		}
		t.Logf("urna.wasm: %d bytes, %d on the wire in brotli", len(r.body), r.wire)
		if r.wire > 2<<20 {
			t.Errorf("urna.wasm is %d bytes on the wire, above 2 MiB", r.wire)
		}
	}
}

// TestBoothCodeDigest: the digest the pages show and BoothDigest gives is
// the SHA-256 of the listing of the files served, each at its URL, as
// sha256sum writes them.
func TestBoothCodeDigest(t *testing.T) {
	srv := site(t)
	b, err := web.BoothDigest()
	if err != nil {
		t.Fatal(err)
	}
	j, err := web.FS().(*web.Site).BoothJSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON web.Booth
	if err := json.Unmarshal(j, &fromJSON); err != nil || fromJSON.Digest != b.Digest {
		t.Fatalf("the JSON %s does not decode to the digest %s: %v", j, b.Digest, err)
	}
	var listing strings.Builder
	names := map[string]bool{}
	for _, f := range b.Files {
		r := get(t, srv, f.URL, "Accept-Encoding", "br")
		sum := sha256.Sum256(r.body)
		if r.status != 200 || hex.EncodeToString(sum[:]) != f.SHA256 || len(r.body) != f.Size {
			t.Errorf("%s at %s: %d, sha256 %x size %d, listed %s %d", f.Name, f.URL, r.status, sum, len(r.body), f.SHA256, f.Size)
		}
		fmt.Fprintf(&listing, "%x  %s\n", sum, f.Name)
		names[f.Name] = true
	}
	if listing.String() != b.Listing {
		t.Errorf("listing of the files served:\n%s\nlisted:\n%s", listing.String(), b.Listing)
	}
	sum := sha256.Sum256([]byte(listing.String()))
	if b.Digest != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("digest %s, the listing hashes to %x", b.Digest, sum)
	}
	for _, want := range []string{"js/main.js", "js/booth.js", "js/urna.js", "js/assets.js", "style.css"} {
		if !names[want] {
			t.Errorf("the digest leaves out %s", want)
		}
	}
	if web.HasWasm() && (!names["urna.wasm"] || !names["js/wasm_exec.js"]) {
		t.Errorf("the digest leaves out the WebAssembly module or its loader: %v", names)
	}
	if len(b.Pages) != len(pages) {
		t.Errorf("%d pages listed, want %d", len(b.Pages), len(pages))
	}
	for _, p := range b.Pages {
		r := get(t, srv, p.URL)
		sum := sha256.Sum256(r.body)
		if hex.EncodeToString(sum[:]) != p.SHA256 {
			t.Errorf("page %s: listed %s, served %x", p.Name, p.SHA256, sum)
		}
		if !bytes.Contains(r.body, []byte("<code>"+b.Digest+"</code>")) {
			t.Errorf("page %s does not show the digest in its footer", p.Name)
		}
	}
}
