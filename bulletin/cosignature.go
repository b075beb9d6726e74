package bulletin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Witness cosignatures (SPEC.md §3.13): a witness's statement that the
// checkpoint is, as of a time, the largest consistent checkpoint it has
// seen for the election's origin. The format is C2SP tlog-cosignature,
// Ed25519 type (cosignature/v1): a signed-note signature line
//
//	— <witness name> base64(key ID ‖ u64 timestamp ‖ Ed25519 signature)\n
//
// with key ID = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4], the
// timestamp in POSIX seconds (big-endian, at most 2^63 − 1), and the
// signature over CosignatureMessage.

// WitnessKey is a witness's cosigning key as listed in the manifest: the
// witness name is the note key name.
type WitnessKey struct {
	Name      string
	PublicKey ed25519.PublicKey
}

// CosignatureSize is the length of a cosignature/v1 signature field:
// u64 timestamp ‖ 64-byte Ed25519 signature.
const CosignatureSize = 8 + ed25519.SignatureSize

// MaxCosignatureTime is the largest timestamp a cosignature may carry.
const MaxCosignatureTime = 1<<63 - 1

// cosignatureAlg is the signed-note signature type of cosignature/v1.
const cosignatureAlg = 0x04

// CosignatureMessage returns the message a witness signs for the note text
// at time timestamp (SPEC.md §3.13): the line "cosignature/v1", the line
// "time <timestamp>" (decimal, no leading zeros) and the whole note text,
// extension line included, each line ending in "\n".
func CosignatureMessage(text []byte, timestamp uint64) []byte {
	var b bytes.Buffer
	b.WriteString("cosignature/v1\ntime ")
	b.WriteString(strconv.FormatUint(timestamp, 10))
	b.WriteByte('\n')
	b.Write(text)
	return b.Bytes()
}

// WitnessKeyHash returns the key ID of a cosignature/v1 key (SPEC.md §3.13):
// the first 4 bytes, big-endian, of SHA-256(name ‖ "\n" ‖ 0x04 ‖ key).
func WitnessKeyHash(name string, key ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', cosignatureAlg})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// WitnessSigner returns the note signer of witness name with key, signing
// at the time now() returns (POSIX seconds). Its signatures are the
// CosignatureSize-byte fields of cosignature/v1.
func WitnessSigner(name string, key ed25519.PrivateKey, now func() uint64) (note.Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("bulletin: witness key is not an Ed25519 private key")
	}
	if !validKeyName(name) {
		return nil, fmt.Errorf("bulletin: witness name %q is not a note key name", name)
	}
	pub := key.Public().(ed25519.PublicKey)
	return &witnessSigner{name: name, hash: WitnessKeyHash(name, pub), key: key, now: now}, nil
}

type witnessSigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
	now  func() uint64
}

func (s *witnessSigner) Name() string    { return s.name }
func (s *witnessSigner) KeyHash() uint32 { return s.hash }
func (s *witnessSigner) Sign(text []byte) ([]byte, error) {
	ts := s.now()
	if ts > MaxCosignatureTime {
		return nil, fmt.Errorf("bulletin: cosignature time %d out of range", ts)
	}
	out := binary.BigEndian.AppendUint64(make([]byte, 0, CosignatureSize), ts)
	return append(out, ed25519.Sign(s.key, CosignatureMessage(text, ts))...), nil
}

// witnessVerifier verifies cosignature/v1 lines of one witness.
type witnessVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func newWitnessVerifier(w WitnessKey) (*witnessVerifier, error) {
	if len(w.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("witness %q key has %d bytes", w.Name, len(w.PublicKey))
	}
	if !validKeyName(w.Name) {
		return nil, fmt.Errorf("witness name %q is not a note key name", w.Name)
	}
	return &witnessVerifier{name: w.Name, hash: WitnessKeyHash(w.Name, w.PublicKey), key: w.PublicKey}, nil
}

func (v *witnessVerifier) Name() string    { return v.name }
func (v *witnessVerifier) KeyHash() uint32 { return v.hash }
func (v *witnessVerifier) Verify(text, sig []byte) bool {
	if len(sig) != CosignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > MaxCosignatureTime {
		return false
	}
	return ed25519.Verify(v.key, CosignatureMessage(text, ts), sig[8:])
}

// validKeyName is the signed-note rule for key names: non-empty, no
// Unicode spaces, no "+".
func validKeyName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "+ \t\n\r\v\f\u0085\u00a0") &&
		strings.IndexFunc(name, func(r rune) bool { return r > 0x7e || r < 0x21 }) < 0
}

// Cosignature is one verified witness cosignature of a checkpoint.
type Cosignature struct {
	Witness string
	Time    uint64 // POSIX seconds
	Line    string // the signature line, "— name base64\n"
}

// VerifyCosignatures checks witness signature lines (the body of a
// tlog-witness add-checkpoint response: one or more lines "— name
// base64\n") against the note text of a checkpoint (SPEC.md V3.9). Lines
// of unknown (name, key ID) are ignored; a line of a listed witness that
// does not verify is an error wrapping ErrCheckpoint. It returns the
// verified cosignatures in input order, one per witness.
func VerifyCosignatures(text []byte, lines []byte, witnesses []WitnessKey) ([]Cosignature, error) {
	if len(lines) == 0 || !bytes.HasSuffix(lines, []byte("\n")) {
		return nil, fmt.Errorf("%w: cosignature lines must end in a newline", ErrMalformed)
	}
	if len(text)+1+len(lines) > MaxNoteSize {
		return nil, fmt.Errorf("%w: cosigned note exceeds %d bytes", ErrMalformed, MaxNoteSize)
	}
	byKey := map[string]*witnessVerifier{}
	for _, w := range witnesses {
		v, err := newWitnessVerifier(w)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
		}
		byKey[v.name+"\x00"+strconv.FormatUint(uint64(v.hash), 10)] = v
	}
	var out []Cosignature
	seen := map[string]bool{}
	for _, line := range strings.SplitAfter(string(lines), "\n") {
		if line == "" {
			continue
		}
		name, sig, err := parseSigLine(line)
		if err != nil {
			return nil, err
		}
		if len(sig) < 4 {
			return nil, fmt.Errorf("%w: signature line of %q too short", ErrMalformed, name)
		}
		v := byKey[name+"\x00"+strconv.FormatUint(uint64(binary.BigEndian.Uint32(sig)), 10)]
		if v == nil {
			continue
		}
		if !v.Verify(text, sig[4:]) {
			return nil, fmt.Errorf("%w: invalid cosignature by witness %q", ErrCheckpoint, name)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, Cosignature{Witness: name, Time: binary.BigEndian.Uint64(sig[4:]), Line: line})
	}
	return out, nil
}

// parseSigLine splits a signed-note signature line "— name base64\n".
func parseSigLine(line string) (name string, sig []byte, err error) {
	rest, ok := strings.CutPrefix(line, "— ")
	if !ok || !strings.HasSuffix(rest, "\n") {
		return "", nil, fmt.Errorf("%w: not a signature line", ErrMalformed)
	}
	name, b64, ok := strings.Cut(strings.TrimSuffix(rest, "\n"), " ")
	if !ok || !validKeyName(name) {
		return "", nil, fmt.Errorf("%w: signature line name", ErrMalformed)
	}
	sig, err = base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || base64.StdEncoding.EncodeToString(sig) != b64 {
		return "", nil, fmt.Errorf("%w: signature line of %q: base64", ErrMalformed, name)
	}
	return name, sig, nil
}
