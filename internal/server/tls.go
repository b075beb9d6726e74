package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// certReloader serves a certificate and key pair from files and loads them
// again on Reload (SIGHUP) or when the files changed (checked at most every
// reloadCheck, on a handshake). A pair that does not load, does not match
// or has expired is refused with a log line and the previous pair stays in
// use; at start such a pair is an error.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string // modification times and sizes of both files
	lastCheck time.Time
}

const reloadCheck = 5 * time.Second

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) fileStamp() string {
	var b bytes.Buffer
	for _, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return b.String()
}

// Reload loads the pair now.
func (r *certReloader) Reload() error {
	stamp := r.fileStamp()
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("server: TLS certificate %s with key %s: %w", r.certFile, r.keyFile, err)
	}
	leaf := c.Leaf
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return fmt.Errorf("server: TLS certificate %s is valid from %s to %s, not now", r.certFile,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cert, r.stamp, r.lastCheck = &c, stamp, time.Now()
	r.log.Info("server: TLS certificate loaded", "file", r.certFile, "subject", leaf.Subject.CommonName,
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// get returns the current pair, reloading it first if the files changed.
func (r *certReloader) get() (*tls.Certificate, error) {
	r.mu.Lock()
	check := time.Since(r.lastCheck) > reloadCheck
	if check {
		r.lastCheck = time.Now()
	}
	stamp := r.stamp
	r.mu.Unlock()
	if check && r.fileStamp() != stamp {
		if err := r.Reload(); err != nil {
			r.log.Error("server: TLS certificate files changed but cannot be used; keeping the previous certificate", "err", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Now().After(r.cert.Leaf.NotAfter) {
		r.log.Error("server: this node's TLS certificate has expired; peers will refuse it: replace the files and send SIGHUP",
			"file", r.certFile, "not_after", r.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return r.cert, nil
}

// tlsSetup is a node's TLS material, from Config.
type tlsSetup struct {
	certs *certReloader // nil: plain HTTP
	peer  *replica.PeerTLS
}

func loadTLS(cfg *Config, log *slog.Logger) (*tlsSetup, error) {
	ts := &tlsSetup{}
	if cfg.TLSCertFile == "" {
		return ts, nil
	}
	r, err := newCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile, log)
	if err != nil {
		return nil, err
	}
	ts.certs = r
	if cfg.TLSCAFile != "" {
		pool, err := ReadCertPool(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("server: cluster CA: %w", err)
		}
		ts.peer = &replica.PeerTLS{Certificate: r.get, Roots: pool}
		c, _ := r.get()
		id, err := replica.PeerID(c.Leaf)
		if err != nil || id != cfg.ID {
			return nil, fmt.Errorf("server: TLS certificate %s names node %q, not this node %q (its common name and a DNS name must be the node ID): %v", cfg.TLSCertFile, id, cfg.ID, err)
		}
		if _, err := ts.peer.Verify(append([]*x509.Certificate{c.Leaf}, intermediates(c)...), x509.ExtKeyUsageServerAuth); err != nil {
			return nil, fmt.Errorf("server: this node's certificate does not verify against the cluster CA %s: %w", cfg.TLSCAFile, err)
		}
	}
	return ts, nil
}

func intermediates(c *tls.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, der := range c.Certificate[1:] {
		if x, err := x509.ParseCertificate(der); err == nil {
			out = append(out, x)
		}
	}
	return out
}

// publicConfig is the TLS config of the public API listener.
func (ts *tlsSetup) publicConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return ts.certs.get() },
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// errPlaintextPeer refuses a node-to-node call over http:// when mutual
// TLS is configured: there is no fallback to plaintext.
var errPlaintextPeer = errors.New("server: mutual TLS is configured, refusing a node-to-node call over plain http://")

// peerTransport carries node-to-node HTTP calls (forwarded writes, joins,
// cosignatures). With a cluster CA it presents this node's certificate and
// admits a server whose certificate verifies against the CA and names a
// member (allow), and it refuses http:// URLs.
type peerTransport struct {
	base      *http.Transport
	httpsOnly bool
}

func (p *peerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.httpsOnly && r.URL.Scheme != "https" {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, fmt.Errorf("%w (%s)", errPlaintextPeer, r.URL.Host)
	}
	return p.base.RoundTrip(r)
}

func (ts *tlsSetup) peerTransport(allow func(string) error, responseTimeout time.Duration) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = responseTimeout
	if ts.peer == nil {
		return t
	}
	t.TLSClientConfig = ts.peer.ClientConfig(allow)
	t.ForceAttemptHTTP2 = false // a custom TLS config; HTTP/1.1 suffices between nodes
	return &peerTransport{base: t, httpsOnly: true}
}
