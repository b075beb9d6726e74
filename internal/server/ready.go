package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
)

// probeFile is written, synced and removed in the data directory by the
// write probe. A node whose disk is full cannot append to its Raft log or
// (with bolt) to its state; the probe finds out before a voter does.
const probeFile = ".urna-write-probe"

// prober checks periodically that the node can write its data directory
// and read its store, and keeps the outcome for readiness and metrics.
type prober struct {
	dir      string
	st       store.Store
	interval time.Duration

	mu       sync.Mutex
	last     time.Time // end of the last probe
	err      error
	took     time.Duration
	failures uint64
}

func (p *prober) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		p.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *prober) probe(ctx context.Context) {
	start := time.Now()
	err := writeProbe(filepath.Join(p.dir, probeFile))
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, p.interval)
		err = p.st.View(cctx, func(tx store.ReadTx) error { _, err := tx.AppliedIndex(); return err })
		cancel()
		if err != nil {
			err = fmt.Errorf("store read: %w", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last, p.took, p.err = time.Now(), time.Since(start), err
	if err != nil {
		p.failures++
	}
}

// writeProbe writes 4 KiB to path, syncs and removes it.
func writeProbe(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("disk write: %w", err)
	}
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(path); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("disk write: %w", err)
	}
	return nil
}

func (p *prober) state() (last time.Time, took time.Duration, failures uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.took, p.failures, p.err
}

// Readiness reports whether the node should get traffic (GET
// /api/v1/ready): it knows a leader and heard from it within
// Config.MaxLeaderSilence (or is the leader), its board state is at most
// Config.MaxApplyLag entries behind the commit index, and the last write
// probe of its disk and store succeeded recently.
func (n *Node) Readiness(context.Context) httpapi.Readiness {
	st := n.Replica.Stats()
	applied := n.Board.AppliedIndex()
	r := httpapi.Readiness{
		Node: n.ID, Role: strings.ToLower(st.State), Leader: st.LeaderID,
		Commit: st.CommitIndex, Applied: applied, LeaderContactMS: -1,
	}
	if st.CommitIndex > applied {
		r.ApplyLag = st.CommitIndex - applied
	}
	if !st.LastContact.IsZero() {
		r.LeaderContactMS = time.Since(st.LastContact).Milliseconds()
	}
	switch {
	case st.LeaderID == "":
		r.Problems = append(r.Problems, "no leader is known")
	case st.LastContact.IsZero() || time.Since(st.LastContact) > n.cfg.MaxLeaderSilence:
		r.Problems = append(r.Problems, fmt.Sprintf("no contact with the leader for more than %v", n.cfg.MaxLeaderSilence))
	}
	if r.ApplyLag > n.cfg.MaxApplyLag {
		r.Problems = append(r.Problems, fmt.Sprintf("applied state is %d entries behind the commit index (limit %d)", r.ApplyLag, n.cfg.MaxApplyLag))
	}
	last, _, _, err := n.probe.state()
	switch {
	case last.IsZero():
		r.Problems = append(r.Problems, "the disk and store have not been probed yet")
	case err != nil:
		// The error names the path and the OS's reason (ENOSPC, EROFS):
		// operators need it, and it holds nothing secret.
		r.Problems = append(r.Problems, "cannot write: "+err.Error())
	case time.Since(last) > 3*n.cfg.ProbeInterval:
		r.Problems = append(r.Problems, fmt.Sprintf("the last disk and store probe finished %v ago (stuck?)", time.Since(last).Round(time.Second)))
	default:
		r.StoreOK = true
	}
	r.Ready = len(r.Problems) == 0
	return r
}

// gather refreshes the node's metrics before a scrape: Raft's state and
// its own metrics, the board's counters, the store probe.
func (n *Node) gather(m *httpapi.Metrics) {
	st := n.Replica.Stats()
	for _, s := range []string{"leader", "follower", "candidate"} {
		v := 0.0
		if strings.EqualFold(st.State, s) {
			v = 1
		}
		m.Set("urna_raft_state", "1 for this node's Raft state.", v, "state", s)
	}
	m.Set("urna_raft_term", "Current Raft term.", float64(st.Term))
	m.Set("urna_raft_last_index", "Last Raft log index.", float64(st.LastIndex))
	m.Set("urna_raft_commit_index", "Raft commit index known to this node.", float64(st.CommitIndex))
	m.Set("urna_raft_applied_index", "Raft index applied to the board state.", float64(n.Board.AppliedIndex()))
	if !st.LastContact.IsZero() {
		m.Set("urna_raft_leader_contact_seconds", "Time since this node last heard from the leader (0 on the leader).", time.Since(st.LastContact).Seconds())
	}
	m.Set("urna_submit_queue", "Submissions waiting for the batcher.", float64(st.Queued))
	m.SetCounter("urna_raft_entries_proposed_total", "Command entries this node proposed as leader.", float64(st.Entries))
	m.SetCounter("urna_board_commands_proposed_total", "Board commands in those entries.", float64(st.Commands))
	if el, err := n.Board.Election(context.Background()); err == nil {
		m.Set("urna_board_entries", "Entries on the board.", float64(el.Entries))
		m.Set("urna_board_ballots", "Cast ballots accepted (revotes included).", float64(el.Rules.Ballots))
		m.Set("urna_board_audited", "Audited ballots accepted.", float64(el.Rules.Audited))
		m.Set("urna_board_credentials", "Registered credentials.", float64(el.Rules.Credentials))
	}
	last, took, failures, err := n.probe.state()
	ok := 0.0
	if !last.IsZero() && err == nil {
		ok = 1
	}
	m.Set("urna_store_probe_ok", "1 when the last disk write and store read probe succeeded.", ok)
	m.Set("urna_store_probe_seconds", "Duration of the last disk write and store read probe.", took.Seconds())
	m.SetCounter("urna_store_probe_failures_total", "Failed disk write and store read probes.", float64(failures))
	ready := 0.0
	if n.Readiness(context.Background()).Ready {
		ready = 1
	}
	m.Set("urna_ready", "1 when GET /api/v1/ready answers ready.", ready)
	for _, s := range replica.RaftMetrics() {
		name := httpapi.SanitizeName(s.Name)
		help := "hashicorp/raft metric " + s.Name + "."
		switch s.Kind {
		case replica.MetricCounter:
			m.SetCounter(name+"_total", help, s.Value, s.Labels...)
		case replica.MetricSummary:
			m.SetSummary(name+"_ms", help+" Milliseconds for timings.", s.Count, s.Sum, s.Labels...)
		default:
			m.Set(name, help, s.Value, s.Labels...)
		}
	}
}
