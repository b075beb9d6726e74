package shuffle

import (
	"fmt"
	"testing"

	"github.com/urna-vote/urna/internal/group"
)

func TestHonestShufflesVerify(t *testing.T) {
	for _, w := range []int{1, 3} {
		for _, n := range []int{0, 1, 2, 3, 5, 10, 33} {
			t.Run(fmt.Sprintf("N=%d,w=%d", n, w), func(t *testing.T) {
				f := newFixture(t, fmt.Sprintf("honest %d %d", n, w), n, w)
				if err := f.verify(); err != nil {
					t.Fatalf("honest proof rejected: %v", err)
				}
				q, err := ParseProof(f.p.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyVarTime(f.rng, f.st, q); err != nil {
					t.Fatalf("decoded proof rejected: %v", err)
				}
				if got := len(f.p.Bytes()); got != ProofSize(n, w) {
					t.Fatalf("proof is %d bytes, ProofSize says %d", got, ProofSize(n, w))
				}
			})
		}
	}
}

// TestShuffleIsAPermutationOfPlaintexts decrypts the outputs: they are the
// input plaintexts, each row kept whole, in the witness's order, and every
// ciphertext component changed.
func TestShuffleIsAPermutationOfPlaintexts(t *testing.T) {
	const n, w = 20, 3
	f := newFixture(t, "plaintexts", n, w)
	seen := make([]bool, n)
	moved := 0
	for i, row := range f.st.Outputs {
		j := f.wit.perm[i]
		if seen[j] {
			t.Fatalf("input %d appears twice", j)
		}
		seen[j] = true
		if i != j {
			moved++
		}
		for k, c := range row {
			if !decrypt(f.x, c).Equal(message(j, k)) {
				t.Fatalf("output %d component %d does not decrypt to input %d's", i, k, j)
			}
			in := f.st.Inputs[j][k]
			if c.Alpha.Equal(in.Alpha) || c.Beta.Equal(in.Beta) {
				t.Fatalf("output %d component %d was not re-encrypted", i, k)
			}
		}
	}
	if moved < n/2 {
		t.Fatalf("only %d of %d rows moved: the permutation is not random", moved, n)
	}
}

// TestPermutationUniform draws many permutations of 3 and checks every one
// of the 6 appears about equally often.
func TestPermutationUniform(t *testing.T) {
	rng := newRand("permutations")
	counts := map[[3]int]int{}
	const draws = 6000
	for range draws {
		p, err := randomPermutation(rng, 3)
		if err != nil {
			t.Fatal(err)
		}
		counts[[3]int(p)]++
	}
	if len(counts) != 6 {
		t.Fatalf("%d distinct permutations of 3, want 6", len(counts))
	}
	for p, c := range counts {
		if c < 850 || c > 1150 {
			t.Errorf("permutation %v drawn %d times of %d", p, c, draws)
		}
	}
	for _, n := range []int{0, 1} {
		p, err := randomPermutation(rng, n)
		if err != nil || len(p) != n || (n == 1 && p[0] != 0) {
			t.Fatalf("permutation of %d: %v, %v", n, p, err)
		}
	}
}

func TestGeneratorsDependOnContextAndIndex(t *testing.T) {
	a, b := Generators([]byte("a"), 3), Generators([]byte("b"), 3)
	all := append(a, b...)
	for i := range all {
		if all[i].IsIdentity() {
			t.Fatalf("generator %d is the identity", i)
		}
		for j := range i {
			if all[i].Equal(all[j]) {
				t.Fatalf("generators %d and %d are equal", i, j)
			}
		}
	}
	if c := Generators([]byte("a"), 5); !c[3].Equal(a[3]) {
		t.Fatal("h_3 depends on N")
	}
}

func TestShapeErrors(t *testing.T) {
	rng := newRand("shapes")
	key := group.NewElement().ScalarBaseMult(mustScalar(t, rng))
	f := newFixture(t, "shapes", 2, 2)
	if _, _, err := Shuffle(rng, group.NewElement(), f.st.Inputs, 2); err == nil {
		t.Error("Shuffle accepted the identity key")
	}
	if _, _, err := Shuffle(rng, key, f.st.Inputs, 3); err == nil {
		t.Error("Shuffle accepted rows of the wrong width")
	}
	if _, _, err := Shuffle(rng, key, nil, 0); err == nil {
		t.Error("Shuffle accepted width 0")
	}
	if _, err := Prove(rng, f.st, &Witness{}); err == nil {
		t.Error("Prove accepted a witness for 0 rows")
	}
	if err := VerifyVarTime(rng, f.st, nil); err == nil {
		t.Error("VerifyVarTime accepted no proof")
	}
}
