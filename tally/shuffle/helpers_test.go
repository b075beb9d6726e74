package shuffle

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// seeded is a deterministic reader: SHA-256(seed || u64be counter) blocks.
// The pinned vector depends on it: do not change it.
type seeded struct {
	seed []byte
	ctr  uint64
	buf  []byte
}

func newRand(seed string) *seeded { return &seeded{seed: []byte(seed)} }

func (s *seeded) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			h := sha256.Sum256(binary.BigEndian.AppendUint64(append([]byte(nil), s.seed...), s.ctr))
			s.ctr++
			s.buf = h[:]
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return n, nil
}

// fixture is one honest shuffle: a key, its secret, N input rows of width w
// (encryptions of distinct messages), the outputs, the witness and a proof.
type fixture struct {
	x   *group.Scalar
	st  *Statement
	wit *Witness
	p   *Proof
	rng *seeded
}

func mustScalar(t testing.TB, rng *seeded) *group.Scalar {
	t.Helper()
	s, err := group.RandomNonZeroScalar(rng)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// encryptElement returns (r·G, M + r·K).
func encryptElement(key, m *group.Element, r *group.Scalar) *ballot.Ciphertext {
	b := group.NewElement().ScalarMult(r, key)
	return &ballot.Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: b.Add(b, m)}
}

// message returns the plaintext element of row i, component k: (1000·i + k + 1)·G.
func message(i, k int) *group.Element {
	return group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(1000*i + k + 1)))
}

func decrypt(x *group.Scalar, c *ballot.Ciphertext) *group.Element {
	return group.NewElement().Sub(c.Beta, group.NewElement().ScalarMult(x, c.Alpha))
}

func newFixture(t testing.TB, seed string, n, w int) *fixture {
	t.Helper()
	rng := newRand(seed)
	x := mustScalar(t, rng)
	key := group.NewElement().ScalarBaseMult(x)
	in := make([]Row, n)
	for i := range in {
		in[i] = make(Row, w)
		for k := range in[i] {
			in[i][k] = encryptElement(key, message(i, k), mustScalar(t, rng))
		}
	}
	out, wit, err := Shuffle(rng, key, in, w)
	if err != nil {
		t.Fatal(err)
	}
	st := &Statement{Context: []byte("test context " + seed), Key: key, Width: w, Inputs: in, Outputs: out}
	p, err := Prove(rng, st, wit)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{x: x, st: st, wit: wit, p: p, rng: rng}
}

func (f *fixture) verify() error { return VerifyVarTime(f.rng, f.st, f.p) }

// reprove proves st again with the fixture's witness (for statements changed
// before proving).
func (f *fixture) reprove(t testing.TB, st *Statement) *Proof {
	t.Helper()
	p, err := Prove(f.rng, st, f.wit)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// clone returns a deep copy of a statement's slices (elements are shared and
// never mutated).
func (st *Statement) clone() *Statement {
	c := *st
	c.Context = append([]byte(nil), st.Context...)
	cp := func(rows []Row) []Row {
		out := make([]Row, len(rows))
		for i, r := range rows {
			out[i] = append(Row(nil), r...)
		}
		return out
	}
	c.Inputs, c.Outputs = cp(st.Inputs), cp(st.Outputs)
	return &c
}

func (p *Proof) clone() *Proof {
	q, err := ParseProof(p.Bytes())
	if err != nil {
		panic(err)
	}
	return q
}
