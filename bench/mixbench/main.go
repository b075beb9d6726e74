// Command mixbench times a cascade of verifiable shuffles (tally/shuffle,
// SPEC.md §13) of the ballots of a mixed question: -rows ballots,
// each a row of -width ciphertexts (a ranked question of 5 options is width
// 5), mixed in turn by -mixers mixers, each shuffling the previous mixer's
// output and proving it, then every proof verified from its bytes, as a
// verifier reading the board does. With -check, the last output is decrypted
// and compared with the inputs' plaintexts (a permutation of them):
//
//	go run ./bench/mixbench -rows 100000 -width 5 -mixers 3 -check
//
// It prints one line per phase and mixer: wall seconds, CPU seconds (user +
// system, all cores) and the load average before the phase. Randomness is
// crypto/rand, as in production. The inputs are built first and not timed.
package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/tally/shuffle"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mixbench: error:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("rows", 1000, "number of ballots (rows) mixed")
	w := flag.Int("width", 5, "ciphertexts per row (options of the ranked question)")
	mixers := flag.Int("mixers", 1, "mixers in the cascade")
	check := flag.Bool("check", false, "decrypt the last output and compare it with the inputs")
	flag.Parse()
	if *n < 0 || *w < 1 || *mixers < 1 {
		return fmt.Errorf("need -rows ≥ 0, -width ≥ 1, -mixers ≥ 1")
	}
	x, err := group.RandomNonZeroScalar(rand.Reader)
	if err != nil {
		return err
	}
	key := group.NewElement().ScalarBaseMult(x)
	fmt.Printf("# mixbench: %d rows of width %d, %d mixer(s), GOMAXPROCS %d\n", *n, *w, *mixers, runtime.GOMAXPROCS(0))
	start := time.Now()
	rows := make([]shuffle.Row, *n)
	if err := parallel(*n, func(i int) error {
		rows[i] = make(shuffle.Row, *w)
		for k := range rows[i] {
			r, err := group.RandomScalar(rand.Reader)
			if err != nil {
				return err
			}
			b := group.NewElement().ScalarMult(r, key)
			rows[i][k] = &ballot.Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: b.Add(b, message(i, k, *w))}
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Printf("# inputs encrypted in %.1f s (not counted)\n", time.Since(start).Seconds())
	fmt.Printf("phase\tmixer\twall_s\tcpu_s\tper_row_ms_wall\tload_before\n")

	// Each proof is verified from its bytes as soon as it is made, as a
	// verifier following the board does: every mixer's three phases are
	// measured even when a long run is stopped early.
	in := rows
	var total, totalCPU float64
	for m := 1; m <= *mixers; m++ {
		var out []shuffle.Row
		var wit *shuffle.Witness
		if err := phase("shuffle", m, *n, &total, &totalCPU, func() (err error) {
			out, wit, err = shuffle.Shuffle(rand.Reader, key, in, *w)
			return err
		}); err != nil {
			return err
		}
		st := &shuffle.Statement{Context: fmt.Appendf(nil, "mixbench mixer %d", m), Key: key, Width: *w, Inputs: in, Outputs: out}
		var posted []byte
		if err := phase("prove", m, *n, &total, &totalCPU, func() error {
			p, err := shuffle.Prove(rand.Reader, st, wit)
			if err == nil {
				posted = p.Bytes()
			}
			return err
		}); err != nil {
			return err
		}
		if err := phase("verify", m, *n, &total, &totalCPU, func() error {
			p, err := shuffle.ParseProof(posted)
			if err != nil {
				return err
			}
			return shuffle.VerifyVarTime(rand.Reader, st, p)
		}); err != nil {
			return err
		}
		in = out
	}
	fmt.Printf("total\t-\t%.2f\t%.2f\t%.3f\t%s\n", total, totalCPU, 1000*total/float64(max(*n, 1)), load())
	if *check {
		got := make([][]byte, *n)
		want := make([][]byte, *n)
		if err := parallel(*n, func(i int) error {
			for k, c := range in[i] {
				d := group.NewElement().Sub(c.Beta, group.NewElement().ScalarMult(x, c.Alpha))
				got[i] = append(got[i], d.Bytes()...)
				want[i] = append(want[i], message(i, k, *w).Bytes()...)
			}
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(got, bytes.Compare)
		slices.SortFunc(want, bytes.Compare)
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				return fmt.Errorf("check: the mixed rows do not decrypt to a permutation of the input rows")
			}
		}
		fmt.Printf("# check: the %d mixed rows decrypt to a permutation of the inputs\n", *n)
	}
	return nil
}

// message is the plaintext of row i, component k: (w·i + k + 1)·G.
func message(i, k, w int) *group.Element {
	return group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(w*i + k + 1)))
}

// phase runs f and prints its wall and CPU time.
func phase(name string, mixer, n int, total, totalCPU *float64, f func() error) error {
	lb := load()
	c0 := cpu()
	t0 := time.Now()
	if err := f(); err != nil {
		return fmt.Errorf("%s, mixer %d: %w", name, mixer, err)
	}
	wall, c := time.Since(t0).Seconds(), cpu()-c0
	*total += wall
	*totalCPU += c
	fmt.Printf("%s\t%d\t%.2f\t%.2f\t%.3f\t%s\n", name, mixer, wall, c, 1000*wall/float64(max(n, 1)), lb)
	return nil
}

func cpu() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return "?"
	}
	return string(f[0])
}

// parallel calls f(i) for i in 0..n-1 on every CPU and returns the first error.
func parallel(n int, f func(i int) error) error {
	k := runtime.GOMAXPROCS(0)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for c := range k {
		wg.Go(func() {
			for i := c; i < n; i += k {
				if err := f(i); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
