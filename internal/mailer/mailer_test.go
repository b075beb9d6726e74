package mailer

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wneessen/go-mail/smtp"

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
	ln := testonly.Listen(t)
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

// TestSendPostfixAuth sends a letter through the postfix port of
// .ci/smtp.sh that requires SMTP AUTH: with the right password it is
// delivered, and postfix records the authenticated session (ESMTPSA).
func TestSendPostfixAuth(t *testing.T) {
	s := testonly.SMTPAuthServer(t)
	c := smtpConfig(t, s.SMTP)
	c.User, c.Password = s.User, s.Password
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mark := token(t)
	if err := m.Send(context.Background(), Letter{VoterID: "v1", To: "bob@urna.test", Subject: "auth " + mark, Text: "logged in " + mark}); err != nil {
		t.Fatal(err)
	}
	if got := s.Delivered(t, "bob", mark); !strings.Contains(got, "with ESMTPSA") {
		t.Errorf("the message was not received over an authenticated session:\n%s", got)
	}
}

// TestAttackWrongPassword: a wrong password, or none, gets no letter
// through the port that requires AUTH, and says which.
func TestAttackWrongPassword(t *testing.T) {
	s := testonly.SMTPAuthServer(t)
	c := smtpConfig(t, s.SMTP)
	c.User, c.Password = s.User, s.Password+"-wrong"
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Dial(context.Background())
	if !errors.Is(err, ErrLoginRefused) || !strings.Contains(err.Error(), `user "`+s.User+`": wrong user or password (535`) {
		t.Fatalf("a wrong password: got %v, want ErrLoginRefused naming the user and the server's 535", err)
	}
	err = m.Send(context.Background(), Letter{VoterID: "v1", To: "bob@urna.test", Subject: "s", Text: "t"})
	if !errors.Is(err, ErrLoginRefused) {
		t.Fatalf("sending with a wrong password: got %v, want ErrLoginRefused", err)
	}

	// Without a login, postfix refuses the recipient: the port does not
	// relay for anyone who has not logged in.
	c.User, c.Password = "", ""
	if m, err = New(c); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var refused *RefusedError
	err = m.Send(context.Background(), Letter{VoterID: "v2", To: "bob@urna.test", Subject: "s", Text: "t"})
	if !errors.As(err, &refused) || refused.VoterID != "v2" || !strings.Contains(err.Error(), "554") {
		t.Fatalf("no login: got %v, want the recipient refused (554)", err)
	}
}

// TestAttackAuthWithoutTLS: the password never crosses a connection that
// is not TLS. postfix offers no AUTH before STARTTLS and refuses one sent
// anyway; the mailer's login refuses plain text by itself, even to
// localhost (where go-mail's own mechanisms would send it), and uses no
// mechanism but PLAIN and LOGIN.
func TestAttackAuthWithoutTLS(t *testing.T) {
	t.Run("postfix", func(t *testing.T) {
		s := testonly.SMTPAuthServer(t)
		conn, err := net.DialTimeout("tcp", s.Addr, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		tp := textproto.NewConn(conn)
		if _, _, err := tp.ReadResponse(220); err != nil {
			t.Fatal(err)
		}
		ask := func(want int, format string, args ...any) (int, string) {
			t.Helper()
			id, err := tp.Cmd(format, args...)
			if err != nil {
				t.Fatal(err)
			}
			tp.StartResponse(id)
			defer tp.EndResponse(id)
			code, msg, _ := tp.ReadResponse(want)
			return code, msg
		}
		if code, msg := ask(250, "EHLO attacker"); code != 250 || !strings.Contains(msg, "STARTTLS") || strings.Contains(msg, "AUTH") {
			t.Fatalf("EHLO before STARTTLS: %d %q, want STARTTLS offered and no AUTH", code, msg)
		}
		plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.User + "\x00" + s.Password))
		if code, msg := ask(235, "AUTH PLAIN %s", plain); code/100 != 5 {
			t.Fatalf("AUTH PLAIN before STARTTLS: %d %q, want a refusal", code, msg)
		}
		if code, msg := ask(250, "MAIL FROM:<ca@urna.test>"); code/100 != 5 || !strings.Contains(msg, "STARTTLS") {
			t.Fatalf("MAIL before STARTTLS: %d %q, want a refusal naming STARTTLS", code, msg)
		}
	})
	t.Run("login", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			server smtp.ServerInfo
			want   string
		}{
			{"localhost without TLS", smtp.ServerInfo{Name: "127.0.0.1", TLS: false, Auth: []string{"PLAIN", "LOGIN"}}, "without TLS: the password was not sent"},
			{"no PLAIN or LOGIN", smtp.ServerInfo{Name: "127.0.0.1", TLS: true, Auth: []string{"CRAM-MD5", "SCRAM-SHA-256"}}, "neither SMTP AUTH PLAIN nor LOGIN (it offers [CRAM-MD5 SCRAM-SHA-256])"},
			{"no AUTH", smtp.ServerInfo{Name: "127.0.0.1", TLS: true}, "neither SMTP AUTH PLAIN nor LOGIN"},
		} {
			a := &login{user: "ca", password: "secret-password", host: "127.0.0.1"}
			mech, resp, err := a.Start(&c.server)
			if err == nil || !strings.Contains(err.Error(), c.want) || a.started || len(resp) != 0 || mech != "" {
				t.Errorf("%s: %q %q %v (started %v), want %q and nothing sent", c.name, mech, resp, err, a.started, c.want)
			}
		}
		for _, c := range []struct {
			offers []string
			want   string
		}{{[]string{"CRAM-MD5", "LOGIN", "PLAIN"}, "PLAIN"}, {[]string{"CRAM-MD5", "LOGIN"}, "LOGIN"}} {
			a := &login{user: "ca", password: "secret-password", host: "127.0.0.1"}
			mech, _, err := a.Start(&smtp.ServerInfo{Name: "127.0.0.1", TLS: true, Auth: c.offers})
			if err != nil || mech != c.want {
				t.Errorf("offered %v: %q %v, want %s", c.offers, mech, err, c.want)
			}
		}
	})
}
