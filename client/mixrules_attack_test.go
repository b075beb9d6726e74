package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// TestAttackShuffleInput: the shuffle at position 2 of the ranked
// question's cascade (SPEC.md §11.3) names rows that are not the
// cascade's current input, or names them but proves over others. A node
// refuses a stale or forged name as stale input (tally.ErrStaleInput,
// the API's stale_input) before any proof work, never as an invalid
// proof; a shuffle naming the current rows with a proof over other rows
// is still refused at the proof. The verifier reports each at its V14
// sub-step on a record that holds it anyway.
func TestAttackShuffleInput(t *testing.T) {
	// mixFirst is trustee ms.Trustee's honest shuffle, at ms's position,
	// of the counted ballots' rows: the rows of a view that missed
	// position 1.
	mixFirst := func(e *testonly.KindElection, ms *tally.MixShuffle, seed string) *tally.MixShuffle {
		first, err := tally.MixInput(e.Manifest, ms.Question, e.Counted)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tally.Mix(seeded.New(seed), e.Fingerprint(), e.JointKey, ms.Question, ms.Trustee, ms.Position, ms.Width, first)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name    string
		tamper  func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle
		field   string
		nodeErr error
	}{
		{"stale rows", func(e *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			return mixFirst(e, ms, "stale")
		}, "V14.2", tally.ErrStaleInput},
		{"current name, other rows", func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := mixFirst(e, ms, "other rows")
			bad.Input = tally.MixInputDigest(e.Fingerprint(), ms.Question, ms.Width, in)
			return bad
		}, "V14.3", bulletin.ErrInvalidProof},
		{"forged name", func(_ *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Input[0] ^= 1 // an honest shuffle and proof under a name nobody's rows have
			return &bad
		}, "V14.2", tally.ErrStaleInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := testonly.BuildKinds(t, "attack-shuffle-input", testonly.MixedConfig(), nil)
			var badSeq int
			q0 := e.MixQuestions()[0]
			e.TallyMixedWith(testonly.Mixers(), func(q, k int, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
				if q != q0 || k != 1 {
					return ms
				}
				badSeq = len(e.Entries)
				return c.tamper(e, in, ms)
			})
			err := e.NodeCheck(t, badSeq)
			if !errors.Is(err, c.nodeErr) {
				t.Errorf("node: %v, want %v", err, c.nodeErr)
			}
			if c.nodeErr == tally.ErrStaleInput {
				if errors.Is(err, bulletin.ErrInvalidProof) || !strings.Contains(err.Error(), "stale input: shuffled rows ") ||
					!strings.Contains(err.Error(), "the board's current input for question 1 is ") {
					t.Errorf("node's refusal %q: want a stale input naming both digests, not an invalid proof", err)
				}
			}
			rep := verify(t, e.Record())
			expectFailures(t, rep, client.StepV14, at(client.StepV14, badSeq))
			f := rep.Step(client.StepV14).Failures[0]
			if !strings.HasPrefix(f.Field, c.field) {
				t.Errorf("V14 failure %q (%s), want %s", f.Field, f.Detail, c.field)
			}
			if c.field == "V14.2" && !strings.Contains(f.Detail, "stale input") {
				t.Errorf("V14.2 message %q does not say stale input", f.Detail)
			}
		})
	}
}

// TestAttackResultSeats: a result whose ranked section counts STV for
// another number of seats than the manifest fixes (SPEC.md §11.5, §12.1)
// is caught at V16.3, and no outcome is reported.
func TestAttackResultSeats(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-result-seats", testonly.MixedConfig(), nil)
	e.TallyMixed(testonly.Mixers())
	if s := e.Manifest.Questions[e.MixQuestions()[0]].Seats; s != 2 {
		t.Fatalf("the fixture's ranked question elects %d seats, want the default 2", s)
	}
	res := *e.Result
	res.Mixed = append([]tally.MixedAnswers(nil), res.Mixed...)
	res.Mixed[0].Seats = 3
	e.Entries[e.SeqResult] = e.Resign(e.SeqResult, e.EA, res.Bytes())
	rep := verify(t, e.Record())
	expectFailures(t, rep, client.StepV16, at(client.StepV16, e.SeqResult))
	if f := rep.Step(client.StepV16).Failures[0]; !strings.HasPrefix(f.Field, "V16.3") || !strings.Contains(f.Detail, "STV for 3 seats, the manifest fixes 2") {
		t.Errorf("V16 failure %s: %s", f.Field, f.Detail)
	}
}
