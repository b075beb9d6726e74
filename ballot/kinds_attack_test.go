package ballot

import (
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// Attacks on ranked, score and write-in answers (docs/spec/kinds.md V8.3,
// V8.8–V8.10). A cheating voter builds the ballot with encryptKinds, which
// encrypts whatever plaintexts it is given and proves them as well as an
// honest prover can; every such ballot MUST be rejected before mixing.

// honestPlain returns the plaintexts of kindAnswers for e's manifest.
func honestPlain(t *testing.T, e *testElection) []plaintext {
	t.Helper()
	plain := make([]plaintext, len(kindAnswers))
	for q := range kindAnswers {
		vals, err := checkAnswer(q, &e.m.Questions[q], &kindAnswers[q])
		if err != nil {
			t.Fatal(err)
		}
		plain[q].vals = vals
		if e.m.Questions[q].Kind == KindWriteIn {
			if plain[q].elems, err = EncodeWriteIn(kindAnswers[q].Text, e.m.Questions[q].Max); err != nil {
				t.Fatal(err)
			}
		}
	}
	return plain
}

// rankMatrix returns the 5×5 matrix of kindQuestions[1] with the given
// (option, rank) entries set to 1.
func rankMatrix(set ...[2]int) []uint64 {
	mat := make([]uint64, 25)
	for _, s := range set {
		mat[s[0]*5+s[1]]++
	}
	return mat
}

// expectRejected checks that b fails Verify with ErrInvalidProof, that
// Diagnose names step (and part, if not ""), and that VerifyBatch flags
// only b among honest ballots.
func expectRejected(t *testing.T, e *testElection, b *Ballot, step, part string) {
	t.Helper()
	if err := b.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("Verify = %v, want ErrInvalidProof", err)
	}
	f := b.Diagnose(e.m, e.pk)
	if f == nil || f.Step != step || (part != "" && f.Part != part) {
		t.Fatalf("Diagnose = %v, want step %s part %q", f, step, part)
	}
	honest, _ := e.encryptAnswers(t, seeded.Raw("honest-"+step), 1, kindAnswers)
	p, err := ParseBallot(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	bad, err := VerifyBatch(seeded.Raw("batch-"+step), e.m, e.pk, []*Ballot{honest, p, honest}, nil)
	if err != nil || len(bad) != 1 || bad[0] != 1 {
		t.Fatalf("VerifyBatch = %v, %v; want [1]", bad, err)
	}
}

func cheat(t *testing.T, e *testElection, seed string, f func(plain []plaintext)) *Ballot {
	t.Helper()
	plain := honestPlain(t, e)
	f(plain)
	b, _, err := encryptKinds(seeded.Raw(seed), e.m, e.pk, e.creds[0], plain)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttackMalformedRanking: every way a ranking matrix can break the
// rules is caught by the proof that says it does not.
func TestAttackMalformedRanking(t *testing.T) {
	e := newTestElection(t, "attack-ranking", kindQuestions, 2)
	for _, c := range []struct {
		name, step, part string
		mat              []uint64
	}{
		{"rank used twice", "V8.8.2", "column 0 proof", rankMatrix([2]int{0, 0}, [2]int{1, 0})},
		{"option ranked twice", "V8.8.2", "row 2 proof", rankMatrix([2]int{2, 0}, [2]int{2, 1})},
		// Ranks 1 and 3 without 2: a gap could mark the ballot.
		{"rank skipped", "V8.8.2", "step 1 proof", rankMatrix([2]int{0, 0}, [2]int{1, 2})},
		// Entry (3, 0) = 2 would count option 3 twice at rank 1 once mixed.
		{"entry not a bit", "V8.8.1", "entry (option 3, rank 0)", rankMatrix([2]int{3, 0}, [2]int{3, 0})},
		{"too few ranked", "V8.8.2", "total 0 proof", rankMatrix()},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := cheat(t, e, c.name, func(p []plaintext) { p[1].vals = c.mat })
			expectRejected(t, e, b, c.step, c.part)
		})
	}
}

func TestAttackScoreOutOfRange(t *testing.T) {
	e := newTestElection(t, "attack-score", kindQuestions, 2)
	for name, v := range map[string]uint64{"above max": 6, "far above": 1000, "negative": uint64(1<<64 - 1)} {
		t.Run(name, func(t *testing.T) {
			b := cheat(t, e, "score-"+name, func(p []plaintext) { p[2].vals = []uint64{1, v, 1, 1} })
			expectRejected(t, e, b, "V8.9.1", "")
			if f := b.Diagnose(e.m, e.pk); f.Option != 1 {
				t.Fatalf("Diagnose names option %d, want 1", f.Option)
			}
		})
	}
}

// TestAttackWriteInTooLong: a write-in with more chunks than the question
// allows fails the shape check (V8.3); one whose length byte exceeds the
// declared maximum within the allowed chunks cannot be told apart before
// decryption (the length is not proven) and is rejected by DecodeRow (D3).
func TestAttackWriteInTooLong(t *testing.T) {
	e := newTestElection(t, "attack-writein-long", kindQuestions, 2)
	b := cheat(t, e, "writein-chunks", func(p []plaintext) {
		p[3].elems, _ = EncodeWriteIn(strings.Repeat("x", 70), 70) // 3 chunks for a 2-chunk question
	})
	if err := b.Verify(e.m, e.pk); !errors.Is(err, ErrShape) {
		t.Fatalf("Verify = %v, want ErrShape", err)
	}
	if f := b.Diagnose(e.m, e.pk); f == nil || f.Step != "V8.3" || f.Question != 3 {
		t.Fatalf("Diagnose = %v", f)
	}
	long := cheat(t, e, "writein-long", func(p []plaintext) {
		p[3].elems, _ = EncodeWriteIn(strings.Repeat("y", 50), 59) // 2 chunks, but 50 > 40 bytes
	})
	if err := long.Verify(e.m, e.pk); err != nil {
		t.Fatalf("a well-formed write-in ciphertext rejected: %v", err)
	}
	row, err := long.MixRow(e.m, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.DecodeRow(3, decryptRow(e.sk, row)); !errors.Is(err, ErrInvalidAnswer) {
		t.Fatalf("DecodeRow of a 50-byte write-in for max 40: %v", err)
	}
}

// decryptRow decrypts with the election secret key (tests only: in an
// election no one holds it; trustees decrypt jointly).
func decryptRow(sk *group.Scalar, row []*Ciphertext) []*group.Element {
	out := make([]*group.Element, len(row))
	for i, ct := range row {
		out[i] = group.NewElement().Sub(ct.Beta, group.NewElement().ScalarMult(sk, ct.Alpha))
	}
	return out
}

// TestAttackCopiedCiphertext: Mallory copies Alice's encrypted answer,
// proofs included, into her own ballot, to vote as Alice did (or to learn
// Alice's write-in from the decrypted output). Every proof hashes the
// public credential, so the copy does not verify under Mallory's.
func TestAttackCopiedCiphertext(t *testing.T) {
	e := newTestElection(t, "attack-copy", kindQuestions, 2)
	alice, _ := e.encryptAnswers(t, seeded.Raw("copy-alice"), 0, kindAnswers)
	other := []Answer{{Choices: []uint32{0}}, {Ranking: []uint32{1, 2}}, {Scores: []uint32{1, 1, 1, 1}}, {Text: "mallory"}}
	mallory, _ := e.encryptAnswers(t, seeded.Raw("copy-mallory"), 1, other)
	for q, step := range map[int]string{1: "V8.8.1", 2: "V8.9.1", 3: "V8.10.1"} {
		// The whole question: every ciphertext and proof of Alice's.
		lo, hi := questionSpan(alice, q)
		raw := mallory.Bytes()
		mlo, mhi := questionSpan(mallory, q)
		if hi-lo != mhi-mlo {
			t.Fatal("question sizes differ")
		}
		copy(raw[mlo:mhi], alice.raw[lo:hi])
		cp, err := ParseBallot(raw)
		if err != nil {
			t.Fatal(err)
		}
		expectRejected(t, e, cp, step, "")
	}
	// One write-in chunk (α, β, t, s) alone.
	raw := mallory.Bytes()
	ao, mo := alice.qs[3].wi.off, mallory.qs[3].wi.off
	copy(raw[mo:mo+writeInChunkSize], alice.raw[ao:ao+writeInChunkSize])
	cp, err := ParseBallot(raw)
	if err != nil {
		t.Fatal(err)
	}
	expectRejected(t, e, cp, "V8.10.1", "write-in chunk 0")
	// Only the ciphertext (α, β) of one write-in chunk: Mallory cannot prove
	// she knows its randomness.
	raw = mallory.Bytes()
	copy(raw[mo:mo+CiphertextSize], alice.raw[ao:ao+CiphertextSize])
	cp, _ = ParseBallot(raw)
	expectRejected(t, e, cp, "V8.10.1", "write-in chunk 0")
}

// questionSpan returns the byte range of question q's body (after its kind byte).
func questionSpan(b *Ballot, q int) (int, int) {
	eq := &b.qs[q]
	lo := 0
	switch eq.kind {
	case KindWriteIn:
		lo = eq.wi.off
	default:
		lo = eq.opts[0].off
	}
	hi := len(b.raw)
	if q+1 < len(b.qs) {
		n := &b.qs[q+1]
		switch n.kind {
		case KindWriteIn:
			hi = n.wi.off - 4 - 1
		case KindSelect:
			hi = n.opts[0].off - 4 - 1
		default:
			hi = n.opts[0].off - 8 - 1
		}
	}
	return lo, hi
}

// TestAttackKindsEveryFieldAltered changes one byte in every 32-byte field
// (and every count and kind byte) of a small version-2 ballot: each change
// is rejected by the decoder or by Verify.
func TestAttackKindsEveryFieldAltered(t *testing.T) {
	qs := []Question{
		{Text: "pick", Options: []string{"a", "b"}, Min: 1, Max: 1},
		{Text: "rank", Kind: KindRanked, Options: []string{"a", "b", "c"}, Min: 1, Max: 2},
		{Text: "score", Kind: KindScore, Options: []string{"a", "b"}, Min: 1, Max: 3},
		{Text: "name", Kind: KindWriteIn, Max: 20},
	}
	e := newTestElection(t, "attack-fields", qs, 1)
	b, _ := e.encryptAnswers(t, seeded.Raw("fields"), 0, []Answer{{Choices: []uint32{1}}, {Ranking: []uint32{2, 0}}, {Scores: []uint32{3, 1}}, {Text: "x"}})
	if err := b.Verify(e.m, e.pk); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	// Stride 7 < 32 hits every element and scalar; the question count and
	// every kind byte and count are added explicitly.
	offs := map[int]bool{}
	for i := 0; i < len(raw); i += 7 {
		offs[i] = true
	}
	for i := 65; i < 69; i++ {
		offs[i] = true // question count
	}
	for q := range b.qs {
		lo, _ := questionSpan(b, q)
		for i := lo - 9; i < lo; i++ {
			if i >= 69 {
				offs[i] = true // kind byte and counts
			}
		}
	}
	accepted := 0
	for i := range offs {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x01
		p, err := ParseBallot(bad)
		if err != nil {
			continue
		}
		if p.Verify(e.m, e.pk) == nil {
			t.Errorf("byte %d altered: the ballot still verifies", i)
			accepted++
		}
	}
	t.Logf("%d alterations of a %d-byte ballot, %d accepted", len(offs), len(raw), accepted)
}

// TestAttackKindMismatch: answers of one kind given for a question of
// another, and a version-1 ballot for a version-3 manifest, fail V8.3.
func TestAttackKindMismatch(t *testing.T) {
	e := newTestElection(t, "attack-kind", kindQuestions, 1)
	b, _ := e.encryptAnswers(t, seeded.Raw("kind"), 0, kindAnswers)
	// Swap the kind of question 2 (score) for ranked in a re-encoding: the
	// decoder reads a different layout, or the shape check fails.
	lo, _ := questionSpan(b, 2)
	raw := b.Bytes()
	raw[lo-9] = byte(KindRanked)
	if p, err := ParseBallot(raw); err == nil {
		if err := p.Verify(e.m, e.pk); !errors.Is(err, ErrShape) && !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("kind swapped: %v", err)
		}
	}
	v1 := newTestElection(t, "attack-kind", shapes, 1)
	old, _ := v1.encrypt(t, seeded.Raw("kind-v1"), 0, defaultChoices)
	if err := old.Verify(e.m, e.pk); !errors.Is(err, ErrWrongElection) && !errors.Is(err, ErrShape) {
		t.Fatalf("version-1 ballot for a version-3 manifest: %v", err)
	}
	raw = b.Bytes()
	raw[0] = BallotVersion
	if p, err := ParseBallot(raw); err == nil && p.Verify(e.m, e.pk) == nil {
		t.Fatal("version byte changed: still verifies")
	}
}
