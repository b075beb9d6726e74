package tally

import (
	"bytes"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestManifestParams checks that the parameters derived from a manifest are
// the trustees' own keys in manifest order, with the manifest's fingerprint
// and threshold (SPEC.md §8.2).
func TestManifestParams(t *testing.T) {
	rng := seeded.New("manifest-params")
	want, secrets := newParams(t, rng, 4, 3)
	m := e2eManifest(t, rng, secrets, 3)
	p := ManifestParams(m)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != m.Fingerprint() || p.N != 4 || p.T != 3 || len(p.Trustees) != 4 {
		t.Fatalf("params %+v", p)
	}
	for i, tr := range p.Trustees {
		w := want.Trustees[i]
		if tr.Index != i+1 || !tr.SigningKey.Equal(w.SigningKey) || !bytes.Equal(tr.ShareKey, w.ShareKey) {
			t.Errorf("trustee %d: got %+v, want %+v", i+1, tr, w)
		}
	}
}
