package testonly

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Proxy is a hostile man in the middle between a party and an honest
// node, on loopback: it holds no key, but answers what it likes. It
// forwards every request to the node, except what [Proxy.Set]'s hold
// keeps; rewrite replaces the body of the node's 200 answer to a GET.
type Proxy struct {
	target string
	srv    *httptest.Server
	mu     sync.Mutex
	// rewrite, if set, replaces the body of the node's answer to a GET of
	// path (query excluded).
	rewrite func(path string, r *http.Request, body []byte) []byte
	// hold, if set and true for a POSTed body, keeps it from the node and
	// answers 503.
	hold func(body []byte) bool
	held [][]byte
}

// NewProxy starts a proxy in front of the node whose API is at target
// (a base URL), closed when the test ends. Until [Proxy.Set] it is honest.
func NewProxy(t testing.TB, target string) *Proxy {
	p := &Proxy{target: target}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the proxy's base URL, to give the party in place of the node's.
func (p *Proxy) URL() string { return p.srv.URL }

// Set makes the proxy rewrite the node's answers to GETs with rewrite and
// keep from the node the POSTs whose body hold is true for, answering them
// 503 overloaded (what a party retries later); nil is honest.
func (p *Proxy) Set(rewrite func(path string, r *http.Request, body []byte) []byte, hold func(body []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite, p.hold = rewrite, hold
}

// HoldAll is the hold of a proxy that keeps every POST from the node.
func HoldAll([]byte) bool { return true }

// Held returns the bodies of the POSTs the proxy kept from the node.
func (p *Proxy) Held() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.held...)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	rewrite, hold := p.rewrite, p.hold
	if r.Method == http.MethodPost && hold != nil && hold(body) {
		p.held = append(p.held, body)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"code":"overloaded","message":"try again later"}}`)
		return
	}
	p.mu.Unlock()
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if r.Method == http.MethodGet && rewrite != nil && resp.StatusCode == http.StatusOK {
		out = rewrite(r.URL.Path, r, out)
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}
