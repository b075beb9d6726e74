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
	"github.com/urna-vote/urna/internal/trustee"
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
	kindTrusteePublic   = trustee.KindPublic
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
type TrusteePublicFileJSON = trustee.PublicFile

type trusteePublicFile struct{ trustee.PublicFile }

func (f *trusteePublicFile) fileKind() string { return f.Kind }

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
func marshalFile(v any) []byte { return keyfile.Marshal(v) }

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
	if err := keyfile.Decode(data, kind, v, v.fileKind); err != nil {
		return fmt.Errorf("roles: %s: %w", path, err)
	}
	return nil
}

// load reads the file at path of kind (readFile) and returns what decode
// makes of it; a decode error names path.
func load[F any, PF interface {
	*F
	fileKind() string
}, T any](path, kind string, secret bool, decode func(*F) (T, error)) (T, error) {
	var zero T
	f := PF(new(F))
	if err := readFile(path, kind, secret, f); err != nil {
		return zero, err
	}
	v, err := decode(f)
	if err != nil {
		return zero, fmt.Errorf("roles: %s: %w", path, err)
	}
	return v, nil
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
	return load(path, kind, true, func(f *schnorrKeyFile) (*schnorr.PrivateKey, error) { return f.PrivateKey() })
}

// LoadPublicKey reads an authority's public key file.
func LoadPublicKey(path, kind string) (*group.Element, error) {
	return load(path, kind, false, func(f *publicKeyFile) (*group.Element, error) { return f.Key() })
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
// Seed and Memory are the state the web page keeps inside the key file
// (package trustee); the CLI keeps its own in separate files of Dir and
// reads both.
type Trustee struct {
	Dir    string
	Name   string
	Secret *tally.TrusteeSecret
	Seed   *trustee.Seed
	Memory map[string]string
}

func (t *Trustee) keys() *trustee.Keys {
	return &trustee.Keys{Name: t.Name, Secret: t.Secret, Seed: t.Seed, Memory: t.Memory}
}

// Public returns the manifest entry of the trustee.
func (t *Trustee) Public() *TrusteePublicFileJSON { return t.keys().Public() }

// InitTrustee creates a trustee's keys in dir (SPEC.md §8.1): trustee.key
// (0600: the Schnorr signing key and the HPKE share key) and trustee.pub
// (the public part for the manifest, also returned).
func InitTrustee(rand io.Reader, dir, name string) (*TrusteePublicFileJSON, error) {
	k, err := trustee.New(rand, name)
	if err != nil {
		return nil, err
	}
	if err := writeSecret(filepath.Join(dir, TrusteeKeyFile), k.KeyFile()); err != nil {
		return nil, err
	}
	pub := k.Public()
	if err := writePublic(filepath.Join(dir, TrusteePublicFile), marshalFile(pub)); err != nil {
		return nil, err
	}
	return pub, nil
}

// LoadTrustee reads a trustee's keys from dir.
func LoadTrustee(dir string) (*Trustee, error) {
	path := filepath.Join(dir, TrusteeKeyFile)
	data, err := keyfile.Read(path)
	if err != nil {
		return nil, err
	}
	k, err := trustee.ParseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", path, err)
	}
	return &Trustee{Dir: dir, Name: k.Name, Secret: k.Secret, Seed: k.Seed, Memory: k.Memory}, nil
}

// LoadTrusteePublic reads a trustee's public file (trustee.pub).
func LoadTrusteePublic(path string) (*ballot.Trustee, error) {
	return load(path, kindTrusteePublic, false, func(f *trusteePublicFile) (*ballot.Trustee, error) { return authority.TrusteeOf(&f.PublicFile) })
}
