package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/testonly"
)

type testPKI struct {
	dir  string
	ca   *CertPair
	pool *x509.CertPool
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, err := NewCA("test board CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: t.TempDir(), ca: ca, pool: x509.NewCertPool()}
	p.pool.AddCert(ca.Cert)
	if err := os.WriteFile(filepath.Join(p.dir, "ca.pem"), ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// node writes a new certificate and key of id and returns their paths.
func (p *testPKI) node(t *testing.T, id string, valid time.Duration) (certFile, keyFile string) {
	t.Helper()
	c, err := NewNodeCert(p.ca, id, []string{"127.0.0.1", "localhost"}, valid)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, id, c)
}

// write writes c as id's certificate and key, over any earlier ones, and
// returns their paths.
func (p *testPKI) write(t *testing.T, id string, c *CertPair) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(p.dir, id+".pem"), filepath.Join(p.dir, id+".key")
	if err := os.WriteFile(certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// client returns an HTTPS client trusting the CA, presenting id's
// certificate when id is not empty.
func (p *testPKI) client(t *testing.T, id string) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: p.pool}
	if id != "" {
		cf, kf := p.node(t, id, time.Hour)
		pair, err := tls.LoadX509KeyPair(cf, kf)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func tlsConfig(t *testing.T, p *testPKI, e *testonly.Election, base, id string) Config {
	cfg := nodeConfig(t, e, base, id)
	cfg.PeerListen = "127.0.0.1:0"
	if cfg.SigningKey == nil {
		cfg.SigningKey = e.NodeKeys()["n3"] // not in the manifest: refused at start anyway
	}
	cfg.TLSCertFile, cfg.TLSKeyFile = p.node(t, id, time.Hour)
	cfg.TLSCAFile = filepath.Join(p.dir, "ca.pem")
	return cfg
}

// TestMutualTLSCluster runs three nodes with HTTPS and mutual TLS between
// them (Raft, forwarded writes, joins, cosignatures on the peer listener)
// and checks the refusals: no plaintext, no certificate, another CA, a
// node that is not a member, an expired certificate, a certificate naming
// another node.
func TestMutualTLSCluster(t *testing.T) {
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: 2})
	p := newPKI(t)
	base := t.TempDir()
	var nodes []*Node
	t.Cleanup(func() {
		for _, n := range nodes {
			_ = n.Stop()
		}
	})
	for i, id := range []string{"n1", "n2", "n3"} {
		cfg := tlsConfig(t, p, e, base, id)
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = nodes[0].PeerAddr
		}
		n, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		if !strings.HasPrefix(n.APIAddr, "https://") || !strings.HasPrefix(n.PeerAddr, "https://") {
			t.Fatalf("%s serves %s and %s", id, n.APIAddr, n.PeerAddr)
		}
		nodes = append(nodes, n)
	}
	hc := p.client(t, "")
	stateClient = hc
	t.Cleanup(func() { stateClient = &http.Client{Timeout: 10 * time.Second} })
	// A write through a follower's public HTTPS API is forwarded over
	// mutual TLS; a quorum checkpoint needs the followers' cosignatures,
	// forwarded over mutual TLS too.
	mustPost(t, hc, nodes[2].APIAddr, e.ManifestEntry())
	waitQuorumCheckpoint(t, hc, nodes[1].APIAddr, 1, 20*time.Second)
	for i, s := range members(t, hc, nodes[0].APIAddr, 3) {
		if s.APIAddr != nodes[i].PeerAddr {
			t.Errorf("membership records %s for %s, want its peer URL %s", s.APIAddr, s.ID, nodes[i].PeerAddr)
		}
	}

	removeN3 := []byte(`{"id":"n3"}`)
	peerRemove := func(c *http.Client) (int, error) {
		req, _ := http.NewRequest("POST", nodes[0].PeerAddr+"/api/v1/cluster/remove", bytes.NewReader(removeN3))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	// No client certificate, plaintext, another CA: the handshake fails.
	if _, err := peerRemove(hc); err == nil {
		t.Error("the peer listener accepted a client without a certificate")
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Post(strings.Replace(nodes[0].PeerAddr, "https://", "http://", 1)+"/api/v1/cluster/remove", "application/json", bytes.NewReader(removeN3)); err == nil {
		if resp.StatusCode/100 == 2 {
			t.Error("the peer listener served plaintext")
		}
		resp.Body.Close()
	}
	rogue := newPKI(t)
	rc := rogue.client(t, "n2")
	rc.Transport.(*http.Transport).TLSClientConfig.RootCAs = p.pool
	if _, err := peerRemove(rc); err == nil {
		t.Error("the peer listener accepted a certificate of another CA")
	}
	// A node of the CA that is not a member may not change the cluster.
	if status, err := peerRemove(p.client(t, "n9")); err != nil || status != 403 {
		t.Errorf("remove by a non-member's certificate: %d %v", status, err)
	}
	// Raft refuses a connection with another CA's certificate.
	rogueCert, rogueKey := rogue.node(t, "n2", time.Hour)
	pair, _ := tls.LoadX509KeyPair(rogueCert, rogueKey)
	if c, err := tls.Dial("tcp", nodes[0].RaftAddr, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{pair}}); err == nil {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("raft accepted a certificate of another CA")
		}
		c.Close()
	}
	if n := settled(t, nodes); n.Entries != 1 {
		t.Fatalf("after the refusals: %+v", n)
	}

	// An expired certificate, and one naming another node, are refused at start.
	cfg := tlsConfig(t, p, e, base, "n4")
	cfg.TLSCertFile, cfg.TLSKeyFile = p.node(t, "n4", -time.Minute)
	cfg.Join = nodes[0].PeerAddr
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not now") {
		t.Errorf("start with an expired certificate: %v", err)
	}
	cfg = tlsConfig(t, p, e, base, "n5")
	cfg.TLSCertFile, cfg.TLSKeyFile = p.node(t, "n1", time.Hour)
	cfg.Join = nodes[0].PeerAddr
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `names node "n1"`) {
		t.Errorf("start with another node's certificate: %v", err)
	}
	// Mutual TLS never talks plaintext to peers.
	cfg = tlsConfig(t, p, e, base, "n6")
	cfg.Join = strings.Replace(nodes[0].PeerAddr, "https://", "http://", 1)
	if err := cfg.Validate(); err == nil {
		t.Error("an http:// join URL was accepted with mutual TLS")
	}
}

// TestCertReload: the node serves a new certificate after SIGHUP
// (ReloadTLS) and refuses to switch to an expired one.
func TestCertReload(t *testing.T) {
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: 2})
	p := newPKI(t)
	cfg := tlsConfig(t, p, e, t.TempDir(), "n1")
	cfg.Bootstrap = true
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	serial := func() string {
		c, err := tls.Dial("tcp", strings.TrimPrefix(n.APIAddr, "https://"), &tls.Config{RootCAs: p.pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	fresh, err := NewNodeCert(p.ca, "n1", []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "n1", fresh) // the files of cfg.TLSCertFile and cfg.TLSKeyFile
	if err := n.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if after := serial(); after == before || after != fresh.Cert.SerialNumber.String() {
		t.Fatalf("after reload the node serves serial %s (was %s, new %s)", after, before, fresh.Cert.SerialNumber)
	}
	expired, err := NewNodeCert(p.ca, "n1", []string{"127.0.0.1"}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "n1", expired)
	if err := n.ReloadTLS(); err == nil || !strings.Contains(err.Error(), "not now") {
		t.Fatalf("reload of an expired certificate: %v", err)
	}
	if got := serial(); got != fresh.Cert.SerialNumber.String() {
		t.Fatalf("after a refused reload the node serves %s", got)
	}
	var h struct {
		Status string `json:"status"`
	}
	if err := getJSON(context.Background(), p.client(t, ""), n.APIAddr+"/api/v1/health", &h); err != nil || h.Status != "ok" {
		t.Fatalf("health over HTTPS: %+v %v", h, err)
	}
}
