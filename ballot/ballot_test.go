package ballot

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/internal/wire"
)

func TestEncryptVerify(t *testing.T) {
	e := newTestElection(t, "ev", shapes, 2)
	rng := seeded.Raw("ev-ballots")
	b, _ := e.encrypt(t, rng, 0, defaultChoices)
	if err := b.Verify(e.m, e.pk); err != nil {
		t.Fatal(err)
	}
	if f := b.Diagnose(e.m, e.pk); f != nil {
		t.Fatal(f)
	}
	p, err := ParseBallot(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Bytes(), b.Bytes()) || p.Tracker() != b.Tracker() {
		t.Fatal("ballot changed through its encoding")
	}
	if err := p.Verify(e.m, e.pk); err != nil {
		t.Fatal(err)
	}
	if !p.Credential().Equal(e.creds[0].Public()) || p.Fingerprint() != e.m.Fingerprint() {
		t.Fatal("ballot not bound to its credential and election")
	}
	if p.NumQuestions() != len(shapes) || p.NumOptions(2) != 4 || len(p.Ciphertexts()[1]) != 5 {
		t.Fatal("accessors disagree with the manifest")
	}
	bad, err := VerifyBatch(rng, e.m, e.pk, []*Ballot{b, p}, nil)
	if err != nil || bad != nil {
		t.Fatal(bad, err)
	}
}

func TestEncryptRejectsBadChoices(t *testing.T) {
	e := newTestElection(t, "bad-choices", shapes, 1)
	rng := seeded.Raw("bc")
	for _, ch := range [][][]uint32{
		{{2}, {0, 4}, {1}},                 // too few answers
		{{2}, {0, 4}, {1}, {}, {}},         // too many answers
		{{}, {0, 4}, {1}, {}},              // 1-of-5 left blank
		{{1, 2}, {0, 4}, {1}, {}},          // two in a 1-of-5
		{{2}, {0}, {1}, {}},                // one in a 2-of-5
		{{2}, {0, 0}, {1}, {}},             // repeated option
		{{5}, {0, 4}, {1}, {}},             // no such option
		{{2}, {0, 4}, {1}, {0, 1, 2}},      // three in an up-to-2
		{{2}, {0, 4}, {0, 1, 2, 3, 4}, {}}, // approval over 4 options with 5 picks
		{{2}, {0, 4}, {1}, {4294967295}},   // huge index
		{{2}, {0, 4}, {1}, {3}},            // index = #options
	} {
		if _, _, err := EncryptBallot(rng, e.m, e.pk, e.creds[0], ch); !errors.Is(err, ErrInvalidChoice) {
			t.Errorf("choices %v: err = %v, want ErrInvalidChoice", ch, err)
		}
	}
	if _, _, err := EncryptBallot(rng, e.m, group.NewElement(), e.creds[0], defaultChoices); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("identity election key: %v", err)
	}
}

// field is one 32-byte field of a ballot's encoding.
type field struct {
	off      int
	isScalar bool
	name     string
	q, o, br int
}

// ballotFields lists every element and scalar field of b's encoding.
func ballotFields(b *Ballot) []field {
	fs := []field{{off: 1, name: "fingerprint", q: -1, o: -1, br: -1}, {off: 33, name: "credential", q: -1, o: -1, br: -1}}
	for q, eq := range b.qs {
		for i, o := range eq.opts {
			fs = append(fs, field{off: o.off, name: "alpha", q: q, o: i, br: -1}, field{off: o.off + 32, name: "beta", q: q, o: i, br: -1})
			for j := 0; j < 2; j++ {
				base := o.off + CiphertextSize + j*branchSize
				for k, n := range []string{"a", "b", "c", "s"} {
					fs = append(fs, field{off: base + 32*k, isScalar: k >= 2, name: n, q: q, o: i, br: j})
				}
			}
		}
		for j := range eq.rng.a {
			base := eq.rngOff + j*branchSize
			for k, n := range []string{"a", "b", "c", "s"} {
				fs = append(fs, field{off: base + 32*k, isScalar: k >= 2, name: "range " + n, q: q, o: -1, br: j})
			}
		}
	}
	return fs
}

// tamper returns raw with the field replaced by another valid value.
func tamper(t testing.TB, raw []byte, f field) []byte {
	out := slices.Clone(raw)
	v := out[f.off : f.off+32]
	switch {
	case f.name == "fingerprint":
		v[0] ^= 1
	case f.isScalar:
		s, err := group.DecodeScalar(v)
		if err != nil {
			t.Fatal(err)
		}
		copy(v, s.Add(s, group.ScalarFromUint64(1)).Bytes())
	default:
		e, err := group.DecodeElement(v)
		if err != nil {
			t.Fatal(err)
		}
		e.Add(e, group.Generator())
		if e.IsIdentity() {
			e.Add(e, group.Generator())
		}
		copy(v, e.Bytes())
	}
	return out
}

// TestEveryFieldTampering changes each field of a ballot, one at a time, to
// another valid value: Verify MUST reject it, Diagnose MUST blame it, and
// VerifyBatch MUST single it out among valid ballots.
func TestEveryFieldTampering(t *testing.T) {
	e := newTestElection(t, "tamper", shapes, 3)
	rng := seeded.Raw("tamper-ballots")
	good1, _ := e.encrypt(t, rng, 1, [][]uint32{{0}, {1, 2}, {}, {2}})
	good2, _ := e.encrypt(t, rng, 2, [][]uint32{{4}, {3, 4}, {0, 3}, {0, 1}})
	b, _ := e.encrypt(t, rng, 0, defaultChoices)
	fields := ballotFields(b)
	if len(fields) < 200 {
		t.Fatalf("only %d fields", len(fields))
	}
	for k, f := range fields {
		raw := tamper(t, b.raw, f)
		tb, err := ParseBallot(raw)
		if err != nil {
			t.Fatalf("%s q%d o%d br%d: tampered ballot does not parse: %v", f.name, f.q, f.o, f.br, err)
		}
		err = tb.Verify(e.m, e.pk)
		want := ErrInvalidProof
		if f.name == "fingerprint" {
			want = ErrWrongElection
		}
		if !errors.Is(err, want) {
			t.Errorf("%s q%d o%d br%d: Verify = %v, want %v", f.name, f.q, f.o, f.br, err, want)
		}
		fl := tb.Diagnose(e.m, e.pk)
		if fl == nil || !errors.Is(fl, want) {
			t.Errorf("%s q%d o%d br%d: Diagnose = %v", f.name, f.q, f.o, f.br, fl)
		} else if f.q >= 0 && f.name[0] != 'a' && f.name[0] != 'b' && fl.Question != f.q {
			// Changing a ciphertext also breaks its question's range proof;
			// any other field is blamed on its own question.
			t.Errorf("%s q%d: Diagnose blames question %d", f.name, f.q, fl.Question)
		}
		if k%3 == 0 || f.o < 0 { // the batch check is slower: sample it, but cover every field kind
			bad, err := VerifyBatch(rng, e.m, e.pk, []*Ballot{good1, tb, good2}, nil)
			if err != nil || !slices.Equal(bad, []int{1}) {
				t.Errorf("%s q%d o%d br%d: VerifyBatch = %v, %v; want [1]", f.name, f.q, f.o, f.br, bad, err)
			}
		}
	}
}

func TestBatchFindsExactlyTheBadBallots(t *testing.T) {
	e := newTestElection(t, "batch", shapes[:1], 12)
	rng := seeded.Raw("batch-ballots")
	var ballots []*Ballot
	for i := 0; i < 12; i++ {
		b, _ := e.encrypt(t, rng, i, [][]uint32{{uint32(i % 5)}})
		ballots = append(ballots, b)
	}
	other := newTestElection(t, "batch-other", shapes[:1], 1)
	wrongElection, _ := other.encrypt(t, rng, 0, [][]uint32{{1}})
	fs := ballotFields(ballots[0])
	ballots[3], _ = ParseBallot(tamper(t, ballots[3].raw, fs[5]))
	ballots[7], _ = ParseBallot(tamper(t, ballots[7].raw, fs[len(fs)-1]))
	ballots[9] = wrongElection
	ballots[10] = nil
	bad, err := VerifyBatch(rng, e.m, e.pk, ballots, nil)
	if err != nil || !slices.Equal(bad, []int{3, 7, 9, 10}) {
		t.Fatalf("VerifyBatch = %v, %v; want [3 7 9 10]", bad, err)
	}
	for _, workers := range []int{1, 2, 3, 5} {
		bad, err := VerifyBatchParallel(rng, e.m, e.pk, ballots, nil, workers)
		if err != nil || !slices.Equal(bad, []int{3, 7, 9, 10}) {
			t.Fatalf("VerifyBatchParallel(%d) = %v, %v; want [3 7 9 10]", workers, bad, err)
		}
	}
	if bad, err := VerifyBatch(rng, e.m, e.pk, nil, nil); err != nil || bad != nil {
		t.Fatalf("empty batch: %v %v", bad, err)
	}
}

func TestWrongElectionAndShape(t *testing.T) {
	e := newTestElection(t, "shape", shapes, 1)
	rng := seeded.Raw("shape-ballots")
	b, _ := e.encrypt(t, rng, 0, defaultChoices)
	// Same keys and questions but another election id: another fingerprint.
	m2 := *e.m
	m2.ElectionID = "another-election"
	if err := b.Verify(&m2, e.pk); !errors.Is(err, ErrWrongElection) {
		t.Fatalf("other election: %v", err)
	}
	// A manifest with other question bounds changes the fingerprint too, so
	// shape errors show up only for a ballot claiming that fingerprint.
	m3 := *e.m
	m3.Questions = slices.Clone(e.m.Questions)
	m3.Questions[2].Max = 3
	fp := m3.Fingerprint()
	raw := slices.Clone(b.raw)
	copy(raw[1:33], fp[:])
	lie, _ := ParseBallot(raw)
	if err := lie.Verify(&m3, e.pk); !errors.Is(err, ErrShape) {
		t.Fatalf("shape mismatch: %v", err)
	}
	if f := lie.Diagnose(&m3, e.pk); f == nil || f.Step != "V8.3" || f.Question != 2 {
		t.Fatalf("Diagnose = %v", f)
	}
	if err := b.Verify(e.m, pointFrom(t, rng)); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("other election key: %v", err)
	}
}

func TestBallotMovedToAnotherCredential(t *testing.T) {
	e := newTestElection(t, "moved", shapes, 2)
	b, _ := e.encrypt(t, seeded.Raw("moved-ballots"), 0, defaultChoices)
	raw := slices.Clone(b.raw)
	copy(raw[33:65], e.creds[1].Public().Bytes())
	moved, err := ParseBallot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := moved.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("moved ballot: %v", err)
	}
}

// TestForgedSums builds ballots that break the question rules with the
// package's own prover and checks that they never verify.
func TestForgedSums(t *testing.T) {
	e := newTestElection(t, "forged", shapes, 1)
	rng := seeded.Raw("forged-ballots")
	for _, tc := range []struct {
		name string
		sel  [][]uint64
		step string
	}{
		{"two 1s in a 1-of-5", [][]uint64{{1, 1, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0}}, "V8.7.2"},
		{"blank 1-of-5", [][]uint64{{0, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0}}, "V8.7.2"},
		{"three in a 2-of-5", [][]uint64{{1, 0, 0, 0, 0}, {1, 1, 1, 0, 0}, {0, 0, 0, 0}, {0, 0, 0}}, "V8.7.2"},
		{"all three in up-to-2", [][]uint64{{1, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1}}, "V8.7.2"},
		{"a 2 in one option", [][]uint64{{2, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0}}, "V8.6.2"},
		{"a 2 in an approval option", [][]uint64{{1, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 2, 0, 0}, {0, 0, 0}}, "V8.6.2"},
	} {
		b, _, err := encrypt(rng, e.m, e.pk, e.creds[0], tc.sel)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: Verify = %v", tc.name, err)
		}
		if f := b.Diagnose(e.m, e.pk); f == nil || f.Step != tc.step {
			t.Errorf("%s: Diagnose = %v, want step %s", tc.name, f, tc.step)
		}
	}
	// A forger who fixes the challenge sum (so V8.7.2 passes) still fails
	// the range equations: rewrite c_0 of the range proof so Σc = challenge.
	b, _, _ := encrypt(rng, e.m, e.pk, e.creds[0], [][]uint64{{1, 1, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0}})
	fp, pkb := e.m.Fingerprint(), e.pk.Bytes()
	rt := statement("range-proof", fp[:], pkb, b.raw[33:65], 0).Uint64(1).Uint64(1)
	for _, o := range b.qs[0].opts {
		rt.Bytes(b.raw[o.off : o.off+32]).Bytes(b.raw[o.off+32 : o.off+64])
	}
	off := b.qs[0].rngOff
	rt.Bytes(b.raw[off : off+32]).Bytes(b.raw[off+32 : off+64])
	raw := slices.Clone(b.raw)
	copy(raw[off+64:off+96], rt.Challenge().Bytes())
	fixed, err := ParseBallot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixed.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("fixed-sum forgery: %v", err)
	}
	if f := fixed.Diagnose(e.m, e.pk); f == nil || f.Step != "V8.7.3" || f.Question != 0 {
		t.Fatalf("fixed-sum forgery: Diagnose = %v", f)
	}
}

// TestProofReplay moves valid (ciphertext, proof) pairs to places they were
// not made for: the challenge binds question and option indexes, the
// credential and the election, so every move fails.
func TestProofReplay(t *testing.T) {
	e := newTestElection(t, "replay", shapes, 2)
	rng := seeded.Raw("replay-ballots")
	b, _ := e.encrypt(t, rng, 0, defaultChoices)
	c, _ := e.encrypt(t, rng, 0, [][]uint32{{4}, {1, 3}, {}, {0}})
	o0, o1 := b.qs[0].opts[0].off, b.qs[0].opts[1].off
	// Option 0's ciphertext and proof copied over option 1.
	raw := slices.Clone(b.raw)
	copy(raw[o1:o1+optionSize], b.raw[o0:o0+optionSize])
	// Option 0's proof alone attached to option 1's ciphertext.
	raw2 := slices.Clone(b.raw)
	copy(raw2[o1+CiphertextSize:o1+optionSize], b.raw[o0+CiphertextSize:o0+optionSize])
	// Question 1's option 0 copied from another ballot of the same voter.
	raw3 := slices.Clone(b.raw)
	p, q := b.qs[1].opts[0].off, c.qs[1].opts[0].off
	copy(raw3[p:p+optionSize], c.raw[q:q+optionSize])
	// The range proof of question 0 taken from the other ballot.
	raw4 := slices.Clone(b.raw)
	copy(raw4[b.qs[0].rngOff:b.qs[0].rngOff+branchSize], c.raw[c.qs[0].rngOff:c.qs[0].rngOff+branchSize])
	for i, r := range [][]byte{raw, raw2, raw3, raw4} {
		x, err := ParseBallot(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("replay %d: Verify = %v", i, err)
		}
	}
}

func TestParseBallotRejects(t *testing.T) {
	e := newTestElection(t, "parse", []Question{{Text: "q", Options: []string{"x", "y"}, Min: 0, Max: 1}}, 1)
	b, _ := e.encrypt(t, seeded.Raw("parse-ballots"), 0, [][]uint32{{1}})
	raw := b.raw
	// Every strict prefix and one trailing byte.
	for n := 0; n < len(raw); n++ {
		if x, err := ParseBallot(raw[:n]); err == nil || x != nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
	if _, err := ParseBallot(append(slices.Clone(raw), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	set := func(off int, v []byte) []byte { r := slices.Clone(raw); copy(r[off:], v); return r }
	nonCanonical := bytes.Repeat([]byte{0xff}, 32) // field element ≥ p
	negative := append([]byte{1}, make([]byte, 31)...)
	identity := make([]byte, 32)
	scalarL := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	o := b.qs[0].opts[0].off
	cases := map[string][]byte{
		"version 0":                 set(0, []byte{0}),
		"version 2":                 set(0, []byte{2}),
		"identity credential":       set(33, identity),
		"non-canonical credential":  set(33, nonCanonical),
		"negative credential":       set(33, negative),
		"identity alpha":            set(o, identity),
		"non-canonical beta":        set(o+32, nonCanonical),
		"non-canonical commitment":  set(o+64, nonCanonical),
		"challenge = ℓ":             set(o+64+64, scalarL),
		"response ≥ ℓ":              set(o+64+96, bytes.Repeat([]byte{0xff}, 32)),
		"zero questions":            set(65, []byte{0, 0, 0, 0}),
		"65 questions":              set(65, []byte{0, 0, 0, 65}),
		"one option":                set(69, []byte{0, 0, 0, 1}),
		"65 options":                set(69, []byte{0, 0, 0, 65}),
		"zero range branches":       set(b.qs[0].rngOff-4, []byte{0, 0, 0, 0}),
		"huge range branches":       set(b.qs[0].rngOff-4, []byte{0xff, 0xff, 0xff, 0xff}),
		"range branch count + 1":    set(b.qs[0].rngOff-4, []byte{0, 0, 0, 3}),
		"non-canonical range point": set(b.qs[0].rngOff, nonCanonical),
	}
	for name, r := range cases {
		if x, err := ParseBallot(r); err == nil || x != nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseBallot(make([]byte, MaxBallotSize+1)); err == nil {
		t.Error("oversized ballot accepted")
	}
	// The identity is allowed where an honest ballot can produce it (beta).
	if x, err := ParseBallot(set(o+32, identity)); err != nil || x.Verify(e.m, e.pk) == nil {
		t.Errorf("identity beta: parse %v, and it must not verify", err)
	}
	if !errors.Is(errFrom(ParseBallot(raw[:10])), wire.ErrMalformed) {
		t.Error("truncation is not a wire.ErrMalformed")
	}
}

func errFrom(_ *Ballot, err error) error { return err }

// TestRandomChoicesVerify is the property test: random valid choices on
// random question shapes, biased toward the edges (min = 0, max = #options,
// min = max), always verify.
func TestRandomChoicesVerify(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 12
	if testing.Short() {
		n = 4
	}
	for it := 0; it < n; it++ {
		var qs []Question
		for q := 0; q < 1+r.IntN(3); q++ {
			no := 2 + r.IntN(5)
			lo, hi := uint32(r.IntN(no+1)), uint32(r.IntN(no+1))
			switch r.IntN(4) {
			case 0:
				lo = 0
			case 1:
				hi = uint32(no)
			case 2:
				hi = lo
			}
			if lo > hi {
				lo, hi = hi, lo
			}
			if hi == 0 {
				hi = 1
			}
			var opts []string
			for i := 0; i < no; i++ {
				opts = append(opts, fmt.Sprint("option ", i))
			}
			qs = append(qs, Question{Text: fmt.Sprint("q", q), Options: opts, Min: lo, Max: hi})
		}
		e := newTestElection(t, fmt.Sprint("prop-", it), qs, 1)
		var choices [][]uint32
		for _, q := range qs {
			k := int(q.Min) + r.IntN(int(q.Max-q.Min)+1)
			perm := r.Perm(len(q.Options))[:k]
			var ch []uint32
			for _, p := range perm {
				ch = append(ch, uint32(p))
			}
			choices = append(choices, ch)
		}
		b, s := e.encrypt(t, seeded.Raw(fmt.Sprint("prop-ballot-", it)), 0, choices)
		if err := b.Verify(e.m, e.pk); err != nil {
			t.Fatalf("shape %v choices %v: %v", qs, choices, err)
		}
		o, err := b.Open(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyOpening(e.m, e.pk, b, o); err != nil {
			t.Fatalf("opening: %v", err)
		}
		for q := range choices {
			slices.Sort(choices[q])
			if !slices.Equal(choices[q], o.Choices[q]) && len(choices[q])+len(o.Choices[q]) > 0 {
				t.Fatalf("opening choices %v, encrypted %v", o.Choices, choices)
			}
		}
	}
}

func TestPeekCredential(t *testing.T) {
	e := newTestElection(t, "peek", shapes[:1], 2)
	b, _ := e.encrypt(t, seeded.Raw("peek-enc"), 1, [][]uint32{{2}})
	got, err := PeekCredential(b.Bytes())
	if err != nil || got != [32]byte(e.creds[1].Public().Bytes()) {
		t.Fatalf("PeekCredential = %x, %v", got, err)
	}
	// Version 2 is BallotVersionKinds (docs/spec/kinds.md), so 0 and 3
	// are the unknown versions here.
	for _, bad := range [][]byte{nil, b.Bytes()[:64], append([]byte{0}, b.Bytes()[1:]...), append([]byte{3}, b.Bytes()[1:]...)} {
		if _, err := PeekCredential(bad); !errors.Is(err, ErrShape) {
			t.Errorf("PeekCredential(%d bytes) = %v, want ErrShape", len(bad), err)
		}
	}
}
