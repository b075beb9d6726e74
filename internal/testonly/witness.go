package testonly

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// Witness is a test witness (SPEC.md §3.13): its name and an Ed25519 key
// derived from the name, the same in every run.
type Witness struct {
	Name string
	Key  ed25519.PrivateKey
}

// NewWitness returns the witness named name, whose key's seed is
// SHA-256(name).
func NewWitness(name string) Witness {
	s := sha256.Sum256([]byte(name))
	return Witness{Name: name, Key: ed25519.NewKeyFromSeed(s[:])}
}

// Public returns w's public key.
func (w Witness) Public() ed25519.PublicKey { return w.Key.Public().(ed25519.PublicKey) }

// Listed returns w as a manifest lists it.
func (w Witness) Listed() ballot.Witness { return ballot.Witness{Name: w.Name, Key: w.Public()} }

// CosignLine returns w's cosignature line (SPEC.md §3.13) of the
// checkpoint note, signed at time ts while stating the time shown (a
// line whose shown time differs from ts does not verify).
func (w Witness) CosignLine(note []byte, ts, shown uint64) []byte {
	text := note[:bytes.Index(note, []byte("\n\n"))+1]
	sig := ed25519.Sign(w.Key, bulletin.CosignatureMessage(text, ts))
	payload := binary.BigEndian.AppendUint32(nil, bulletin.WitnessKeyHash(w.Name, w.Public()))
	payload = binary.BigEndian.AppendUint64(payload, shown)
	payload = append(payload, sig...)
	return []byte("— " + w.Name + " " + base64.StdEncoding.EncodeToString(payload) + "\n")
}
