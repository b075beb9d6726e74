package ballot

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// idVectors are the pinned identifier vectors of SPEC.md §4.1, shared with
// tools/pyverify (pyverify.py --id-vectors).
type idVectors struct {
	ElectionID struct{ Valid, Invalid []string } `json:"election_id"`
	NodeID     struct{ Valid, Invalid []string } `json:"node_id"`
}

func TestIDVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/ids.json")
	if err != nil {
		t.Fatal(err)
	}
	var v idVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.ElectionID.Valid) == 0 || len(v.ElectionID.Invalid) < len(v.ElectionID.Valid) ||
		len(v.NodeID.Valid) == 0 || len(v.NodeID.Invalid) < len(v.NodeID.Valid) {
		t.Fatal("testdata/ids.json: want at least as many invalid as valid vectors of each kind")
	}
	check := func(kind string, valid func(string) bool, ids []string, want bool) {
		for _, id := range ids {
			if valid(id) != want {
				t.Errorf("%s %q: valid = %v, want %v", kind, id, !want, want)
			}
		}
	}
	check("election id", ValidElectionID, v.ElectionID.Valid, true)
	check("election id", ValidElectionID, v.ElectionID.Invalid, false)
	check("node id", ValidNodeID, v.NodeID.Valid, true)
	check("node id", ValidNodeID, v.NodeID.Invalid, false)
	// Every valid election ID is a valid node ID: the node alphabet is the wider one.
	check("election id as node id", ValidNodeID, v.ElectionID.Valid, true)
}

// TestIDRulesInManifest checks that the manifest enforces the same rules.
func TestIDRulesInManifest(t *testing.T) {
	e := newTestElection(t, "ids", shapes[:1], 0)
	m := e.m
	for _, id := range []string{"Upper", "a_b", ""} {
		c := *m
		c.ElectionID = id
		if c.Validate() == nil {
			t.Errorf("manifest with election id %q validates", id)
		}
	}
	for _, id := range []string{"node 1", "node+1", "nöde"} {
		c := *m
		c.BoardNodes = append([]BoardNode{{ID: id, Key: m.BoardNodes[0].Key}}, m.BoardNodes[1:]...)
		if c.Validate() == nil {
			t.Errorf("manifest with node id %q validates", id)
		}
	}
	c, err := GenerateCredential(seeded.Raw("ids"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"Upper", "a.b", ""} {
		if _, err := c.Key(id); err == nil {
			t.Errorf("credential key derived for election id %q", id)
		}
	}
}

func TestBoardNodeIDs(t *testing.T) {
	e := newTestElection(t, "ids", shapes[:1], 0)
	for _, id := range []string{"", "a b", "n+1", "ü", strings.Repeat("x", MaxName+1)} {
		m := *e.m
		m.BoardNodes = append([]BoardNode{}, e.m.BoardNodes...)
		m.BoardNodes[0].ID = id
		if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("node id %q accepted: %v", id, err)
		}
	}
}
