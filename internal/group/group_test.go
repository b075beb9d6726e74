package group

import (
	"bytes"
	"encoding/hex"
	"io"
	"math/big"
	"os"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestRFC9496Vectors(t *testing.T) {
	multiples, bads := loadVectors(t)
	acc := NewElement()
	for i, want := range multiples {
		if got := hex.EncodeToString(acc.Bytes()); got != want {
			t.Errorf("%d·G = %s, want %s", i, got, want)
		}
		if got := hex.EncodeToString(NewElement().ScalarBaseMult(ScalarFromUint64(uint64(i))).Bytes()); got != want {
			t.Errorf("ScalarBaseMult(%d) = %s, want %s", i, got, want)
		}
		e, err := DecodeElement(golden.Hex(t, want))
		if err != nil || !e.Equal(acc) {
			t.Errorf("decode %d·G: %v", i, err)
		}
		acc.Add(acc, Generator())
	}
	for _, bad := range bads {
		e := Generator()
		if _, err := e.SetCanonicalBytes(golden.Hex(t, bad)); err == nil {
			t.Errorf("accepted invalid encoding %s", bad)
		}
		if !e.Equal(Generator()) {
			t.Errorf("failed decode of %s changed the receiver", bad)
		}
	}
}

func TestElementDecodeRejects(t *testing.T) {
	g := Generator().Bytes()
	for name, b := range map[string][]byte{
		"empty":    nil,
		"short":    g[:31],
		"trailing": append(append([]byte{}, g...), 0),
	} {
		if _, err := DecodeElement(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DecodeNonIdentity(make([]byte, 32)); err != ErrIdentity {
		t.Errorf("DecodeNonIdentity(identity) = %v, want ErrIdentity", err)
	}
	if _, err := DecodeNonIdentity(g); err != nil {
		t.Errorf("DecodeNonIdentity(G) = %v", err)
	}
}

// ℓ in little-endian.
const orderHex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"

func TestScalarCanonical(t *testing.T) {
	l := golden.Hex(t, orderHex)
	lm1 := append([]byte{}, l...)
	lm1[0]--
	s, err := DecodeScalar(lm1)
	if err != nil {
		t.Fatalf("ℓ-1 rejected: %v", err)
	}
	if !NewScalar().Add(s, ScalarFromUint64(1)).IsZero() {
		t.Fatal("(ℓ-1)+1 != 0")
	}
	lp1 := append([]byte{}, l...)
	lp1[0]++
	high := make([]byte, 32)
	high[31] = 0x80
	for name, b := range map[string][]byte{"ℓ": l, "ℓ+1": lp1, "2^255": high, "short": l[:31], "long": append(lm1, 0)} {
		x := ScalarFromUint64(7)
		if _, err := x.SetCanonicalBytes(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if !x.Equal(ScalarFromUint64(7)) {
			t.Errorf("%s: failed decode changed the receiver", name)
		}
	}
}

func TestScalarArithmetic(t *testing.T) {
	r := seeded.Raw("arith")
	for i := 0; i < 50; i++ {
		a, _ := RandomScalar(r)
		b, _ := RandomNonZeroScalar(r)
		// (a·b)/b == a, (a+b)-b == a, a + (-a) == 0
		q := NewScalar().Mul(a, b)
		q.Mul(q, NewScalar().Invert(b))
		if !q.Equal(a) {
			t.Fatal("a·b/b != a")
		}
		if !NewScalar().Sub(NewScalar().Add(a, b), b).Equal(a) {
			t.Fatal("a+b-b != a")
		}
		if !NewScalar().Add(a, NewScalar().Neg(a)).IsZero() {
			t.Fatal("a-a != 0")
		}
		// (a+b)·G == a·G + b·G
		lhs := NewElement().ScalarBaseMult(NewScalar().Add(a, b))
		rhs := NewElement().Add(NewElement().ScalarBaseMult(a), NewElement().ScalarMult(b, Generator()))
		if !lhs.Equal(rhs) {
			t.Fatal("distributivity failed")
		}
		if !NewElement().Sub(lhs, rhs).IsIdentity() {
			t.Fatal("x - x is not the identity")
		}
	}
}

func TestRandomScalarDeterministic(t *testing.T) {
	a, _ := RandomScalar(seeded.Raw("x"))
	b, _ := RandomScalar(seeded.Raw("x"))
	c, _ := RandomScalar(seeded.Raw("y"))
	if !a.Equal(b) || a.Equal(c) {
		t.Fatal("RandomScalar does not follow its reader")
	}
	if _, err := RandomScalar(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("short reader accepted")
	}
}

func TestHashToScalarKAT(t *testing.T) {
	// Pinned: HashToScalar("abc", "urna/v1/test") (regenerate only with a SPEC change).
	got := hex.EncodeToString(HashToScalar([]byte("abc"), []byte("urna/v1/test")).Bytes())
	raw, err := os.ReadFile("testdata/hash_to_scalar.txt")
	if err != nil {
		t.Fatal(err)
	}
	if want := string(bytes.TrimSpace(raw)); got != want {
		t.Fatalf("HashToScalar KAT = %s, want %s", got, want)
	}
}

func naiveSum(s []*Scalar, p []*Element) *Element {
	acc := NewElement()
	for i := range p {
		acc.Add(acc, NewElement().ScalarMult(s[i], p[i]))
	}
	return acc
}

// mixedScalars returns n scalars: every k-th one the next of edges in turn,
// the others random from r.
func mixedScalars(r io.Reader, edges []*Scalar, n, k int) []*Scalar {
	s := make([]*Scalar, n)
	for i := range s {
		if i%k == 0 {
			s[i] = edges[(i/k)%len(edges)]
		} else {
			s[i], _ = RandomScalar(r)
		}
	}
	return s
}

func TestVarTimeMultiScalarMult(t *testing.T) {
	r := seeded.Raw("msm")
	lm1, _ := DecodeScalar(golden.Hex(t, "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"))
	edges := []*Scalar{NewScalar(), ScalarFromUint64(1), ScalarFromUint64(15), ScalarFromUint64(16), lm1}
	for _, n := range []int{0, 1, 2, 3, 5, 47, 48, 49, 100, 300} {
		s := mixedScalars(r, edges, n, 3)
		p := make([]*Element, n)
		for i := range s {
			k, _ := RandomScalar(r)
			p[i] = NewElement().ScalarBaseMult(k)
			if i == 1 {
				p[i] = NewElement() // identity point
			}
		}
		if got, want := VarTimeMultiScalarMult(s, p), naiveSum(s, p); !got.Equal(want) {
			t.Errorf("n=%d: MSM disagrees with the naive sum", n)
		}
	}
}

func BenchmarkScalarBaseMult(b *testing.B) {
	s, _ := RandomScalar(seeded.Raw("b"))
	e := NewElement()
	for b.Loop() {
		e.ScalarBaseMult(s)
	}
}

func BenchmarkScalarMult(b *testing.B) {
	s, _ := RandomScalar(seeded.Raw("b"))
	p := Generator()
	e := NewElement()
	for b.Loop() {
		e.ScalarMult(s, p)
	}
}

func BenchmarkDecodeElement(b *testing.B) {
	enc := NewElement().ScalarBaseMult(ScalarFromUint64(12345)).Bytes()
	for b.Loop() {
		if _, err := DecodeElement(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMSM measures an n-term MSM. With decoded set the points come from
// DecodeElement, as in batch verification of parsed ballots; otherwise they
// are results of arithmetic.
func benchMSM(b *testing.B, n int, decoded bool) {
	r := seeded.Raw("bm")
	s := make([]*Scalar, n)
	p := make([]*Element, n)
	for i := range s {
		s[i], _ = RandomScalar(r)
		k, _ := RandomScalar(r)
		p[i] = NewElement().ScalarBaseMult(k)
		if decoded {
			p[i], _ = DecodeElement(p[i].Bytes())
		}
	}
	b.ResetTimer()
	for b.Loop() {
		VarTimeMultiScalarMult(s, p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1000, "µs/term")
}

func BenchmarkMSM3(b *testing.B)           { benchMSM(b, 3, false) }
func BenchmarkMSM64(b *testing.B)          { benchMSM(b, 64, false) }
func BenchmarkMSM8192(b *testing.B)        { benchMSM(b, 8192, false) }
func BenchmarkMSM3Decoded(b *testing.B)    { benchMSM(b, 3, true) }
func BenchmarkMSM64Decoded(b *testing.B)   { benchMSM(b, 64, true) }
func BenchmarkMSM8192Decoded(b *testing.B) { benchMSM(b, 8192, true) }

// TestFixedBaseMatchesCircl: the table's s·P + g·G equals circl's
// constant-time ScalarMult and ScalarBaseMult, on random and edge scalars.
func TestFixedBaseMatchesCircl(t *testing.T) {
	p := NewElement().ScalarBaseMult(HashToScalar([]byte("fixed base"), []byte("test")))
	tb := NewFixedBase(p)
	minus1 := NewScalar().Neg(ScalarFromUint64(1))
	cases := [][2]*Scalar{{NewScalar(), NewScalar()}, {ScalarFromUint64(1), NewScalar()}, {NewScalar(), ScalarFromUint64(1)}, {minus1, minus1}}
	for i := range 50 {
		cases = append(cases, [2]*Scalar{HashToScalar([]byte{byte(i)}, []byte("s")), HashToScalar([]byte{byte(i)}, []byte("g"))})
	}
	for i, c := range cases {
		want := NewElement().ScalarMult(c[0], p)
		want.Add(want, circlBaseMult(c[1]))
		got := tb.MulAddBase(c[0], c[1])
		if !got.Equal(want) || string(got.Bytes()) != string(want.Bytes()) {
			t.Fatalf("case %d: table gives %x, circl %x", i, got.Bytes(), want.Bytes())
		}
	}
}

// circlBaseMult is s·G by circl's own constant-time MulGen, the reference
// for ScalarBaseMult and FixedBase.
func circlBaseMult(s *Scalar) *Element {
	e := NewElement()
	e.dst().MulGen(s.v())
	return e.done()
}

// TestScalarBaseMultMatchesCircl: the comb on G equals circl's MulGen on
// edge scalars (0, 1, ℓ−1, 2^252, small values, digits at ±8) and random
// ones, in encoding and as an element; and a FixedBase of the identity and
// of G work.
func TestScalarBaseMultMatchesCircl(t *testing.T) {
	r := seeded.Raw("base-mult")
	cases := edgeScalars(t)
	for _, v := range []uint64{7, 8, 9, 0x88888888, 0x77777777, 0xffffffffffffffff} {
		cases = append(cases, ScalarFromUint64(v), NewScalar().Neg(ScalarFromUint64(v)))
	}
	for range 100 {
		s, _ := RandomScalar(r)
		cases = append(cases, s)
	}
	fbG, fbO := NewFixedBase(Generator()), NewFixedBase(NewElement())
	for i, s := range cases {
		want := circlBaseMult(s)
		got := NewElement().ScalarBaseMult(s)
		if !bytes.Equal(got.Bytes(), want.Bytes()) || !got.Equal(want) || !want.Equal(got) {
			t.Fatalf("case %d: ScalarBaseMult %x, circl %x", i, got.Bytes(), want.Bytes())
		}
		// The result works in circl's arithmetic too.
		if sum := NewElement().Add(got, want); !bytes.Equal(sum.Bytes(), NewElement().ScalarMult(ScalarFromUint64(2), want).Bytes()) {
			t.Fatalf("case %d: result unusable in circl arithmetic", i)
		}
		if got := fbG.MulAddBase(s, s); !bytes.Equal(got.Bytes(), NewElement().ScalarMult(ScalarFromUint64(2), want).Bytes()) {
			t.Fatalf("case %d: FixedBase(G)", i)
		}
		if got := fbO.MulAddBase(s, s); !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("case %d: FixedBase(identity)", i)
		}
	}
}

// TestRadix16: the digits are in [-8, 8] and recompose the scalar.
func TestRadix16(t *testing.T) {
	r := seeded.Raw("radix16")
	cases := edgeScalars(t)
	for range 200 {
		s, _ := RandomScalar(r)
		cases = append(cases, s)
	}
	sixteen := new(big.Int).SetInt64(16)
	for _, s := range cases {
		b := [Size]byte(s.Bytes())
		e := radix16(&b)
		sum := new(big.Int)
		for i := 63; i >= 0; i-- {
			if e[i] < -8 || e[i] > 8 {
				t.Fatalf("%x: digit %d is %d", b, i, e[i])
			}
			sum.Mul(sum, sixteen).Add(sum, big.NewInt(int64(e[i])))
		}
		if sum.Cmp(new(big.Int).SetBytes(reverse(b[:]))) != 0 {
			t.Fatalf("%x: digits recompose to %x", b, sum)
		}
	}
}

// BenchmarkNewFixedBase is the cost of a table, to weigh against the
// multiplications it saves (ballot.keyFor).
func BenchmarkNewFixedBase(b *testing.B) {
	p := NewElement().ScalarBaseMult(ScalarFromUint64(99))
	for b.Loop() {
		NewFixedBase(p)
	}
}

func BenchmarkFixedBaseMulAddBase(b *testing.B) {
	tb := NewFixedBase(NewElement().ScalarBaseMult(ScalarFromUint64(99)))
	s, g := HashToScalar([]byte("s"), []byte("b")), HashToScalar([]byte("g"), []byte("b"))
	for b.Loop() {
		tb.MulAddBase(s, g)
	}
}

func BenchmarkCirclMulGen(b *testing.B) {
	s := HashToScalar([]byte("s"), []byte("b"))
	for b.Loop() {
		circlBaseMult(s).Bytes()
	}
}
