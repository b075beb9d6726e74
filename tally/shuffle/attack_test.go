package shuffle

import (
	"errors"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// Every attack must be rejected. A changed statement is tried twice: with the
// honest proof, and with a fresh proof from the honest witness (a mixer that
// cheats while proving).

const attackN, attackW = 6, 3

func mustFail(t *testing.T, f *fixture, st *Statement, p *Proof, what string) {
	t.Helper()
	if err := VerifyVarTime(f.rng, st, p); err == nil {
		t.Fatalf("%s: the proof verified", what)
	}
}

// mustFailBoth tries st with the honest proof and with a proof made for st
// with the honest witness.
func mustFailBoth(t *testing.T, f *fixture, st *Statement, what string) {
	t.Helper()
	mustFail(t, f, st, f.p, what+" (honest proof)")
	if len(st.Inputs) == len(f.st.Inputs) && len(st.Outputs) == len(st.Inputs) {
		p, err := Prove(f.rng, st, f.wit)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyVarTime(f.rng, st, p); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%s (re-proved): got %v, want ErrInvalidProof", what, err)
		}
	}
}

func TestAttackReplacedCiphertext(t *testing.T) {
	f := newFixture(t, "attack replace", attackN, attackW)
	st := f.st.clone()
	// An encryption of a new vote in place of output 2, component 1.
	st.Outputs[2][1] = encryptElement(st.Key, message(99, 0), mustScalar(t, f.rng))
	mustFailBoth(t, f, st, "replaced output")
	st = f.st.clone()
	st.Inputs[0][0] = encryptElement(st.Key, message(98, 0), mustScalar(t, f.rng))
	mustFailBoth(t, f, st, "replaced input")
}

func TestAttackDuplicatedCiphertext(t *testing.T) {
	f := newFixture(t, "attack duplicate", attackN, attackW)
	st := f.st.clone()
	// Output 4 becomes a re-encryption of output 1: one ballot counted twice,
	// one dropped, N unchanged.
	st.Outputs[4] = make(Row, attackW)
	for k, c := range f.st.Outputs[1] {
		st.Outputs[4][k] = reEncrypt(group.NewFixedBase(st.Key), c, mustScalar(t, f.rng))
	}
	mustFailBoth(t, f, st, "duplicated row")
	st = f.st.clone()
	st.Outputs[4] = st.Outputs[1]
	mustFailBoth(t, f, st, "copied row")
}

func TestAttackDroppedBallot(t *testing.T) {
	f := newFixture(t, "attack drop", attackN, attackW)
	st := f.st.clone()
	st.Outputs = st.Outputs[:attackN-1]
	mustFail(t, f, st, f.p, "dropped output row")
	st = f.st.clone()
	st.Inputs, st.Outputs = st.Inputs[:attackN-1], st.Outputs[:attackN-1]
	mustFail(t, f, st, f.p, "dropped input and output rows")
	st = f.st.clone()
	st.Outputs[3] = st.Outputs[3][:attackW-1]
	mustFail(t, f, st, f.p, "dropped component")
}

func TestAttackSwappedOutputs(t *testing.T) {
	f := newFixture(t, "attack swap", attackN, attackW)
	st := f.st.clone()
	st.Outputs[0], st.Outputs[5] = st.Outputs[5], st.Outputs[0]
	mustFail(t, f, st, f.p, "swapped output rows")
	st = f.st.clone()
	st.Outputs[2][0], st.Outputs[3][0] = st.Outputs[3][0], st.Outputs[2][0]
	mustFailBoth(t, f, st, "components swapped between rows")
	st = f.st.clone()
	st.Outputs[2][0], st.Outputs[2][1] = st.Outputs[2][1], st.Outputs[2][0]
	mustFailBoth(t, f, st, "components swapped within a row")
}

// TestAttackOtherPermutation: a proof made with a witness whose permutation
// is not the one applied.
func TestAttackOtherPermutation(t *testing.T) {
	f := newFixture(t, "attack permutation", attackN, attackW)
	wit := &Witness{perm: append([]int(nil), f.wit.perm...), r: f.wit.r}
	wit.perm[0], wit.perm[1] = wit.perm[1], wit.perm[0]
	p, err := Prove(f.rng, f.st, wit)
	if err != nil {
		t.Fatal(err)
	}
	mustFail(t, f, f.st, p, "proof for another permutation")
}

func TestAttackReEncryptedUnderAnotherKey(t *testing.T) {
	f := newFixture(t, "attack key", attackN, attackW)
	other := group.NewElement().ScalarBaseMult(mustScalar(t, f.rng))
	out := make([]Row, attackN)
	for i, j := range f.wit.perm {
		out[i] = make(Row, attackW)
		for k, c := range f.st.Inputs[j] {
			out[i][k] = reEncrypt(group.NewFixedBase(other), c, f.wit.r[i][k])
		}
	}
	st := f.st.clone()
	st.Outputs = out
	mustFailBoth(t, f, st, "outputs re-encrypted under another key")
	// Only the α of one component re-randomised (β untouched).
	st = f.st.clone()
	c := st.Outputs[1][2]
	st.Outputs[1][2] = &ballot.Ciphertext{Alpha: group.NewElement().Add(c.Alpha, group.Generator()), Beta: c.Beta}
	mustFailBoth(t, f, st, "half a re-encryption")
}

func TestAttackProofMoved(t *testing.T) {
	f := newFixture(t, "attack moved", attackN, attackW)
	st := f.st.clone()
	st.Context = append(st.Context, '!')
	mustFail(t, f, st, f.p, "another context")
	st = f.st.clone()
	st.Key = group.NewElement().ScalarBaseMult(mustScalar(t, f.rng))
	mustFail(t, f, st, f.p, "another key")
	g := newFixture(t, "attack moved other", attackN, attackW)
	mustFail(t, f, g.st, f.p, "another shuffle's statement")
	st = f.st.clone()
	st.Inputs[1], st.Inputs[2] = st.Inputs[2], st.Inputs[1]
	mustFail(t, f, st, f.p, "inputs reordered")
}

func TestAttackWrongN(t *testing.T) {
	f := newFixture(t, "attack N", attackN, attackW)
	g := newFixture(t, "attack N+1", attackN+1, attackW)
	mustFail(t, f, g.st, f.p, "proof for N rows, statement of N+1")
	mustFail(t, g, f.st, g.p, "proof for N+1 rows, statement of N")
	h := newFixture(t, "attack w", attackN, attackW-1)
	mustFail(t, f, h.st, f.p, "proof for another width")
	// A width-w proof cut to N-1 rows field by field does not fit either.
	p := f.p.clone()
	p.C, p.CHat, p.THat, p.SHat, p.S = p.C[1:], p.CHat[1:], p.THat[1:], p.SHat[1:], p.S[1:]
	mustFail(t, f, f.st, p, "proof with a row removed")
}

// TestAttackEachProofField alters every element and scalar of the proof in
// turn (adding G or 1): each change must be caught.
func TestAttackEachProofField(t *testing.T) {
	f := newFixture(t, "attack fields", 3, 2)
	one := group.ScalarFromUint64(1)
	type field struct {
		name string
		get  func(p *Proof) any
	}
	fields := []field{
		{"T1", func(p *Proof) any { return &p.T1 }},
		{"T2", func(p *Proof) any { return &p.T2 }},
		{"T3", func(p *Proof) any { return &p.T3 }},
		{"S1", func(p *Proof) any { return &p.S1 }},
		{"S2", func(p *Proof) any { return &p.S2 }},
		{"S3", func(p *Proof) any { return &p.S3 }},
	}
	for i := range 3 {
		fields = append(fields,
			field{"C", func(p *Proof) any { return &p.C[i] }},
			field{"CHat", func(p *Proof) any { return &p.CHat[i] }},
			field{"THat", func(p *Proof) any { return &p.THat[i] }},
			field{"SHat", func(p *Proof) any { return &p.SHat[i] }},
			field{"S'", func(p *Proof) any { return &p.S[i] }})
	}
	for k := range 2 {
		fields = append(fields,
			field{"T4A", func(p *Proof) any { return &p.T4A[k] }},
			field{"T4B", func(p *Proof) any { return &p.T4B[k] }},
			field{"S4", func(p *Proof) any { return &p.S4[k] }})
	}
	for _, fl := range fields {
		p := f.p.clone()
		switch v := fl.get(p).(type) {
		case **group.Element:
			*v = group.NewElement().Add(*v, group.Generator())
		case **group.Scalar:
			*v = group.NewScalar().Add(*v, one)
		}
		if err := VerifyVarTime(f.rng, f.st, p); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s altered: got %v, want ErrInvalidProof", fl.name, err)
		}
	}
	if err := f.verify(); err != nil {
		t.Fatalf("the honest proof no longer verifies: %v", err)
	}
}

// TestAttackCommitmentsSwapped: the proof's own lists reordered.
func TestAttackCommitmentsSwapped(t *testing.T) {
	f := newFixture(t, "attack commitments", attackN, attackW)
	for name, swap := range map[string]func(p *Proof){
		"c":  func(p *Proof) { p.C[0], p.C[1] = p.C[1], p.C[0] },
		"ĉ":  func(p *Proof) { p.CHat[0], p.CHat[1] = p.CHat[1], p.CHat[0] },
		"s'": func(p *Proof) { p.S[0], p.S[1] = p.S[1], p.S[0] },
		"t4": func(p *Proof) { p.T4A[0], p.T4B[0] = p.T4B[0], p.T4A[0] },
	} {
		p := f.p.clone()
		swap(p)
		if err := VerifyVarTime(f.rng, f.st, p); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s swapped: got %v, want ErrInvalidProof", name, err)
		}
	}
}
