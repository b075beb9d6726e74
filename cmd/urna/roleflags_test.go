package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/server"
)

// TestAttackRoleCommandsPrivateCA: with --ca, a role command trusts the
// board's private CA, and only it: a node whose certificate that CA signed
// is reached; without --ca, or with another CA, the connection is refused
// (never a fallback to plaintext or to trusting any certificate).
func TestAttackRoleCommandsPrivateCA(t *testing.T) {
	ca, err := server.NewCA("test board", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	node, err := server.NewNodeCert(ca, "n1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(node.CertPEM, node.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok","node":"n1","leader":"n1","role":"leader","applied":1}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeFile(t, caFile, ca.CertPEM)
	other, _ := server.NewCA("another board", time.Hour)
	otherFile := filepath.Join(dir, "other.pem")
	writeFile(t, otherFile, other.CertPEM)

	health := func(ca string) error {
		cl, err := newClient("vote", srv.URL, ca, "")
		if err != nil {
			return err
		}
		_, err = cl.Health(context.Background())
		return err
	}
	if err := health(caFile); err != nil {
		t.Fatalf("with --ca of the board: %v", err)
	}
	for name, ca := range map[string]string{"no --ca": "", "another CA": otherFile} {
		err := health(ca)
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v, want a certificate error", name, err)
		}
	}
	if _, err := newClient("vote", srv.URL, filepath.Join(dir, "missing.pem"), ""); err == nil || !strings.Contains(err.Error(), "--ca") {
		t.Errorf("a missing --ca file: %v", err)
	}
}

// TestCreatorKeys: --creator takes an authority key in hex or as
// authority.pub's base64url, and refuses anything else.
func TestCreatorKeys(t *testing.T) {
	var c creatorKeys
	for _, ok := range []string{"WItBYmLeEJA1GMUoyuoVETezGfzXXOUCKZ21qOdrBEI", "588b416262de10903518c528caea151137b319fcd75ce502299db5a8e76b0442"} {
		if err := c.Set(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if len(c) != 2 || c[0] != c[1] {
		t.Fatalf("creators %x", c)
	}
	for _, bad := range []string{"", "xyz", "588b41", strings.Repeat("00", 32), strings.Repeat("ff", 32)} {
		if err := c.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRoleReadsAreConsistent: a role reads the board through its first
// --node with consistent reads (?consistent=1), so it never acts on a
// node's view that lags behind a committed post; the other nodes, whose
// checkpoints are only compared, are read as they are.
func TestRoleReadsAreConsistent(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	srv := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[name] = r.URL.Query().Get(api.ConsistentParam)
			mu.Unlock()
			http.Error(w, `{"error":{"code":"not_found","message":"test"}}`, http.StatusNotFound)
		}))
		t.Cleanup(s.Close)
		return s
	}
	primary, other := srv("primary"), srv("other")
	ca, election := "", ""
	l := &nodeList{urls: []string{primary.URL, other.URL}, ca: &ca, election: &election}
	cl, others, err := l.clients("test")
	if err != nil || len(others) != 1 {
		t.Fatal(err)
	}
	_, _ = cl.Checkpoint(context.Background())
	_, _ = others[0].Checkpoint(context.Background())
	if got["primary"] != "1" || got["other"] != "" {
		t.Fatalf("consistent parameter: primary %q, other %q; want 1 and none", got["primary"], got["other"])
	}
}
