package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
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
	audit   bool
	entry   []byte // filled by the workers
	tracker ballot.Tracker
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

// vote casts the simulated ballots: every voter once, every twentieth after
// challenging a ballot, then every tenth a second time.
func (r *run) vote(ctx context.Context, el *roles.Election, creds map[int]ballot.Credential, voters []int) (*simulation, error) {
	var seed [16]byte
	if _, err := io.ReadFull(r.rand, seed[:]); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The choices are not secret: a fast PRNG is enough to simulate voters.
	rng := mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	m := el.Manifest
	final := map[int][][]uint32{}
	var wave1, wave2 []*job
	for k, v := range voters {
		if (k+1)%20 == 0 {
			wave1 = append(wave1, &job{voter: v, choices: randomChoices(rng, m), audit: true})
		}
		ch := randomChoices(rng, m)
		wave1 = append(wave1, &job{voter: v, choices: ch})
		final[v] = ch
	}
	for k, v := range voters {
		if (k+1)%10 == 0 {
			ch := randomChoices(rng, m)
			wave2 = append(wave2, &job{voter: v, choices: ch})
			final[v] = ch
		}
	}
	keys := make(map[int]*ballot.CredentialKey, len(voters))
	for _, v := range voters {
		k, err := creds[v].Key(m.ElectionID)
		if err != nil {
			return nil, fmt.Errorf("demo: voter %d: %w", v, err)
		}
		keys[v] = k
	}
	sim := &simulation{voters: len(voters)}
	for w, jobs := range [][]*job{wave1, wave2} {
		t0 := time.Now()
		r.encrypt(el, keys, jobs)
		for _, j := range jobs {
			if j.err != nil {
				return nil, fmt.Errorf("demo: voter %d: %w", j.voter, j.err)
			}
		}
		enc := time.Since(t0)
		seqs, err := r.submit(ctx, jobs)
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			switch {
			case j.audit:
				sim.audits++
			case w == 1:
				sim.revotes++
				sim.cast++
			default:
				sim.cast++
			}
		}
		what := "first ballots (some after a challenge)"
		if w == 1 {
			what = "second ballots (revotes replace the first)"
		}
		r.progress("voters cast %d %s: encrypted in %v on %d workers, posted in %v",
			len(jobs), what, enc.Round(time.Millisecond), r.cfg.Workers, (time.Since(t0) - enc).Round(time.Millisecond))
		if w == 0 {
			// A few voters fetch and check their receipts, as `urna vote` does.
			n := 0
			for i, j := range jobs {
				if j.audit || n == 3 {
					continue
				}
				if _, err := roles.FetchReceipt(ctx, r.clients[i%len(r.clients)], el, seqs[i], j.entry, 30*time.Second); err != nil {
					return nil, fmt.Errorf("demo: voter %d receipt: %w", j.voter, err)
				}
				n++
			}
			r.progress("%d voters checked their receipts (signed checkpoint and inclusion proof)", n)
		}
	}
	sim.expected = make([][]uint64, len(m.Questions))
	for q, mq := range m.Questions {
		sim.expected[q] = make([]uint64, len(mq.Options))
	}
	for _, ch := range final {
		for q, sel := range ch {
			for _, o := range sel {
				sim.expected[q][o]++
			}
		}
	}
	return sim, nil
}

// encrypt fills the entries of jobs with cfg.Workers goroutines.
func (r *run) encrypt(el *roles.Election, keys map[int]*ballot.CredentialKey, jobs []*job) {
	var wg sync.WaitGroup
	next := make(chan *job)
	var mu sync.Mutex // guards r.rand, which need not be safe for concurrent use
	rd := lockedReader{r: r.rand, mu: &mu}
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				key := keys[j.voter]
				p, err := roles.PrepareBallot(rd, el, key, j.choices)
				if err != nil {
					j.err = err
					continue
				}
				j.tracker = p.Tracker
				if !j.audit {
					j.entry = p.Entry
					continue
				}
				raw, _, err := p.AuditEntry(rd, el)
				if err != nil {
					j.err = err
					continue
				}
				// The voter checks the opening before trusting the device.
				e, err := bulletin.ParseEntry(raw)
				if err == nil {
					var a *ballot.Audit
					if a, err = ballot.ParseAudit(e.Body); err == nil {
						err = ballot.VerifyAudit(el.Manifest, el.JointKey, a)
					}
				}
				j.entry, j.err = raw, err
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
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

// submit posts the entries in batches, spread over the nodes, and returns
// their sequence numbers.
func (r *run) submit(ctx context.Context, jobs []*job) ([]uint64, error) {
	const batch = 128
	seqs := make([]uint64, len(jobs))
	for start, k := 0, 0; start < len(jobs); start, k = start+batch, k+1 {
		end := min(start+batch, len(jobs))
		entries := make([][]byte, 0, end-start)
		for _, j := range jobs[start:end] {
			entries = append(entries, j.entry)
		}
		res, err := r.clients[k%len(r.clients)].Submit(ctx, entries)
		if err != nil {
			return nil, fmt.Errorf("demo: posting ballots: %w", err)
		}
		for i, x := range res {
			if x.Err != nil {
				return nil, fmt.Errorf("demo: voter %d's ballot was rejected: %w", jobs[start+i].voter, x.Err)
			}
			seqs[start+i] = x.Seq
		}
	}
	return seqs, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
