package ballot_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// exampleElection returns a small valid manifest and an election key pair.
func exampleElection() (*ballot.Manifest, *group.Element) {
	key := func() *group.Element {
		s, _ := group.RandomNonZeroScalar(rand.Reader)
		return group.NewElement().ScalarBaseMult(s)
	}
	share := func() []byte { b := make([]byte, 32); rand.Read(b); return b }
	nodeKey := func() []byte { pub, _, _ := ed25519.GenerateKey(rand.Reader); return pub }
	m, err := ballot.NewManifest("example-2026", "Example election",
		[]ballot.Question{{Text: "Pick one", Options: []string{"Alice", "Bob", "Carol"}, Min: 1, Max: 1}},
		key(), key(),
		[]ballot.Trustee{{Name: "t1", SigningKey: key(), ShareKey: share()}}, 1,
		[]ballot.BoardNode{{ID: "n1", Key: nodeKey()}}, 1)
	if err != nil {
		panic(err)
	}
	return m, key()
}

func ExampleEncryptBallot() {
	m, pk := exampleElection()
	cred, _ := ballot.GenerateCredential(rand.Reader)
	// The voter types the credential; dashes, spaces and case do not matter.
	typed, err := ballot.ParseCredential(cred.Text())
	if err != nil {
		panic(err)
	}
	key, _ := typed.Key(m.ElectionID)

	b, _, err := ballot.EncryptBallot(rand.Reader, m, pk, key, [][]uint32{{1}}) // Bob
	if err != nil {
		panic(err)
	}
	// Anyone can check the ballot from its bytes.
	p, err := ballot.ParseBallot(b.Bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println("valid:", p.Verify(m, pk) == nil)
	fmt.Println("bound to the voter:", p.Credential().Equal(key.Public()))
	fmt.Println("tracker length:", len(p.Tracker().Short()))
	// Output:
	// valid: true
	// bound to the voter: true
	// tracker length: 9
}

func ExampleVerifyOpening() {
	m, pk := exampleElection()
	cred, _ := ballot.GenerateCredential(rand.Reader)
	key, _ := cred.Key(m.ElectionID)
	b, secrets, _ := ballot.EncryptBallot(rand.Reader, m, pk, key, [][]uint32{{2}})

	// The voter challenges the ballot: the device reveals its randomness.
	opening, _ := b.Open(secrets)
	audited := &ballot.AuditedBallot{Ballot: b, Opening: opening}

	// Anyone checks the posted audited ballot.
	a, _ := ballot.ParseAuditedBallot(audited.Bytes())
	if err := ballot.VerifyOpening(m, pk, a.Ballot, a.Opening); err != nil {
		panic(err)
	}
	fmt.Println("the ballot encrypted:", a.Opening.Selections(m))
	// Output:
	// the ballot encrypted: [[Carol]]
}
