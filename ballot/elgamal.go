package ballot

import (
	"fmt"
	"sync"
	"sync/atomic"

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
	return keyFor(pk, 1).encrypt(m, r)
}

// encKey is an election key prepared for the multiplications of one
// ballot: with a fixed-base table (group.FixedBase, the same constant-time
// comb as group's ScalarBaseMult) once this process has multiplied the key
// often enough for the table to pay for itself.
type encKey struct {
	pk *group.Element
	t  *group.FixedBase
}

func (k encKey) encrypt(m uint64, r *group.Scalar) *Ciphertext {
	return &Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: k.mulAddG(r, group.ScalarFromUint64(m))}
}

// mulAddG returns s·pk + g·G in constant time with respect to s and g.
func (k encKey) mulAddG(s, g *group.Scalar) *group.Element {
	if k.t != nil {
		return k.t.MulAddBase(s, g)
	}
	e := group.NewElement().ScalarMult(s, k.pk)
	return e.Add(e, group.NewElement().ScalarBaseMult(g))
}

// tableAfter is the number of multiplications by one key after which
// keyFor builds its table: building costs about one ScalarMult and each
// later multiplication saves three quarters of one, so any ballot (16
// multiplications by the key for a 1-of-5 question; a voter's client
// encrypts one) builds it, and a lone Encrypt does not.
const tableAfter = 1

// keyTable counts the multiplications by the last key seen and holds its
// table once built. One key at a time: a process encrypts to one election.
type keyTable struct {
	enc  [group.Size]byte
	uses atomic.Int64
	once sync.Once
	t    *group.FixedBase
}

var lastKey atomic.Pointer[keyTable]

// keyFor prepares pk for mults multiplications. Keys are told apart by
// their encoding (an Element is mutable), which a decoded key keeps.
func keyFor(pk *group.Element, mults int) encKey {
	var enc [group.Size]byte
	pk.AppendBytes(enc[:0])
	kt := lastKey.Load()
	if kt == nil || kt.enc != enc {
		kt = &keyTable{enc: enc}
		lastKey.Store(kt)
	}
	if kt.uses.Add(int64(mults)) <= tableAfter {
		return encKey{pk: pk}
	}
	kt.once.Do(func() {
		k, err := group.DecodeElement(kt.enc[:])
		if err != nil {
			panic("ballot: cannot decode the encoding of a key: " + err.Error())
		}
		kt.t = group.NewFixedBase(k)
	})
	return encKey{pk: pk, t: kt.t}
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
