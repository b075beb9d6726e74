package group

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"sync"
	"testing"

	fp "github.com/cloudflare/circl/math/fp25519"

	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// Differential tests of the fast path (point.go) against circl.

func circlDecode(b []byte) ([]byte, bool) {
	e := g.NewElement()
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, false
	}
	enc, err := e.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return enc, true
}

func fastDecode(b []byte) (*point, bool) {
	if len(b) != Size {
		return nil, false
	}
	var p point
	if !p.setCanonicalBytes((*[Size]byte)(b)) {
		return nil, false
	}
	return &p, true
}

// onCurve checks -X²Z² + Y²Z² = Z⁴ + d·X²Y² and X·Y = Z·T, i.e. that p is a
// valid extended point of edwards25519.
func onCurve(p *point) bool {
	var x2, y2, z2, z4, l, r, t fp.Elt
	fp.Sqr(&x2, &p.X)
	fp.Sqr(&y2, &p.Y)
	fp.Sqr(&z2, &p.Z)
	fp.Sqr(&z4, &z2)
	fp.Sub(&l, &y2, &x2)
	fp.Mul(&l, &l, &z2)
	fp.Mul(&r, &x2, &y2)
	fp.Mul(&r, &r, &feD)
	fp.Add(&r, &r, &z4)
	fp.Mul(&t, &p.X, &p.Y)
	var zt fp.Elt
	fp.Mul(&zt, &p.Z, &p.T)
	return feEqual(&l, &r) == 1 && feEqual(&t, &zt) == 1 && feIsZero(&p.Z) == 0
}

// checkDecode requires the fast and circl decoders to agree on b: same
// decision, and for a valid b a point on the curve that re-encodes to b
// under both encoders.
func checkDecode(t *testing.T, b []byte) bool {
	t.Helper()
	want, wok := circlDecode(b)
	p, ok := fastDecode(b)
	if ok != wok {
		t.Fatalf("%x: fast decoder says %v, circl %v", b, ok, wok)
	}
	if !ok {
		return false
	}
	if !onCurve(p) {
		t.Fatalf("%x: decoded point is not on the curve", b)
	}
	if enc := p.bytes(); !bytes.Equal(enc[:], b) || !bytes.Equal(want, b) {
		t.Fatalf("%x: re-encodes to %x (fast) and %x (circl)", b, enc, want)
	}
	return true
}

func loadVectors(t testing.TB) (multiples, bad []string) {
	raw, err := os.ReadFile("testdata/rfc9496.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Multiples []string `json:"small_multiples"`
		Bad       []string `json:"bad_encodings"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Multiples) != 16 || len(v.Bad) != 29 {
		t.Fatalf("vector file truncated: %d multiples, %d bad", len(v.Multiples), len(v.Bad))
	}
	return v.Multiples, v.Bad
}

func TestFastRFC9496Vectors(t *testing.T) {
	multiples, bad := loadVectors(t)
	var acc point
	acc.setIdentity()
	gen, _ := fastDecode(golden.Hex(t, multiples[1]))
	for i, h := range multiples {
		b := golden.Hex(t, h)
		if !checkDecode(t, b) {
			t.Fatalf("%d·G rejected", i)
		}
		// The fast addition chain reproduces the multiples too.
		if enc := acc.bytes(); hex.EncodeToString(enc[:]) != h {
			t.Errorf("fast %d·G = %x, want %s", i, enc, h)
		}
		p, _ := fastDecode(b)
		if !p.equal(&acc) || p.isIdentity() != (i == 0) {
			t.Errorf("fast %d·G: equality or identity check wrong", i)
		}
		acc.add(&acc, gen)
	}
	for _, h := range bad {
		if checkDecode(t, golden.Hex(t, h)) {
			t.Errorf("accepted invalid encoding %s", h)
		}
	}
}

func TestFastDecodeRandomValid(t *testing.T) {
	r := seeded.Raw("valid")
	var buf [64]byte
	for i := 0; i < 10000; i++ {
		r.Read(buf[:])
		// HashToElement is circl's and independent of the fast path.
		b := HashToElement(buf[:], []byte("urna/test/valid")).Bytes()
		if !checkDecode(t, b) {
			t.Fatalf("valid encoding %x rejected", b)
		}
	}
}

func TestFastDecodeRandomBytes(t *testing.T) {
	r := seeded.Raw("random")
	accepted := 0
	for i := 0; i < 20000; i++ {
		b := make([]byte, Size)
		r.Read(b)
		if i >= 10000 {
			// Half with the cheap checks passed, to reach the square check.
			b[31] &= 0x7f
			b[0] &^= 1
		}
		if checkDecode(t, b) {
			accepted++
		}
	}
	if accepted < 500 {
		t.Fatalf("only %d random strings accepted: the test is not reaching the deep checks", accepted)
	}
	// Edge encodings: 0, 1, p-1, p, p+1, p+2, 2^255-1, 2^256-1 and s = ±1
	// (where u2... vanishes).
	pm := fp.P()
	edges := [][]byte{make([]byte, 32), {1}, {2}, pm[:]}
	for _, delta := range []int64{-1, 1, 2, 3, 19, 20} {
		v := new(big.Int).Add(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19)), big.NewInt(delta))
		edges = append(edges, leBytes(v))
	}
	all := bytes.Repeat([]byte{0xff}, 32)
	edges = append(edges, all, append(bytes.Repeat([]byte{0xff}, 31), 0x7f))
	for _, b := range edges {
		b = append(b, make([]byte, 32-len(b))...)
		checkDecode(t, b)
	}
}

func leBytes(v *big.Int) []byte {
	b := v.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

func TestFieldHelpers(t *testing.T) {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	toBig := func(x *fp.Elt) *big.Int {
		b := *x
		for i, j := 0, 31; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return new(big.Int).Mod(new(big.Int).SetBytes(b[:]), p)
	}
	exp := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 252), big.NewInt(3))
	r := seeded.Raw("field")
	for i := 0; i < 200; i++ {
		var a, z fp.Elt
		r.Read(a[:])
		fePow22523(&z, &a)
		if toBig(&z).Cmp(new(big.Int).Exp(toBig(&a), exp, p)) != 0 {
			t.Fatal("fePow22523 is wrong")
		}
		// sqrtRatioM1(a, b): r² · b = a (square) or = SQRT_M1·a (non-square), r non-negative.
		var b, rr fp.Elt
		r.Read(b[:])
		sq := sqrtRatioM1(&rr, &a, &b)
		lhs := new(big.Int).Mod(new(big.Int).Mul(new(big.Int).Exp(toBig(&rr), big.NewInt(2), p), toBig(&b)), p)
		want := toBig(&a)
		if sq == 0 {
			want.Mod(want.Mul(want, toBig(&feSqrtM1)), p)
		}
		if lhs.Cmp(want) != 0 || toBig(&rr).Bit(0) != 0 {
			t.Fatalf("sqrtRatioM1 wrong (square=%d)", sq)
		}
		if (new(big.Int).ModSqrt(new(big.Int).Mod(new(big.Int).Mul(toBig(&a), new(big.Int).ModInverse(toBig(&b), p)), p), p) != nil) != (sq == 1) {
			t.Fatal("sqrtRatioM1 square decision wrong")
		}
	}
	var z, rr fp.Elt
	if sqrtRatioM1(&rr, &feOne, &z) != 0 || feIsZero(&rr) != 1 {
		t.Fatal("sqrtRatioM1(1, 0) must be (false, 0)")
	}
	if sqrtRatioM1(&rr, &z, &feOne) != 1 || feIsZero(&rr) != 1 {
		t.Fatal("sqrtRatioM1(0, 1) must be (true, 0)")
	}
	// Constants: SQRT_M1² = -1, INVSQRT_A_MINUS_D² · (a - d) = 1, 2d = d + d.
	var s, m1 fp.Elt
	fp.Sqr(&s, &feSqrtM1)
	fp.Neg(&m1, &feOne)
	if feEqual(&s, &m1) != 1 {
		t.Fatal("SQRT_M1")
	}
	var amd fp.Elt
	fp.Sub(&amd, &m1, &feD)
	fp.Sqr(&s, &feInvSqrtAMinusD)
	fp.Mul(&s, &s, &amd)
	if feEqual(&s, &feOne) != 1 {
		t.Fatal("INVSQRT_A_MINUS_D")
	}
	fp.Add(&s, &feD, &feD)
	if feEqual(&s, &feD2) != 1 {
		t.Fatal("2d")
	}
	var d121666 fp.Elt
	d121666[0], d121666[1], d121666[2] = 0x42, 0xdb, 0x01 // 121666
	fp.Mul(&s, &feD, &d121666)
	var m121665 fp.Elt
	m121665[0], m121665[1], m121665[2] = 0x41, 0xdb, 0x01
	fp.Neg(&m121665, &m121665)
	if feEqual(&s, &m121665) != 1 {
		t.Fatal("d = -121665/121666")
	}
}

// randomElements returns n elements made with circl arithmetic, starting
// with the identity and G.
func randomElements(t testing.TB, seed string, n int) []*Element {
	r := seeded.Raw(seed)
	out := []*Element{NewElement(), Generator()}
	for len(out) < n {
		k, _ := RandomScalar(r)
		out = append(out, NewElement().ScalarBaseMult(k))
	}
	return out[:n]
}

func fastOf(t testing.TB, e *Element) *point {
	p, ok := fastDecode(e.Bytes())
	if !ok {
		t.Fatalf("fast decoder rejects %x", e.Bytes())
	}
	return p
}

func TestFastGroupOps(t *testing.T) {
	es := randomElements(t, "ops", 60)
	// A 4-torsion point (i, 0): adding it changes the edwards25519 point
	// but not the ristretto255 element.
	var t4 point
	t4.X, t4.Y, t4.Z, t4.T = feSqrtM1, feZero, feOne, feZero
	if !onCurve(&t4) {
		t.Fatal("(i, 0) is not on the curve")
	}
	for i, x := range es {
		px := fastOf(t, x)
		// Doubling, needT or not (then add to recompute T through an encode).
		var d point
		d.double(px, true)
		if enc := d.bytes(); !bytes.Equal(enc[:], NewElement().Double(x).Bytes()) || !onCurve(&d) {
			t.Fatalf("double(%d) disagrees with circl", i)
		}
		d.double(px, false)
		d.double(&d, true)
		if enc := d.bytes(); !bytes.Equal(enc[:], NewElement().Double(NewElement().Double(x)).Bytes()) {
			t.Fatalf("double without T (%d) disagrees with circl", i)
		}
		var n point
		n.neg(px)
		if enc := n.bytes(); !bytes.Equal(enc[:], NewElement().Neg(x).Bytes()) {
			t.Fatalf("neg(%d) disagrees with circl", i)
		}
		var tw point
		tw.add(px, &t4)
		if !tw.equal(px) || tw.bytes() != px.bytes() {
			t.Fatalf("P + T4 is not P in ristretto255 (%d)", i)
		}
		if !onCurve(&tw) {
			t.Fatal("P + T4 off the curve")
		}
		for j, y := range es {
			py := fastOf(t, y)
			want := NewElement().Add(x, y).Bytes()
			var s point
			s.add(px, py)
			if enc := s.bytes(); !bytes.Equal(enc[:], want) || !onCurve(&s) {
				t.Fatalf("add(%d, %d) disagrees with circl", i, j)
			}
			// Mixed addition and subtraction with an affine addend.
			var ac affineCached
			ac.fromAffine(py)
			s.addAffine(&tw, &ac)
			if enc := s.bytes(); !bytes.Equal(enc[:], want) {
				t.Fatalf("addAffine(%d, %d) disagrees with circl", i, j)
			}
			s.subAffine(px, &ac)
			if enc := s.bytes(); !bytes.Equal(enc[:], NewElement().Sub(x, y).Bytes()) {
				t.Fatalf("subAffine(%d, %d) disagrees with circl", i, j)
			}
			var c, nc cached
			c.fromPoint(&tw)
			s.addCached(py, nc.neg(&c))
			if enc := s.bytes(); !bytes.Equal(enc[:], NewElement().Sub(y, x).Bytes()) {
				t.Fatalf("addCached(neg) (%d, %d) disagrees with circl", i, j)
			}
			if px.equal(py) != x.Equal(y) || px.equal(py) != (i == j) {
				t.Fatalf("equal(%d, %d) wrong", i, j)
			}
		}
		var a point
		a.toAffine(&d)
		if a.bytes() != d.bytes() || !onCurve(&a) {
			t.Fatal("toAffine changed the element")
		}
		if px.isIdentity() != x.IsIdentity() || px.isIdentity() != (i == 0) {
			t.Fatalf("isIdentity(%d) wrong", i)
		}
	}
}

func TestGeneratorConstant(t *testing.T) {
	want, _ := g.Generator().MarshalBinary()
	if !bytes.Equal(Generator().Bytes(), want) || !Generator().Equal(&Element{p: g.Generator()}) || !Generator().Equal(NewElement().ScalarBaseMult(ScalarFromUint64(1))) {
		t.Fatal("fast generator is not circl's")
	}
	// Generator() is shared storage: writing one copy must not move G.
	x := Generator()
	x.Add(x, x)
	if !bytes.Equal(Generator().Bytes(), want) || bytes.Equal(x.Bytes(), want) {
		t.Fatal("Generator copies share mutable state")
	}
}

func TestZeroValueElement(t *testing.T) {
	var z Element
	if !z.IsIdentity() || !bytes.Equal(z.Bytes(), make([]byte, 32)) {
		t.Fatal("zero Element is not the identity")
	}
	id, _ := DecodeElement(make([]byte, 32))
	var z2 Element
	if !z.Equal(id) || !id.Equal(&z) || !z.Equal(&z2) || !id.IsIdentity() {
		t.Fatal("zero Element != decoded identity")
	}
	var y Element
	if !y.Add(&z, Generator()).Equal(Generator()) {
		t.Fatal("0 + G != G")
	}
	var w Element
	w.Set(&z)
	if !w.IsIdentity() {
		t.Fatal("Set(zero)")
	}
	var n Element
	if !n.Neg(&n).IsIdentity() || !new(Element).Double(new(Element)).IsIdentity() {
		t.Fatal("ops on zero values")
	}
	if !new(Element).ScalarMult(ScalarFromUint64(5), new(Element)).IsIdentity() {
		t.Fatal("5·0 != 0")
	}
	r := VarTimeMultiScalarMult([]*Scalar{ScalarFromUint64(3), new(Scalar)}, []*Element{new(Element), Generator()})
	if !r.IsIdentity() {
		t.Fatal("MSM of zero values")
	}
	if !VarTimeMultiScalarMult(nil, nil).IsIdentity() {
		t.Fatal("empty MSM")
	}
}

func TestDecodedThenConstantTime(t *testing.T) {
	es := randomElements(t, "ct", 20)
	r := seeded.Raw("ct-scalars")
	for i, x := range es {
		d, err := DecodeElement(x.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if d.p != nil || d.d.Load() == nil {
			t.Fatal("decoder did not take the fast path")
		}
		if !d.Equal(x) || !x.Equal(d) {
			t.Fatalf("%d: decoded != original", i)
		}
		s, _ := RandomScalar(r)
		if !NewElement().ScalarMult(s, d).Equal(NewElement().ScalarMult(s, x)) {
			t.Fatalf("%d: ScalarMult on a decoded element", i)
		}
		y := es[(i+1)%len(es)]
		dy, _ := DecodeElement(y.Bytes())
		if !NewElement().Add(d, dy).Equal(NewElement().Add(x, y)) ||
			!NewElement().Sub(d, dy).Equal(NewElement().Sub(x, y)) {
			t.Fatalf("%d: Add/Sub on decoded elements", i)
		}
		// In place, with aliasing, on a shared representation.
		c := d.Clone()
		c.Add(c, c)
		if !c.Equal(NewElement().Double(x)) || !d.Equal(x) {
			t.Fatalf("%d: in-place Add on a clone changed the original", i)
		}
		c.Set(d)
		c.Neg(c)
		if !c.Equal(NewElement().Neg(x)) || !d.Equal(x) {
			t.Fatalf("%d: Neg on a clone", i)
		}
		// Reusing an arithmetic Element as decode target, and back.
		c.ScalarBaseMult(s)
		if _, err := c.SetCanonicalBytes(x.Bytes()); err != nil || !c.Equal(x) {
			t.Fatalf("%d: decode into a used Element", i)
		}
		c.Double(c)
		if !c.Equal(NewElement().Double(x)) {
			t.Fatalf("%d: Double after decode into a used Element", i)
		}
		if _, err := c.SetCanonicalBytes(make([]byte, 31)); err == nil || !c.Equal(NewElement().Double(x)) {
			t.Fatal("failed decode changed the receiver")
		}
		if !bytes.Equal(d.AppendBytes([]byte{7}), append([]byte{7}, x.Bytes()...)) {
			t.Fatal("AppendBytes")
		}
	}
	// MSM results are fast-path elements; they must work in circl too.
	m := VarTimeMultiScalarMult([]*Scalar{ScalarFromUint64(2), ScalarFromUint64(3)}, []*Element{Generator(), es[5]})
	want := NewElement().Add(NewElement().ScalarBaseMult(ScalarFromUint64(2)), NewElement().ScalarMult(ScalarFromUint64(3), es[5]))
	if !m.Equal(want) || !NewElement().Add(m, es[3]).Equal(NewElement().Add(want, es[3])) {
		t.Fatal("MSM result in constant-time ops")
	}
}

// TestDecodedConcurrentUse reads one decoded element from many goroutines
// (run with -race): materializing its circl form is the only write.
func TestDecodedConcurrentUse(t *testing.T) {
	x := randomElements(t, "conc", 3)[2]
	d, _ := DecodeElement(x.Bytes())
	want := NewElement().ScalarMult(ScalarFromUint64(9), x)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			if !NewElement().ScalarMult(ScalarFromUint64(9), d).Equal(want) {
				t.Error("concurrent ScalarMult")
			}
			VarTimeMultiScalarMult([]*Scalar{ScalarFromUint64(9)}, []*Element{d})
		})
	}
	wg.Wait()
}

func edgeScalars(t testing.TB) []*Scalar {
	lm1, err := DecodeScalar(golden.Hex(t, "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"))
	if err != nil {
		t.Fatal(err)
	}
	high, _ := DecodeScalar(golden.Hex(t, "0000000000000000000000000000000000000000000000000000000000000010")) // 2^252
	return []*Scalar{NewScalar(), ScalarFromUint64(1), lm1, ScalarFromUint64(2), high, NewScalar().Sub(lm1, ScalarFromUint64(1)), ScalarFromUint64(15), ScalarFromUint64(16)}
}

// TestMSMDifferential runs Straus and Pippenger (every window width) on the
// same inputs, decoded or not, with edge scalars, identity points and
// repeated points, against a sum of circl ScalarMults.
func TestMSMDifferential(t *testing.T) {
	r := seeded.Raw("msm-diff")
	edges := edgeScalars(t)
	pool := randomElements(t, "msm-pool", 40)
	// Short batch weights z < 2^128 and their negations ℓ − z, the scalars
	// of a batch's commitment terms, which the MSM runs as z·(−P).
	for i := 0; i < 6; i++ {
		var b [Size]byte
		if _, err := io.ReadFull(r, b[:16]); err != nil {
			t.Fatal(err)
		}
		z, _ := DecodeScalar(b[:])
		edges = append(edges, z, NewScalar().Neg(z))
	}
	for _, n := range []int{1, 2, 3, 7, 16, 33, 90} {
		s := mixedScalars(r, edges, n, 2)
		p := make([]*Element, n)
		for i := range s {
			p[i] = pool[(i*7)%len(pool)] // includes the identity and G, and repeats
			if i%3 == 1 {
				p[i], _ = DecodeElement(p[i].Bytes())
			}
		}
		want := naiveSum(s, p)
		got := VarTimeMultiScalarMult(s, p)
		if !got.Equal(want) || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("n=%d: VarTimeMultiScalarMult disagrees with circl", n)
		}
		sc := make([][Size]byte, n)
		pts := make([]*decoded, n)
		// Each term as it is (neg false) and, in scs, as VarTimeMultiScalarMult
		// prepares it (the shorter of s and ℓ − s, neg telling which).
		scs := make([][Size]byte, n)
		neg, none := make([]bool, n), make([]bool, n)
		for i := range s {
			sc[i] = [Size]byte(s[i].Bytes())
			scs[i] = sc[i]
			if sc[i] != [Size]byte{} {
				neg[i], _ = shorterSigned(&scs[i])
			}
			pts[i], _ = p[i].varTimePoint()
			if pts[i] == nil {
				pts[i] = &decoded{affine: true}
				pts[i].pt.setIdentity()
			}
		}
		check := func(name string, acc point) {
			t.Helper()
			if enc := acc.bytes(); !bytes.Equal(enc[:], want.Bytes()) {
				t.Fatalf("n=%d: %s disagrees with circl", n, name)
			}
		}
		check("straus", straus(sc, pts, none))
		check("straus, signed", straus(scs, pts, neg))
		for c := 2; c <= 15; c++ {
			check("pippenger", pippenger(sc, pts, none, c))
			check("pippenger, signed", pippenger(scs, pts, neg, c))
		}
		// Non-affine fast points (MSM results) as inputs.
		nonAff := make([]*decoded, n)
		for i := range pts {
			var q point
			q.double(&pts[i].pt, false)
			q.double(&q, true) // 4P
			var q2 point
			q2.add(&q, &pts[i].pt) // 5P
			nonAff[i] = &decoded{pt: q2}
		}
		want5 := naiveSum(s, p)
		want5.ScalarMult(ScalarFromUint64(5), want5)
		for _, c := range []int{3, 8} {
			if enc := pippenger(scs, nonAff, neg, c); enc.bytes() != [Size]byte(want5.Bytes()) {
				t.Fatalf("n=%d: pippenger on non-affine points", n)
			}
		}
		if enc := straus(scs, nonAff, neg); enc.bytes() != [Size]byte(want5.Bytes()) {
			t.Fatalf("n=%d: straus on non-affine points", n)
		}
	}
}

func TestMSMPlan(t *testing.T) {
	for _, n := range []int{1, 3, 32, 48} {
		if _, pip := msmPlan(n); pip {
			t.Errorf("%d terms should use Straus", n)
		}
	}
	if _, pip := msmPlan(64); !pip {
		t.Error("64 terms should use Pippenger")
	}
	if c, pip := msmPlan(8192); !pip || c < 8 || c > 13 {
		t.Errorf("8192 terms: c=%d pippenger=%v", c, pip)
	}
}

// FuzzDecodeFastVsCircl compares the fast decoder with circl's on arbitrary
// bytes: same decision, same element, and both round-trip.
func FuzzDecodeFastVsCircl(f *testing.F) {
	multiples, bad := loadVectors(f)
	for _, h := range append(multiples, bad...) {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		e, err := DecodeElement(b)
		if _, ok := circlDecode(b); ok != (err == nil) || len(b) != Size && err == nil {
			t.Fatalf("%x: DecodeElement err=%v, circl ok=%v", b, err, ok)
		}
		if err == nil && !bytes.Equal(e.Bytes(), b) {
			t.Fatalf("%x: DecodeElement round trip", b)
		}
	})
}

// TestConversionCache checks that the fast form cached by a VarTime use of
// an element made by arithmetic follows later writes to that element.
func TestConversionCache(t *testing.T) {
	es := randomElements(t, "cache", 4)
	x := NewElement().Add(es[2], es[3])
	want := NewElement().Add(es[2], es[3])
	one := []*Scalar{ScalarFromUint64(1)}
	if !VarTimeMultiScalarMult(one, []*Element{x}).Equal(want) || x.d.Load() == nil {
		t.Fatal("first VarTime use")
	}
	// Cached: circl ops on x still see x, and writing x drops the cache.
	if !NewElement().Add(x, es[2]).Equal(NewElement().Add(want, es[2])) {
		t.Fatal("circl op after caching")
	}
	y := x.Clone()
	x.Add(x, es[2])
	want.Add(want, es[2])
	if !VarTimeMultiScalarMult(one, []*Element{x}).Equal(want) || !x.Equal(want) {
		t.Fatal("write after caching")
	}
	if !y.Equal(NewElement().Add(es[2], es[3])) {
		t.Fatal("clone sharing the cache changed")
	}
	x.Neg(x)
	if !bytes.Equal(x.Bytes(), NewElement().Neg(want).Bytes()) {
		t.Fatal("Bytes after write")
	}
}

// TestSharedArithmeticElement has goroutines convert one element made by
// arithmetic at once (run with -race).
func TestSharedArithmeticElement(t *testing.T) {
	es := randomElements(t, "shared", 4)
	x := NewElement().Add(es[2], es[3])
	want := NewElement().ScalarMult(ScalarFromUint64(3), x)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			if !VarTimeMultiScalarMult([]*Scalar{ScalarFromUint64(3)}, []*Element{x}).Equal(want) ||
				!NewElement().ScalarMult(ScalarFromUint64(3), x).Equal(want) || !x.Equal(es[2].Clone().Add(es[2], es[3])) {
				t.Error("concurrent use")
			}
		})
	}
	wg.Wait()
}

// TestShorterSigned checks the MSM's sign choice against circl's negation:
// ℓ − s when that is shorter, s otherwise, and the bit length of the result.
func TestShorterSigned(t *testing.T) {
	r := seeded.Raw("shorter-signed")
	cases := edgeScalars(t)[1:] // non-zero
	for i := 0; i < 64; i++ {
		var b [Size]byte
		if _, err := io.ReadFull(r, b[:1+i%32]); err != nil {
			t.Fatal(err)
		}
		b[31] &= 0x0f
		if s, err := DecodeScalar(b[:]); err == nil && !s.IsZero() {
			cases = append(cases, s, NewScalar().Neg(s))
		}
	}
	for _, s := range cases {
		b := [Size]byte(s.Bytes())
		n := [Size]byte(NewScalar().Neg(s).Bytes())
		got := b
		neg, bl := shorterSigned(&got)
		bs, bn := new(big.Int).SetBytes(reverse(b[:])).BitLen(), new(big.Int).SetBytes(reverse(n[:])).BitLen()
		switch {
		case bn < bs && (!neg || got != n || bl != bn):
			t.Fatalf("%x: want ℓ − s (%d bits), got neg=%v %x (%d bits)", b, bn, neg, got, bl)
		case bn >= bs && (neg || got != b || bl != bs):
			t.Fatalf("%x: want s (%d bits), got neg=%v %x (%d bits)", b, bs, neg, got, bl)
		}
	}
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i, v := range b {
		r[len(b)-1-i] = v
	}
	return r
}
