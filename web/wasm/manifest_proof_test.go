package main

import (
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestVerifiedManifest: the index page's titles come from entry 0 proven in
// a quorum checkpoint; a node that serves another entry, a manifest
// signed by someone else, a proof of another leaf or a checkpoint without
// its quorum is caught.
func TestVerifiedManifest(t *testing.T) {
	e := testonly.NewElection(t, "index title", testonly.Config{Voters: 2,
		Questions: []ballot.Question{{Text: "Q", Options: []string{"a", "b"}, Min: 1, Max: 1}}})
	f := &fixture{m: e.Manifest, nodes: e.Nodes}
	entries := [][]byte{e.ManifestEntry(), e.CredentialsEntry()}
	log := testonly.MemLog(t, entries)
	cp := f.checkpoint(t, log, 2, 1, 0, 1, 2)
	p, err := bulletin.ProveInclusion(0, 2, log)
	if err != nil {
		t.Fatal(err)
	}
	proof := hexHashes(p.Hashes)
	v, err := verifiedManifest(entries[0], cp, 2, proof)
	if err != nil {
		t.Fatal(err)
	}
	if v.Title != e.Manifest.Title || v.ElectionID != e.Manifest.ElectionID || v.Fingerprint == "" {
		t.Fatalf("view %+v", v)
	}

	// A manifest entry signed by another key than the authority it names.
	stranger := e.EntryFor(e.Fingerprint(), bulletin.TypeManifest, bulletin.RoleAuthority, e.Stranger(), e.Manifest.Bytes())
	_, err = verifiedManifest(stranger, cp, 2, proof)
	wantCode(t, "a manifest not signed by its authority", err, "not_verified")
	_, err = verifiedManifest(entries[1], cp, 2, proof)
	wantCode(t, "entry 1 served as entry 0", err, "not_verified")
	_, err = verifiedManifest([]byte("junk"), cp, 2, proof)
	wantCode(t, "junk", err, "malformed")
	p1, err := bulletin.ProveInclusion(1, 2, log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = verifiedManifest(entries[0], cp, 2, hexHashes(p1.Hashes))
	wantCode(t, "the proof of another leaf", err, "invalid_proof")
	_, err = verifiedManifest(entries[0], f.checkpoint(t, log, 2, 1, 1), 2, proof)
	wantCode(t, "a checkpoint without quorum", err, "bad_checkpoint")
}
