package replica

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func captureLogger(level slog.Level) (hclog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
	return newHCLogger(l, "raft"), &buf
}

// TestLoggerFormatsHclogFmt: raft's hclog.Fmt arguments reach the log
// formatted, not as `[%+v …]` (issue 13: startup logged servers="[%+v []]").
func TestLoggerFormatsHclogFmt(t *testing.T) {
	l, buf := captureLogger(slog.LevelInfo)
	l.Info("initial configuration", "index", 1, "servers", hclog.Fmt("%+v", []string{"n1", "n2"}))
	out := buf.String()
	if !strings.Contains(out, `servers="[n1 n2]"`) || strings.Contains(out, "%+v") {
		t.Fatalf("log line: %s", out)
	}
}

// TestLoggerQuietOnFreshFollower: a follower with an empty log refusing
// the leader's first append is normal on every join: Debug, not Warn; the
// same message on a follower that has entries stays a warning.
func TestLoggerQuietOnFreshFollower(t *testing.T) {
	l, buf := captureLogger(slog.LevelInfo)
	errNF := errors.New("log not found")
	l.Warn("failed to get previous log", "previous-index", uint64(5), "last-index", uint64(0), "error", errNF)
	if buf.Len() != 0 {
		t.Fatalf("fresh follower logged at Info level or above: %s", buf.String())
	}
	l.Warn("failed to get previous log", "previous-index", uint64(9), "last-index", uint64(4), "error", errNF)
	if !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("a follower with entries missing the leader's previous one must warn: %q", buf.String())
	}
	dl, dbuf := captureLogger(slog.LevelDebug)
	dl.Warn("failed to get previous log", "previous-index", uint64(5), "last-index", uint64(0), "error", errNF)
	if !strings.Contains(dbuf.String(), "level=DEBUG") {
		t.Fatalf("fresh follower's refusal not at Debug: %q", dbuf.String())
	}
}

// TestLoggerQuietOnJoin: the leader's side of a join (a follower with no
// entries refuses the first append, the leader sends from entry 1) is
// Debug; a follower that had entries and fell behind stays a warning.
func TestLoggerQuietOnJoin(t *testing.T) {
	l, buf := captureLogger(slog.LevelInfo)
	l.Warn("appendEntries rejected, sending older logs", "peer", "{Voter n2 127.0.0.1:7002}", "next", uint64(1))
	if buf.Len() != 0 {
		t.Fatalf("a join logged at Info level or above: %s", buf.String())
	}
	l.Warn("appendEntries rejected, sending older logs", "peer", "{Voter n2 127.0.0.1:7002}", "next", uint64(40))
	if !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("a follower missing entries 40 on must warn: %q", buf.String())
	}
}
