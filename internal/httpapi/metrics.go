package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Metrics is a small registry of counters, gauges, histograms and summaries
// written in the Prometheus text exposition format (version 0.0.4), served
// at GET /metrics. It exists so that a node needs no metrics library: the
// approved module set has none that fits beside raft v1.7.2.
//
// Names and label names MUST match [a-zA-Z_][a-zA-Z0-9_]*; label values
// are escaped. A name keeps the type it was first used with. Safe for
// concurrent use.
type Metrics struct {
	mu   sync.Mutex
	fams map[string]*family
}

type family struct {
	name, help, typ string
	series          map[string]*series
}

type series struct {
	labels string // rendered {k="v",...} or ""
	value  float64
	// histogram: counts[i] observations ≤ buckets[i]; summary: count only.
	counts []uint64
	count  uint64
	sum    float64
}

// latencyBuckets are the upper bounds (seconds) of latency histograms: from
// a cached read to a write waiting out an election.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics { return &Metrics{fams: map[string]*family{}} }

func (m *Metrics) get(name, help, typ string, labels []string) *series {
	f := m.fams[name]
	if f == nil {
		f = &family{name: name, help: help, typ: typ, series: map[string]*series{}}
		m.fams[name] = f
	}
	key := renderLabels(labels)
	s := f.series[key]
	if s == nil {
		s = &series{labels: key}
		f.series[key] = s
	}
	return s
}

// Add adds v to the counter name{labels} (labels: name, value, ...).
func (m *Metrics) Add(name, help string, v float64, labels ...string) {
	m.mu.Lock()
	m.get(name, help, "counter", labels).value += v
	m.mu.Unlock()
}

// SetCounter sets the counter name{labels} to a total kept elsewhere.
func (m *Metrics) SetCounter(name, help string, v float64, labels ...string) {
	m.mu.Lock()
	m.get(name, help, "counter", labels).value = v
	m.mu.Unlock()
}

// Set sets the gauge name{labels}.
func (m *Metrics) Set(name, help string, v float64, labels ...string) {
	m.mu.Lock()
	m.get(name, help, "gauge", labels).value = v
	m.mu.Unlock()
}

// Observe records v (seconds) in the latency histogram name{labels}.
func (m *Metrics) Observe(name, help string, v float64, labels ...string) {
	m.mu.Lock()
	s := m.get(name, help, "histogram", labels)
	if s.counts == nil {
		s.counts = make([]uint64, len(latencyBuckets))
	}
	for i, b := range latencyBuckets {
		if v <= b {
			s.counts[i]++
		}
	}
	s.count++
	s.sum += v
	m.mu.Unlock()
}

// SetSummary sets the count and sum of the summary name{labels} (without
// quantiles), for timings aggregated elsewhere.
func (m *Metrics) SetSummary(name, help string, count uint64, sum float64, labels ...string) {
	m.mu.Lock()
	s := m.get(name, help, "summary", labels)
	s.count, s.sum = count, sum
	m.mu.Unlock()
}

// WriteText writes every family in the text exposition format, sorted by
// name and labels.
func (m *Metrics) WriteText(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, n := range slices.Sorted(maps.Keys(m.fams)) {
		f := m.fams[n]
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", n, escapeHelp(f.help), n, f.typ)
		for _, k := range slices.Sorted(maps.Keys(f.series)) {
			s := f.series[k]
			switch f.typ {
			case "histogram":
				for i, b := range latencyBuckets {
					fmt.Fprintf(bw, "%s_bucket%s %d\n", n, withLabel(k, "le", formatFloat(b)), s.counts[i])
				}
				fmt.Fprintf(bw, "%s_bucket%s %d\n%s_sum%s %s\n%s_count%s %d\n", n, withLabel(k, "le", "+Inf"), s.count, n, k, formatFloat(s.sum), n, k, s.count)
			case "summary":
				fmt.Fprintf(bw, "%s_sum%s %s\n%s_count%s %d\n", n, k, formatFloat(s.sum), n, k, s.count)
			default:
				fmt.Fprintf(bw, "%s%s %s\n", n, k, formatFloat(s.value))
			}
		}
	}
	return bw.Flush()
}

func renderLabels(kv []string) string {
	if len(kv) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(escapeLabel(kv[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// withLabel adds k="v" to rendered labels.
func withLabel(rendered, k, v string) string {
	l := k + `="` + v + `"`
	if rendered == "" {
		return "{" + l + "}"
	}
	return rendered[:len(rendered)-1] + "," + l + "}"
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// SanitizeName turns a dotted or spaced metric key into a Prometheus name.
func SanitizeName(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range p {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r >= '0' && r <= '9' && b.Len() > 0:
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// countRequest records a handled request's route, method, status and
// duration (the route pattern, never the path: paths name trackers).
func (s *server) countRequest(c echo.Context, d time.Duration) {
	route := c.Path()
	if route == "" || strings.HasSuffix(route, "/*") && strings.HasPrefix(route, "/api/") {
		route = "other"
	}
	code := strconv.Itoa(c.Response().Status)
	s.opts.Metrics.Add("urna_http_requests_total", "HTTP requests by route, method and status.", 1,
		"route", route, "method", c.Request().Method, "code", code)
	s.opts.Metrics.Observe("urna_http_request_duration_seconds", "HTTP request latency by route.",
		d.Seconds(), "route", route)
}

// metrics serves GET /metrics: the request counters, then whatever
// opts.Gather adds (Raft, board, store).
func (s *server) metrics(c echo.Context) error {
	if s.opts.Gather != nil {
		s.opts.Gather(s.opts.Metrics)
	}
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return s.opts.Metrics.WriteText(c.Response())
}
