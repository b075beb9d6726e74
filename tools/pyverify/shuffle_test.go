package pyverify

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally/shuffle"
)

// pyShuffles runs pyverify.py --shuffle on the vectors (one file each) and
// returns, per vector, "" if it printed S PASS, else the failing step.
func pyShuffles(t *testing.T, vs map[string]*shuffle.Vector) map[string]string {
	t.Helper()
	py := python(t)
	dir := t.TempDir()
	args := []string{script(t), "--shuffle"}
	for name, v := range vs {
		p := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(p, []byte(v.Text()), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out, _ := exec.Command(py, args...).CombinedOutput()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, verdict, ok := strings.Cut(line, ": S ")
		if !ok {
			t.Fatalf("pyverify: unexpected output %q", out)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		if rest, ok := strings.CutPrefix(verdict, "FAIL "); ok {
			step, _, _ := strings.Cut(rest, ":")
			got[name] = step
		} else if strings.HasPrefix(verdict, "PASS") {
			got[name] = ""
		} else {
			t.Fatalf("pyverify: unexpected line %q", line)
		}
	}
	if len(got) != len(vs) {
		t.Fatalf("pyverify answered for %d of %d shuffles:\n%s", len(got), len(vs), out)
	}
	return got
}

// goShuffle verifies v as Go does from bytes: "" if valid, else the error.
func goShuffle(v *shuffle.Vector) string {
	p, err := shuffle.ParseProof(v.Proof)
	if err == nil {
		err = shuffle.VerifyVarTime(seeded.Raw("pyverify shuffle weights"), v.Statement, p)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// honestShuffle returns a shuffle of n rows of width w, made from seed.
func honestShuffle(t *testing.T, seed string, n, w int) (*shuffle.Vector, *shuffle.Witness) {
	t.Helper()
	rng := seeded.Raw(seed)
	x, err := group.RandomNonZeroScalar(rng)
	if err != nil {
		t.Fatal(err)
	}
	key := group.NewElement().ScalarBaseMult(x)
	in := make([]shuffle.Row, n)
	for i := range in {
		for k := 0; k < w; k++ {
			r, _ := group.RandomNonZeroScalar(rng)
			in[i] = append(in[i], ballot.EncryptElement(key, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(uint64(100*i+k+1))), r))
		}
	}
	out, wit, err := shuffle.Shuffle(rng, key, in, w)
	if err != nil {
		t.Fatal(err)
	}
	st := &shuffle.Statement{Context: []byte("pyverify " + seed), Key: key, Width: w, Inputs: in, Outputs: out}
	p, err := shuffle.Prove(rng, st, wit)
	if err != nil {
		t.Fatal(err)
	}
	return &shuffle.Vector{Statement: st, Proof: p.Bytes()}, wit
}

// reshuffle shuffles v's inputs again with randomness from seed and proves it.
func reshuffle(t *testing.T, v *shuffle.Vector, seed string) *shuffle.Vector {
	t.Helper()
	rng := seeded.Raw(seed)
	st := *v.Statement
	out, wit, err := shuffle.Shuffle(rng, st.Key, st.Inputs, st.Width)
	if err != nil {
		t.Fatal(err)
	}
	st.Outputs = out
	p, err := shuffle.Prove(rng, &st, wit)
	if err != nil {
		t.Fatal(err)
	}
	return &shuffle.Vector{Statement: &st, Proof: p.Bytes()}
}

// changed returns a copy of v with its statement's slices copied, for f to alter.
func changed(v *shuffle.Vector, f func(st *shuffle.Statement, proof []byte) []byte) *shuffle.Vector {
	st := *v.Statement
	cp := func(rows []shuffle.Row) []shuffle.Row {
		out := make([]shuffle.Row, len(rows))
		for i, r := range rows {
			out[i] = append(shuffle.Row(nil), r...)
		}
		return out
	}
	st.Inputs, st.Outputs = cp(st.Inputs), cp(st.Outputs)
	return &shuffle.Vector{Statement: &st, Proof: f(&st, bytes.Clone(v.Proof))}
}

// TestShuffleAgreesWithGo: pyverify, written from SPEC.md §13
// alone, accepts the pinned vector and an honest shuffle, and rejects what
// Go rejects: the red-team attacks on a mixer (swapped or duplicated rows, a
// proof of another shuffle, a dropped ballot, another context or key) and a
// changed byte in every field of the proof and in every ciphertext.
func TestShuffleAgreesWithGo(t *testing.T) {
	raw, err := os.ReadFile("../../tally/shuffle/testdata/vector.txt")
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := shuffle.ParseVector(raw)
	if err != nil {
		t.Fatal(err)
	}
	honest, _ := honestShuffle(t, "pyverify shuffle", 6, 3)
	other := reshuffle(t, honest, "pyverify shuffle, another permutation") // same inputs, key and context
	other2, _ := honestShuffle(t, "pyverify shuffle other", 6, 3)
	vs := map[string]*shuffle.Vector{"pinned": pinned, "honest": honest}
	bad := map[string]*shuffle.Vector{
		"outputs 1 and 2 swapped": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Outputs[0], st.Outputs[1] = st.Outputs[1], st.Outputs[0]
			return p
		}),
		"output 2 duplicates output 1": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Outputs[1] = st.Outputs[0]
			return p
		}),
		"one ciphertext of output 3 from another row": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Outputs[2][1] = st.Outputs[3][1]
			return p
		}),
		"proof of another shuffle of the same inputs": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			return other.Proof
		}),
		"outputs and proof of another shuffle": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Outputs = other2.Statement.Outputs
			return other2.Proof
		}),
		"last output dropped": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Outputs = st.Outputs[:5]
			return p
		}),
		"a ballot dropped from inputs and outputs": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Inputs, st.Outputs = st.Inputs[:5], st.Outputs[:5]
			return p
		}),
		"another context": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Context = []byte("pyverify another mixer")
			return p
		}),
		"another key": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Key = group.NewElement().Add(st.Key, group.Generator())
			return p
		}),
		"input 4 swapped with input 5": changed(honest, func(st *shuffle.Statement, p []byte) []byte {
			st.Inputs[3], st.Inputs[4] = st.Inputs[4], st.Inputs[3]
			return p
		}),
	}
	// One changed byte in every 32-byte field of the proof (and its header).
	for off := 0; off < len(pinned.Proof); off += 32 {
		at := off + 3
		bad[fmt.Sprintf("pinned proof byte %d", at)] = changed(pinned, func(_ *shuffle.Statement, p []byte) []byte {
			p[at] ^= 0x04
			return p
		})
	}
	// Every ciphertext of the pinned vector re-encrypted by G (still canonical).
	for _, side := range []string{"input", "output"} {
		for i := range pinned.Statement.Inputs {
			for k := 0; k < pinned.Statement.Width; k++ {
				bad[fmt.Sprintf("pinned %s %d ciphertext %d changed", side, i+1, k+1)] = changed(pinned, func(st *shuffle.Statement, p []byte) []byte {
					rows := st.Inputs
					if side == "output" {
						rows = st.Outputs
					}
					c := rows[i][k]
					rows[i][k] = &ballot.Ciphertext{Alpha: group.NewElement().Add(c.Alpha, group.Generator()), Beta: c.Beta}
					return p
				})
			}
		}
	}
	for name, v := range bad {
		vs[name] = v
	}
	py := pyShuffles(t, vs)
	for name, v := range vs {
		g := goShuffle(v)
		_, isBad := bad[name]
		switch {
		case isBad && (g == "" || py[name] == ""):
			t.Errorf("%s: accepted (Go: %q, pyverify: %q)", name, g, py[name])
		case !isBad && (g != "" || py[name] != ""):
			t.Errorf("%s: rejected (Go: %q, pyverify: %q)", name, g, py[name])
		}
	}
	if !t.Failed() {
		t.Logf("%d shuffles, %d tampered: Go and pyverify agree on every verdict", len(vs), len(bad))
	}
}

// pyverify reads the §13.8 vector text as strictly as shuffle.ParseVector:
// a row line without its number 1..N, in order, is a malformed vector.
func TestShuffleVectorRowNumbers(t *testing.T) {
	raw, err := os.ReadFile("../../tally/shuffle/testdata/vector.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, change := range map[string][2]string{
		"renumbered": {"\ninput 2 ", "\ninput 7 "},
		"unnumbered": {"\noutput 1 ", "\noutput "},
	} {
		text := string(raw)
		if !strings.Contains(text, change[0]) {
			t.Fatalf("%s: the pinned vector has no %q", name, change[0])
		}
		p := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(p, []byte(strings.Replace(text, change[0], change[1], 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python(t), script(t), "--shuffle", p).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "S FAIL S1: malformed vector") || !strings.Contains(string(out), "row number") {
			t.Errorf("%s: pyverify = %v, %s; want a malformed vector without its row number", name, err, out)
		}
	}
}
