package trustee

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// Kinds and version of the trustee's files (their "kind" field).
const (
	KindKey         = "urna-trustee-key"
	KindPublic      = "urna-trustee-public"
	KindDealerSeed  = "urna-trustee-dealer-seed"
	KindBoardMemory = "urna-board-memory"
	KeyFileVersion  = 1
	// SeedSize is the size of the dealer seed.
	SeedSize = 32
)

// KeyFile is the trustee's secret key file (trustee.key). DealerSeed and
// BoardMemory are absent from the file `urna trustee init` writes; the
// web page writes them as the trustee's state grows, each the content of
// the CLI's separate file.
type KeyFile struct {
	Kind        string          `json:"kind"`
	Version     int             `json:"version"`
	Name        string          `json:"name"`
	Secret      string          `json:"secret"` // base64url tally.TrusteeSecret.Bytes()
	DealerSeed  *DealerSeedFile `json:"dealer_seed,omitempty"`
	BoardMemory *BoardMemory    `json:"board_memory,omitempty"`
}

// DealerSeedFile is the dealer seed file (trustee.dealer-seed).
type DealerSeedFile struct {
	Kind     string `json:"kind"`
	Election string `json:"election"` // hex fingerprint the seed dealt for
	Seed     string `json:"seed"`     // base64url, 32 bytes
}

// BoardMemory is a party's memory of the board (board-memory.json,
// SPEC.md §10.7).
type BoardMemory struct {
	Kind string `json:"kind"`
	// Elections maps the hex election fingerprint to the newest signed
	// checkpoint note the party saw and proved consistent.
	Elections map[string]string `json:"elections"`
}

// PublicFile is what a trustee hands to the election authority: the
// manifest's trustee entry (SPEC.md §4.1), trustee.pub.
type PublicFile struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	SigningKey string `json:"signing_key"` // base64url Ristretto255 element
	ShareKey   string `json:"share_key"`   // base64url X25519 key
}

// Seed is a dealer seed and the election it dealt for.
type Seed struct {
	Election [32]byte
	Bytes    []byte
}

// Keys are a trustee's keys and the state it keeps between steps.
type Keys struct {
	Name   string
	Secret *tally.TrusteeSecret
	// Seed is the dealer seed, nil before the trustee dealt.
	Seed *Seed
	// Memory maps the hex election fingerprint to the newest checkpoint
	// note remembered (SPEC.md §10.7).
	Memory map[string]string
}

// New makes a trustee's keys (SPEC.md §8.1) with randomness from rand.
func New(rand io.Reader, name string) (*Keys, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	sec, err := tally.GenerateTrustee(rand)
	if err != nil {
		return nil, fmt.Errorf("trustee: %w", err)
	}
	return &Keys{Name: name, Secret: sec, Memory: map[string]string{}}, nil
}

// CheckName fails unless name may be a trustee's name in a manifest.
func CheckName(name string) error {
	if len(name) == 0 || len(name) > ballot.MaxName {
		return fmt.Errorf("roles: trustee name must be 1..%d bytes", ballot.MaxName)
	}
	return nil
}

// ParseKeyFile reads a trustee key file, with the state it may carry.
func ParseKeyFile(data []byte) (*Keys, error) {
	var f KeyFile
	if err := keyfile.Decode(data, KindKey, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	if f.Version != KeyFileVersion {
		return nil, fmt.Errorf("version %d, want %d", f.Version, KeyFileVersion)
	}
	if err := CheckName(f.Name); err != nil {
		return nil, err
	}
	sec, err := keyfile.DecodeSecret(f.Secret, tally.ParseTrusteeSecret)
	if err != nil {
		return nil, err
	}
	k := &Keys{Name: f.Name, Secret: sec, Memory: map[string]string{}}
	if f.DealerSeed != nil {
		if k.Seed, err = f.DealerSeed.decode(); err != nil {
			return nil, fmt.Errorf("dealer_seed: %w", err)
		}
	}
	if f.BoardMemory != nil {
		if err := f.BoardMemory.check(); err != nil {
			return nil, fmt.Errorf("board_memory: %w", err)
		}
		k.Memory = f.BoardMemory.Elections
	}
	return k, nil
}

// KeyFile encodes the keys and their state as a key file. With no state it
// is exactly the file `urna trustee init` writes.
func (k *Keys) KeyFile() []byte {
	f := &KeyFile{Kind: KindKey, Version: KeyFileVersion, Name: k.Name, Secret: wire.EncodeB64(k.Secret.Bytes())}
	if k.Seed != nil {
		f.DealerSeed = k.Seed.file()
	}
	if len(k.Memory) > 0 {
		f.BoardMemory = &BoardMemory{Kind: KindBoardMemory, Elections: k.Memory}
	}
	return keyfile.Marshal(f)
}

// Public returns the manifest entry of the trustee.
func (k *Keys) Public() *PublicFile {
	p := k.Secret.Public()
	return &PublicFile{Kind: KindPublic, Name: k.Name,
		SigningKey: wire.EncodeB64(p.SigningKey.Bytes()), ShareKey: wire.EncodeB64(p.ShareKey)}
}

// NewSeed draws a dealer seed for the election fp.
func NewSeed(rand io.Reader, fp [32]byte) (*Seed, error) {
	s := &Seed{Election: fp, Bytes: make([]byte, SeedSize)}
	if _, err := io.ReadFull(rand, s.Bytes); err != nil {
		return nil, fmt.Errorf("trustee: reading randomness: %w", err)
	}
	return s, nil
}

// ParseDealerSeed reads a dealer seed file.
func ParseDealerSeed(data []byte) (*Seed, error) {
	var f DealerSeedFile
	if err := keyfile.Decode(data, KindDealerSeed, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	return f.decode()
}

// File encodes the seed as a dealer seed file.
func (s *Seed) File() []byte { return keyfile.Marshal(s.file()) }

func (s *Seed) file() *DealerSeedFile {
	return &DealerSeedFile{Kind: KindDealerSeed, Election: hex.EncodeToString(s.Election[:]), Seed: wire.EncodeB64(s.Bytes)}
}

func (f *DealerSeedFile) decode() (*Seed, error) {
	if f.Kind != KindDealerSeed {
		return nil, fmt.Errorf("a %q, want %q", f.Kind, KindDealerSeed)
	}
	fp, err := hex.DecodeString(f.Election)
	if err != nil || len(fp) != 32 {
		return nil, errors.New("election is not a 64-hex-digit fingerprint")
	}
	seed, err := wire.DecodeB64(f.Seed)
	if err != nil || len(seed) != SeedSize {
		return nil, errors.New("bad seed")
	}
	return &Seed{Election: [32]byte(fp), Bytes: seed}, nil
}

// For returns the seed if it dealt for the election fp, nil if there is
// none, and an error if it belongs to another election.
func (s *Seed) For(fp [32]byte) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	if s.Election != fp {
		return nil, fmt.Errorf("the dealer seed belongs to another election (%.16x…)", s.Election)
	}
	return s.Bytes, nil
}

// ParseBoardMemory reads a memory file (board-memory.json): the hex
// fingerprint → checkpoint note map. The notes are not verified here.
func ParseBoardMemory(data []byte) (map[string]string, error) {
	var f BoardMemory
	if err := keyfile.Decode(data, KindBoardMemory, &f, func() string { return f.Kind }); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.Elections, nil
}

func (f *BoardMemory) check() error {
	if f.Kind != KindBoardMemory {
		return fmt.Errorf("a %q, want %q", f.Kind, KindBoardMemory)
	}
	if f.Elections == nil {
		f.Elections = map[string]string{}
	}
	for k := range f.Elections {
		if b, err := hex.DecodeString(k); err != nil || len(b) != 32 {
			return fmt.Errorf("election %q is not a 64-hex-digit fingerprint", k)
		}
	}
	return nil
}

// Known returns the checkpoint notes remembered for the election fp.
func Known(memory map[string]string, fp [32]byte) [][]byte {
	if n, ok := memory[hex.EncodeToString(fp[:])]; ok {
		return [][]byte{[]byte(n)}
	}
	return nil
}
