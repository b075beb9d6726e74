// Command genrecord writes a valid election record of the benchmark shape
// (one question, choose 1 of 5; 3 trustees, threshold 2; 3 board nodes),
// built in process by internal/testonly with deterministic keys, for
// timing `urna verify FILE` and the client benchmarks on large elections:
//
//	go run ./bench/genrecord -ballots 100000 -o /tmp/urna-1of5-100000.rec
//
// Every voter casts one ballot. Ballots are encrypted and signed by
// -workers goroutines (all cores by default), each from its own seeded
// randomness, so the file is the same whatever the number of workers; the
// record is written block by block as it is sealed. What stays in memory
// grows with the voters, not with the ballots' bytes: the voters' keys
// (≈ 0.3 KB each), the credential list entry (32 bytes a voter) and the
// Merkle log's hashes (64 bytes an entry).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// chunk is the number of ballots a worker makes at a time.
const chunk = 256

func main() {
	n := flag.Int("ballots", 1000, "number of voters, each casting one ballot")
	out := flag.String("o", "", "output record file")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "goroutines encrypting ballots")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genrecord: error: -o FILE is required")
		os.Exit(2)
	}
	if *n < 1 || *n > ballot.MaxCredentials || *workers < 1 {
		fmt.Fprintf(os.Stderr, "genrecord: error: want 1 ≤ -ballots ≤ %d and -workers ≥ 1\n", ballot.MaxCredentials)
		os.Exit(2)
	}
	if err := run(*n, *workers, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genrecord: error:", err)
		os.Exit(1)
	}
}

func run(n, workers int, out string) (err error) {
	start := time.Now()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	seed := fmt.Sprintf("bench-1of5-%d", n)
	cfg := testonly.OneOfFive(n)
	// A nil testing.TB makes the fixture panic on failure.
	e := testonly.NewElection(nil, seed, cfg)
	fmt.Fprintf(os.Stderr, "genrecord: %d voters' keys in %.1f s\n", n, time.Since(start).Seconds())

	// The setup, in board order (testonly.Build's, without a complaint).
	setup := [][]byte{e.ManifestEntry(), e.CredentialsEntry()}
	setup = append(setup, e.DealEntries()...)
	setup = append(setup, e.ConfirmationEntries()...)
	setup = append(setup, e.RevealEntries()...)
	setup = append(setup, e.OpenEntry())

	// close, the Decrypt trustees' partial decryptions, the result.
	total := len(setup) + n + 1 + len(cfg.Decrypt) + 1
	blocks := (total + cfg.BlockSize - 1) / cfg.BlockSize
	w, err := newSealedWriter(e, bw, cfg.BlockSize, blocks)
	if err != nil {
		return err
	}
	for _, en := range setup {
		if err := w.add(en); err != nil {
			return err
		}
	}

	agg := tally.ManifestAggregator(e.Manifest)
	last := time.Now()
	for made := range ballots(e, seed, n, workers) {
		for i, en := range made.entries {
			if err := agg.AddBallot(1, made.ballots[i]); err != nil {
				return err
			}
			if err := w.add(en); err != nil {
				return err
			}
		}
		if done := made.first + len(made.entries); time.Since(last) > 10*time.Second || done == n {
			last = time.Now()
			el := time.Since(start).Seconds()
			fmt.Fprintf(os.Stderr, "genrecord: %d/%d ballots, %.0f s, ETA %.0f s\n", done, n, el, el*float64(n-done)/float64(done))
		}
	}
	partials, result, _ := e.TallyOf(agg.Aggregate(), uint64(n))
	for _, en := range append(append([][]byte{e.CloseEntry()}, partials...), result) {
		if err := w.add(en); err != nil {
			return err
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "genrecord: %d ballots in %s, built in %.1f s (%d workers, %d MB of heap taken from the OS)\n",
		n, out, time.Since(start).Seconds(), workers, ms.HeapSys>>20)
	return nil
}

// made is one chunk of ballots: entries and their decoded ballots, the
// first being ballot number first.
type made struct {
	first   int
	entries [][]byte
	ballots []*ballot.Ballot
}

// ballots makes the n ballot entries, voter k casting ballot k for option
// k mod 5 with the randomness seeded.New(seed/ballot/k), on workers
// goroutines, and sends them in order, at most 2·workers chunks ahead of
// the reader.
func ballots(e *testonly.Election, seed string, n, workers int) <-chan made {
	order := make(chan chan made, 2*workers)
	type job struct {
		first int
		res   chan made
	}
	todo := make(chan job, 2*workers)
	go func() {
		for first := 0; first < n; first += chunk {
			res := make(chan made, 1)
			todo <- job{first, res}
			order <- res
		}
		close(todo)
		close(order)
	}()
	for range workers {
		go func() {
			for j := range todo {
				m := made{first: j.first}
				for k := j.first; k < min(j.first+chunk, n); k++ {
					rnd := seeded.New(seed + "/ballot/" + strconv.Itoa(k))
					en := e.BallotWith(rnd, k, [][]uint32{{uint32(k % 5)}})
					b, err := parseBallot(en)
					if err != nil {
						panic(fmt.Sprintf("genrecord: ballot %d: %v", k, err))
					}
					m.entries, m.ballots = append(m.entries, en), append(m.ballots, b)
				}
				j.res <- m
			}
		}()
	}
	outc := make(chan made, 1)
	go func() {
		for res := range order {
			outc <- <-res
		}
		close(outc)
	}()
	return outc
}

func parseBallot(en []byte) (*ballot.Ballot, error) {
	if en == nil {
		return nil, errors.New("not made")
	}
	pe, err := bulletin.ParseEntry(en)
	if err != nil {
		return nil, err
	}
	return ballot.ParseBallot(pe.Body)
}

// sealedWriter seals entries into blocks of size and writes each block as
// it fills; the board nodes sign a checkpoint after the middle block and
// after the last, as testonly.Seal does.
type sealedWriter struct {
	e           *testonly.Election
	rw          *bulletin.RecordWriter
	sl          *testonly.Sealer
	size        int
	blocks, mid int
	done        int
	pending     [][]byte
	notes       []*bulletin.BlockHeader
}

func newSealedWriter(e *testonly.Election, w *bufio.Writer, size, blocks int) (*sealedWriter, error) {
	rw, err := bulletin.NewRecordWriter(w)
	if err != nil {
		return nil, err
	}
	mid := blocks / 2
	if mid == blocks-1 {
		mid = -1
	}
	return &sealedWriter{e: e, rw: rw, sl: e.NewSealer(testonly.BlockTime), size: size, blocks: blocks, mid: mid}, nil
}

func (w *sealedWriter) add(en []byte) error {
	w.pending = append(w.pending, en)
	if len(w.pending) < w.size {
		return nil
	}
	return w.flush()
}

func (w *sealedWriter) flush() error {
	h := w.sl.Block(w.pending)
	if err := w.rw.WriteBlock(h, w.pending); err != nil {
		return err
	}
	if w.done == w.mid || w.done == w.blocks-1 {
		w.notes = append(w.notes, h)
	}
	w.done++
	w.pending = w.pending[:0]
	return nil
}

func (w *sealedWriter) close() error {
	if len(w.pending) > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.done != w.blocks {
		return fmt.Errorf("sealed %d blocks, expected %d", w.done, w.blocks)
	}
	for _, h := range w.notes {
		if err := w.rw.WriteCheckpoint(w.e.Checkpoint(h, nil)); err != nil {
			return err
		}
	}
	return w.rw.Close()
}
