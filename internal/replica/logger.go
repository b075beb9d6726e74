package replica

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// hcLogger adapts an *slog.Logger to hclog.Logger for raft. hclog's
// alternating key/value arguments are slog's too. Trace maps below Debug.
type hcLogger struct {
	base  *slog.Logger // the injected logger plus With args
	l     *slog.Logger // base plus the logger name
	name  string
	args  []any
	level *atomic.Int32 // hclog.Level; shared by derived loggers
}

const levelTrace = slog.LevelDebug - 4

func newHCLogger(l *slog.Logger, name string) hclog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	lv := new(atomic.Int32)
	lv.Store(int32(hclog.Trace))
	return &hcLogger{base: l, l: l.With("logger", name), name: name, level: lv}
}

func toSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *hcLogger) enabled(level hclog.Level) bool {
	return level >= hclog.Level(h.level.Load()) && h.l.Enabled(context.Background(), toSlog(level))
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	level = quieter(level, msg, args)
	if level == hclog.Off || !h.enabled(level) {
		return
	}
	for i, a := range args {
		// raft passes hclog.Fmt("%+v", x) values; hclog formats them, slog
		// would print the format verb and its arguments raw.
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			if format, ok := f[0].(string); ok {
				args[i] = fmt.Sprintf(format, f[1:]...)
			}
		}
	}
	h.l.Log(context.Background(), toSlog(level), msg, args...)
}

// quieter lowers to Debug what raft logs as a warning although nothing is
// wrong: a follower that has no log yet (a node that just joined) refusing
// the leader's first append, and the leader's side of the same event, which
// it answers by sending the follower's log from its first entry ("next" 1)
// or a snapshot.
func quieter(level hclog.Level, msg string, args []any) hclog.Level {
	if level != hclog.Warn {
		return level
	}
	var key string
	var fresh uint64 // key's value when the follower has no entry
	switch msg {
	case "failed to get previous log":
		key, fresh = "last-index", 0 // the follower's last entry
	case "appendEntries rejected, sending older logs":
		key, fresh = "next", 1 // the entry the leader sends the follower next
	default:
		return level
	}
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == key {
			if n, ok := args[i+1].(uint64); ok && n == fresh {
				return hclog.Debug
			}
		}
	}
	return level
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

func (h *hcLogger) ImpliedArgs() []any { return h.args }

func (h *hcLogger) With(args ...any) hclog.Logger {
	c := *h
	c.base = h.base.With(args...)
	c.l = c.base.With("logger", c.name)
	c.args = append(append([]any(nil), h.args...), args...)
	return &c
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return h.ResetNamed(name)
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	c.l = h.base.With("logger", name)
	return &c
}

func (h *hcLogger) SetLevel(level hclog.Level) { h.level.Store(int32(level)) }
func (h *hcLogger) GetLevel() hclog.Level      { return hclog.Level(h.level.Load()) }

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	level := slog.LevelInfo
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = toSlog(opts.ForceLevel)
	}
	return slog.NewLogLogger(h.l.Handler(), level)
}

func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return h.StandardLogger(opts).Writer()
}
