package shuffle

import (
	"crypto/rand"
	"testing"

	"github.com/urna-vote/urna/ballot"
)

// Benchmarks for N = 1000 rows of width 5 (a ranked question of five options,
// or five questions):
//
//	go test ./tally/shuffle -run XXX -bench . -benchtime 3x
//
// Each reports µs per row and per ciphertext (a row is benchW ciphertexts).
// Results go in bench/README.md; they are never asserted.

const benchN, benchW = 1000, 5

func BenchmarkShuffle(b *testing.B) {
	f := newFixture(b, "bench", benchN, benchW)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Shuffle(rand.Reader, f.st.Key, f.st.Inputs, benchW); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRow(b)
}

func BenchmarkProve(b *testing.B) {
	f := newFixture(b, "bench", benchN, benchW)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Prove(rand.Reader, f.st, f.wit); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRow(b)
}

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, "bench", benchN, benchW)
	// Verify from bytes, as a verifier reading the board does: the proof and
	// every ciphertext decoded.
	p, err := ParseProof(f.p.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	st := f.st.clone()
	for _, rows := range [][]Row{st.Inputs, st.Outputs} {
		for _, row := range rows {
			for k, c := range row {
				if row[k], err = ballot.ParseCiphertext(c.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if err := VerifyVarTime(rand.Reader, st, p); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRow(b)
}

func reportPerRow(b *testing.B) {
	us := float64(b.Elapsed().Microseconds())
	b.ReportMetric(us/float64(b.N*benchN), "µs/row")
	b.ReportMetric(us/float64(b.N*benchN*benchW), "µs/ciphertext")
}
