package tally

import (
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/cloudflare/circl/hpke"
	"github.com/cloudflare/circl/kem"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
)

// The HPKE suite of DKG share transport (SPEC.md §8.4): RFC 9180 base mode,
// DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, ChaCha20-Poly1305 0x0003.
var shareSuite = hpke.NewSuite(hpke.KEM_X25519_HKDF_SHA256, hpke.KDF_HKDF_SHA256, hpke.AEAD_ChaCha20Poly1305)

var shareKEM = hpke.KEM_X25519_HKDF_SHA256.Scheme()

const (
	// ShareKeySize is the length of an X25519 HPKE public or private key.
	ShareKeySize = 32
	// TrusteeSecretSize is the length of an encoded TrusteeSecret.
	TrusteeSecretSize = 1 + group.Size + ShareKeySize
	// TrusteePublicSize is the length of an encoded trustee public key pair.
	TrusteePublicSize = group.Size + ShareKeySize

	trusteeSecretVersion = 1
)

func parseShareKey(b []byte) (kem.PublicKey, error) {
	if len(b) != ShareKeySize {
		return nil, fmt.Errorf("%w: share key length %d", ErrMalformed, len(b))
	}
	return shareKEM.UnmarshalBinaryPublicKey(b)
}

// TrusteeSecret is a trustee's long-term secret: a Schnorr signing key and
// the HPKE private key receiving DKG shares. It MUST NOT be logged or
// compared with ==; it lives in a 0600 key file (SPEC.md §8.1).
type TrusteeSecret struct {
	sign    *schnorr.PrivateKey
	kemSK   kem.PrivateKey
	kemPK   kem.PublicKey
	kemSKb  []byte
	sharePK []byte
}

// GenerateTrustee draws a trustee's keys from rand (SPEC.md §8.1): 64 bytes
// for the signing scalar (group.RandomNonZeroScalar), then 32 bytes as the
// ikm of RFC 9180 DeriveKeyPair for the X25519 key pair.
func GenerateTrustee(rand io.Reader) (*TrusteeSecret, error) {
	sk, err := schnorr.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	seed := make([]byte, shareKEM.SeedSize())
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("tally: reading randomness: %w", err)
	}
	_, ksk := shareKEM.DeriveKeyPair(seed)
	kb, err := ksk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	return newTrusteeSecret(sk, kb)
}

func newTrusteeSecret(sign *schnorr.PrivateKey, kemSK []byte) (*TrusteeSecret, error) {
	ksk, err := shareKEM.UnmarshalBinaryPrivateKey(kemSK)
	if err != nil {
		return nil, fmt.Errorf("%w: share private key", ErrMalformed)
	}
	kpk := ksk.Public()
	pb, err := kpk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	return &TrusteeSecret{sign: sign, kemSK: ksk, kemPK: kpk, kemSKb: append([]byte(nil), kemSK...), sharePK: pb}, nil
}

// SigningKey returns the trustee's Schnorr key, which signs its board entries.
func (s *TrusteeSecret) SigningKey() *schnorr.PrivateKey { return s.sign }

// Public returns the trustee's public keys with Index 0; the manifest
// assigns the index.
func (s *TrusteeSecret) Public() *TrusteePublic {
	return &TrusteePublic{SigningKey: s.sign.Public(), ShareKey: append([]byte(nil), s.sharePK...)}
}

// Equal reports whether s and x hold the same keys, in constant time.
func (s *TrusteeSecret) Equal(x *TrusteeSecret) bool {
	return subtle.ConstantTimeCompare(s.Bytes(), x.Bytes()) == 1
}

// Bytes returns the key-file encoding (SPEC.md §8.1):
// u8 version = 1 || signing scalar (32) || X25519 private key (32).
func (s *TrusteeSecret) Bytes() []byte {
	return wire.NewWriter(TrusteeSecretSize).U8(trusteeSecretVersion).Scalar(s.sign.Scalar()).Fixed(s.kemSKb).Out()
}

// ParseTrusteeSecret decodes Bytes strictly: version 1, a canonical non-zero
// scalar, 32 key bytes, nothing after.
func ParseTrusteeSecret(b []byte) (*TrusteeSecret, error) {
	r := wire.NewReader(b)
	if v := r.U8("version"); r.Err() == nil && v != trusteeSecretVersion {
		r.Failf("unknown trustee secret version %d", v)
	}
	sc := r.Scalar("signing scalar")
	kb := r.Fixed("share private key", ShareKeySize)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	sign, err := schnorr.NewPrivateKey(sc)
	if err != nil {
		return nil, fmt.Errorf("%w: zero signing key", ErrMalformed)
	}
	return newTrusteeSecret(sign, kb)
}

// Bytes returns the public encoding (SPEC.md §8.1): signing key (32) ||
// share key (32). The index is not encoded: it is the manifest position.
func (t *TrusteePublic) Bytes() []byte {
	return wire.NewWriter(TrusteePublicSize).Element(t.SigningKey).Fixed(t.ShareKey).Out()
}

// ParseTrusteePublic decodes TrusteePublic.Bytes and sets Index to index.
// The signing key MUST be canonical and not the identity.
func ParseTrusteePublic(b []byte, index int) (*TrusteePublic, error) {
	r := wire.NewReader(b)
	pk := r.NonIdentity("signing key")
	sk := r.Fixed("share key", ShareKeySize)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := parseShareKey(sk); err != nil {
		return nil, fmt.Errorf("%w: share key", ErrMalformed)
	}
	return &TrusteePublic{Index: index, SigningKey: pk, ShareKey: sk}, nil
}

// String and GoString keep secrets out of formatted output.
func (s *TrusteeSecret) String() string   { return "tally.TrusteeSecret(REDACTED)" }
func (s *TrusteeSecret) GoString() string { return s.String() }
func (k *KeyShare) String() string {
	return fmt.Sprintf("tally.KeyShare(trustee %d, REDACTED)", k.Index)
}
func (k *KeyShare) GoString() string { return k.String() }
func (st *DealerState) String() string {
	return fmt.Sprintf("tally.DealerState(dealer %d, REDACTED)", st.me)
}
func (st *DealerState) GoString() string   { return st.String() }
func (r *ReceiverReport) String() string   { return "tally.ReceiverReport(REDACTED shares)" }
func (r *ReceiverReport) GoString() string { return r.String() }
