package pyverify

import (
	"testing"

	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// TestAttackShuffleInputAndSeats: pyverify, written from SPEC.md alone,
// catches at the same step as urna verify a shuffle of stale rows and a
// shuffle under a forged input name (V14.2, §11.3), a shuffle naming the
// current rows whose proof is over other rows (V14.3), and a result that
// counts STV for another number of seats than the manifest fixes (V16.3,
// §11.5, §12.1).
func TestAttackShuffleInputAndSeats(t *testing.T) {
	firstRows := func(e *testonly.KindElection, q int) []shuffle.Row {
		rows, err := tally.MixInput(e.Manifest, q, e.Counted)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	mixOver := func(e *testonly.KindElection, ms *tally.MixShuffle, rows []shuffle.Row, seed string) *tally.MixShuffle {
		out, err := tally.Mix(seeded.New(seed), e.Fingerprint(), e.JointKey, ms.Question, ms.Trustee, ms.Position, ms.Width, rows)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	shuffleAttack := func(tamper func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
			e.TallyMixedTampered(tamper)
			return e.Record()
		}
	}
	agree(t, []mixedCase{
		{"stale-rows", shuffleAttack(func(e *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			return mixOver(e, ms, firstRows(e, ms.Question), "stale")
		}), `(?m)^V14 FAIL V14\.2 .*question 1 position 2: stale input`, nil},
		{"forged-input-name", shuffleAttack(func(_ *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Input[31] ^= 0x80
			return &bad
		}), `(?m)^V14 FAIL V14\.2 .*stale input`, nil},
		{"current-name-other-rows", shuffleAttack(func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := mixOver(e, ms, firstRows(e, ms.Question), "other rows")
			bad.Input = ms.Input
			return bad
		}), `(?m)^V14 FAIL V14\.3 .*question 1 position 2`, nil},
		{"result-claims-other-seats", func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
			e.TallyMixed(testonly.Mixers())
			res := *e.Result
			res.Mixed = append([]tally.MixedAnswers(nil), res.Mixed...)
			res.Mixed[0].Seats = 1
			e.Entries[e.SeqResult] = e.Resign(e.SeqResult, e.EA, res.Bytes())
			return e.Record()
		}, `(?m)^V16 FAIL V16\.3 .*STV for 1 seats, the manifest fixes 2`, nil},
	})
}
