package testonly

import (
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
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

// FreeAddr returns a loopback TCP address that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
