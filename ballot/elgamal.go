package ballot

import (
	"fmt"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Ciphertext is an exponential-ElGamal ciphertext (SPEC.md §2.7):
// Alpha = r·G, Beta = m·G + r·K for the election public key K.
type Ciphertext struct {
	Alpha, Beta *group.Element
}

// CiphertextSize is the length of an encoded ciphertext: Alpha || Beta.
const CiphertextSize = 64

// Encrypt returns the encryption of the small integer m under pk with
// randomness r (SPEC.md §6.2). It does not branch on m, so it runs in
// constant time with respect to m and r.
func Encrypt(pk *group.Element, m uint64, r *group.Scalar) *Ciphertext {
	beta := group.NewElement().ScalarMult(r, pk)
	beta.Add(beta, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(m)))
	return &Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: beta}
}

// ZeroCiphertext returns (identity, identity), the neutral element of Add.
func ZeroCiphertext() *Ciphertext {
	return &Ciphertext{Alpha: group.NewElement(), Beta: group.NewElement()}
}

// Add sets c = x + y componentwise (the encryption of the sum) and returns c.
func (c *Ciphertext) Add(x, y *Ciphertext) *Ciphertext {
	if c.Alpha == nil {
		c.Alpha, c.Beta = group.NewElement(), group.NewElement()
	}
	c.Alpha.Add(x.Alpha, y.Alpha)
	c.Beta.Add(x.Beta, y.Beta)
	return c
}

// Equal reports whether both components are equal.
func (c *Ciphertext) Equal(x *Ciphertext) bool {
	return c.Alpha.Equal(x.Alpha) && c.Beta.Equal(x.Beta)
}

// Bytes returns Alpha || Beta.
func (c *Ciphertext) Bytes() []byte {
	return wire.NewWriter(CiphertextSize).Element(c.Alpha).Element(c.Beta).Out()
}

// AppendTo writes c into w.
func (c *Ciphertext) AppendTo(w *wire.Writer) { w.Element(c.Alpha).Element(c.Beta) }

// ReadCiphertext reads a ciphertext from r. Both components may be any
// canonical element, the identity included (an aggregate can be the identity).
func ReadCiphertext(r *wire.Reader, what string) *Ciphertext {
	a := r.Element(what + " alpha")
	b := r.Element(what + " beta")
	if r.Err() != nil {
		return nil
	}
	return &Ciphertext{Alpha: a, Beta: b}
}

// ParseCiphertext decodes Alpha || Beta exactly.
func ParseCiphertext(b []byte) (*Ciphertext, error) {
	r := wire.NewReader(b)
	c := ReadCiphertext(r, "ciphertext")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: %w", err)
	}
	return c, nil
}
