package tally

import (
	"fmt"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// benchSetup is a 3-trustee, threshold-2 ceremony and one question with five options.
func benchSetup(b *testing.B) (*ceremony, *seeded.Reader) {
	b.Helper()
	c := runCeremony(b, "bench", 3, 2)
	return c, seeded.New("bench")
}

func BenchmarkPartialDecrypt(b *testing.B) {
	c, rng := benchSetup(b)
	agg := encryptAgg(b, rng, c.key, [][]uint64{{1, 2, 3, 4, 5}})
	for b.Loop() {
		if _, err := PartialDecrypt(rng, c.params, c.shares[0], agg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPartial(b *testing.B) {
	c, rng := benchSetup(b)
	agg := encryptAgg(b, rng, c.key, [][]uint64{{1, 2, 3, 4, 5}})
	pd, _ := PartialDecrypt(rng, c.params, c.shares[0], agg)
	b.Run("single", func(b *testing.B) {
		for b.Loop() {
			if err := VerifyPartial(c.params, c.vk[0], agg, pd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			if err := VerifyPartialBatch(rng, c.params, c.vk[0], agg, pd); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCombine includes verifying the T partial decryptions and the
// discrete logs (5 options, maxCount 1000).
func BenchmarkCombine(b *testing.B) {
	c, rng := benchSetup(b)
	agg := encryptAgg(b, rng, c.key, [][]uint64{{100, 250, 999, 0, 1000}})
	parts := c.decrypt(b, rng, agg, 1, 2)
	for b.Loop() {
		res, _, err := Combine(c.params, c.vk, agg, parts, 1000)
		if err != nil || res.Counts[0][2] != 999 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDKG5of3 is a whole 5-trustee, threshold-3 ceremony: every deal,
// every receiving step, QUAL, keys and every Finish.
func BenchmarkDKG5of3(b *testing.B) {
	rng := seeded.New("bench-dkg")
	params, secrets := newParams(b, rng, 5, 3)
	for b.Loop() {
		c := &ceremony{params: params, secrets: secrets}
		c.deal(b, rng)
		c.finish(b, nil, nil)
	}
}

// BenchmarkAggregatorAdd: adding one counted ballot of five options to the
// aggregate (SPEC.md §9.1) with weight 1 (two point additions per option)
// and with the largest weight, 1000 (double-and-add over 10 bits).
func BenchmarkAggregatorAdd(b *testing.B) {
	c, rng := benchSetup(b)
	cts := encryptAgg(b, rng, c.key, [][]uint64{{1, 0, 0, 1, 0}})
	for _, w := range []uint32{1, 1000} {
		b.Run(fmt.Sprintf("weight=%d", w), func(b *testing.B) {
			a, _ := NewAggregator([]int{5})
			for b.Loop() {
				if err := a.Add(w, cts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
