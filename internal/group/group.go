package group

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

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
//
// An Element has two representations. p is circl's, used by every
// constant-time operation. d, set by the decoders and by the VarTime
// functions, holds the canonical encoding and a fast edwards25519 point
// (point.go); while d is non-nil it is authoritative and p is either nil or
// storage reused by the next arithmetic operation. The circl form of a
// decoded element is materialized from its encoding on first use and cached
// in d, so elements that are only decoded, hashed and fed to VarTime
// functions never pay for circl's decoder. Conversely the first VarTime use
// of an element made by arithmetic caches its fast form in d (with a copy of
// p as d's circl form), so it is converted once, not once per use.
//
// d is atomic because a VarTime function may fill it in while other
// goroutines read the same Element (a shared public key, say); as before,
// an Element MUST NOT be written while it is read elsewhere.
type Element struct {
	p circl.Element // authoritative when d is nil; nil then means the identity
	d atomic.Pointer[decoded]
}

// decoded is the fast representation of an element. It is immutable once
// built (apart from the cache c, written atomically), so Set shares it and
// concurrent readers of one Element are safe.
type decoded struct {
	enc    [Size]byte // canonical encoding
	pt     point      // a representative of the element
	affine bool       // pt.Z == 1
	c      atomic.Pointer[circl.Element]
}

// circl returns the circl form of d, decoding d.enc with circl's decoder the
// first time. The result MUST only be read.
func (d *decoded) circl() circl.Element {
	if c := d.c.Load(); c != nil {
		return *c
	}
	c := g.NewElement()
	if err := c.UnmarshalBinary(d.enc[:]); err != nil {
		// The fast decoder and encoder are tested to agree with circl; a
		// disagreement is a bug, not bad input.
		panic("group: circl rejects an encoding the fast path produced: " + err.Error())
	}
	d.c.CompareAndSwap(nil, &c)
	return *d.c.Load()
}

// identity is circl's identity, passed to circl only as a read-only operand.
var identity = g.Identity()

// ro returns e's circl form for use as an operand. It MUST NOT be written.
func (e *Element) ro() circl.Element {
	if d := e.d.Load(); d != nil {
		return d.circl()
	}
	if e.p == nil {
		return identity
	}
	return e.p
}

// dst returns circl storage for a result in e. The caller MUST call done
// after writing it (and after reading its operands, which may be e itself).
func (e *Element) dst() circl.Element {
	if e.p == nil {
		e.p = g.NewElement()
	}
	return e.p
}

// done marks p as e's value.
func (e *Element) done() *Element { e.d.Store(nil); return e }

// withDecoded returns a new Element holding d.
func withDecoded(d *decoded) *Element {
	e := new(Element)
	e.d.Store(d)
	return e
}

// generator is G of RFC 9496 §4.4 in the fast representation.
var generator = func() *decoded {
	enc := [Size]byte{
		0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
		0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76,
	}
	d := &decoded{enc: enc, affine: true}
	if !d.pt.setCanonicalBytes(&enc) {
		panic("group: cannot decode the generator")
	}
	return d
}()

// NewElement returns a new identity element.
func NewElement() *Element { return &Element{} }

// Generator returns a new copy of the standard generator G of RFC 9496.
func Generator() *Element { return withDecoded(generator) }

// Set sets e = x and returns e.
func (e *Element) Set(x *Element) *Element {
	if d := x.d.Load(); d != nil {
		e.d.Store(d)
		return e
	}
	e.dst().Set(x.ro())
	return e.done()
}

// Clone returns a new copy of e.
func (e *Element) Clone() *Element { return NewElement().Set(e) }

// Add sets e = x + y and returns e.
func (e *Element) Add(x, y *Element) *Element { e.dst().Add(x.ro(), y.ro()); return e.done() }

// Sub sets e = x - y and returns e.
func (e *Element) Sub(x, y *Element) *Element {
	n := g.NewElement().Neg(y.ro())
	e.dst().Add(x.ro(), n)
	return e.done()
}

// Neg sets e = -x and returns e.
func (e *Element) Neg(x *Element) *Element { e.dst().Neg(x.ro()); return e.done() }

// Double sets e = 2x and returns e.
func (e *Element) Double(x *Element) *Element { e.dst().Dbl(x.ro()); return e.done() }

// ScalarMult sets e = s·x in constant time and returns e.
func (e *Element) ScalarMult(s *Scalar, x *Element) *Element {
	e.dst().Mul(x.ro(), s.v())
	return e.done()
}

// ScalarBaseMult sets e = s·G in constant time and returns e. It runs the
// comb of FixedBase on a table of G (fixedbase.go), about twice as fast as
// circl's MulGen, and encodes the result once (constant time as well).
func (e *Element) ScalarBaseMult(s *Scalar) *Element {
	acc := combMul([]*combTable{baseTable()}, []*Scalar{s})
	e.d.Store(&decoded{enc: acc.bytes(), pt: acc})
	return e
}

// Equal reports whether e and x are the same element, in constant time.
// When both came from a decoder or a VarTime function it compares their
// canonical encodings (equal elements have equal encodings, RFC 9496 §4.3.2),
// and when one did, it compares that encoding with circl's encoding of the
// other; otherwise it uses circl's equality.
func (e *Element) Equal(x *Element) bool {
	ed, xd := e.d.Load(), x.d.Load()
	switch {
	case ed != nil && xd != nil:
		return subtle.ConstantTimeCompare(ed.enc[:], xd.enc[:]) == 1
	case ed != nil:
		return subtle.ConstantTimeCompare(ed.enc[:], x.Bytes()) == 1
	case xd != nil:
		return subtle.ConstantTimeCompare(e.Bytes(), xd.enc[:]) == 1
	}
	return e.ro().IsEqual(x.ro())
}

// IsIdentity reports whether e is the identity element, whose encoding is
// all zeros.
func (e *Element) IsIdentity() bool {
	if d := e.d.Load(); d != nil {
		return d.isIdentity()
	}
	return e.ro().IsIdentity()
}

// Bytes returns the 32-byte canonical encoding of e.
func (e *Element) Bytes() []byte {
	if d := e.d.Load(); d != nil {
		return append([]byte(nil), d.enc[:]...)
	}
	b, err := e.ro().MarshalBinary()
	if err != nil {
		panic("group: cannot encode element: " + err.Error())
	}
	return b
}

// AppendBytes appends the canonical encoding of e to b.
func (e *Element) AppendBytes(b []byte) []byte {
	if d := e.d.Load(); d != nil {
		return append(b, d.enc[:]...)
	}
	return append(b, e.Bytes()...)
}

// SetCanonicalBytes sets e to the element encoded by b (SPEC.md §2.1).
// It rejects every encoding that is not exactly 32 canonical bytes; the
// identity is accepted (use DecodeNonIdentity where the protocol forbids it).
// On error e is unchanged.
//
// Decoding runs the checks of RFC 9496 §4.3.1 on circl's assembly field
// arithmetic (point.go) in constant time, apart from the final accept/reject
// branch; circl's own decoder runs later only if e is used in a
// constant-time operation.
func (e *Element) SetCanonicalBytes(b []byte) (*Element, error) {
	if len(b) != Size {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrInvalidElement, len(b), Size)
	}
	d := &decoded{enc: [Size]byte(b), affine: true}
	if !d.pt.setCanonicalBytes(&d.enc) {
		return nil, ErrInvalidElement
	}
	e.d.Store(d)
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

// varTimePoint returns a fast representative of e and whether e is the
// identity. The first call on an element made by arithmetic converts it
// through circl's encoding and caches the result in e. The result MUST NOT
// be written.
func (e *Element) varTimePoint() (*decoded, bool) {
	if d := e.d.Load(); d != nil {
		return d, d.isIdentity()
	}
	if e.p == nil {
		return nil, true
	}
	b, err := e.p.MarshalBinary()
	if err != nil {
		panic("group: cannot encode element: " + err.Error())
	}
	d := &decoded{enc: [Size]byte(b), affine: true}
	if !d.pt.setCanonicalBytes(&d.enc) {
		panic("group: fast decoder rejects circl's encoding")
	}
	// A copy, because e.p is storage that the next arithmetic on e reuses.
	c := g.NewElement().Set(e.p)
	d.c.Store(&c)
	e.d.Store(d)
	return d, d.isIdentity()
}

// isIdentity reports whether d is the identity, whose encoding is all zeros.
func (d *decoded) isIdentity() bool {
	return subtle.ConstantTimeCompare(d.enc[:], feZero[:]) == 1
}

// elementFromPoint returns a new Element holding p.
func elementFromPoint(p *point) *Element {
	return withDecoded(&decoded{enc: p.bytes(), pt: *p})
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
