package authority

import (
	"errors"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/internal/wire"
)

// Kinds and version of the key files (the "kind" field of each).
const (
	KeyFileVersion      = 1
	KindAuthorityKey    = "urna-authority-key"
	KindAuthorityPublic = "urna-authority-public"
	KindCAKey           = "urna-credential-authority-key"
	KindCAPublic        = "urna-credential-authority-public"
)

// KeyFile is the owner-only file of a Schnorr signing key (the election
// authority's, the credential authority's).
type KeyFile struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	Secret  string `json:"secret"` // base64url scalar
	Public  string `json:"public"` // base64url element
}

// NewKeyFile is the key file of sk.
func NewKeyFile(sk *schnorr.PrivateKey, kind string) *KeyFile {
	return &KeyFile{Kind: kind, Version: KeyFileVersion, Secret: wire.EncodeB64(sk.Scalar().Bytes()), Public: wire.EncodeB64(sk.Public().Bytes())}
}

// PrivateKey decodes the key and checks that its public half is the one
// the file names.
func (f *KeyFile) PrivateKey() (*schnorr.PrivateKey, error) {
	s, err := keyfile.DecodeSecret(f.Secret, group.DecodeScalar)
	if err != nil {
		return nil, err
	}
	sk, err := schnorr.NewPrivateKey(s)
	if err != nil {
		return nil, err
	}
	if wire.EncodeB64(sk.Public().Bytes()) != f.Public {
		return nil, errors.New("public key does not match the secret")
	}
	return sk, nil
}

// PublicFile is the public half of a Schnorr key, to hand to whoever
// writes the manifest.
type PublicFile struct {
	Kind   string `json:"kind"`
	Public string `json:"public"` // base64url element
}

// Key decodes the public key.
func (f *PublicFile) Key() (*group.Element, error) {
	raw, err := wire.DecodeB64(f.Public)
	if err == nil {
		var k *group.Element
		if k, err = group.DecodeNonIdentity(raw); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("public: %w", err)
}

// TrusteeOf decodes the keys of a trustee's public file (trustee.pub: the
// manifest's trustee entry, SPEC.md §4.1).
func TrusteeOf(f *trustee.PublicFile) (*ballot.Trustee, error) {
	raw, err := wire.DecodeB64(f.SigningKey)
	var sk *group.Element
	if err == nil {
		sk, err = group.DecodeNonIdentity(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("signing_key: %w", err)
	}
	share, err := wire.DecodeB64(f.ShareKey)
	if err != nil || len(share) != ballot.ShareKeySize {
		return nil, fmt.Errorf("share_key is not a %d-byte base64url key", ballot.ShareKeySize)
	}
	return &ballot.Trustee{Name: f.Name, SigningKey: sk, ShareKey: share}, nil
}

// ParseKeyFile reads the key file data of the given kind.
func ParseKeyFile(data []byte, kind string) (*schnorr.PrivateKey, error) {
	var f KeyFile
	if err := keyfile.Decode(data, kind, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return f.PrivateKey()
}

// ParsePublicFile reads a public key file of the given kind.
func ParsePublicFile(data []byte, kind string) (*group.Element, error) {
	var f PublicFile
	if err := keyfile.Decode(data, kind, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return f.Key()
}

// ParseTrusteePublic reads a trustee's public file (trustee.pub).
func ParseTrusteePublic(data []byte) (*ballot.Trustee, error) {
	var f trustee.PublicFile
	if err := keyfile.Decode(data, trustee.KindPublic, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return TrusteeOf(&f)
}
