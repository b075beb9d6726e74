package tally_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// TestMixCascade: three trustees shuffle each mixed question, two decrypt,
// and the decoded answers are the counted ballots' answers, as a multiset;
// every body round-trips byte for byte.
func TestMixCascade(t *testing.T) {
	e := testonly.BuildKinds(t, "mix-cascade", testonly.MixedConfig(), nil)
	mixes := e.TallyMixed(testonly.Mixers())
	for _, q := range e.MixQuestions() {
		st := mixes[q]
		for k, ms := range st.Shuffles {
			in := st.Inputs
			if k > 0 {
				in = st.Shuffles[k-1].Outputs
			}
			if err := tally.VerifyMix(seeded.New("w"), e.Fingerprint(), e.JointKey, in, ms); err != nil {
				t.Fatalf("question %d shuffle %d: %v", q, k+1, err)
			}
			back, err := tally.ParseMixShuffle(ms.Bytes())
			if err != nil || !bytes.Equal(back.Bytes(), ms.Bytes()) {
				t.Fatalf("shuffle round trip: %v", err)
			}
		}
		var want, got []string
		for _, seq := range e.SeqCounted {
			want = append(want, answerKey(e.Answers[seq][q]))
		}
		for _, a := range st.Answers.Answers {
			got = append(got, answerKey(a))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("question %d: decrypted %q, cast %q", q, got, want)
		}
	}
	res, err := tally.ParseResult(e.Result.Bytes())
	if err != nil || !bytes.Equal(res.Bytes(), e.Result.Bytes()) || len(res.Mixed) != 3 {
		t.Fatalf("result round trip: %v", err)
	}
}

func answerKey(a ballot.Answer) string {
	var b bytes.Buffer
	for _, x := range append(slices.Clone(a.Ranking), a.Scores...) {
		b.WriteByte(byte('a' + x))
	}
	return b.String() + "|" + a.Text
}

// TestAttackMixDecryptionWrongRows: a decryption share set computed for
// other rows (the cascade's input, or rows with two ciphertexts swapped)
// does not verify against the last shuffle's rows; nor does one whose
// single share was changed.
func TestAttackMixDecryptionWrongRows(t *testing.T) {
	e := testonly.BuildKinds(t, "mix-wrong-rows", testonly.Config{Voters: 3, Ballots: 3, N: 2, T: 2, Decrypt: []int{1, 2}}, nil)
	mixes := e.TallyMixed([]int{1, 2})
	q := e.MixQuestions()[0]
	st := mixes[q]
	vk := e.VerificationKeys[0]
	_, good := e.MixDecryptionEntry(q, 1, st.Rows())
	if err := tally.VerifyMixDecryption(e.Fingerprint(), vk, st.Rows(), good); err != nil {
		t.Fatalf("honest decryption: %v", err)
	}
	_, wrong := e.MixDecryptionEntry(q, 1, st.Inputs)
	if err := tally.VerifyMixDecryption(e.Fingerprint(), vk, st.Rows(), wrong); !errors.Is(err, tally.ErrInvalidProof) {
		t.Errorf("decryption of the cascade's input accepted for its output: %v", err)
	}
	bad, err := tally.ParseMixDecryption(good.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	bad.Shares[0][0], bad.Shares[1][0] = bad.Shares[1][0], bad.Shares[0][0]
	if err := tally.VerifyMixDecryption(e.Fingerprint(), vk, st.Rows(), bad); !errors.Is(err, tally.ErrInvalidProof) {
		t.Errorf("swapped shares accepted: %v", err)
	}
}
