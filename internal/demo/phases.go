package demo

import (
	"fmt"
	"strings"
	"time"
)

// Phase is one phase of the demo election and its wall time.
type Phase struct {
	Name string
	Took time.Duration
}

// phaseLog times consecutive phases of one election.
type phaseLog struct {
	t0   time.Time
	list []Phase
}

func (p *phaseLog) begin() { p.t0 = time.Now() }

// end closes the phase that began at the previous end (or begin) and
// returns its duration.
func (p *phaseLog) end(name string) time.Duration {
	now := time.Now()
	d := now.Sub(p.t0)
	p.list = append(p.list, Phase{Name: name, Took: d})
	p.t0 = now
	return d
}

// print writes the phases as one progress line each, with their share of
// the whole.
func (p *phaseLog) print(progress func(string, ...any)) {
	var total time.Duration
	w := 0
	for _, ph := range p.list {
		total += ph.Took
		w = max(w, len(ph.Name))
	}
	var b strings.Builder
	for _, ph := range p.list {
		fmt.Fprintf(&b, "\n  %-*s %10v %5.1f%%", w, ph.Name, ph.Took.Round(time.Millisecond), 100*ph.Took.Seconds()/total.Seconds())
	}
	progress("phases (wall time):%s\n  %-*s %10v", b.String(), w, "all", total.Round(time.Millisecond))
}
