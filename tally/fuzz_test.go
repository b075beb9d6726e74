package tally

import (
	"bytes"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// Parse→marshal round trips: every accepted input is the canonical encoding.

func fuzzSeeds(f *testing.F, pick func(c *ceremony, pd *PartialDecryption, res *Result) []byte) {
	c := runCeremony(f, "fuzz", 3, 2)
	rng := seeded.New("fuzz")
	agg := encryptAgg(f, rng, c.key, [][]uint64{{1, 2}})
	pd, err := PartialDecrypt(rng, c.params, c.shares[0], agg)
	if err != nil {
		f.Fatal(err)
	}
	res := &Result{Counts: [][]uint64{{1, 2}}, Trustees: []int{1, 2}}
	f.Add(pick(c, pd, res))
}

func FuzzParseDealerPost(f *testing.F) {
	fuzzSeeds(f, func(c *ceremony, _ *PartialDecryption, _ *Result) []byte { return c.posts[0].Bytes() })
	f.Fuzz(func(t *testing.T, in []byte) {
		if p, err := ParseDealerPost(in); err == nil && !bytes.Equal(p.Bytes(), in) {
			t.Fatal("non-canonical input accepted")
		}
	})
}

func FuzzParsePartialDecryption(f *testing.F) {
	fuzzSeeds(f, func(_ *ceremony, pd *PartialDecryption, _ *Result) []byte { return pd.Bytes() })
	f.Fuzz(func(t *testing.T, in []byte) {
		if p, err := ParsePartialDecryption(in); err == nil && !bytes.Equal(p.Bytes(), in) {
			t.Fatal("non-canonical input accepted")
		}
	})
}

func FuzzParseResult(f *testing.F) {
	fuzzSeeds(f, func(_ *ceremony, _ *PartialDecryption, r *Result) []byte { return r.Bytes() })
	f.Fuzz(func(t *testing.T, in []byte) {
		if p, err := ParseResult(in); err == nil && !bytes.Equal(p.Bytes(), in) {
			t.Fatal("non-canonical input accepted")
		}
	})
}

func FuzzParseSmall(f *testing.F) {
	// Complaint, Reveal, Confirmation, EncryptedShare, KeyShare, trustee keys.
	fuzzSeeds(f, func(c *ceremony, _ *PartialDecryption, _ *Result) []byte { return c.shares[0].Bytes() })
	f.Add([]byte{0, 1, 0, 2})
	f.Add([]byte{0, 1, 0, 0, 0, 2, 0, 2, 0, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		check := func(name string, out []byte, err error) {
			if err == nil && !bytes.Equal(out, in) {
				t.Fatalf("%s: non-canonical input accepted", name)
			}
		}
		if p, err := ParseComplaint(in); err == nil {
			check("complaint", p.Bytes(), err)
		}
		if p, err := ParseReveal(in); err == nil {
			check("reveal", p.Bytes(), err)
		}
		if p, err := ParseConfirmation(in); err == nil {
			check("confirmation", p.Bytes(), err)
		}
		if p, err := ParseEncryptedShare(in); err == nil {
			check("encrypted share", p.Bytes(), err)
		}
		if p, err := ParseKeyShare(in); err == nil {
			check("key share", p.Bytes(), err)
		}
		if p, err := ParseDealerState(in); err == nil {
			check("dealer state", p.Bytes(), err)
		}
		if p, err := ParseTrusteeSecret(in); err == nil {
			check("trustee secret", p.Bytes(), err)
		}
		if p, err := ParseTrusteePublic(in, 1); err == nil {
			check("trustee public", p.Bytes(), err)
		}
	})
}
