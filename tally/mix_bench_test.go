package tally

import (
	"fmt"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally/shuffle"
)

// BenchmarkMixDecryption measures one trustee's decryption shares of N
// rows of width 5 with the batched proof (SPEC.md §11.4), and their
// verification; per ciphertext = ns/op ÷ 5N (bench/README.md).
func BenchmarkMixDecryption(b *testing.B) {
	c := runCeremony(b, "mix bench", 3, 2)
	for _, n := range []int{100, 1000} {
		rows := make([]shuffle.Row, n)
		for i := range rows {
			for k := range 5 {
				r := group.ScalarFromUint64(uint64(7*i + k + 1))
				rows[i] = append(rows[i], ballot.EncryptElement(c.key, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(k))), r))
			}
		}
		rng := seeded.New("mix bench")
		b.Run(fmt.Sprintf("decrypt/N=%d", n), func(b *testing.B) {
			for range b.N {
				if _, err := DecryptMix(rng, c.params, c.shares[0], 1, 5, rows); err != nil {
					b.Fatal(err)
				}
			}
		})
		md, err := DecryptMix(rng, c.params, c.shares[0], 1, 5, rows)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("verify/N=%d", n), func(b *testing.B) {
			for range b.N {
				if err := VerifyMixDecryption(c.params.Fingerprint, c.shares[0].VerificationKey, rows, md); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
