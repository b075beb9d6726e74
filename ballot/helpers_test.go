package ballot

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func scalarFrom(t testing.TB, rng *seeded.Reader) *group.Scalar {
	t.Helper()
	s, err := group.RandomNonZeroScalar(rng)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pointFrom(t testing.TB, rng *seeded.Reader) *group.Element {
	return group.NewElement().ScalarBaseMult(scalarFrom(t, rng))
}

// pointsFrom returns n random points.
func pointsFrom(t testing.TB, rng *seeded.Reader, n int) []*group.Element {
	var pks []*group.Element
	for i := 0; i < n; i++ {
		pks = append(pks, pointFrom(t, rng))
	}
	return pks
}

// testElection is a manifest with the question shapes of the brief, a key
// pair and a few credentials.
type testElection struct {
	m     *Manifest
	sk    *group.Scalar
	pk    *group.Element
	creds []*CredentialKey
	texts []Credential
}

var shapes = []Question{
	{Text: "1-of-5", Options: []string{"a", "b", "c", "d", "e"}, Min: 1, Max: 1},
	{Text: "2-of-5", Options: []string{"a", "b", "c", "d", "e"}, Min: 2, Max: 2},
	{Text: "approval", Options: []string{"a", "b", "c", "d"}, Min: 0, Max: 4},
	{Text: "up to 2, blank allowed", Options: []string{"yes", "no", "maybe"}, Min: 0, Max: 2},
}

func newTestManifest(t testing.TB, rng *seeded.Reader, id string, qs []Question) *Manifest {
	t.Helper()
	var trustees []Trustee
	for i := 0; i < 3; i++ {
		trustees = append(trustees, Trustee{Name: fmt.Sprintf("trustee-%d", i+1), SigningKey: pointFrom(t, rng), ShareKey: rng.Bytes(32)})
	}
	var nodes []BoardNode
	for i := 0; i < 3; i++ {
		nodes = append(nodes, BoardNode{ID: fmt.Sprintf("node-%d", i+1), Key: ed25519.NewKeyFromSeed(rng.Bytes(32)).Public().(ed25519.PublicKey)})
	}
	m, err := NewManifest(id, "Test election "+id, qs, pointFrom(t, rng), pointFrom(t, rng), trustees, 2, nodes, 2)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTestElection(t testing.TB, seed string, qs []Question, ncreds int) *testElection {
	t.Helper()
	rng := seeded.Raw(seed)
	e := &testElection{m: newTestManifest(t, rng, "test-"+seed, qs)}
	e.sk = scalarFrom(t, rng)
	e.pk = group.NewElement().ScalarBaseMult(e.sk)
	for i := 0; i < ncreds; i++ {
		c, err := GenerateCredential(rng)
		if err != nil {
			t.Fatal(err)
		}
		k, err := c.Key(e.m.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		e.texts = append(e.texts, c)
		e.creds = append(e.creds, k)
	}
	return e
}

func (e *testElection) encrypt(t testing.TB, rng *seeded.Reader, cred int, choices [][]uint32) (*Ballot, *Secrets) {
	t.Helper()
	b, s, err := EncryptBallot(rng, e.m, e.pk, e.creds[cred], choices)
	if err != nil {
		t.Fatal(err)
	}
	return b, s
}

var defaultChoices = [][]uint32{{2}, {0, 4}, {1, 2, 3}, {}}
