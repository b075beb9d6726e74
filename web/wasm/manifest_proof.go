package main

import (
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/wire"
)

// verifiedManifest establishes an election's manifest from the board,
// not from a node's status (which the index page does not trust): entry
// is the board's entry 0, size and proof (hex hashes) its inclusion in
// the log of the signed checkpoint note. It checks that entry 0 is a
// manifest entry whose election fingerprint is that of its own body
// (SPEC.md §4.3), signed by the authority the manifest names (V1, V5),
// and leaf 0 of a checkpoint a quorum of the manifest's board nodes
// signed (V3.1–V3.4, V3.6). A node can then show another election only
// under another fingerprint, which the page shows beside the title.
func verifiedManifest(entry []byte, note string, size uint64, proof []string) (*ManifestView, error) {
	en, err := bulletin.ParseEntry(entry)
	if err != nil {
		return nil, fail("malformed", "entry 0: %w", err)
	}
	if en.Type != bulletin.TypeManifest {
		return nil, fail("not_verified", "entry 0 is a %s entry, not the manifest", en.Type)
	}
	mb64 := wire.EncodeB64(en.Body)
	e, err := loadElection(mb64)
	if err != nil {
		return nil, err
	}
	if en.Role != bulletin.RoleAuthority || !e.m.Authority.Equal(en.Author) {
		return nil, fail("not_verified", "entry 0 is not signed by the authority its manifest names")
	}
	if _, err := verifyInclusion(mb64, note, entry, 0, size, proof); err != nil {
		return nil, err
	}
	return parseManifest(mb64)
}
