package batch

import (
	"crypto/rand"
	"reflect"
	"testing"

	"github.com/urna-vote/urna/internal/group"
)

// dlogEq adds the equation s·G - c·X - R = 0 for a Schnorr-style triple.
func addSchnorr(v *Verifier, owner int, x *group.Scalar, bad bool) {
	k, _ := group.RandomScalar(rand.Reader)
	c, _ := group.RandomScalar(rand.Reader)
	X := group.NewElement().ScalarBaseMult(x)
	R := group.NewElement().ScalarBaseMult(k)
	s := group.NewScalar().Add(k, group.NewScalar().Mul(c, x))
	if bad {
		s.Add(s, group.ScalarFromUint64(1))
	}
	v.Add(owner).G(s).Term(group.NewScalar().Neg(c), X).Term(group.NewScalar().Neg(group.ScalarFromUint64(1)), R)
}

func TestBatch(t *testing.T) {
	for _, badSet := range [][]int{nil, {3}, {0, 17, 63}} {
		v := New()
		isBad := map[int]bool{}
		for _, b := range badSet {
			isBad[b] = true
		}
		for i := 0; i < 64; i++ {
			x, _ := group.RandomScalar(rand.Reader)
			addSchnorr(v, i, x, isBad[i])
		}
		ok, err := v.Verify(rand.Reader)
		if err != nil || ok != (len(badSet) == 0) {
			t.Fatalf("bad=%v: Verify = %v, %v", badSet, ok, err)
		}
		failed, err := v.Failed(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(badSet) == 0 {
			badSet = nil
		}
		if !reflect.DeepEqual(failed, badSet) {
			t.Fatalf("Failed = %v, want %v", failed, badSet)
		}
	}
}

func TestFixedBase(t *testing.T) {
	// x·K - x·K = 0 through a shared base and an explicit term; a wrong coefficient fails.
	K := group.NewElement().ScalarBaseMult(group.ScalarFromUint64(77))
	for _, delta := range []uint64{0, 1} {
		v := New()
		kb := v.Base(K)
		x := group.ScalarFromUint64(5)
		v.Add(0).Fixed(kb, x).Term(group.NewScalar().Neg(group.ScalarFromUint64(5+delta)), K)
		v.Add(1).Fixed(kb, x).Fixed(kb, x).G(group.NewScalar().Neg(group.ScalarFromUint64(770)))
		ok, _ := v.Verify(rand.Reader)
		if ok != (delta == 0) {
			t.Fatalf("delta=%d: ok=%v", delta, ok)
		}
	}
}

// TestAttackCancellingErrors: two false equations among true ones whose
// errors cancel in an unweighted sum (+G and −G). Plain equations get the
// batch's weights; pre-weighted ones (AddWeighted) carry their caller's
// random weights, as the contract requires. Both false ones must be found.
func TestAttackCancellingErrors(t *testing.T) {
	for _, weighted := range []bool{false, true} {
		v := New()
		add := v.Add
		one := group.ScalarFromUint64(1)
		minus1 := group.NewScalar().Neg(one)
		if weighted {
			add = v.AddWeighted
			var b [32]byte
			for _, s := range []*group.Scalar{one, minus1} {
				rand.Read(b[:16])
				s.Mul(s, weight(b[:16]))
			}
		}
		for i := 0; i < 10; i++ {
			x, _ := group.RandomScalar(rand.Reader)
			addSchnorr(v, i, x, false)
		}
		add(10).G(one)    // G = 0: false
		add(11).G(minus1) // −G = 0: false, and cancels the one before
		ok, err := v.Verify(rand.Reader)
		if err != nil || ok {
			t.Fatalf("weighted=%v: Verify = %v, %v; the cancelling pair passed", weighted, ok, err)
		}
		failed, err := v.Failed(rand.Reader)
		if err != nil || !reflect.DeepEqual(failed, []int{10, 11}) {
			t.Fatalf("weighted=%v: Failed = %v, %v", weighted, failed, err)
		}
	}
}

// TestWeightRange: weights are below 2^128 and never zero.
func TestWeightRange(t *testing.T) {
	if z := weight(make([]byte, 16)); !z.Equal(group.ScalarFromUint64(1)) {
		t.Fatal("an all-zero draw must give weight 1")
	}
	max := make([]byte, 16)
	for i := range max {
		max[i] = 0xff
	}
	b := weight(max).Bytes()
	for _, x := range b[16:] {
		if x != 0 {
			t.Fatalf("weight %x is not below 2^128", b)
		}
	}
}
