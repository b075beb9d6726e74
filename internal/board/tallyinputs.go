package board

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
)

// tallyCache holds the aggregate of the counted ballots and the trustees'
// verification keys. Both are fixed once the election is closed, so they are
// computed once per node, on the first partial decryption to check.
type tallyCache struct {
	mu      sync.Mutex
	agg     [][]*ballot.Ciphertext
	vk      []*group.Element
	counted uint64 // Σ weights of the counted ballots' credentials: maxCount (SPEC.md V10.6)
}

// reset drops the cached tally inputs (after a restore).
func (c *tallyCache) reset() {
	c.mu.Lock()
	c.agg, c.vk, c.counted = nil, nil, 0
	c.mu.Unlock()
}

// tallyInputs returns the aggregate (SPEC.md §9.1) and verification keys
// (§8.6) of the closed election in v: every credential's last cast ballot
// counts (V10), times the credential's weight (§9.1); maxCount is Σ
// weights (V10.6).
//
// It reads in two steps. One read transaction lists the counted ballots
// (countedBallots: a scan of the credentials, about 16 bytes per voter)
// and reads the deals. Then sumCounted reads the counted entries in board
// order, a chunk per read transaction, and decodes and adds their
// ciphertexts on every core. No read transaction lasts long (bbolt cannot
// reuse the pages freed while one is open), and the chunks need no common
// snapshot: an entry never changes once it is in the log, and the first
// transaction fixed which entries count.
func (s *Submitter) tallyInputs(v *state) ([][]*ballot.Ciphertext, []*group.Element, error) {
	s.tally.mu.Lock()
	defer s.tally.mu.Unlock()
	if s.tally.agg != nil {
		return s.tally.agg, s.tally.vk, nil
	}
	m := v.manifest.m
	var counted []countedBallot
	var vk []*group.Element
	err := s.st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		if counted, err = countedBallots(tx); err != nil {
			return err
		}
		var posts []*tally.DealerPost
		qual := make([]int, 0, len(v.rules.Qualified))
		for _, i := range v.rules.Qualified {
			d, err := dealerPostTx(tx, int(i))
			if err != nil {
				return err
			}
			if d == nil {
				return fmt.Errorf("qualified dealer %d has no deal on the board", i)
			}
			posts, qual = append(posts, d), append(qual, int(i))
		}
		vk, err = tally.VerificationKeys(tally.ManifestParams(m), posts, qual)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("board: tally inputs: %w", err)
	}
	agg, err := sumCounted(s.st, m, counted, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, nil, fmt.Errorf("board: tally inputs: %w", err)
	}
	var total uint64
	for _, c := range counted {
		total += uint64(c.weight)
	}
	s.tally.agg, s.tally.vk, s.tally.counted = agg, vk, total
	return agg, vk, nil
}

// countedBallot is a counted ballot: its entry's sequence number and its
// credential's weight.
type countedBallot struct {
	seq    uint64
	weight uint32
}

// weightPrefix is the common prefix of the weight keys (weightKey).
var weightPrefix = weightKey([32]byte{})[:len("weight/")]

// countedBallots returns every credential's counted ballot (SPEC.md V10:
// its latest cast one) with the credential's weight, in board order. It
// scans the credentials and the weights side by side (both are in
// credential order), one first byte of the credential at a time, so that
// it holds the weights of 1/256 of the voters at once, and never looks a
// weight up one by one (a query per voter on PostgreSQL).
func countedBallots(tx store.ReadTx) ([]countedBallot, error) {
	type credWeight struct {
		cred [32]byte
		w    uint32
	}
	var out []countedBallot
	var ws []credWeight
	for b := range 256 {
		ws = ws[:0]
		err := tx.Scan(store.NSTally, append(slices.Clip(weightPrefix), byte(b)), func(key, val []byte) error {
			if len(key) != len(weightPrefix)+32 || len(val) != 4 {
				return fmt.Errorf("stored weight of %d bytes under a key of %d bytes", len(val), len(key))
			}
			ws = append(ws, credWeight{[32]byte(key[len(weightPrefix):]), binary.BigEndian.Uint32(val)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		j := 0
		err = tx.Scan(store.NSCredential, []byte{byte(b)}, func(key, val []byte) error {
			if len(val) != 8 {
				return fmt.Errorf("stored ballot index of %d bytes", len(val))
			}
			seq := binary.BigEndian.Uint64(val)
			if seq == noBallot {
				return nil
			}
			if len(key) != 32 {
				return fmt.Errorf("stored credential of %d bytes", len(key))
			}
			for j < len(ws) && bytes.Compare(ws[j].cred[:], key) < 0 {
				j++
			}
			w := uint32(1) // weights other than 1 only are stored
			if j < len(ws) && ws[j].cred == [32]byte(key) {
				w = ws[j].w
			}
			out = append(out, countedBallot{seq: seq, weight: w})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b countedBallot) int { return cmp.Compare(a.seq, b.seq) })
	return out, nil
}

// tallyChunk is how many counted ballots one read transaction of
// sumCounted reads (about 2 MB of 1-of-5 ballots), and one worker adds.
const tallyChunk = 1024

// sumCounted returns the aggregate of the ballots counted (in board
// order) of an election of manifest m, read from st. A reader reads the
// entries a chunk at a time, each chunk in its own read transaction, and
// workers decode and add them, each into its own aggregate; the workers'
// aggregates are added at the end. The sum is the same whatever the
// order (the group is commutative, and an aggregate's encoding is
// canonical), and so is the error: that of the first bad ballot in board
// order (no chunk before a failed one is skipped).
//
// Only the ciphertexts are decoded (ballot.ParseTallyCiphertexts): every
// point added is a canonical encoding, and a non-identity alpha, checked
// here again, but the proofs, the credential and the envelope's key and
// signature are not decoded again. Why that is safe: the entries are the
// log's, and a counted ballot was decoded strictly and its proofs and
// signature verified by the node that proposed it (Submitter.preCheck),
// before any replica applied it; the aggregate does not depend on the
// bytes skipped, and a verifier's V8 still decodes them all. Decoding the
// whole ballot and entry again, 35 square roots of a 1-of-5 ballot instead
// of 10, took minutes at 1,000,000 ballots (bench/README.md).
func sumCounted(st store.Store, m *ballot.Manifest, counted []countedBallot, workers int) ([][]*ballot.Ciphertext, error) {
	aggs := make([]*tally.Aggregator, workers)
	for w := range aggs {
		aggs[w] = tally.ManifestAggregator(m)
	}
	err := eachCountedEntry(st, counted, workers, func(w, i int, raw []byte) error {
		body, err := countedBody(raw)
		if err != nil {
			return err
		}
		cts, err := ballot.ParseTallyCiphertexts(body)
		if err != nil {
			return err
		}
		return aggs[w].Add(counted[i].weight, cts)
	})
	if err != nil {
		return nil, err
	}
	sum := tally.ManifestAggregator(m)
	for _, a := range aggs {
		ws, sums := a.Sums()
		for i, w := range ws {
			if err := sum.Add(w, sums[i]); err != nil {
				return nil, err
			}
		}
	}
	return sum.Aggregate(), nil
}

// eachCountedEntry calls fn(w, i, raw) for every counted ballot
// counted[i] (in board order), raw its entry, on workers goroutines, w
// the worker (0..workers-1) calling. A reader reads the entries a chunk
// of tallyChunk at a time, each chunk in its own read transaction
// (readEntries), and the workers take a chunk each. The calls of one
// chunk are in order, those of different chunks concurrent. The error is
// that of the first failed call in board order (no chunk before a failed
// one is skipped), whatever the workers' timing.
func eachCountedEntry(st store.Store, counted []countedBallot, workers int, fn func(w, i int, raw []byte) error) error {
	nchunks := (len(counted) + tallyChunk - 1) / tallyChunk
	errs := make([]error, nchunks)
	var failed atomic.Int64 // the lowest chunk that failed, nchunks if none
	failed.Store(int64(nchunks))
	fail := func(k int, err error) {
		errs[k] = err
		for {
			f := failed.Load()
			if int64(k) >= f || failed.CompareAndSwap(f, int64(k)) {
				return
			}
		}
	}
	type job struct {
		k       int
		entries [][]byte // the entries of counted[k·tallyChunk:]
	}
	jobs := make(chan job, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range jobs {
				if int64(j.k) > failed.Load() {
					continue // a chunk before failed: its error is the one
				}
				for x, raw := range j.entries {
					i := j.k*tallyChunk + x
					if err := fn(w, i, raw); err != nil {
						fail(j.k, fmt.Errorf("counted ballot at entry %d: %w", counted[i].seq, err))
						break
					}
				}
			}
		})
	}
	for k := 0; k < nchunks && int64(k) < failed.Load(); k++ {
		chunk := counted[k*tallyChunk : min((k+1)*tallyChunk, len(counted))]
		entries, err := readEntries(st, chunk)
		if err != nil {
			fail(k, err)
			break
		}
		jobs <- job{k: k, entries: entries}
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// readEntries returns the entries of the counted ballots chunk (in board
// order), read in one read transaction that streams the log from the
// first to the last, skipping the entries between them that do not count
// (superseded ballots, audits).
func readEntries(st store.Store, chunk []countedBallot) ([][]byte, error) {
	out := make([][]byte, 0, len(chunk))
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		out = out[:0]
		return tx.Entries(chunk[0].seq, chunk[len(chunk)-1].seq+1, func(seq uint64, data []byte) error {
			if len(out) < len(chunk) && seq == chunk[len(out)].seq {
				out = append(out, data)
			}
			return nil
		})
	})
	if err == nil && len(out) != len(chunk) {
		err = fmt.Errorf("counted ballot at entry %d: %w", chunk[len(out)].seq, store.ErrNotFound)
	}
	return out, err
}

// countedBody returns the ballot of the counted ballot's entry raw. The
// entry's header is read without decoding its key or signature
// (bulletin.ReadHeader): sumCounted says why that is safe.
func countedBody(raw []byte) ([]byte, error) {
	h, err := bulletin.ReadHeader(raw)
	if err != nil {
		return nil, err
	}
	if h.Type != bulletin.TypeBallot {
		return nil, fmt.Errorf("%w: a %v entry", bulletin.ErrMalformed, h.Type)
	}
	return h.Body, nil
}
