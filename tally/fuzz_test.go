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
		canonical(t, "dealer post", in, ParseDealerPost)
	})
}

func FuzzParsePartialDecryption(f *testing.F) {
	fuzzSeeds(f, func(_ *ceremony, pd *PartialDecryption, _ *Result) []byte { return pd.Bytes() })
	f.Fuzz(func(t *testing.T, in []byte) {
		canonical(t, "partial decryption", in, ParsePartialDecryption)
	})
}

func FuzzParseResult(f *testing.F) {
	fuzzSeeds(f, func(_ *ceremony, _ *PartialDecryption, r *Result) []byte { return r.Bytes() })
	f.Fuzz(func(t *testing.T, in []byte) {
		canonical(t, "result", in, ParseResult)
	})
}

func FuzzParseSmall(f *testing.F) {
	// Complaint, Reveal, Confirmation, EncryptedShare, KeyShare, trustee keys.
	fuzzSeeds(f, func(c *ceremony, _ *PartialDecryption, _ *Result) []byte { return c.shares[0].Bytes() })
	f.Add([]byte{0, 1, 0, 2})
	f.Add([]byte{0, 1, 0, 0, 0, 2, 0, 2, 0, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		canonical(t, "complaint", in, ParseComplaint)
		canonical(t, "reveal", in, ParseReveal)
		canonical(t, "confirmation", in, ParseConfirmation)
		canonical(t, "encrypted share", in, ParseEncryptedShare)
		canonical(t, "key share", in, ParseKeyShare)
		canonical(t, "dealer state", in, ParseDealerState)
		canonical(t, "trustee secret", in, ParseTrusteeSecret)
		canonical(t, "trustee public", in, func(b []byte) (*TrusteePublic, error) { return ParseTrusteePublic(b, 1) })
	})
}

// canonical fails t if parse accepts in but does not encode it back to in.
func canonical[T interface{ Bytes() []byte }](t *testing.T, name string, in []byte, parse func([]byte) (T, error)) {
	t.Helper()
	if p, err := parse(in); err == nil && !bytes.Equal(p.Bytes(), in) {
		t.Fatalf("%s: non-canonical input accepted", name)
	}
}
