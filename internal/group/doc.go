// Package group implements the prime-order group Urna works in: Ristretto255
// (RFC 9496), through github.com/cloudflare/circl/group. It is the only
// package in Urna that imports circl's group package.
//
// Element and Scalar are concrete types with unexported fields. Their zero
// values are the identity element and the scalar zero, ready to use.
//
// Encodings (SPEC.md §2.1): an element is its 32-byte canonical Ristretto255
// encoding; a scalar is 32 bytes, little-endian, fully reduced modulo
// ℓ = 2^252 + 27742317777372353535851937790883648493. Decoders reject every
// other byte string (non-canonical field encodings, negative field elements,
// non-squares, unreduced scalars, wrong lengths); see SetCanonicalBytes.
//
// Timing: element and scalar arithmetic, ScalarMult, ScalarBaseMult and
// FixedBase.MulAddBase run in constant time and may be used on secrets. Functions whose names start with
// VarTime leak their inputs through timing and MUST only see public data
// (verification equations, public ciphertexts, batch weights).
//
// Two implementations: every constant-time operation runs on circl, except
// ScalarBaseMult and FixedBase, which run a constant-time signed radix-16
// comb (fixedbase.go: every table row read whole under masks, complete
// addition formulas, no branch or index on a secret) on tables of G and of
// any element, over the fast point type below. The decoders (RFC 9496 §4.3.1, every check), the VarTime functions, and
// Bytes, Equal and IsIdentity of decoded elements run on a private
// edwards25519 point type over circl's assembly field arithmetic
// (math/fp25519; point.go). Decoding is constant time except for its final
// accept/reject branch; Equal and IsIdentity of decoded elements compare
// canonical encodings in constant time. A decoded element keeps its encoding
// and fast point and gets its circl form (through circl's own decoder) only
// when a constant-time operation needs it. Tests check the two against each
// other on the RFC 9496 vectors, random points and random byte strings.
//
// Randomness: circl's Ristretto random functions ignore the io.Reader they are
// given, so this package never uses them. RandomScalar reads 64 bytes from
// the caller's reader and reduces them with HashToScalar, which makes tests
// reproducible from a seeded reader and production use crypto/rand.
package group
