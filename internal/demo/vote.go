package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
)

// simulation is what the simulated voters did.
type simulation struct {
	expected [][]uint64 // per question per option: the choices that count
	voters   int
	cast     int // cast-ballot entries, revotes included
	revotes  int
	audits   int
}

type job struct {
	voter   int
	choices [][]uint32
	answers []ballot.Answer // a version-2 ballot's answers (SPEC.md §12) instead of choices
	audit   bool
	entry   []byte // filled by the workers
	seq     uint64 // filled by the posters
	err     error
}

// randomChoices draws a valid selection for every question.
func randomChoices(rng *mrand.Rand, m *ballot.Manifest) [][]uint32 {
	out := make([][]uint32, len(m.Questions))
	for q, mq := range m.Questions {
		perm := rng.Perm(len(mq.Options))
		k := int(mq.Min) + rng.IntN(int(mq.Max-mq.Min)+1)
		out[q] = []uint32{}
		for _, o := range perm[:k] {
			out[q] = append(out[q], uint32(o))
		}
	}
	return out
}

// Posting: batches of postBatch entries, postersPerNode requests in flight
// per node, so that encryption, the nodes' checks and Raft's fsyncs overlap.
const (
	postBatch      = 128
	postersPerNode = 2
)

// vote casts the simulated ballots in two passes: every voter once (every
// twentieth after challenging a ballot), then every tenth a second time.
// Each pass streams (castAll): only the ballots in flight are in memory,
// and the simulation keeps counts, not choices.
func (r *run) vote(ctx context.Context, el *roles.Election, creds map[int]ballot.Credential, voters []int) (*simulation, error) {
	var seed [16]byte
	if _, err := io.ReadFull(r.rand, seed[:]); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The choices are not secret: a fast PRNG is enough to simulate voters.
	rng := mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	m := el.Manifest
	sim := &simulation{voters: len(voters), expected: make([][]uint64, len(m.Questions))}
	for q, mq := range m.Questions {
		sim.expected[q] = make([]uint64, len(mq.Options))
	}
	count := func(v int, ch [][]uint32) {
		for q, sel := range ch {
			for _, o := range sel {
				sim.expected[q][o] += uint64(r.weight(v))
			}
		}
	}
	revotes := len(voters) / 10
	audits := len(voters) / 20
	first := func(yield func(*job) bool) {
		for k, v := range voters {
			if (k+1)%20 == 0 && !yield(&job{voter: v, choices: randomChoices(rng, m), audit: true}) {
				return
			}
			ch := randomChoices(rng, m)
			if (k+1)%10 != 0 { // a revote replaces it
				count(v, ch)
			}
			if !yield(&job{voter: v, choices: ch}) {
				return
			}
		}
	}
	second := func(yield func(*job) bool) {
		for k, v := range voters {
			if (k+1)%10 == 0 {
				ch := randomChoices(rng, m)
				count(v, ch)
				if !yield(&job{voter: v, choices: ch}) {
					return
				}
			}
		}
	}
	passes := []struct {
		what string
		n    int
		jobs func(func(*job) bool)
		keep int // posted ballots kept for the receipt checks
	}{
		{"first ballots (some after a challenge)", len(voters) + audits, first, 3},
		{"second ballots (revotes replace the first)", revotes, second, 0},
	}
	for w, p := range passes {
		t0 := time.Now()
		kept, err := r.castAll(ctx, el, creds, p.jobs, p.n, p.keep)
		if err != nil {
			return nil, err
		}
		r.progress("voters cast %d %s in %v: encrypted on %d workers and posted in batches of %d, %d requests in flight",
			p.n, p.what, time.Since(t0).Round(time.Millisecond), r.cfg.Workers, postBatch, postersPerNode*len(r.clients))
		if w == 0 {
			sim.cast, sim.audits = len(voters), audits
			// A few voters fetch and check their receipts, as `urna vote` does.
			for i, j := range kept {
				if _, err := roles.FetchReceipt(ctx, r.clients[i%len(r.clients)], el, j.seq, j.entry, 30*time.Second); err != nil {
					return nil, fmt.Errorf("demo: voter %d receipt: %w", j.voter, err)
				}
			}
			r.progress("%d voters checked their receipts (signed checkpoint and inclusion proof)", len(kept))
		} else {
			sim.cast += revotes
			sim.revotes = revotes
		}
	}
	return sim, nil
}

// castAll encrypts the ballots jobs yields (n of them, for the progress
// line) on cfg.Workers goroutines and posts them in batches to the nodes in
// turn. It returns the first keep cast (not audited) ballots with their
// sequence numbers.
func (r *run) castAll(ctx context.Context, el *roles.Election, creds map[int]ballot.Credential, jobs func(func(*job) bool), n, keep int) ([]*job, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	fail := func(err error) { cancel(err) }
	var mu sync.Mutex // guards r.rand, which need not be safe for concurrent use
	rd := lockedReader{r: r.rand, mu: &mu}

	todo := make(chan *job, 2*r.cfg.Workers)
	go func() {
		defer close(todo)
		for j := range jobs {
			select {
			case todo <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := make(chan *job, postBatch)
	var workers sync.WaitGroup
	for range r.cfg.Workers {
		workers.Go(func() {
			for j := range todo {
				if j.err = r.prepare(rd, el, creds, j); j.err != nil {
					fail(fmt.Errorf("demo: voter %d: %w", j.voter, j.err))
					return
				}
				select {
				case done <- j:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { workers.Wait(); close(done) }()

	batches := make(chan []*job)
	var posted atomic.Int64
	var keptMu sync.Mutex
	var kept []*job
	var posters sync.WaitGroup
	for p := range postersPerNode * len(r.clients) {
		cl := r.clients[p%len(r.clients)]
		posters.Go(func() {
			for b := range batches {
				if err := r.post(ctx, cl, b); err != nil {
					fail(err)
					continue // drain
				}
				posted.Add(int64(len(b)))
				keptMu.Lock()
				for _, j := range b {
					if len(kept) < keep && !j.audit {
						kept = append(kept, j)
					}
				}
				keptMu.Unlock()
			}
		})
	}
	stopProgress := r.progressEvery(5*time.Second, "posted %d of %d ballots", &posted, n)
	var b []*job
	for j := range done {
		b = append(b, j)
		if len(b) == postBatch {
			batches <- b
			b = nil
		}
	}
	if len(b) > 0 && ctx.Err() == nil {
		batches <- b
	}
	close(batches)
	posters.Wait()
	stopProgress()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return kept, nil
}

// prepare encrypts and signs job j's ballot; an audited one is opened and
// the voter checks the opening before trusting the device.
func (r *run) prepare(rd io.Reader, el *roles.Election, creds map[int]ballot.Credential, j *job) error {
	key, err := creds[j.voter].Key(el.Manifest.ElectionID)
	if err != nil {
		return err
	}
	var p *roles.Prepared
	if j.answers != nil {
		p, err = roles.PrepareAnswers(rd, el, key, j.answers)
	} else {
		p, err = roles.PrepareBallot(rd, el, key, j.choices)
	}
	if err != nil {
		return err
	}
	if !j.audit {
		j.entry = p.Entry
		return nil
	}
	raw, _, err := p.AuditEntry(rd, el)
	if err != nil {
		return err
	}
	// The voter checks the opening before trusting the device.
	if err := p.CheckAudit(el, raw); err != nil {
		return err
	}
	j.entry = raw
	return nil
}

// post submits one batch through cl and records the sequence numbers.
func (r *run) post(ctx context.Context, cl *apiclient.Client, b []*job) error {
	entries := make([][]byte, len(b))
	for i, j := range b {
		entries[i] = j.entry
	}
	res, err := cl.Submit(ctx, entries)
	if err != nil {
		return fmt.Errorf("demo: posting ballots: %w", err)
	}
	for i, x := range res {
		if x.Err != nil {
			return fmt.Errorf("demo: voter %d's ballot was rejected: %w", b[i].voter, x.Err)
		}
		b[i].seq = x.Seq
	}
	return nil
}

// progressEvery prints format (with *done and total, the rate and an
// estimate of the time left) every period until the returned function is
// called.
func (r *run) progressEvery(period time.Duration, format string, done *atomic.Int64, total int) func() {
	t0 := time.Now()
	return Every(period, func() {
		d := done.Load()
		el := time.Since(t0)
		rate := float64(d) / el.Seconds()
		eta := "?"
		if d > 0 {
			eta = time.Duration(float64(int64(total)-d) / rate * float64(time.Second)).Round(time.Second).String()
		}
		r.progress("%s "+format+" (%.0f/s, %s left)", bar(d, int64(total), 20), d, total, rate, eta)
	})
}

// bar draws done of total as a bar of width cells with the percentage.
func bar(done, total int64, width int) string {
	if total <= 0 {
		return ""
	}
	done = min(max(done, 0), total)
	full := int(done * int64(width) / total)
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("#", full), strings.Repeat(".", width-full), done*100/total)
}

// Every calls f every period, in a goroutine of its own, until the returned
// function is called; that function returns once f has run for the last time.
func Every(period time.Duration, f func()) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				f()
			}
		}
	}()
	return func() { close(quit); <-finished }
}

type lockedReader struct {
	r  io.Reader
	mu *sync.Mutex
}

func (l lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
