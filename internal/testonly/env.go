package testonly

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Logger returns a logger that writes records at level and above to t.Log
// until the test's cleanup silences it (raft and the servers may log from
// their goroutines while shutting down, after the test has ended).
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.off.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tWriter struct {
	t   testing.TB
	off atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.off.Load() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// Listen returns a listener on a free loopback TCP port, closed when the
// test ends.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// FreeAddr returns a loopback TCP address that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln := Listen(t)
	_ = ln.Close()
	return ln.Addr().String()
}

// PostgresURL returns the PostgreSQL URL of URNA_TEST_POSTGRES. Without
// it the test fails in CI (CI set) and is skipped, with the reason, when
// run by hand.
func PostgresURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("URNA_TEST_POSTGRES")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("URNA_TEST_POSTGRES is not set: PostgreSQL is required in CI (eval \"$(bash .ci/pg.sh)\")")
		}
		t.Skip("URNA_TEST_POSTGRES is not set: skipping a PostgreSQL test (required in CI; run: eval \"$(bash .ci/pg.sh)\")")
	}
	return url
}

// Spec returns SPEC.md, read from the root of the module, or stops the test.
func Spec(t testing.TB) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0) // this file, internal/testonly/env.go
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "SPEC.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Require fails the test in CI (CI set) and skips it, with the reason,
// when run by hand, unless ok: for a test that needs a tool or service
// that .ci/run installs (missing says what is missing, install how to get
// it).
func Require(t testing.TB, ok bool, missing, install string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: required in CI (%s)", missing, install)
	}
	t.Skipf("%s: skipping (required in CI; %s)", missing, install)
}

// SMTP is the test SMTP server that .ci/smtp.sh starts (postfix,
// STARTTLS required): its address, the PEM file of its self-signed
// certificate, and the directory of the Maildir mailboxes of urna.test.
type SMTP struct{ Addr, CAFile, Maildir string }

// SMTPServer returns the server of URNA_TEST_SMTP, URNA_TEST_SMTP_CA and
// URNA_TEST_SMTP_MAILDIR. Without them the test fails in CI and is
// skipped, with the reason, when run by hand.
func SMTPServer(t testing.TB) SMTP {
	t.Helper()
	s := SMTP{os.Getenv("URNA_TEST_SMTP"), os.Getenv("URNA_TEST_SMTP_CA"), os.Getenv("URNA_TEST_SMTP_MAILDIR")}
	Require(t, s.Addr != "" && s.CAFile != "" && s.Maildir != "", "URNA_TEST_SMTP, URNA_TEST_SMTP_CA or URNA_TEST_SMTP_MAILDIR is not set",
		"run as root: eval \"$(bash .ci/smtp.sh)\"")
	return s
}

// SMTPAuth is the port of the test SMTP server that requires SMTP AUTH
// (.ci/smtp.sh: Cyrus SASL, PLAIN or LOGIN after STARTTLS): its address,
// and a user's name and password.
type SMTPAuth struct {
	SMTP
	User, Password string
}

// SMTPAuthServer returns the auth port of URNA_TEST_SMTP_AUTH, its user
// URNA_TEST_SMTP_USER and the password in URNA_TEST_SMTP_PASSWORD_FILE,
// with the server of SMTPServer. Without them the test fails in CI and is
// skipped, with the reason, when run by hand.
func SMTPAuthServer(t testing.TB) SMTPAuth {
	t.Helper()
	s := SMTPServer(t)
	addr, user, file := os.Getenv("URNA_TEST_SMTP_AUTH"), os.Getenv("URNA_TEST_SMTP_USER"), os.Getenv("URNA_TEST_SMTP_PASSWORD_FILE")
	Require(t, addr != "" && user != "" && file != "", "URNA_TEST_SMTP_AUTH, URNA_TEST_SMTP_USER or URNA_TEST_SMTP_PASSWORD_FILE is not set",
		"run as root: eval \"$(bash .ci/smtp.sh)\"")
	pw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the test SMTP password: %v", err)
	}
	s.Addr = addr
	return SMTPAuth{SMTP: s, User: user, Password: strings.TrimSpace(string(pw))}
}

// Delivered waits (generously: postfix delivers in the background) until
// the Maildir of user@urna.test holds a message containing marker, and
// returns that message.
func (s SMTP) Delivered(t testing.TB, user, marker string) string {
	t.Helper()
	dir := filepath.Join(s.Maildir, user, "new")
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if b, err := os.ReadFile(filepath.Join(dir, f.Name())); err == nil && strings.Contains(string(b), marker) {
				return string(b)
			}
		}
	}
	t.Fatalf("no message with %s was delivered to %s (see /var/log/postfix-urna-ci.log)", marker, dir)
	return ""
}
