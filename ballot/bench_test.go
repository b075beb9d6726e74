package ballot

import (
	"crypto/rand"
	"runtime"
	"testing"

	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// The machine these run on is shared, so besides wall time (ns/op) the
// benchmarks report the process CPU time per operation (cpu-µs/...), which
// other processes disturb less.

var oneOfFive = []Question{{Text: "1-of-5", Options: []string{"a", "b", "c", "d", "e"}, Min: 1, Max: 1}}

// BenchmarkEncrypt1of5 is the steady state of a process that encrypts many
// ballots to one key (the demo, load generators): the warm-up ballots
// make mulAddG build the key's table. BenchmarkEncrypt1of5FirstBallots is a
// voter's client, a new process for every other ballot: its first ballot
// builds the table (about one ScalarMult) for its 16 multiplications.
func BenchmarkEncrypt1of5(b *testing.B) {
	e := newTestElection(b, "bench", oneOfFive, 1)
	for i := range 8 {
		if _, _, err := EncryptBallot(rand.Reader, e.m, e.pk, e.creds[0], [][]uint32{{uint32(i % 5)}}); err != nil {
			b.Fatal(err)
		}
	}
	cpuPerOp(b, func(i int) error {
		_, _, err := EncryptBallot(rand.Reader, e.m, e.pk, e.creds[0], [][]uint32{{uint32(i % 5)}})
		return err
	})
}

func BenchmarkEncrypt1of5FirstBallots(b *testing.B) {
	e := newTestElection(b, "bench", oneOfFive, 1)
	cpuPerOp(b, func(i int) error {
		if i%2 == 0 {
			lastKey.Store(nil) // a new process
		}
		_, _, err := EncryptBallot(rand.Reader, e.m, e.pk, e.creds[0], [][]uint32{{uint32(i % 5)}})
		return err
	})
}

func BenchmarkVerify1of5(b *testing.B) {
	e := newTestElection(b, "bench", oneOfFive, 1)
	bl, _ := e.encrypt(b, seeded.Raw("x"), 0, [][]uint32{{3}})
	cpuPerOp(b, func(int) error { return bl.Verify(e.m, e.pk) })
}

func BenchmarkParse1of5(b *testing.B) {
	e := newTestElection(b, "bench", oneOfFive, 1)
	bl, _ := e.encrypt(b, seeded.Raw("x"), 0, [][]uint32{{3}})
	raw := bl.Bytes()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseBallot(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// batchFixture is 256 signed 1-of-5 ballots as a board receives them: the
// ballots and signatures are parsed from their bytes (as production does,
// so every point is decoded once), with the hook that folds each
// envelope-style Schnorr signature into the batch. raw holds the encodings.
func batchFixture(b *testing.B) (e *testElection, ballots []*Ballot, extra func(*batch.Verifier, int), raw, rawSigs [][]byte) {
	const n = 256
	e = newTestElection(b, "bench", oneOfFive, n)
	rng := seeded.Raw("batch")
	for i := 0; i < n; i++ {
		bl, _ := e.encrypt(b, rng, i, [][]uint32{{uint32(i % 5)}})
		sig, err := e.creds[i].Sign(rng, bl.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		raw, rawSigs = append(raw, bl.Bytes()), append(rawSigs, sig.Bytes())
	}
	ballots, extra = parseBatch(b, e, raw, rawSigs)
	return e, ballots, extra, raw, rawSigs
}

// parseBatch decodes ballots and signatures and returns the signature hook.
func parseBatch(b *testing.B, e *testElection, raw, rawSigs [][]byte) ([]*Ballot, func(*batch.Verifier, int)) {
	ballots := make([]*Ballot, len(raw))
	sigs := make([]*schnorr.Signature, len(raw))
	for i := range raw {
		var err error
		if ballots[i], err = ParseBallot(raw[i]); err != nil {
			b.Fatal(err)
		}
		if sigs[i], err = schnorr.ParseSignature(rawSigs[i]); err != nil {
			b.Fatal(err)
		}
	}
	extra := func(v *batch.Verifier, idx int) {
		g, terms := schnorr.Equation(ballots[idx].Credential(), ballots[idx].raw, sigs[idx])
		q := v.Add(idx).G(g)
		for _, t := range terms {
			q.Term(t.S, t.P)
		}
	}
	return ballots, extra
}

// BenchmarkParseVerifyBatch256 is the board's real cost per ballot: parse
// 256 signed 1-of-5 ballots from their bytes, then verify every proof and
// signature in one batch, on one goroutine.
func BenchmarkParseVerifyBatch256(b *testing.B) {
	e, _, _, raw, rawSigs := batchFixture(b)
	perBallot(b, len(raw), func() ([]int, error) {
		ballots, extra := parseBatch(b, e, raw, rawSigs)
		return VerifyBatch(rand.Reader, e.m, e.pk, ballots, extra)
	})
}

// perBallot runs verify b.N times, expecting no bad ballot, and reports the
// wall-clock and CPU time per ballot of a batch of n.
// cpuPerOp runs op b.N times (i: which time), failing at its first error,
// and reports the process's CPU time per op.
func cpuPerOp(b *testing.B, op func(i int) error) {
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := op(i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/1e3/float64(b.N), "cpu-µs/op")
}

func perBallot(b *testing.B, n int, verify func() (bad []int, err error)) {
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if bad, err := verify(); err != nil || bad != nil {
			b.Fatal(bad, err)
		}
	}
	total := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/total, "µs/ballot")
	b.ReportMetric(float64(cpuTime()-c0)/1e3/total, "cpu-µs/ballot")
}

// BenchmarkVerifyBatch256 verifies 256 parsed, signed 1-of-5 ballots
// (proofs and signatures) in one batch on one goroutine.
func BenchmarkVerifyBatch256(b *testing.B) {
	e, ballots, extra, _, _ := batchFixture(b)
	perBallot(b, len(ballots), func() ([]int, error) {
		return VerifyBatch(rand.Reader, e.m, e.pk, ballots, extra)
	})
}

// BenchmarkVerifyBatch256Parallel splits the same batch across GOMAXPROCS goroutines.
func BenchmarkVerifyBatch256Parallel(b *testing.B) {
	e, ballots, extra, _, _ := batchFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bad, err := VerifyBatchParallel(rand.Reader, e.m, e.pk, ballots, extra, runtime.GOMAXPROCS(0))
		if err != nil || bad != nil {
			b.Fatal(bad, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*len(ballots)), "µs/ballot")
}

var rankedFive = []Question{{Text: "rank 5", Kind: KindRanked, Options: []string{"a", "b", "c", "d", "e"}, Min: 1, Max: 5}}

func BenchmarkEncryptRanked5(b *testing.B) {
	e := newTestElection(b, "bench-ranked", rankedFive, 1)
	answers := []Answer{{Ranking: []uint32{3, 1, 4, 0, 2}}}
	cpuPerOp(b, func(int) error {
		_, _, err := EncryptAnswers(rand.Reader, e.m, e.pk, e.creds[0], answers)
		return err
	})
}

func BenchmarkVerifyRanked5(b *testing.B) {
	e := newTestElection(b, "bench-ranked", rankedFive, 1)
	bal, _, err := EncryptAnswers(rand.Reader, e.m, e.pk, e.creds[0], []Answer{{Ranking: []uint32{3, 1, 4, 0, 2}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(bal.Bytes())), "bytes/ballot")
	cpuPerOp(b, func(int) error { return bal.Verify(e.m, e.pk) })
}

func BenchmarkVerifyBatchRanked5(b *testing.B) {
	e := newTestElection(b, "bench-ranked", rankedFive, 1)
	var ballots []*Ballot
	for i := 0; i < 64; i++ {
		bal, _, err := EncryptAnswers(rand.Reader, e.m, e.pk, e.creds[0], []Answer{{Ranking: []uint32{uint32(i % 5), uint32((i + 1) % 5)}}})
		if err != nil {
			b.Fatal(err)
		}
		ballots = append(ballots, bal)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if bad, err := VerifyBatch(rand.Reader, e.m, e.pk, ballots, nil); err != nil || bad != nil {
			b.Fatal(bad, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/1e3/float64(b.N)/64, "cpu-µs/ballot")
}
