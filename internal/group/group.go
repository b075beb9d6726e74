package group

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	circl "github.com/cloudflare/circl/group"
)

// Size is the length in bytes of an encoded element and of an encoded scalar.
const Size = 32

var g = circl.Ristretto255

// Errors returned by the decoders.
var (
	ErrInvalidElement = errors.New("group: invalid element encoding")
	ErrInvalidScalar  = errors.New("group: invalid scalar encoding")
	ErrIdentity       = errors.New("group: unexpected identity element")
)

// Element is an element of the Ristretto255 group. The zero value is the identity.
type Element struct{ p circl.Element }

func (e *Element) v() circl.Element {
	if e.p == nil {
		e.p = g.Identity()
	}
	return e.p
}

// NewElement returns a new identity element.
func NewElement() *Element { return &Element{p: g.Identity()} }

// Generator returns a new copy of the standard generator G of RFC 9496.
func Generator() *Element { return &Element{p: g.Generator()} }

// Set sets e = x and returns e.
func (e *Element) Set(x *Element) *Element { e.v().Set(x.v()); return e }

// Clone returns a new copy of e.
func (e *Element) Clone() *Element { return NewElement().Set(e) }

// Add sets e = x + y and returns e.
func (e *Element) Add(x, y *Element) *Element { e.v().Add(x.v(), y.v()); return e }

// Sub sets e = x - y and returns e.
func (e *Element) Sub(x, y *Element) *Element {
	n := g.NewElement().Neg(y.v())
	e.v().Add(x.v(), n)
	return e
}

// Neg sets e = -x and returns e.
func (e *Element) Neg(x *Element) *Element { e.v().Neg(x.v()); return e }

// Double sets e = 2x and returns e.
func (e *Element) Double(x *Element) *Element { e.v().Dbl(x.v()); return e }

// ScalarMult sets e = s·x in constant time and returns e.
func (e *Element) ScalarMult(s *Scalar, x *Element) *Element { e.v().Mul(x.v(), s.v()); return e }

// ScalarBaseMult sets e = s·G in constant time and returns e.
func (e *Element) ScalarBaseMult(s *Scalar) *Element { e.v().MulGen(s.v()); return e }

// Equal reports whether e and x are the same element, in constant time.
func (e *Element) Equal(x *Element) bool { return e.v().IsEqual(x.v()) }

// IsIdentity reports whether e is the identity element.
func (e *Element) IsIdentity() bool { return e.v().IsIdentity() }

// Bytes returns the 32-byte canonical encoding of e.
func (e *Element) Bytes() []byte {
	b, err := e.v().MarshalBinary()
	if err != nil {
		panic("group: cannot encode element: " + err.Error())
	}
	return b
}

// AppendBytes appends the canonical encoding of e to b.
func (e *Element) AppendBytes(b []byte) []byte { return append(b, e.Bytes()...) }

// SetCanonicalBytes sets e to the element encoded by b (SPEC.md §2.1).
// It rejects every encoding that is not exactly 32 canonical bytes; the
// identity is accepted (use DecodeNonIdentity where the protocol forbids it).
// On error e is unchanged.
func (e *Element) SetCanonicalBytes(b []byte) (*Element, error) {
	if len(b) != Size {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrInvalidElement, len(b), Size)
	}
	p := g.NewElement()
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, ErrInvalidElement
	}
	e.p = p
	return e, nil
}

// DecodeElement decodes a canonical element encoding (identity allowed).
func DecodeElement(b []byte) (*Element, error) { return new(Element).SetCanonicalBytes(b) }

// DecodeNonIdentity decodes a canonical element encoding and rejects the identity.
func DecodeNonIdentity(b []byte) (*Element, error) {
	e, err := DecodeElement(b)
	if err != nil {
		return nil, err
	}
	if e.IsIdentity() {
		return nil, ErrIdentity
	}
	return e, nil
}

// HashToElement maps msg to an element with the RFC 9380 ristretto255_XMD:SHA-512_R255MAP_RO_
// construction under the domain-separation tag dst. Used for independent generators.
func HashToElement(msg, dst []byte) *Element { return &Element{p: g.HashToElement(msg, dst)} }

// Scalar is an integer modulo ℓ. The zero value is zero.
type Scalar struct{ s circl.Scalar }

func (s *Scalar) v() circl.Scalar {
	if s.s == nil {
		s.s = g.NewScalar()
	}
	return s.s
}

// NewScalar returns a new zero scalar.
func NewScalar() *Scalar { return &Scalar{s: g.NewScalar()} }

// ScalarFromUint64 returns the scalar n mod ℓ.
func ScalarFromUint64(n uint64) *Scalar { s := NewScalar(); s.s.SetUint64(n); return s }

// Set sets s = x and returns s.
func (s *Scalar) Set(x *Scalar) *Scalar { s.v().Set(x.v()); return s }

// SetUint64 sets s = n mod ℓ and returns s.
func (s *Scalar) SetUint64(n uint64) *Scalar { s.v().SetUint64(n); return s }

// Add sets s = x + y and returns s.
func (s *Scalar) Add(x, y *Scalar) *Scalar { s.v().Add(x.v(), y.v()); return s }

// Sub sets s = x - y and returns s.
func (s *Scalar) Sub(x, y *Scalar) *Scalar { s.v().Sub(x.v(), y.v()); return s }

// Mul sets s = x·y and returns s.
func (s *Scalar) Mul(x, y *Scalar) *Scalar { s.v().Mul(x.v(), y.v()); return s }

// Neg sets s = -x and returns s.
func (s *Scalar) Neg(x *Scalar) *Scalar { s.v().Neg(x.v()); return s }

// Invert sets s = 1/x and returns s. The inverse of zero is zero.
func (s *Scalar) Invert(x *Scalar) *Scalar { s.v().Inv(x.v()); return s }

// Equal reports whether s == x, in constant time.
func (s *Scalar) Equal(x *Scalar) bool {
	return subtle.ConstantTimeCompare(s.Bytes(), x.Bytes()) == 1
}

// Clone returns a new copy of s.
func (s *Scalar) Clone() *Scalar { return NewScalar().Set(s) }

// IsZero reports whether s is zero.
func (s *Scalar) IsZero() bool { return s.v().IsZero() }

// Bytes returns the 32-byte little-endian canonical encoding of s.
func (s *Scalar) Bytes() []byte {
	b, err := s.v().MarshalBinary()
	if err != nil {
		panic("group: cannot encode scalar: " + err.Error())
	}
	return b
}

// AppendBytes appends the canonical encoding of s to b.
func (s *Scalar) AppendBytes(b []byte) []byte { return append(b, s.Bytes()...) }

// SetCanonicalBytes sets s to the scalar encoded by b: exactly 32 bytes,
// little-endian, less than ℓ. On error s is unchanged.
func (s *Scalar) SetCanonicalBytes(b []byte) (*Scalar, error) {
	if len(b) != Size {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrInvalidScalar, len(b), Size)
	}
	x := g.NewScalar()
	if err := x.UnmarshalBinary(b); err != nil {
		return nil, ErrInvalidScalar
	}
	s.s = x
	return s, nil
}

// DecodeScalar decodes a canonical scalar encoding.
func DecodeScalar(b []byte) (*Scalar, error) { return new(Scalar).SetCanonicalBytes(b) }

// HashToScalar returns OS2IP_LE(expand_message_xmd(SHA-512, msg, dst, 64)) mod ℓ
// (RFC 9380 §5.3.1; SPEC.md §2.2).
func HashToScalar(msg, dst []byte) *Scalar { return &Scalar{s: g.HashToScalar(msg, dst)} }

// randomDST is the tag under which RandomScalar reduces reader output.
var randomDST = []byte("urna/v1/random-scalar")

// RandomScalar reads 64 bytes from r and returns them reduced to a scalar
// (through HashToScalar, so the result is uniform). Production callers pass
// crypto/rand.Reader; tests pass a deterministic reader.
func RandomScalar(r io.Reader) (*Scalar, error) {
	var buf [64]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return nil, fmt.Errorf("group: reading randomness: %w", err)
	}
	return HashToScalar(buf[:], randomDST), nil
}

// RandomNonZeroScalar is RandomScalar, retried until the result is non-zero.
func RandomNonZeroScalar(r io.Reader) (*Scalar, error) {
	for {
		s, err := RandomScalar(r)
		if err != nil || !s.IsZero() {
			return s, err
		}
	}
}
