package shuffle

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/testonly/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/vector.txt")

func TestProofRoundTrip(t *testing.T) {
	for _, nw := range [][2]int{{0, 1}, {1, 1}, {4, 3}} {
		f := newFixture(t, "round trip", nw[0], nw[1])
		b := f.p.Bytes()
		q, err := ParseProof(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(q.Bytes(), b) {
			t.Fatalf("N=%d w=%d: re-encoding differs", nw[0], nw[1])
		}
	}
}

func TestParseProofRejects(t *testing.T) {
	f := newFixture(t, "rejects", 2, 2)
	good := f.p.Bytes()
	hdr := func(n, w uint32, rest []byte) []byte {
		b := []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)}
		return append(b, rest...)
	}
	set := func(off int, v []byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[off:], v)
		return b
	}
	ff := bytes.Repeat([]byte{0xff}, 32)
	ell := golden.Hex(t, "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	sOff := 8 + 32*(3*2+3+2*2) // first scalar (s1)
	cases := map[string][]byte{
		"empty":                   {},
		"short header":            good[:7],
		"truncated":               good[:len(good)-1],
		"trailing byte":           append(append([]byte(nil), good...), 0),
		"width 0":                 hdr(0, 0, nil),
		"width too large":         hdr(0, MaxWidth+1, make([]byte, ProofSize(0, MaxWidth+1)-8)),
		"rows too many":           hdr(MaxRows+1, 1, nil),
		"N says 3":                append(hdr(3, 2, nil), good[8:]...),
		"w says 3":                append(hdr(2, 3, nil), good[8:]...),
		"huge N, short input":     hdr(MaxRows, 1, make([]byte, 64)),
		"non-canonical element":   set(8, ff),
		"non-canonical scalar ℓ":  set(sOff, ell),
		"non-canonical scalar ff": set(len(good)-32, ff),
	}
	for name, b := range cases {
		if _, err := ParseProof(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseProof(good); err != nil {
		t.Fatalf("the good proof: %v", err)
	}
}

// FuzzParseProof: anything ParseProof accepts re-encodes to the same bytes
// (one encoding per proof), and never panics.
func FuzzParseProof(f *testing.F) {
	for _, nw := range [][2]int{{0, 1}, {1, 1}, {2, 3}} {
		f.Add(newFixture(f, "fuzz", nw[0], nw[1]).p.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Bytes(), b) {
			t.Fatalf("accepted %x but re-encodes to %x", b, p.Bytes())
		}
	})
}

// vectorText renders the pinned vector: seed "urna shuffle vector v1",
// N = 3, w = 2, the key, inputs, outputs, permutation and proof in hex.
func vectorText(t *testing.T) string {
	f := newFixture(t, "urna shuffle vector v1", 3, 2)
	if err := f.verify(); err != nil {
		t.Fatalf("the vector's proof does not verify: %v", err)
	}
	v := &Vector{Comment: fmt.Sprintf("tally/shuffle test vector: seed %q read through the seeded reader of helpers_test.go", "urna shuffle vector v1"),
		Statement: f.st, Permutation: f.wit.perm, Proof: f.p.Bytes()}
	return v.Text()
}

// TestVector pins the bytes of a whole shuffle and its proof. Regenerate with
// go test ./tally/shuffle -run TestVector -update, only for a deliberate
// change of the protocol (and SPEC.md §13).
func TestVector(t *testing.T) {
	want := []byte(vectorText(t))
	golden.Check(t, "testdata/vector.txt", want, *update)
	// The pinned proof verifies from its bytes alone.
	for _, line := range strings.Split(string(want), "\n") {
		if hexProof, ok := strings.CutPrefix(line, "proof "); ok {
			if _, err := ParseProof(golden.Hex(t, hexProof)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// readVector parses testdata/vector.txt into a statement and proof bytes, as
// an independent verifier would.
func readVector(t *testing.T) (*Statement, []byte) {
	t.Helper()
	raw, err := os.ReadFile("testdata/vector.txt")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVector(raw)
	if err != nil {
		t.Fatal(err)
	}
	if again := v.Text(); again != string(raw) {
		t.Fatal("the vector does not render back to its text")
	}
	return v.Statement, v.Proof
}

// TestVectorFromFile verifies the pinned vector from its text alone, then
// changes every byte of every output ciphertext and of the proof in turn:
// each change must be rejected (by a decoder or by the proof).
func TestVectorFromFile(t *testing.T) {
	st, proof := readVector(t)
	rng := newRand("vector verifier")
	check := func(st *Statement, b []byte) error {
		p, err := ParseProof(b)
		if err != nil {
			return err
		}
		return VerifyVarTime(rng, st, p)
	}
	if err := check(st, proof); err != nil {
		t.Fatalf("the pinned vector does not verify: %v", err)
	}
	for i := range proof {
		b := append([]byte(nil), proof...)
		b[i] ^= 0x01
		if check(st, b) == nil {
			t.Fatalf("proof byte %d changed: accepted", i)
		}
	}
	for i, row := range st.Outputs {
		for k, c := range row {
			enc := c.Bytes()
			for j := range enc {
				e := append([]byte(nil), enc...)
				e[j] ^= 0x01
				d, err := ballot.ParseCiphertext(e)
				if err != nil {
					continue // not a canonical element: a decoder rejects it
				}
				st2 := st.clone()
				st2.Outputs[i][k] = d
				if check(st2, proof) == nil {
					t.Fatalf("output %d component %d byte %d changed: accepted", i, k, j)
				}
			}
		}
	}
}
