package replica

import (
	"sort"
	"strings"
	"sync"

	gometrics "github.com/armon/go-metrics"
)

// Raft reports its own metrics (commit and apply times, RPC latencies,
// leadership changes, ...) through armon/go-metrics' process-wide sink
// (hashicorp/go-metrics/compat routes there). RaftMetrics installs a sink
// that keeps them for a Prometheus endpoint. Several nodes in one process
// (tests, `urna demo`) share it: their metrics add up.

// MetricKind is how a raft metric aggregates.
type MetricKind int

// Kinds of raft metrics.
const (
	MetricGauge   MetricKind = iota // the last value set
	MetricCounter                   // a running total
	MetricSummary                   // count and sum of samples (milliseconds for timings)
)

// MetricSample is one raft metric series: Name is the dotted key
// ("raft.commitTime"), Labels sorted name/value pairs.
type MetricSample struct {
	Kind   MetricKind
	Name   string
	Labels []string
	Value  float64 // gauge or counter
	Count  uint64  // summary
	Sum    float64 // summary
}

type raftSink struct {
	mu     sync.Mutex
	series map[string]*MetricSample
}

var (
	sinkOnce   sync.Once
	globalSink = &raftSink{series: map[string]*MetricSample{}}
)

// RaftMetrics installs the sink on first use and returns what raft reported
// so far, sorted by name and labels.
func RaftMetrics() []MetricSample {
	installRaftSink()
	globalSink.mu.Lock()
	defer globalSink.mu.Unlock()
	out := make([]MetricSample, 0, len(globalSink.series))
	for _, s := range globalSink.series {
		c := *s
		c.Labels = append([]string(nil), s.Labels...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return strings.Join(out[i].Labels, "\x00") < strings.Join(out[j].Labels, "\x00")
	})
	return out
}

// installRaftSink makes the sink the process-wide one, without host names
// or Go runtime metrics (those are the process's, not raft's).
func installRaftSink() {
	sinkOnce.Do(func() {
		cfg := gometrics.DefaultConfig("")
		cfg.EnableHostname = false
		cfg.EnableHostnameLabel = false
		cfg.EnableRuntimeMetrics = false
		cfg.EnableServiceLabel = false
		_, _ = gometrics.NewGlobal(cfg, globalSink)
	})
}

func (s *raftSink) at(kind MetricKind, key []string, labels []gometrics.Label) *MetricSample {
	name := strings.Join(key, ".")
	lv := make([]string, 0, 2*len(labels))
	sort.Slice(labels, func(i, j int) bool { return labels[i].Name < labels[j].Name })
	for _, l := range labels {
		lv = append(lv, l.Name, l.Value)
	}
	id := name + "\x00" + strings.Join(lv, "\x00")
	m := s.series[id]
	if m == nil {
		m = &MetricSample{Kind: kind, Name: name, Labels: lv}
		s.series[id] = m
	}
	return m
}

func (s *raftSink) SetGauge(key []string, val float32) { s.SetGaugeWithLabels(key, val, nil) }
func (s *raftSink) SetGaugeWithLabels(key []string, val float32, labels []gometrics.Label) {
	s.mu.Lock()
	s.at(MetricGauge, key, labels).Value = float64(val)
	s.mu.Unlock()
}
func (s *raftSink) EmitKey([]string, float32)             {}
func (s *raftSink) IncrCounter(key []string, val float32) { s.IncrCounterWithLabels(key, val, nil) }
func (s *raftSink) IncrCounterWithLabels(key []string, val float32, labels []gometrics.Label) {
	s.mu.Lock()
	s.at(MetricCounter, key, labels).Value += float64(val)
	s.mu.Unlock()
}
func (s *raftSink) AddSample(key []string, val float32) { s.AddSampleWithLabels(key, val, nil) }
func (s *raftSink) AddSampleWithLabels(key []string, val float32, labels []gometrics.Label) {
	s.mu.Lock()
	m := s.at(MetricSummary, key, labels)
	m.Count++
	m.Sum += float64(val)
	s.mu.Unlock()
}
