package authority

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// DecodeTemplate reads the authoring form of a manifest (SPEC.md §4.4)
// strictly: an unknown field is an error, not ignored.
func DecodeTemplate(data []byte) (*ballot.ManifestJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j ballot.ManifestJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("manifest template: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest template: trailing data")
	}
	return &j, nil
}

// Complete fills in what the authority decides itself and validates the
// manifest (SPEC.md §4.1): a zero version is the current one, an empty
// authority key is own (any other key is refused: the authority signs
// only its own election), a zero board quorum a majority of the board
// nodes.
func Complete(j *ballot.ManifestJSON, own *group.Element) (*ballot.Manifest, error) {
	if j.Version == 0 {
		j.Version = ballot.ManifestVersion
	}
	enc := wire.EncodeB64(own.Bytes())
	switch j.Authority {
	case "":
		j.Authority = enc
	case enc:
	default:
		return nil, errors.New("the manifest names another authority key than the one loaded")
	}
	if j.BoardQuorum == 0 {
		j.BoardQuorum = uint32(len(j.BoardNodes)/2 + 1)
	}
	return j.Manifest()
}
