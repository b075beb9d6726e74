package demo

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
)

// LateWeight is the weight of the demo's late voter.
const LateWeight = 5

// DemoWeight is the weight of voter n (from 1) in a weighted demo: 1 to 10.
func DemoWeight(n int) uint32 { return uint32(1 + (n*7)%10) }

// weight returns the weight of voter n (1 in an unweighted election).
func (r *run) weight(n int) uint32 {
	if w, ok := r.weights[n]; ok {
		return w
	}
	return 1
}

// demoRoll stands for the public roll fingerprint (SPEC.md §5.3) of the
// demo's roll: the demo has no roll file, so it takes SHA-256 of the
// weights, one per line, as a roll's stand-in; Urna only carries it.
func demoRoll(ws []uint32) [32]byte {
	var sb strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&sb, "%d\n", w)
	}
	return sha256.Sum256([]byte(sb.String()))
}

// issue issues the n credentials: unweighted, or weighted (voter k weighs
// DemoWeight(k)) when the demo is weighted.
func (r *run) issue(ctx context.Context, ca *apiclient.Client, n int) (*roles.Issued, error) {
	if !r.cfg.Weighted {
		return roles.IssueCredentials(ctx, r.rand, ca, r.dirOf("credentials"), n)
	}
	ws := make([]uint32, n)
	r.weights = map[int]uint32{}
	for i := range ws {
		ws[i] = DemoWeight(i + 1)
		r.weights[i+1] = ws[i]
	}
	iss, err := roles.IssueWeightedCredentials(ctx, r.rand, ca, r.dirOf("credentials"), ws, demoRoll(ws))
	if err == nil {
		r.progress("the credential list is weighted (SPEC.md §5.3): weights 1..10, %d in all", sumWeights(ws))
	}
	return iss, err
}

// addLateVoter registers one late voter of weight LateWeight through a
// late-credentials entry signed by the credential authority, adds the
// credential to creds under a new voter number and returns that number.
func (r *run) addLateVoter(ctx context.Context, ca *apiclient.Client, creds map[int]ballot.Credential) (int, error) {
	var iss *roles.Issued
	err := waitFor(ctx, func() error {
		var err error
		iss, err = roles.AddLateCredentials(ctx, r.rand, ca, r.dirOf("credentials"), []uint32{LateWeight}, [32]byte{})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("demo: late voter: %w", err)
	}
	data, err := os.ReadFile(iss.Path)
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	late, order, err := roles.ParseCredentials(data)
	if err != nil {
		return 0, err
	}
	n := 1
	for k := range creds {
		n = max(n, k+1)
	}
	creds[n] = late[order[0]]
	r.weights[n] = LateWeight
	r.progress("credential authority added a late voter of weight %d (entry %d, a signed public late-credentials entry)", LateWeight, iss.Seq)
	return n, nil
}

func sumWeights(ws []uint32) uint64 {
	var t uint64
	for _, w := range ws {
		t += uint64(w)
	}
	return t
}
