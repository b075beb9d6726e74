package roles

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/authority"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// File names inside a party's directory.
const (
	AuthorityKeyFile    = "authority.key"
	AuthorityPublicFile = "authority.pub"
	CAKeyFile           = "credential-authority.key"
	CAPublicFile        = "credential-authority.pub"
	TrusteeKeyFile      = "trustee.key"
	TrusteePublicFile   = "trustee.pub"
	TrusteeDealerSeed   = "trustee.dealer-seed"
	CredentialsFile     = "credentials.txt"
	keyFileVersion      = authority.KeyFileVersion
	kindAuthorityKey    = authority.KindAuthorityKey
	kindAuthorityPublic = authority.KindAuthorityPublic
	kindCAKey           = authority.KindCAKey
	kindCAPublic        = authority.KindCAPublic
	kindTrusteeKey      = "urna-trustee-key"
	kindTrusteePublic   = authority.KindTrusteePublic
	kindDealerSeed      = "urna-trustee-dealer-seed"
	dealerSeedSize      = 32
)

// schnorrKeyFile is the 0600 file of a Schnorr signing key.
type schnorrKeyFile struct{ authority.KeyFile }

func (f *schnorrKeyFile) fileKind() string { return f.Kind }

// PublicKeyFile is the public half of an authority's key, to hand to
// whoever writes the manifest.
type PublicKeyFile = authority.PublicFile

type publicKeyFile struct{ authority.PublicFile }

func (f *publicKeyFile) fileKind() string { return f.Kind }

// TrusteePublicFileJSON is what a trustee hands to the election authority: the
// manifest's trustee entry (SPEC.md §4.1).
type TrusteePublicFileJSON = authority.TrusteePublic

type trusteePublicFile struct{ authority.TrusteePublic }

func (f *trusteePublicFile) fileKind() string { return f.Kind }

type trusteeKeyFile struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	Name    string `json:"name"`
	Secret  string `json:"secret"` // base64url tally.TrusteeSecret.Bytes()
}

func (f *trusteeKeyFile) fileKind() string { return f.Kind }

type dealerSeedFile struct {
	Kind     string `json:"kind"`
	Election string `json:"election"` // hex fingerprint the seed dealt for
	Seed     string `json:"seed"`     // base64url, 32 bytes
}

func (f *dealerSeedFile) fileKind() string { return f.Kind }

// writeSecret creates path with owner-only permissions (0600, its
// directory 0700) and writes data (internal/keyfile). It refuses to
// overwrite an existing file.
func writeSecret(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	return keyfile.Write(path, data)
}

// writePublic writes a public file (0644), replacing any previous one.
func writePublic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	return nil
}

// marshalFile encodes a key file's JSON, indented, with a final newline.
func marshalFile(v any) []byte { return authority.Marshal(v) }

// readFile reads the JSON file of the given kind at path into v, strictly.
// A secret file MUST be readable by its owner only (keyfile.Read).
func readFile(path, kind string, secret bool, v interface{ fileKind() string }) error {
	read := keyfile.ReadPublic
	if secret {
		read = keyfile.Read
	}
	data, err := read(path)
	if err != nil {
		return err
	}
	if err := authority.Decode(data, kind, v, v.fileKind); err != nil {
		return fmt.Errorf("roles: %s: %w", path, err)
	}
	return nil
}

// decodeField decodes the base64url field of the file at path with parse.
func decodeField[T any](path, field, s string, parse func([]byte) (T, error)) (T, error) {
	raw, err := wire.DecodeB64(s)
	if err == nil {
		var v T
		if v, err = parse(raw); err == nil {
			return v, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("roles: %s: %s: %w", path, field, err)
}

// initSchnorr creates a Schnorr key pair in dir (secret 0600, public 0644).
func initSchnorr(rand io.Reader, dir, keyName, pubName, kind, pubKind string) (*group.Element, error) {
	sk, err := schnorr.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	pub := wire.EncodeB64(sk.Public().Bytes())
	if err := writeSecret(filepath.Join(dir, keyName), marshalFile(authority.NewKeyFile(sk, kind))); err != nil {
		return nil, err
	}
	if err := writePublic(filepath.Join(dir, pubName), marshalFile(&PublicKeyFile{Kind: pubKind, Public: pub})); err != nil {
		return nil, err
	}
	return sk.Public(), nil
}

func loadSchnorr(path, kind string) (*schnorr.PrivateKey, error) {
	var f schnorrKeyFile
	if err := readFile(path, kind, true, &f); err != nil {
		return nil, err
	}
	sk, err := f.PrivateKey()
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", path, err)
	}
	return sk, nil
}

// LoadPublicKey reads an authority's public key file.
func LoadPublicKey(path, kind string) (*group.Element, error) {
	var f publicKeyFile
	if err := readFile(path, kind, false, &f); err != nil {
		return nil, err
	}
	k, err := f.Key()
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", path, err)
	}
	return k, nil
}

// InitAuthority creates the election authority's Schnorr key in dir:
// authority.key (0600) and authority.pub. It returns the public key.
func InitAuthority(rand io.Reader, dir string) (*group.Element, error) {
	return initSchnorr(rand, dir, AuthorityKeyFile, AuthorityPublicFile, kindAuthorityKey, kindAuthorityPublic)
}

// LoadAuthority reads the election authority's key from dir.
func LoadAuthority(dir string) (*schnorr.PrivateKey, error) {
	return loadSchnorr(filepath.Join(dir, AuthorityKeyFile), kindAuthorityKey)
}

// InitCredentialAuthority creates the credential authority's Schnorr key in
// dir: credential-authority.key (0600) and credential-authority.pub.
func InitCredentialAuthority(rand io.Reader, dir string) (*group.Element, error) {
	return initSchnorr(rand, dir, CAKeyFile, CAPublicFile, kindCAKey, kindCAPublic)
}

// LoadCredentialAuthority reads the credential authority's key from dir.
func LoadCredentialAuthority(dir string) (*schnorr.PrivateKey, error) {
	return loadSchnorr(filepath.Join(dir, CAKeyFile), kindCAKey)
}

// Trustee is a trustee's long-term key material, loaded from its directory.
type Trustee struct {
	Dir    string
	Name   string
	Secret *tally.TrusteeSecret
}

// Public returns the manifest entry of the trustee.
func (t *Trustee) Public() *TrusteePublicFileJSON {
	p := t.Secret.Public()
	return &TrusteePublicFileJSON{Kind: kindTrusteePublic, Name: t.Name,
		SigningKey: wire.EncodeB64(p.SigningKey.Bytes()), ShareKey: wire.EncodeB64(p.ShareKey)}
}

// InitTrustee creates a trustee's keys in dir (SPEC.md §8.1): trustee.key
// (0600: the Schnorr signing key and the HPKE share key) and trustee.pub
// (the public part for the manifest, also returned).
func InitTrustee(rand io.Reader, dir, name string) (*TrusteePublicFileJSON, error) {
	if len(name) == 0 || len(name) > ballot.MaxName {
		return nil, fmt.Errorf("roles: trustee name must be 1..%d bytes", ballot.MaxName)
	}
	sec, err := tally.GenerateTrustee(rand)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	f := &trusteeKeyFile{Kind: kindTrusteeKey, Version: keyFileVersion, Name: name, Secret: wire.EncodeB64(sec.Bytes())}
	if err := writeSecret(filepath.Join(dir, TrusteeKeyFile), marshalFile(f)); err != nil {
		return nil, err
	}
	t := &Trustee{Dir: dir, Name: name, Secret: sec}
	pub := t.Public()
	if err := writePublic(filepath.Join(dir, TrusteePublicFile), marshalFile(pub)); err != nil {
		return nil, err
	}
	return pub, nil
}

// LoadTrustee reads a trustee's keys from dir.
func LoadTrustee(dir string) (*Trustee, error) {
	path := filepath.Join(dir, TrusteeKeyFile)
	var f trusteeKeyFile
	if err := readFile(path, kindTrusteeKey, true, &f); err != nil {
		return nil, err
	}
	sec, err := decodeField(path, "secret", f.Secret, tally.ParseTrusteeSecret)
	if err != nil {
		return nil, err
	}
	return &Trustee{Dir: dir, Name: f.Name, Secret: sec}, nil
}

// LoadTrusteePublic reads a trustee's public file (trustee.pub).
func LoadTrusteePublic(path string) (*ballot.Trustee, error) {
	var f trusteePublicFile
	if err := readFile(path, kindTrusteePublic, false, &f); err != nil {
		return nil, err
	}
	t, err := f.Trustee()
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", path, err)
	}
	return t, nil
}
