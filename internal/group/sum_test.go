package group

import "testing"

// TestVarTimeSumDifferential checks VarTimeSum against circl's constant-time
// Add and Sub on elements made both ways (decoded and by arithmetic),
// including the identity and sums that return to it.
func TestVarTimeSumDifferential(t *testing.T) {
	els := randomElements(t, "varTimeSum", 24)
	var decoded []*Element
	for _, e := range els {
		d, err := DecodeElement(e.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		decoded = append(decoded, d)
	}
	var s VarTimeSum
	if !s.Element().IsIdentity() {
		t.Fatal("zero VarTimeSum is not the identity")
	}
	want := NewElement()
	for i := range els {
		x := els[i]
		if i%2 == 1 {
			x = decoded[i]
		}
		if i%5 == 3 {
			s.Sub(x)
			want.Sub(want, els[i])
		} else {
			s.Add(x)
			want.Add(want, els[i])
		}
		if got := s.Element(); !got.Equal(want) || string(got.Bytes()) != string(want.Bytes()) {
			t.Fatalf("after %d terms: VarTimeSum %x, circl %x", i+1, got.Bytes(), want.Bytes())
		}
	}
	s.Add(NewElement())  // the identity changes nothing
	for i := range els { // take everything out again, in another order
		j := len(els) - 1 - i
		if j%5 == 3 {
			s.Add(decoded[j])
		} else {
			s.Sub(decoded[j])
		}
	}
	if !s.Element().IsIdentity() {
		t.Fatalf("sum minus its terms is %x, not the identity", s.Element().Bytes())
	}
}

// TestVarTimeSumAddMul: AddMul and SubMul agree with ScalarMult for the
// weights of SPEC.md §5.3 and the edges.
func TestVarTimeSumAddMul(t *testing.T) {
	els := randomElements(t, "addmul", 24)
	for i, w := range []uint32{0, 1, 2, 3, 7, 8, 255, 256, 999, 1000, 1 << 20, 0xFFFFFFFF} {
		p, q := els[2*i], els[2*i+1]
		var s VarTimeSum
		s.Add(q)
		s.AddMul(w, p)
		want := NewElement().Add(q, NewElement().ScalarMult(ScalarFromUint64(uint64(w)), p))
		if !s.Element().Equal(want) {
			t.Fatalf("AddMul(%d)", w)
		}
		s.SubMul(w, p)
		if !s.Element().Equal(q) {
			t.Fatalf("SubMul(%d)", w)
		}
		var z VarTimeSum
		z.AddMul(w, NewElement())
		if !z.Element().IsIdentity() {
			t.Fatalf("AddMul(%d, identity)", w)
		}
	}
}
