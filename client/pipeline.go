package client

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"sync"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
)

// The verifier's pipeline. VerifyElectionRecord's checks are one sequential
// pass in record order (the rules, the counting rule and the report depend
// on that order), but almost all of its time goes to work that does not
// depend on the order: decoding the entries' bodies (a 1-of-5 ballot holds
// 33 elements) and checking each ballot's envelope signature and proofs.
// So three stages run at once:
//
//	reader      one goroutine: reads blocks (bulletin.RecordReader) and
//	            groups them into jobs of about jobEntries entries
//	workers     Workers goroutines: decode every body of a job and check
//	            its ballots (signatures and proofs) as one batch, one MSM
//	sequential  the caller's goroutine: the record-order pass of verify.go,
//	            which takes the decoded bodies and the ballots' verdicts
//	            from the jobs, in order, instead of computing them
//
// At most pipelineDepth jobs exist at a time, so memory is bounded whatever
// the record's size. The report is the same as a single-threaded pass: the
// sequential stage makes every decision and writes every failure in record
// order; a verdict only ever says "this ballot is valid" or "this ballot is
// invalid" (the sequential stage then diagnoses it as before), and a ballot
// without a usable verdict is checked by the sequential stage itself.
//
// Ballot checks need the manifest and the election key, which the
// sequential stage establishes (V4, V7). A worker first decodes the whole
// job and hands it over (decoded); then it checks the job's ballots in
// groups, a group being the ballots between two open entries: it waits
// until the sequential stage has passed the open entry before the group,
// and checks the group under the key established then. The sequential
// stage only waits for a group's verdicts when it needs them (flush), at
// which point it has passed every entry before the group's ballots, so the
// worker is never waiting on it: no deadlock. The verdicts carry the
// manifest and key they were computed under, and the sequential stage uses
// them only if those are still its own.

const (
	// jobEntries is the number of entries a job gathers before it is
	// handed to a worker: large enough that the batch MSM is efficient.
	jobEntries = 512
	// pipelineDepth bounds the jobs in flight per worker (each holds
	// about 6 MB of decoded 1-of-5 ballots).
	pipelineDepth = 2
)

type verdict uint8

const (
	unchecked verdict = iota // no usable batch result: check in the sequential stage
	valid                    // signature and proofs verify (up to the batch soundness error)
	invalid                  // something fails: the sequential stage diagnoses which
)

// predecoded is what a worker prepared for one entry.
type predecoded struct {
	obj     any
	err     error
	grp     *ballotGroup // the group checking this ballot, or nil
	verdict verdict      // set before grp.done is closed
}

// ballotGroup is the ballots of a job between two open entries, checked
// together under the key in force after lastOpen.
type ballotGroup struct {
	lastOpen int64
	at       []int        // indexes into job.pre
	key      *keySnapshot // what the verdicts were computed under (nil: none)
	done     chan struct{}
}

// verdictUnder waits for the pipeline's check of this entry's ballot and
// returns it if it was made under manifest m and key joint.
func (p *predecoded) verdictUnder(m *ballot.Manifest, joint *group.Element) verdict {
	if p == nil || p.grp == nil {
		return unchecked
	}
	<-p.grp.done
	if k := p.grp.key; k == nil || k.m != m || k.joint != joint {
		return unchecked
	}
	return p.verdict
}

// job is a run of consecutive blocks.
type job struct {
	index    uint64
	first    int64 // sequence number of the first entry
	lastOpen int64 // the last open entry before first, or NoEntry
	blocks   []*bulletin.RecordBlock
	err      error // the reader's error after these blocks (io.EOF at the end)

	pre     []predecoded // by entry, in job order; complete once decoded is closed
	decoded chan struct{}
}

// keySnapshot is the manifest and election key of the sequential stage
// after some entry.
type keySnapshot struct {
	m     *ballot.Manifest
	joint *group.Element
}

// keyBoard publishes, from the sequential stage to the workers, how far the
// record has been processed and the key established so far.
type keyBoard struct {
	mu      sync.Mutex
	cond    *sync.Cond
	done    int64 // entries processed (the next sequence number)
	snap    *keySnapshot
	stopped bool
}

func newKeyBoard() *keyBoard {
	k := &keyBoard{}
	k.cond = sync.NewCond(&k.mu)
	return k
}

// publish records that the entries before seq are processed, under snap.
func (k *keyBoard) publish(seq int64, snap *keySnapshot) {
	k.mu.Lock()
	k.done, k.snap = seq, snap
	k.mu.Unlock()
	k.cond.Broadcast()
}

// wait returns the snapshot once entry seq is processed (at once for NoEntry),
// or nil if the pipeline stops first.
func (k *keyBoard) wait(seq int64) *keySnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.done <= seq && !k.stopped {
		k.cond.Wait()
	}
	if k.stopped {
		return nil
	}
	return k.snap
}

// stop releases every waiting worker.
func (k *keyBoard) stop() {
	k.mu.Lock()
	k.stopped = true
	k.mu.Unlock()
	k.cond.Broadcast()
}

type pipeline struct {
	rr     *bulletin.RecordReader
	order  chan *job // jobs in record order, to the sequential stage
	work   chan *job // jobs to the workers
	quit   chan struct{}
	keys   *keyBoard
	seed   [32]byte
	seedOK bool
	wg     sync.WaitGroup

	first, lastOpen int64 // where the record starts (0 and NoEntry but for a resumed verifier)
}

// startPipeline starts the reader and the workers over rr. The batch
// weights of job i come from a ChaCha8 stream seeded with
// SHA-256(seed ‖ i), seed being read once from rnd here, so that rnd is
// only ever read by the caller's goroutine.
//
// A resumed verifier (state.go) starts at entry first, after the open
// entry lastOpen (NoEntry: none yet) and under the key snap (nil: none).
func startPipeline(rr *bulletin.RecordReader, workers int, rnd io.Reader, first, lastOpen int64, snap *keySnapshot) *pipeline {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &pipeline{rr: rr, order: make(chan *job, pipelineDepth*workers), work: make(chan *job, workers),
		quit: make(chan struct{}), keys: newKeyBoard(), first: first, lastOpen: lastOpen}
	p.keys.done, p.keys.snap = first, snap
	_, err := io.ReadFull(rnd, p.seed[:])
	p.seedOK = err == nil
	p.wg.Add(1 + workers)
	go p.read()
	for i := 0; i < workers; i++ {
		go p.worker()
	}
	return p
}

// stop ends the pipeline and waits for its goroutines; the reader finishes
// the block it is reading.
func (p *pipeline) stop() {
	close(p.quit)
	p.keys.stop()
	p.wg.Wait()
}

func (p *pipeline) read() {
	defer p.wg.Done()
	defer close(p.order)
	defer close(p.work)
	seq, lastOpen := p.first, p.lastOpen
	for index := uint64(0); ; index++ {
		j := &job{index: index, first: seq, lastOpen: lastOpen, decoded: make(chan struct{})}
		n := 0
		for n < jobEntries {
			b, err := p.rr.Next()
			if err != nil {
				j.err = err
				break
			}
			j.blocks = append(j.blocks, b)
			n += len(b.Entries)
			for k, e := range b.Entries {
				if e.Type == bulletin.TypeOpen {
					lastOpen = seq + int64(k)
				}
			}
			seq += int64(len(b.Entries))
		}
		select {
		case p.order <- j:
		case <-p.quit:
			return
		}
		select {
		case p.work <- j:
		case <-p.quit:
			return
		}
		if j.err != nil {
			return
		}
	}
}

func (p *pipeline) worker() {
	defer p.wg.Done()
	for j := range p.work {
		p.prepare(j)
	}
}

// prepare decodes every body of j, hands j over, and then checks its
// ballots group by group, each group in one batch (one MSM).
func (p *pipeline) prepare(j *job) {
	var groups []*ballotGroup
	var cur *ballotGroup
	seq, lastOpen := j.first, j.lastOpen
	for _, b := range j.blocks {
		for _, e := range b.Entries {
			obj, err := bulletin.DecodeBody(e.Type, e.Body)
			pd := predecoded{obj: obj, err: err}
			if bb, ok := obj.(*ballot.Ballot); ok && err == nil && [32]byte(bb.Credential().Bytes()) == e.AuthorKey() {
				if cur == nil {
					cur = &ballotGroup{lastOpen: lastOpen, done: make(chan struct{})}
					groups = append(groups, cur)
				}
				cur.at = append(cur.at, len(j.pre))
				pd.grp = cur
			}
			j.pre = append(j.pre, pd)
			if e.Type == bulletin.TypeOpen {
				lastOpen, cur = seq, nil
			}
			seq++
		}
	}
	close(j.decoded)
	for gi, g := range groups {
		p.check(j, uint64(gi), g)
		close(g.done)
	}
}

// check verifies the ballots of g: signatures and proofs in one batch.
func (p *pipeline) check(j *job, gi uint64, g *ballotGroup) {
	if !p.seedOK {
		return
	}
	snap := p.keys.wait(g.lastOpen)
	if snap == nil || snap.m == nil || snap.joint == nil {
		return
	}
	ballots := make([]*ballot.Ballot, len(g.at))
	var entries []*bulletin.Entry
	for _, b := range j.blocks {
		entries = append(entries, b.Entries...)
	}
	for k, i := range g.at {
		ballots[k] = j.pre[i].obj.(*ballot.Ballot)
	}
	h := sha256.New()
	h.Write(p.seed[:])
	binary.Write(h, binary.BigEndian, [2]uint64{j.index, gi})
	rnd := mrand.NewChaCha8([32]byte(h.Sum(nil)))
	bad, err := ballot.VerifyBatch(rnd, snap.m, snap.joint, ballots, func(bv *batch.Verifier, k int) {
		entries[g.at[k]].AddToBatch(bv, k)
	})
	if err != nil {
		return // the sequential stage meets the same error and reports it
	}
	for _, i := range g.at {
		j.pre[i].verdict = valid
	}
	for _, k := range bad {
		j.pre[g.at[k]].verdict = invalid
	}
	g.key = snap
}
