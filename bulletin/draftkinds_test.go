package bulletin_test

import (
	"errors"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestDraftManifestVersionRefused: a version-3 manifest (ranked, score and
// write-in questions, still a draft in docs/spec/kinds.md) is refused by
// the one table of body decoders, so neither a board nor a verifier takes
// an election whose questions nobody can tally yet (SPEC.md §4.2 defines
// versions 1 and 2).
func TestDraftManifestVersionRefused(t *testing.T) {
	qs := append(testonly.Questions(), ballot.Question{Text: "Rank them", Options: []string{"a", "b", "c"}, Min: 1, Max: 3, Kind: ballot.KindRanked})
	e := testonly.NewElection(t, "draft kinds", testonly.Config{Voters: 1, Questions: qs})
	if e.Manifest.Version != ballot.ManifestVersionKinds {
		t.Fatalf("manifest version %d, want %d", e.Manifest.Version, ballot.ManifestVersionKinds)
	}
	if _, err := bulletin.DecodeBody(bulletin.TypeManifest, e.Manifest.Bytes()); !errors.Is(err, bulletin.ErrMalformed) {
		t.Fatalf("version-3 manifest decoded: %v", err)
	}
	plain := testonly.NewElection(t, "plain", testonly.Config{Voters: 1})
	if _, err := bulletin.DecodeBody(bulletin.TypeManifest, plain.Manifest.Bytes()); err != nil {
		t.Fatalf("version-1 manifest refused: %v", err)
	}
}
