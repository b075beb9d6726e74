package tally

import (
	"crypto/sha256"
	"io"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// ceremony is a complete honest DKG for tests.
type ceremony struct {
	params  *Params
	secrets []*TrusteeSecret
	posts   []*DealerPost
	states  []*DealerState
	reports []*ReceiverReport
	qual    []int
	vk      []*group.Element
	key     *group.Element
	shares  []*KeyShare
}

func newParams(t testing.TB, rng *seeded.Reader, n, th int) (*Params, []*TrusteeSecret) {
	t.Helper()
	p := &Params{N: n, T: th, Fingerprint: sha256.Sum256([]byte("test election"))}
	var secrets []*TrusteeSecret
	for i := 1; i <= n; i++ {
		s, err := GenerateTrustee(rng)
		if err != nil {
			t.Fatal(err)
		}
		pub := s.Public()
		pub.Index = i
		p.Trustees = append(p.Trustees, *pub)
		secrets = append(secrets, s)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p, secrets
}

func runCeremony(t testing.TB, seed string, n, th int) *ceremony {
	t.Helper()
	rng := seeded.New(seed)
	c := &ceremony{}
	c.params, c.secrets = newParams(t, rng, n, th)
	c.deal(t, rng)
	c.finish(t, nil, nil)
	return c
}

// deal runs every trustee's Deal, dealer 1 first.
func (c *ceremony) deal(t testing.TB, rng io.Reader) {
	t.Helper()
	c.posts, c.states = nil, nil
	for i := 1; i <= c.params.N; i++ {
		post, st, err := Deal(rng, c.params, i, c.secrets[i-1])
		if err != nil {
			t.Fatal(err)
		}
		c.posts, c.states = append(c.posts, post), append(c.states, st)
	}
}

// decrypt returns the partial decryptions of agg by the given trustees,
// made in that order.
func (c *ceremony) decrypt(t testing.TB, rng io.Reader, agg [][]*ballot.Ciphertext, trustees ...int) map[int]*PartialDecryption {
	t.Helper()
	parts := map[int]*PartialDecryption{}
	for _, j := range trustees {
		pd, err := PartialDecrypt(rng, c.params, c.shares[j-1], agg)
		if err != nil {
			t.Fatal(err)
		}
		parts[j] = pd
	}
	return parts
}

// finish runs the receiving step and Finish for everybody, with the given
// extra complaints and reveals.
func (c *ceremony) finish(t testing.TB, complaints []*Complaint, reveals []*Reveal) {
	t.Helper()
	c.reports = nil
	for i := 1; i <= c.params.N; i++ {
		rep, err := ReceiveShares(c.params, i, c.secrets[i-1], c.posts)
		if err != nil {
			t.Fatal(err)
		}
		c.reports = append(c.reports, rep)
		complaints = append(complaints, rep.Complaints...)
	}
	var err error
	if c.qual, err = Qualified(c.params, c.posts, complaints, reveals); err != nil {
		t.Fatal(err)
	}
	if c.vk, err = VerificationKeys(c.params, c.posts, c.qual); err != nil {
		t.Fatal(err)
	}
	if c.key, err = JointKey(c.params, c.posts, c.qual); err != nil {
		t.Fatal(err)
	}
	c.shares = nil
	for i := 1; i <= c.params.N; i++ {
		ks, err := c.states[i-1].Finish(c.params, c.reports[i-1], c.posts, reveals, c.qual)
		if err != nil {
			t.Fatalf("trustee %d: %v", i, err)
		}
		c.shares = append(c.shares, ks)
	}
}

// encryptCounts returns an aggregate of encryptions of counts under key, with randomness from rng.
func encryptAgg(t testing.TB, rng *seeded.Reader, key *group.Element, counts [][]uint64) [][]*ballot.Ciphertext {
	t.Helper()
	agg := make([][]*ballot.Ciphertext, len(counts))
	for q, row := range counts {
		for _, m := range row {
			r, err := group.RandomScalar(rng)
			if err != nil {
				t.Fatal(err)
			}
			agg[q] = append(agg[q], elgamal(key, m, r))
		}
	}
	return agg
}

// elgamal is exponential ElGamal as SPEC.md §4.1 defines it: (r·G, m·G + r·K).
// Tests use it instead of package ballot's encryption so they depend on
// ballot.Ciphertext only.
func elgamal(key *group.Element, m uint64, r *group.Scalar) *ballot.Ciphertext {
	beta := group.NewElement().ScalarMult(r, key)
	beta.Add(beta, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(m)))
	return &ballot.Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: beta}
}
