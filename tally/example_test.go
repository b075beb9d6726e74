package tally_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/tally"
)

// setup runs an honest 3-trustee, threshold-2 key ceremony.
func setup() (*tally.Params, []*tally.KeyShare, []*group.Element, *group.Element) {
	params := &tally.Params{Fingerprint: sha256.Sum256([]byte("example election")), N: 3, T: 2}
	var secrets []*tally.TrusteeSecret
	for i := 1; i <= params.N; i++ {
		s, err := tally.GenerateTrustee(rand.Reader)
		if err != nil {
			panic(err)
		}
		pub := s.Public()
		pub.Index = i
		params.Trustees = append(params.Trustees, *pub)
		secrets = append(secrets, s)
	}
	// Round 1: everyone deals and posts.
	var posts []*tally.DealerPost
	var states []*tally.DealerState
	for i := 1; i <= params.N; i++ {
		post, st, err := tally.Deal(rand.Reader, params, i, secrets[i-1])
		if err != nil {
			panic(err)
		}
		posts, states = append(posts, post), append(states, st)
	}
	// Round 2: everyone checks its shares; complaints go to the board.
	var reports []*tally.ReceiverReport
	var complaints []*tally.Complaint
	for j := 1; j <= params.N; j++ {
		rep, err := tally.ReceiveShares(params, j, secrets[j-1], posts)
		if err != nil {
			panic(err)
		}
		reports = append(reports, rep)
		complaints = append(complaints, rep.Complaints...)
	}
	// Anyone computes QUAL, the election key and the verification keys.
	qual, err := tally.Qualified(params, posts, complaints, nil)
	if err != nil {
		panic(err)
	}
	key, _ := tally.JointKey(params, posts, qual)
	vk, _ := tally.VerificationKeys(params, posts, qual)
	var shares []*tally.KeyShare
	for j := 1; j <= params.N; j++ {
		ks, err := states[j-1].Finish(params, reports[j-1], posts, nil, qual)
		if err != nil {
			panic(err)
		}
		shares = append(shares, ks)
	}
	return params, shares, vk, key
}

func Example_keyCeremony() {
	params, shares, _, key := setup()
	fmt.Println("trustees:", params.N, "threshold:", params.T)
	fmt.Println("every share agrees on the key:", shares[0].JointKey.Equal(key) && shares[2].JointKey.Equal(key))
	// Output:
	// trustees: 3 threshold: 2
	// every share agrees on the key: true
}

func Example_tally() {
	params, shares, vk, key := setup()
	enc := func(m uint64) *ballot.Ciphertext {
		r, _ := group.RandomScalar(rand.Reader)
		beta := group.NewElement().ScalarMult(r, key)
		beta.Add(beta, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(m)))
		return &ballot.Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: beta}
	}
	// Three ballots, one question with two options.
	ballots := [][][]*ballot.Ciphertext{
		{{enc(1), enc(0)}},
		{{enc(0), enc(1)}},
		{{enc(1), enc(0)}},
	}
	agg, _ := tally.Aggregate([]int{2}, ballots)
	// Trustees 1 and 3 are present.
	partials := map[int]*tally.PartialDecryption{}
	for _, j := range []int{1, 3} {
		pd, err := tally.PartialDecrypt(rand.Reader, params, shares[j-1], agg)
		if err != nil {
			panic(err)
		}
		partials[j] = pd
	}
	res, _, err := tally.Combine(params, vk, agg, partials, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println("counts:", res.Counts, "trustees:", res.Trustees)
	fmt.Println("verified:", tally.VerifyResult(params, vk, agg, partials, 3, res) == nil)
	// Output:
	// counts: [[2 1]] trustees: [1 3]
	// verified: true
}
