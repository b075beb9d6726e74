package ballot

// Adversarial tests (docs/SECURITY-REVIEW.md). Each TestAttack… builds a
// forgery as a cheating voter would and checks that Verify, Diagnose and
// VerifyBatch all reject it. Where the attack succeeds against a weaker
// verifier, the test shows that too, so it would notice if the defence
// were removed.

import (
	"encoding/binary"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// item appends the §2.3 encoding of one transcript item: u32be(len) || x.
func item(buf, x []byte) []byte {
	return append(binary.BigEndian.AppendUint32(buf, uint32(len(x))), x...)
}

func u64item(buf []byte, n uint64) []byte { return item(buf, binary.BigEndian.AppendUint64(nil, n)) }

// writeBranches overwrites the branches of a proof at off in raw.
func writeBranches(raw []byte, off int, pf *proof) {
	for j := range pf.a {
		o := off + j*branchSize
		copy(raw[o:], pf.a[j].Bytes())
		copy(raw[o+32:], pf.b[j].Bytes())
		copy(raw[o+64:], pf.c[j].Bytes())
		copy(raw[o+96:], pf.s[j].Bytes())
	}
}

// challengeStart is what the §6.4 and §6.5 challenges hash first: the
// election fingerprint, the election key, the credential and the question.
func challengeStart(fp [32]byte, pk, cred *group.Element, q int) []byte {
	enc := item(nil, fp[:])
	enc = item(enc, pk.Bytes())
	enc = item(enc, cred.Bytes())
	return u64item(enc, uint64(q))
}

// optionChallenge is the §6.4 challenge, written out from SPEC.md
// independently of statement().
func optionChallenge(fp [32]byte, pk, cred *group.Element, q, i int, ct *Ciphertext, commits ...*group.Element) *group.Scalar {
	enc := challengeStart(fp, pk, cred, q)
	enc = u64item(enc, uint64(i))
	enc = item(enc, ct.Alpha.Bytes())
	enc = item(enc, ct.Beta.Bytes())
	for _, c := range commits {
		enc = item(enc, c.Bytes())
	}
	return group.HashToScalar(enc, []byte("urna/v1/disjunctive-proof"))
}

// rangeChallenge is the §6.5 challenge, written out from SPEC.md.
func rangeChallenge(fp [32]byte, pk, cred *group.Element, q int, min, max uint32, cts []*Ciphertext, commits ...*group.Element) *group.Scalar {
	enc := challengeStart(fp, pk, cred, q)
	enc = u64item(enc, uint64(min))
	enc = u64item(enc, uint64(max))
	for _, ct := range cts {
		enc = item(enc, ct.Alpha.Bytes())
		enc = item(enc, ct.Beta.Bytes())
	}
	for _, c := range commits {
		enc = item(enc, c.Bytes())
	}
	return group.HashToScalar(enc, []byte("urna/v1/range-proof"))
}

func sumScalars(cs []*group.Scalar) *group.Scalar {
	s := group.NewScalar()
	for _, c := range cs {
		s.Add(s, c)
	}
	return s
}

func interleave(a, b []*group.Element) []*group.Element {
	var out []*group.Element
	for j := range a {
		out = append(out, a[j], b[j])
	}
	return out
}

// rejectEverywhere asserts that Verify, Diagnose and VerifyBatch (alone and
// next to an honest ballot) all reject b, and returns Diagnose's failure.
func rejectEverywhere(t *testing.T, e *testElection, b, honest *Ballot) *Failure {
	t.Helper()
	if err := b.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("Verify = %v, want ErrInvalidProof", err)
	}
	f := b.Diagnose(e.m, e.pk)
	if f == nil {
		t.Fatal("Diagnose accepts the forgery")
	}
	rng := seeded.Raw("reject-everywhere")
	if bad, err := VerifyBatch(rng, e.m, e.pk, []*Ballot{b}, nil); err != nil || !slices.Equal(bad, []int{0}) {
		t.Errorf("VerifyBatch alone = %v, %v", bad, err)
	}
	if bad, err := VerifyBatch(rng, e.m, e.pk, []*Ballot{honest, b, honest}, nil); err != nil || !slices.Equal(bad, []int{1}) {
		t.Errorf("VerifyBatch = %v, %v; want [1]", bad, err)
	}
	return f
}

// TestAttackTranscriptMatchesSpec recomputes every option and range
// challenge of an honest ballot from SPEC.md §6.4/§6.5 written out by hand,
// so an item missing from the hash, or hashed in another order, fails here.
// Then it changes each statement item in turn and checks that the challenge
// changes (every item is really hashed).
func TestAttackTranscriptMatchesSpec(t *testing.T) {
	e := newTestElection(t, "transcript", shapes, 2)
	b, _ := e.encrypt(t, seeded.Raw("transcript-ballot"), 0, defaultChoices)
	fp := e.m.Fingerprint()
	cred := e.creds[0].Public()
	for q, mq := range e.m.Questions {
		eq := &b.qs[q]
		var cts []*Ciphertext
		for i := range eq.opts {
			o := &eq.opts[i]
			cts = append(cts, o.ct)
			want := optionChallenge(fp, e.pk, cred, q, i, o.ct, interleave(o.pf.a, o.pf.b)...)
			if !sumScalars(o.pf.c).Equal(want) {
				t.Fatalf("q%d o%d: challenge is not SPEC §6.4's", q, i)
			}
		}
		want := rangeChallenge(fp, e.pk, cred, q, mq.Min, mq.Max, cts, interleave(eq.rng.a, eq.rng.b)...)
		if !sumScalars(eq.rng.c).Equal(want) {
			t.Fatalf("q%d: challenge is not SPEC §6.5's", q)
		}
	}

	// Mutate each statement item of option (1, 2) and of question 1's range proof.
	o := &b.qs[1].opts[2]
	other := pointFrom(t, seeded.Raw("transcript-other"))
	fp2 := fp
	fp2[31] ^= 1
	ct2 := &Ciphertext{Alpha: o.ct.Beta, Beta: o.ct.Alpha}
	commits := interleave(o.pf.a, o.pf.b)
	base := optionChallenge(fp, e.pk, cred, 1, 2, o.ct, commits...)
	for name, c := range map[string]*group.Scalar{
		"fingerprint":  optionChallenge(fp2, e.pk, cred, 1, 2, o.ct, commits...),
		"key":          optionChallenge(fp, other, cred, 1, 2, o.ct, commits...),
		"credential":   optionChallenge(fp, e.pk, other, 1, 2, o.ct, commits...),
		"question":     optionChallenge(fp, e.pk, cred, 0, 2, o.ct, commits...),
		"option":       optionChallenge(fp, e.pk, cred, 1, 1, o.ct, commits...),
		"ciphertext":   optionChallenge(fp, e.pk, cred, 1, 2, ct2, commits...),
		"commitment":   optionChallenge(fp, e.pk, cred, 1, 2, o.ct, append(slices.Clone(commits[:3]), other)...),
		"commit order": optionChallenge(fp, e.pk, cred, 1, 2, o.ct, commits[1], commits[0], commits[2], commits[3]),
	} {
		if c.Equal(base) {
			t.Errorf("option challenge ignores the %s", name)
		}
	}
	eq := &b.qs[1]
	var cts []*Ciphertext
	for i := range eq.opts {
		cts = append(cts, eq.opts[i].ct)
	}
	rc := interleave(eq.rng.a, eq.rng.b)
	mq := e.m.Questions[1]
	rbase := rangeChallenge(fp, e.pk, cred, 1, mq.Min, mq.Max, cts, rc...)
	swapped := slices.Clone(cts)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	for name, c := range map[string]*group.Scalar{
		"fingerprint":  rangeChallenge(fp2, e.pk, cred, 1, mq.Min, mq.Max, cts, rc...),
		"key":          rangeChallenge(fp, other, cred, 1, mq.Min, mq.Max, cts, rc...),
		"credential":   rangeChallenge(fp, e.pk, other, 1, mq.Min, mq.Max, cts, rc...),
		"question":     rangeChallenge(fp, e.pk, cred, 0, mq.Min, mq.Max, cts, rc...),
		"min":          rangeChallenge(fp, e.pk, cred, 1, mq.Min-1, mq.Max, cts, rc...),
		"max":          rangeChallenge(fp, e.pk, cred, 1, mq.Min, mq.Max+1, cts, rc...),
		"option order": rangeChallenge(fp, e.pk, cred, 1, mq.Min, mq.Max, swapped, rc...),
		"commitment":   rangeChallenge(fp, e.pk, cred, 1, mq.Min, mq.Max, cts, other),
	} {
		if c.Equal(rbase) {
			t.Errorf("range challenge ignores the %s", name)
		}
	}
}

// encryptTwo encrypts (2, 0) in question 0 for voter 0 of e, a two-of-two
// approval election: the sum 2 is in 0..2, so the range proof is honest. It
// returns the ballot and the randomness r of its option 0, for forgeTwo.
func encryptTwo(t *testing.T, e *testElection, rng *seeded.Reader) (*Ballot, *group.Scalar) {
	t.Helper()
	b, sec, err := encrypt(rng, e.m, e.pk, e.creds[0], [][]uint64{{2, 0}})
	if err != nil {
		t.Fatal(err)
	}
	return b, sec.r[0][0]
}

// forgeTwo rewrites option 0 of question 0 of b, which encrypts 2 with
// randomness r, with a proof whose challenges sum correctly (P1) and whose
// P2/P3 errors cancel in the random linear combination with weights
// (za0, zb0, za1, zb1) for (P2, P3) of branches 0 and 1. With u_j the
// nonces, x_j = s_j − u_j − c_j·r, the weighted error is
//
//	G: za0·x0 − 2·zb0·c0 + za1·x1 − zb1·c1      K: zb0·x0 + zb1·x1
//
// and the forger solves both for x0, x1. Such a forgery passes any verifier
// whose weights the prover knows before it picks its responses: forgeTwo
// takes the weights a verifier draws from seed (and checks that the
// forgery passes that verifier).
func forgeTwo(t *testing.T, e *testElection, b *Ballot, r *group.Scalar, seed [32]byte, rng *seeded.Reader) *Ballot {
	t.Helper()
	za0, zb0, za1, zb1 := forgeryWeights(seed, 3)
	o := &b.qs[0].opts[0]
	u0, u1 := scalarFrom(t, rng), scalarFrom(t, rng)
	a0, a1 := group.NewElement().ScalarBaseMult(u0), group.NewElement().ScalarBaseMult(u1)
	b0, b1 := group.NewElement().ScalarMult(u0, e.pk), group.NewElement().ScalarMult(u1, e.pk)
	c := optionChallenge(e.m.Fingerprint(), e.pk, b.cred, 0, 0, o.ct, a0, b0, a1, b1)
	c0 := scalarFrom(t, rng)
	c1 := group.NewScalar().Sub(c, c0)
	two := group.ScalarFromUint64(2)
	num := group.NewScalar().Mul(two, zb0)
	num.Mul(num, c0)
	num.Add(num, group.NewScalar().Mul(zb1, c1))
	num.Mul(num, zb1)
	den := group.NewScalar().Mul(za0, zb1)
	den.Sub(den, group.NewScalar().Mul(za1, zb0))
	x0 := num.Mul(num, group.NewScalar().Invert(den))
	x1 := group.NewScalar().Mul(zb0, x0)
	x1.Neg(x1).Mul(x1, group.NewScalar().Invert(zb1))
	s0 := group.NewScalar().Add(x0, u0)
	s0.Add(s0, group.NewScalar().Mul(c0, r))
	s1 := group.NewScalar().Add(x1, u1)
	s1.Add(s1, group.NewScalar().Mul(c1, r))
	raw := slices.Clone(b.raw)
	writeBranches(raw, o.off+CiphertextSize, &proof{
		a: []*group.Element{a0, a1}, b: []*group.Element{b0, b1},
		c: []*group.Scalar{c0, c1}, s: []*group.Scalar{s0, s1},
	})
	fb, err := ParseBallot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !naiveVerify(e, fb, seed) {
		t.Fatal("forgery construction is wrong: it does not even pass a verifier with the weights it was made for")
	}
	return fb
}

// naiveVerify is Verify with weights from a seed the caller chooses: what a
// verifier with prover-predictable weights would do.
func naiveVerify(e *testElection, b *Ballot, seed [32]byte) bool {
	fp := e.m.Fingerprint()
	if b.precheck(e.m, &fp, e.pk.Bytes()) != nil {
		return false
	}
	l := b.equation(e.m, &weights{seed: seed}, fp[:], e.pk.Bytes())
	return checkEq(e.pk, l.g, l.k, l.terms...)
}

// forgeryWeights returns the weights equation() gives option 0 of question
// 0 in a one-question ballot whose range proof has nRange branches.
func forgeryWeights(seed [32]byte, nRange int) (za0, zb0, za1, zb1 *group.Scalar) {
	w := &weights{seed: seed}
	for k := 0; k < 2*nRange; k++ {
		w.next()
	}
	return w.next(), w.next(), w.next(), w.next()
}

var twoOfTwoApproval = []Question{{Text: "approve", Options: []string{"x", "y"}, Min: 0, Max: 2}}

// TestAttackPredictableWeights is attack 2 of the brief: a single-ballot
// check that folds all P2/P3 equations into one random linear combination
// is only sound if the prover cannot compute the weights before it fixes
// its responses. The test forges an option encrypting 2 that passes such a
// check with weights derived from data the prover controls before the
// responses (here: the key, fingerprint and credential), and shows that the
// real Verify, whose weights hash the key and the whole ballot — every
// commitment, challenge and response (SPEC.md §2.5, "derived ... only
// through a hash of the complete batch") — rejects it; so does iterating
// the forgery toward a fixed point of that hash.
func TestAttackPredictableWeights(t *testing.T) {
	e := newTestElection(t, "weights", twoOfTwoApproval, 1)
	rng := seeded.Raw("weights-forger")
	honest, _ := e.encrypt(t, rng, 0, [][]uint32{{0}})
	b, r := encryptTwo(t, e, rng)
	fp := e.m.Fingerprint()
	predictable := transcript.New(transcript.BatchWeights).Bytes(e.pk.Bytes()).Bytes(fp[:]).Bytes(e.creds[0].Public().Bytes()).Digest()
	forged := forgeTwo(t, e, b, r, predictable, rng)
	f := rejectEverywhere(t, e, forged, honest)
	if f.Step != "V8.6.3" || f.Question != 0 || f.Option != 0 {
		t.Errorf("Diagnose = %v, want V8.6.3 q0 o0", f)
	}
	// Chasing Verify's own weights: each rewrite changes the responses and
	// so the weights; the hash has no fixed point the forger can find.
	cur := forged
	for round := 0; round < 4; round++ {
		seed := transcript.New(transcript.BatchWeights).Bytes(e.pk.Bytes()).Bytes(cur.raw).Digest()
		cur = forgeTwo(t, e, b, r, seed, rng)
		if err := cur.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("round %d: Verify accepts a forged 2: %v", round, err)
		}
	}
}

// TestAttackBatchWeightsFromCaller forges with the weights VerifyBatch would
// draw from a given reader: it is rejected under any other reader output.
// VerifyBatch's soundness therefore rests on its caller's randomness being
// unknown to voters (crypto/rand in the board and the observer).
func TestAttackBatchWeightsFromCaller(t *testing.T) {
	e := newTestElection(t, "batch-weights", twoOfTwoApproval, 1)
	rng := seeded.Raw("batch-weights-forger")
	honest, _ := e.encrypt(t, rng, 0, [][]uint32{{1}})
	b, r := encryptTwo(t, e, rng)
	// The forger guesses the verifier's seed: the first 32 bytes it reads.
	var guess [32]byte
	seeded.Raw("the verifier's reader").Read(guess[:])
	forged := forgeTwo(t, e, b, r, guess, rng)
	for _, seed := range []string{"another reader", "yet another"} {
		bad, err := VerifyBatch(seeded.Raw(seed), e.m, e.pk, []*Ballot{honest, forged}, nil)
		if err != nil || !slices.Equal(bad, []int{1}) {
			t.Errorf("VerifyBatch(%q) = %v, %v; want [1]", seed, bad, err)
		}
		bad, err = VerifyBatchParallel(seeded.Raw(seed), e.m, e.pk, []*Ballot{honest, forged, honest, honest}, nil, 2)
		if err != nil || !slices.Equal(bad, []int{1}) {
			t.Errorf("VerifyBatchParallel(%q) = %v, %v; want [1]", seed, bad, err)
		}
	}
}

// TestAttackBatchCancellation builds two ballots whose equation errors are
// exact opposites: their plain sum (all weights 1) is zero, so a verifier
// that added equations without independent weights would accept both.
// VerifyBatch weights every ballot's equations independently and names both.
func TestAttackBatchCancellation(t *testing.T) {
	e := newTestElection(t, "cancel", shapes[:1], 2)
	rng := seeded.Raw("cancel-ballots")
	honest, _ := e.encrypt(t, rng, 0, [][]uint32{{3}})
	x, _ := e.encrypt(t, rng, 0, [][]uint32{{1}})
	y, _ := e.encrypt(t, rng, 1, [][]uint32{{4}})
	delta := scalarFrom(t, rng)
	// Shift s_0 of option 0 by +δ in x and by −δ in y: x's P2 error is δ·G
	// and P3 error δ·K; y's are −δ·G and −δ·K.
	shift := func(b *Ballot, d *group.Scalar) *Ballot {
		raw := slices.Clone(b.raw)
		off := b.qs[0].opts[0].off + CiphertextSize + 96
		s := group.NewScalar().Add(b.qs[0].opts[0].pf.s[0], d)
		copy(raw[off:], s.Bytes())
		nb, err := ParseBallot(raw)
		if err != nil {
			t.Fatal(err)
		}
		return nb
	}
	bx, by := shift(x, delta), shift(y, group.NewScalar().Neg(delta))
	// The errors really cancel in an unweighted sum.
	residual := func(b *Ballot) (*group.Element, *group.Element) {
		o := &b.qs[0].opts[0]
		p2 := group.NewElement().ScalarBaseMult(o.pf.s[0])
		p2.Sub(p2, group.NewElement().ScalarMult(o.pf.c[0], o.ct.Alpha)).Sub(p2, o.pf.a[0])
		p3 := group.NewElement().ScalarMult(o.pf.s[0], e.pk)
		p3.Sub(p3, group.NewElement().ScalarMult(o.pf.c[0], o.ct.Beta)).Sub(p3, o.pf.b[0])
		return p2, p3
	}
	x2, x3 := residual(bx)
	y2, y3 := residual(by)
	if x2.IsIdentity() || !group.NewElement().Add(x2, y2).IsIdentity() || !group.NewElement().Add(x3, y3).IsIdentity() {
		t.Fatal("the two errors do not cancel: test construction is wrong")
	}
	for _, b := range []*Ballot{bx, by} {
		if err := b.Verify(e.m, e.pk); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("Verify = %v", err)
		}
	}
	bad, err := VerifyBatch(rng, e.m, e.pk, []*Ballot{honest, bx, by, honest}, nil)
	if err != nil || !slices.Equal(bad, []int{1, 2}) {
		t.Fatalf("VerifyBatch = %v, %v; want [1 2]", bad, err)
	}
	bad, err = VerifyBatchParallel(rng, e.m, e.pk, []*Ballot{honest, bx, by, honest}, nil, 2)
	if err != nil || !slices.Equal(bad, []int{1, 2}) {
		t.Fatalf("VerifyBatchParallel = %v, %v; want [1 2]", bad, err)
	}
}

// TestAttackOutOfRangeValues encrypts 2 and −1 (= ℓ−1) paired so that
// each question's sum is legal (the range proof is honest) and gives each
// bad option the best proof a forger without a witness can make: P1 holds
// and one branch is the honest proof for the wrong value. Every variant is
// rejected at V8.6.3.
func TestAttackOutOfRangeValues(t *testing.T) {
	e := newTestElection(t, "out-of-range", []Question{{Text: "1-of-2", Options: []string{"x", "y"}, Min: 1, Max: 1}}, 1)
	rng := seeded.Raw("out-of-range-ballots")
	honest, _ := e.encrypt(t, rng, 0, [][]uint32{{1}})
	minus1 := group.NewScalar().Neg(group.ScalarFromUint64(1))
	two := group.ScalarFromUint64(2)
	for _, tc := range []struct {
		name   string
		m0, m1 *group.Scalar
	}{
		{"(2, −1)", two, minus1},
		{"(−1, 2)", minus1, two},
		{"control (1, 0)", group.ScalarFromUint64(1), group.NewScalar()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := forgeValues(t, e, rng, []*group.Scalar{tc.m0, tc.m1})
			if tc.m0.Equal(group.ScalarFromUint64(1)) {
				// Control: (1, 0) is a legal ballot built by the same forger.
				if err := b.Verify(e.m, e.pk); err != nil {
					t.Fatalf("control ballot rejected: %v", err)
				}
				return
			}
			f := rejectEverywhere(t, e, b, honest)
			if f.Step != "V8.6.3" {
				t.Errorf("Diagnose = %v, want V8.6.3", f)
			}
		})
	}
}

// forgeValues builds a one-question ballot encrypting the scalars ms. Each
// option proof has P1 right; for a value v ∉ {0, 1} its "real" branch is
// the one for 1 (b_1 honest for 1), the other is simulated. The range proof
// is made honestly for Σ ms when that is a legal value.
func forgeValues(t *testing.T, e *testElection, rng *seeded.Reader, ms []*group.Scalar) *Ballot {
	t.Helper()
	fp := e.m.Fingerprint()
	cred := e.creds[0].Public()
	mq := e.m.Questions[0]
	w := wire.NewWriter(0)
	w.U8(BallotVersion).Fixed(fp[:]).Element(cred).Count(1).Count(len(ms))
	var cts []*Ciphertext
	rsum, msum := group.NewScalar(), group.NewScalar()
	for i, m := range ms {
		r := scalarFrom(t, rng)
		rsum.Add(rsum, r)
		msum.Add(msum, m)
		ct := &Ciphertext{Alpha: group.NewElement().ScalarBaseMult(r), Beta: group.NewElement().ScalarMult(r, e.pk)}
		ct.Beta.Add(ct.Beta, group.NewElement().ScalarBaseMult(m))
		cts = append(cts, ct)
		pf := proveScalar(t, rng, e.pk, r, m, 0, 2, func(commits []*group.Element) *group.Scalar {
			return optionChallenge(fp, e.pk, cred, 0, i, ct, commits...)
		})
		ct.AppendTo(w)
		writeProofTo(w, pf)
	}
	rp := proveScalar(t, rng, e.pk, rsum, msum, uint64(mq.Min), int(mq.Max-mq.Min)+1, func(commits []*group.Element) *group.Scalar {
		return rangeChallenge(fp, e.pk, cred, 0, mq.Min, mq.Max, cts, commits...)
	})
	w.Count(len(rp.a))
	writeProofTo(w, rp)
	b, err := ParseBallot(w.Out())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeProofTo(w *wire.Writer, pf *proof) {
	for j := range pf.a {
		w.Element(pf.a[j]).Element(pf.b[j]).Scalar(pf.c[j]).Scalar(pf.s[j])
	}
}

// proveScalar is the §6.3 prover for a plaintext m given as a scalar, with
// values v_j = v0 + j. If m is none of them, branch n−1 plays the real one
// (honest nonce, challenge completing the sum).
func proveScalar(t *testing.T, rng *seeded.Reader, pk *group.Element, r, m *group.Scalar, v0 uint64, n int, chal func([]*group.Element) *group.Scalar) *proof {
	t.Helper()
	real := n - 1
	for j := 0; j < n; j++ {
		if group.ScalarFromUint64(v0 + uint64(j)).Equal(m) {
			real = j
		}
	}
	pf := &proof{a: make([]*group.Element, n), b: make([]*group.Element, n), c: make([]*group.Scalar, n), s: make([]*group.Scalar, n)}
	u := make([]*group.Scalar, n)
	var commits []*group.Element
	for j := 0; j < n; j++ {
		u[j], pf.c[j] = scalarFrom(t, rng), scalarFrom(t, rng)
		pf.a[j] = group.NewElement().ScalarBaseMult(u[j])
		pf.b[j] = group.NewElement().ScalarMult(u[j], pk)
		if j != real {
			// b_j = u_j·K − c_j·(m − v_j)·G makes P3 hold for branch j.
			d := group.NewScalar().Sub(m, group.ScalarFromUint64(v0+uint64(j)))
			d.Mul(d, pf.c[j]).Neg(d)
			pf.b[j].Add(pf.b[j], group.NewElement().ScalarBaseMult(d))
		}
		commits = append(commits, pf.a[j], pf.b[j])
	}
	c := chal(commits)
	others := group.NewScalar()
	for j := 0; j < n; j++ {
		if j != real {
			others.Add(others, pf.c[j])
		}
	}
	pf.c[real] = group.NewScalar().Sub(c, others)
	for j := 0; j < n; j++ {
		pf.s[j] = group.NewScalar().Mul(pf.c[j], r)
		pf.s[j].Add(pf.s[j], u[j])
	}
	return pf
}

// TestAttackRerandomizedCopy is ballot copying (attack 3): Mallory takes
// Alice's ballot, re-randomizes every ciphertext (adds an encryption of 0
// with her own r′), binds it to her credential and adapts every response
// (s′ = s + c·r′). Each adapted branch still satisfies P2 and P3 — the
// proofs are malleable as equations — so only the challenge, which hashes
// the credential and the ciphertexts, stops the copy (P1, V8.6.2).
func TestAttackRerandomizedCopy(t *testing.T) {
	e := newTestElection(t, "copy", shapes[:1], 2)
	rng := seeded.Raw("copy-ballots")
	alice, _ := e.encrypt(t, rng, 0, [][]uint32{{2}})
	mallory := e.creds[1].Public()
	raw := slices.Clone(alice.raw)
	copy(raw[33:65], mallory.Bytes())
	var rsum = group.NewScalar()
	for i := range alice.qs[0].opts {
		o := &alice.qs[0].opts[i]
		rp := scalarFrom(t, rng)
		rsum.Add(rsum, rp)
		ct := &Ciphertext{Alpha: group.NewElement().Add(o.ct.Alpha, group.NewElement().ScalarBaseMult(rp)),
			Beta: group.NewElement().Add(o.ct.Beta, group.NewElement().ScalarMult(rp, e.pk))}
		copy(raw[o.off:], ct.Bytes())
		pf := proof{a: o.pf.a, b: o.pf.b, c: o.pf.c}
		for j := range o.pf.s {
			pf.s = append(pf.s, group.NewScalar().Add(o.pf.s[j], group.NewScalar().Mul(o.pf.c[j], rp)))
		}
		writeBranches(raw, o.off+CiphertextSize, &pf)
	}
	rng2 := &alice.qs[0].rng
	rpf := proof{a: rng2.a, b: rng2.b, c: rng2.c}
	for j := range rng2.s {
		rpf.s = append(rpf.s, group.NewScalar().Add(rng2.s[j], group.NewScalar().Mul(rng2.c[j], rsum)))
	}
	writeBranches(raw, alice.qs[0].rngOff, &rpf)
	cp, err := ParseBallot(raw)
	if err != nil {
		t.Fatal(err)
	}
	// The equations P2/P3 hold for every branch of the copy ...
	fp := e.m.Fingerprint()
	l := cp.equation(e.m, &weights{seed: [32]byte{1}}, fp[:], e.pk.Bytes())
	if !checkEq(e.pk, l.g, l.k, l.terms...) {
		t.Fatal("adapted equations do not hold: test construction is wrong")
	}
	// ... but the challenges do not.
	if f := cp.precheck(e.m, &fp, e.pk.Bytes()); f == nil || f.Step != "V8.6.2" {
		t.Fatalf("precheck = %v, want V8.6.2", f)
	}
	f := rejectEverywhere(t, e, cp, alice)
	if f.Step != "V8.6.2" {
		t.Errorf("Diagnose = %v", f)
	}
	// The verbatim copy is still Alice's: its credential is hers, so only
	// her key can sign the envelope (V8.4), and a replay of it is a reused
	// tracker (V10.3), which cannot override a later revote.
	again := CastEntry(alice, true)
	revote, _ := e.encrypt(t, rng, 0, [][]uint32{{4}})
	st := SelectCounted([]CountEntry{again, CastEntry(revote, true), again})
	if !slices.Equal(st, []CountStatus{Superseded, Counted, ReusedTracker}) {
		t.Fatalf("replay after revote: %v", st)
	}
}

// TestAttackReorder swaps options within a question and whole questions of
// the same shape: the indexes q and i are in every transcript.
func TestAttackReorder(t *testing.T) {
	qs := []Question{
		{Text: "first", Options: []string{"a", "b", "c"}, Min: 0, Max: 2},
		{Text: "second", Options: []string{"d", "e", "f"}, Min: 0, Max: 2},
	}
	e := newTestElection(t, "reorder", qs, 1)
	rng := seeded.Raw("reorder-ballots")
	b, _ := e.encrypt(t, rng, 0, [][]uint32{{0}, {1, 2}})
	o0, o1 := b.qs[0].opts[0].off, b.qs[0].opts[1].off
	raw := slices.Clone(b.raw)
	copy(raw[o0:o0+optionSize], b.raw[o1:o1+optionSize])
	copy(raw[o1:o1+optionSize], b.raw[o0:o0+optionSize])
	swapOpts, _ := ParseBallot(raw)
	// Questions: both have the same encoded length.
	q0 := b.qs[0].opts[0].off - 4
	q1 := b.qs[1].opts[0].off - 4
	n := q1 - q0
	raw2 := slices.Clone(b.raw)
	copy(raw2[q0:q0+n], b.raw[q1:q1+n])
	copy(raw2[q1:q1+n], b.raw[q0:q0+n])
	swapQs, err := ParseBallot(raw2)
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]*Ballot{"options": swapOpts, "questions": swapQs} {
		if f := rejectEverywhere(t, e, x, b); f.Step != "V8.6.2" {
			t.Errorf("%s: Diagnose = %v", name, f)
		}
	}
}

// TestAttackZeroProof tries the degenerate proofs: every commitment the
// identity and every scalar zero (P1 needs the challenge to be 0), and a
// false branch with c_j = 0 (which satisfies P2/P3 trivially, so the other
// branch must carry the whole challenge and be a real proof).
func TestAttackZeroProof(t *testing.T) {
	e := newTestElection(t, "zero", twoOfTwoApproval, 1)
	rng := seeded.Raw("zero-ballots")
	b, _ := e.encrypt(t, rng, 0, [][]uint32{{0}})
	raw := slices.Clone(b.raw)
	for i := range b.qs[0].opts {
		off := b.qs[0].opts[i].off + CiphertextSize
		clear(raw[off : off+2*branchSize])
	}
	z, err := ParseBallot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if f := rejectEverywhere(t, e, z, b); f.Step != "V8.6.2" {
		t.Errorf("all-zero proof: %v", f)
	}
	// Option 0 encrypts 2; branch 1 has c_1 = 0, s_1 = u_1 (trivially true),
	// branch 0 takes the whole challenge with an honest nonce.
	bb, sec, _ := encrypt(rng, e.m, e.pk, e.creds[0], [][]uint64{{2, 0}})
	o := &bb.qs[0].opts[0]
	u0, u1 := scalarFrom(t, rng), scalarFrom(t, rng)
	pf := proof{
		a: []*group.Element{group.NewElement().ScalarBaseMult(u0), group.NewElement().ScalarBaseMult(u1)},
		b: []*group.Element{group.NewElement().ScalarMult(u0, e.pk), group.NewElement().ScalarMult(u1, e.pk)},
	}
	c := optionChallenge(e.m.Fingerprint(), e.pk, bb.cred, 0, 0, o.ct, interleave(pf.a, pf.b)...)
	pf.c = []*group.Scalar{c, group.NewScalar()}
	pf.s = []*group.Scalar{group.NewScalar().Add(u0, group.NewScalar().Mul(c, sec.r[0][0])), u1}
	raw = slices.Clone(bb.raw)
	writeBranches(raw, o.off+CiphertextSize, &pf)
	zb, _ := ParseBallot(raw)
	if f := rejectEverywhere(t, e, zb, b); f.Step != "V8.6.3" || f.Branch != 0 {
		t.Errorf("c_1 = 0 forgery: %v", f)
	}
}

// TestAttackParseAllocation feeds every ballot-package decoder short inputs
// claiming the largest counts: each fails without allocating more than a
// few KiB (no allocation bombs; counts are checked before reading, §2.4).
func TestAttackParseAllocation(t *testing.T) {
	ff := []byte{0xff, 0xff, 0xff, 0xff}
	big := []byte{0, 0x10, 0, 0} // 2^20
	fp := make([]byte, 32)
	cred := group.Generator().Bytes()
	ballotHdr := append(append(append([]byte{1}, fp...), cred...), ff...)
	cases := map[string]func() error{
		"ballot: 2^32−1 questions": func() error { _, err := ParseBallot(ballotHdr); return err },
		"credential list: 2^32−1":  func() error { _, err := ParseCredentialList(ff); return err },
		"credential list: 2^20":    func() error { _, err := ParseCredentialList(big); return err },
		"audited: 2^32−1 bytes":    func() error { _, err := ParseAuditedBallot(ff); return err },
		"manifest: huge id":        func() error { _, err := ParseManifest(append([]byte{1}, ff...)); return err },
	}
	for name, f := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := f()
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
			t.Errorf("%s: allocated %d bytes", name, n)
		}
	}
}

// TestAttackCredentialHelpersBranchFree checks the constant-time helpers
// that handle secret credential symbols against the obvious table lookups,
// for every input.
func TestAttackCredentialHelpersBranchFree(t *testing.T) {
	for v := 0; v < 256; v++ {
		want := byte(v) << 1
		if want&0x20 != 0 {
			want ^= 0x25
		}
		if v < 32 && gfMulX(byte(v)) != want {
			t.Fatalf("gfMulX(%d) = %d, want %d", v, gfMulX(byte(v)), want)
		}
		if v < 32 && symbolOf(byte(v)) != CredentialAlphabet[v] {
			t.Fatalf("symbolOf(%d)", v)
		}
		got, ok := valueOf(byte(v))
		idx := -1
		for k := 0; k < len(CredentialAlphabet); k++ {
			if CredentialAlphabet[k] == byte(v) {
				idx = k
			}
		}
		if (ok == 1) != (idx >= 0) || (idx >= 0 && int(got) != idx) || (idx < 0 && got != 0) {
			t.Fatalf("valueOf(%q) = %d, %d", rune(v), got, ok)
		}
	}
}
