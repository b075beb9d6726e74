package authority

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
)

// Kinds and version of the key files (the "kind" field of each).
const (
	KeyFileVersion      = 1
	KindAuthorityKey    = "urna-authority-key"
	KindAuthorityPublic = "urna-authority-public"
	KindCAKey           = "urna-credential-authority-key"
	KindCAPublic        = "urna-credential-authority-public"
	KindTrusteePublic   = "urna-trustee-public"
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
	raw, err := wire.DecodeB64(f.Secret)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	s, err := group.DecodeScalar(raw)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
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

// TrusteePublic is what a trustee hands to the election authority: the
// manifest's trustee entry (SPEC.md §4.1).
type TrusteePublic struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	SigningKey string `json:"signing_key"` // base64url Ristretto255 element
	ShareKey   string `json:"share_key"`   // base64url X25519 key
}

// Trustee decodes the trustee's keys.
func (f *TrusteePublic) Trustee() (*ballot.Trustee, error) {
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

// Marshal encodes a key file's JSON, indented, with a final newline.
func Marshal(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic("authority: encoding a key file: " + err.Error()) // only fixed struct types
	}
	return append(b, '\n')
}

// Decode reads a key file's JSON into v strictly: no unknown field, one
// value, nothing after it. kindOf returns the kind decoded, which MUST be
// kind.
func Decode(data []byte, kind string, v any, kindOf func() string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a %s file: %w", kind, err)
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	if got := kindOf(); got != kind {
		return fmt.Errorf("a %q file, want %q", got, kind)
	}
	return nil
}

// ParseKeyFile reads the key file data of the given kind.
func ParseKeyFile(data []byte, kind string) (*schnorr.PrivateKey, error) {
	var f KeyFile
	if err := Decode(data, kind, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return f.PrivateKey()
}

// ParsePublicFile reads a public key file of the given kind.
func ParsePublicFile(data []byte, kind string) (*group.Element, error) {
	var f PublicFile
	if err := Decode(data, kind, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return f.Key()
}

// ParseTrusteePublic reads a trustee's public file (trustee.pub).
func ParseTrusteePublic(data []byte) (*ballot.Trustee, error) {
	var f TrusteePublic
	if err := Decode(data, KindTrusteePublic, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return f.Trustee()
}
