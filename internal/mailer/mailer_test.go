package mailer

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/testonly"
)

func smtpConfig(t *testing.T, s testonly.SMTP) Config {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", s.CAFile)
	}
	c := DefaultConfig()
	c.Addr, c.From, c.RootCAs = s.Addr, "ca@urna.test", pool
	return c
}

func token(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestSendPostfix sends letters through the postfix of .ci/smtp.sh: one to
// a recipient the server refuses comes between good ones, is reported for
// its voter, and the others are delivered, with the PDF attached, over TLS.
func TestSendPostfix(t *testing.T) {
	s := testonly.SMTPServer(t)
	m, err := New(smtpConfig(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	mark := token(t)
	pdf := []byte("%PDF-1.3 letter of " + mark)
	letters := []Letter{
		{VoterID: "v1", To: "alice@urna.test", Subject: "Your voting credential / 您的投票凭证 " + mark, Text: "Credential: ABCDE\n您的凭证 " + mark, PDF: pdf},
		{VoterID: "v2", To: "nobody@urna.test", Subject: "x " + mark, Text: "x", PDF: pdf},
		{VoterID: "v3", To: "carol@urna.test", Subject: "y " + mark, Text: "y " + mark, PDF: pdf},
	}
	var refused *RefusedError
	for _, l := range letters {
		err := m.Send(ctx, l)
		switch {
		case l.VoterID == "v2":
			if !errors.As(err, &refused) || refused.VoterID != "v2" || refused.Temporary || !strings.Contains(err.Error(), "550") {
				t.Fatalf("the unknown recipient: got %v, want a permanent refusal for v2", err)
			}
		case err != nil:
			t.Fatalf("voter %s: %v", l.VoterID, err)
		}
	}
	alice := s.Delivered(t, "alice", mark)
	for _, want := range []string{"Content-Type: application/pdf", `filename="v1.pdf"`, "with ESMTPS", "=?UTF-8?q?Your_voting_credential_/_=E6=82=A8"} {
		if !strings.Contains(alice, want) {
			t.Errorf("the delivered message lacks %q:\n%s", want, alice)
		}
	}
	s.Delivered(t, "carol", mark)
}

// TestAttackUntrustedCertificate: a server whose certificate does not
// verify (here: postfix's self-signed one without its CA) gets nothing.
func TestAttackUntrustedCertificate(t *testing.T) {
	s := testonly.SMTPServer(t)
	c := smtpConfig(t, s)
	c.RootCAs = x509.NewCertPool()
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), Letter{VoterID: "v1", To: "bob@urna.test", Subject: "s", Text: "t"})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a certificate error", err)
	}
}

// TestAttackSTARTTLSStripped: a man in the middle removes STARTTLS from
// the server's EHLO answer. The mailer sends no address, no password and
// no letter in plain text.
func TestAttackSTARTTLSStripped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var seen []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		w := bufio.NewWriter(conn)
		r := bufio.NewReader(conn)
		say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		say("220 mitm ESMTP")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			mu.Lock()
			seen = append(seen, cmd)
			mu.Unlock()
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				say("250-mitm\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME")
			case strings.HasPrefix(cmd, "QUIT"):
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	}()
	c := DefaultConfig()
	c.Addr, c.From, c.User, c.Password = ln.Addr().String(), "ca@urna.test", "ca", "secret-password"
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), Letter{VoterID: "v1", To: "alice@urna.test", Subject: "s", Text: "CREDENTIAL"})
	if err == nil {
		t.Fatal("a letter was sent to a server without STARTTLS")
	}
	m.Close()
	ln.Close()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, cmd := range seen {
		if !strings.HasPrefix(cmd, "EHLO") && !strings.HasPrefix(cmd, "HELO") && cmd != "QUIT" {
			t.Errorf("the mailer sent %q to a server without STARTTLS", cmd)
		}
	}
	t.Logf("error: %v; commands seen: %v", err, seen)
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Addr, good.From = "smtp.example.org:587", "ca@example.org"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*Config){
		"no port":     func(c *Config) { c.Addr = "smtp.example.org" },
		"bad port":    func(c *Config) { c.Addr = "smtp.example.org:0" },
		"no host":     func(c *Config) { c.Addr = ":587" },
		"bad from":    func(c *Config) { c.From = "ca" },
		"no password": func(c *Config) { c.User = "ca" },
		"no user":     func(c *Config) { c.Password = "x" },
		"no timeout":  func(c *Config) { c.Timeout = 0 },
	} {
		c := good
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBadRecipient(t *testing.T) {
	c := DefaultConfig()
	c.Addr, c.From = "127.0.0.1:1", "ca@example.org"
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	var r *RefusedError
	if err := m.Send(context.Background(), Letter{VoterID: "v9", To: "not an address"}); !errors.As(err, &r) || r.VoterID != "v9" {
		t.Fatalf("got %v", err)
	}
}
