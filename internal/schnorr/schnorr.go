// Package schnorr implements Schnorr signatures over Ristretto255, the one
// signature scheme of Urna's protocol parties (SPEC.md §2.6): the election
// and credential authorities, trustees and voters (with the key derived from
// their credential). Board nodes sign checkpoints with Ed25519 instead,
// because C2SP signed notes require it.
//
// A signature is (R, s), 64 bytes: R = k·G, c = H_schnorr(PK, R, msg),
// s = k + c·sk. It verifies iff s·G = R + c·PK. The signature carries the
// commitment R rather than the challenge, so many signatures can be checked
// together with one multi-scalar multiplication (callers fold Equation's terms into
// their own batch equations).
package schnorr

import (
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// SignatureSize is the length of an encoded signature.
const SignatureSize = 64

// ErrInvalid is the one error a failed verification returns.
var ErrInvalid = errors.New("schnorr: invalid signature")

// PrivateKey is a signing key. It MUST NOT be logged or compared with ==.
type PrivateKey struct {
	sk *group.Scalar
	pk *group.Element
}

// NewPrivateKey wraps a non-zero scalar as a signing key.
func NewPrivateKey(sk *group.Scalar) (*PrivateKey, error) {
	if sk.IsZero() {
		return nil, errors.New("schnorr: zero private key")
	}
	return &PrivateKey{sk: sk.Clone(), pk: group.NewElement().ScalarBaseMult(sk)}, nil
}

// GenerateKey draws a new key from rand.
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	sk, err := group.RandomNonZeroScalar(rand)
	if err != nil {
		return nil, err
	}
	return NewPrivateKey(sk)
}

// Public returns the public key PK = sk·G.
func (k *PrivateKey) Public() *group.Element { return k.pk.Clone() }

// Scalar returns a copy of the secret scalar (for key files only).
func (k *PrivateKey) Scalar() *group.Scalar { return k.sk.Clone() }

// Signature is a decoded signature.
type Signature struct {
	R *group.Element
	S *group.Scalar
}

// Bytes returns R || s.
func (sig *Signature) Bytes() []byte {
	return wire.NewWriter(SignatureSize).Element(sig.R).Scalar(sig.S).Out()
}

// ParseSignature decodes R || s strictly (canonical encodings, R not the identity).
func ParseSignature(b []byte) (*Signature, error) {
	r := wire.NewReader(b)
	sig := &Signature{R: r.NonIdentity("signature R"), S: r.Scalar("signature s")}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("schnorr: %w", err)
	}
	return sig, nil
}

// challenge is c = HashToScalar(u32(32)||PK || u32(32)||R || u32(len)||msg, "urna/v1/schnorr-signature").
func challenge(pk, r *group.Element, msg []byte) *group.Scalar {
	return transcript.New(transcript.SchnorrSig).Element(pk).Element(r).Bytes(msg).Challenge()
}

// Sign signs msg (SPEC.md §2.6). The nonce is drawn from rand.
func (k *PrivateKey) Sign(rand io.Reader, msg []byte) (*Signature, error) {
	nonce, err := group.RandomNonZeroScalar(rand)
	if err != nil {
		return nil, err
	}
	r := group.NewElement().ScalarBaseMult(nonce)
	c := challenge(k.pk, r, msg)
	s := group.NewScalar().Mul(c, k.sk)
	s.Add(s, nonce)
	return &Signature{R: r, S: s}, nil
}

// Verify checks sig on msg under pk (SPEC.md §2.6). Variable time; all inputs are public.
func Verify(pk *group.Element, msg []byte, sig *Signature) error {
	if pk.IsIdentity() {
		return ErrInvalid
	}
	c := challenge(pk, sig.R, msg)
	// s·G - c·PK - R == 0
	lhs := group.VarTimeMultiScalarMult(
		[]*group.Scalar{sig.S, group.NewScalar().Neg(c)},
		[]*group.Element{group.Generator(), pk})
	if !lhs.Equal(sig.R) {
		return ErrInvalid
	}
	return nil
}

// Term is one scalar·element term of a verification equation that sums to the identity.
type Term struct {
	S *group.Scalar
	P *group.Element
}

// Equation returns the terms of sig's verification equation, s·G - c·PK - R = 0,
// with the coefficient of G returned separately so a batch can merge all G terms.
func Equation(pk *group.Element, msg []byte, sig *Signature) (gCoeff *group.Scalar, terms []Term) {
	c := challenge(pk, sig.R, msg)
	return sig.S, []Term{{S: group.NewScalar().Neg(c), P: pk}, {S: group.NewScalar().Neg(group.ScalarFromUint64(1)), P: sig.R}}
}
