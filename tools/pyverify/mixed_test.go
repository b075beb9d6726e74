package pyverify

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// mixers is the cascade order of the fixture: every trustee shuffles, the
// second one (trustee 3, position 2) is the hostile mixer of the attacks.
var mixers = []int{2, 3, 1}

func mixedConfig() testonly.Config {
	return testonly.Config{Voters: 5, Ballots: 7, N: 3, T: 2, Decrypt: []int{1, 3}}
}

// mixedCase is one record of an election with mixed questions: pyverify
// and urna verify must give the same verdict, and pyverify's first
// failure must match want ("" for a valid record).
type mixedCase struct {
	name string
	rec  func(t *testing.T) []byte
	want string
	// check, if set, looks further at pyverify's output on the record.
	check func(t *testing.T, rec []byte, out string)
}

// agree runs both verifiers on each case's record.
func agree(t *testing.T, cases []mixedCase) {
	py := python(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := c.rec(t)
			out, code := run(t, py, c.name+".urnarec", rec)
			t.Logf("pyverify output:\n%s", out)
			if strings.Contains(out, "Traceback") {
				t.Fatalf("pyverify crashed")
			}
			gv, pv := goVerdict(t, rec), pyVerdict(t, out, code)
			if gv != pv {
				t.Errorf("urna verify says %q, pyverify %q (\"\" = valid)", gv, pv)
			}
			if c.want == "" {
				for _, s := range []string{"V8", "V10", "V11", "V12", "V13", "V14", "V15", "V16"} {
					if !regexp.MustCompile(`(?m)^` + s + ` PASS\b`).MatchString(out) {
						t.Errorf("output does not report %s PASS", s)
					}
				}
			} else if !regexp.MustCompile(c.want).MatchString(out) {
				t.Errorf("output does not match %q", c.want)
			}
			if c.check != nil {
				c.check(t, rec, out)
			}
		})
	}
}

// shuffleAttack builds the fixture election with the shuffle of the
// ranked question at position 2 replaced by what tamper returns.
func shuffleAttack(tamper func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		e := testonly.BuildKinds(t, "pyverify-mixed", mixedConfig(), nil)
		q0 := e.MixQuestions()[0]
		e.TallyMixedWith(mixers, func(q, k int, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			if q != q0 || k != 1 || tamper == nil {
				return ms
			}
			return tamper(e, in, ms)
		})
		return e.Record()
	}
}

// TestMixedRecordsAgreeWithGo: on records of an election with a 1-of-3
// question beside a ranked, a score and a write-in question (SPEC.md
// §11–§13), mixed by 3 trustees and decrypted by 2, pyverify and urna
// verify agree: the honest record verifies (V1–V16), and each attack of
// issue 14 is caught at the same step by both.
func TestMixedRecordsAgreeWithGo(t *testing.T) {
	mix := func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle, seed string) *tally.MixShuffle {
		other, err := tally.Mix(seeded.New(seed), e.Fingerprint(), e.JointKey, ms.Question, ms.Trustee, ms.Position, ms.Width, in)
		if err != nil {
			t.Fatal(err)
		}
		return other
	}
	agree(t, []mixedCase{
		{"honest", shuffleAttack(nil), "", sameOutcomes},
		{"three-seats", func(t *testing.T) []byte {
			// the ranked question elects 3 of its 4 options (SPEC.md §12.1)
			cfg := mixedConfig()
			cfg.Questions = testonly.KindQuestions()
			cfg.Questions[1].Seats = 3
			e := testonly.BuildKinds(t, "pyverify-three-seats", cfg, nil)
			e.TallyMixed(mixers)
			return e.Record()
		}, "", func(t *testing.T, rec []byte, out string) {
			sameOutcomes(t, rec, out)
			if !strings.Contains(out, `"seats": 3`) {
				t.Errorf("pyverify does not count STV for 3 seats:\n%s", out)
			}
		}},
		{"swapped-ciphertext", shuffleAttack(func(_ *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Outputs = slices.Clone(ms.Outputs)
			bad.Outputs[0], bad.Outputs[1] = slices.Clone(ms.Outputs[0]), slices.Clone(ms.Outputs[1])
			bad.Outputs[0][1], bad.Outputs[1][1] = ms.Outputs[1][1], ms.Outputs[0][1]
			return &bad
		}), `(?m)^V14 FAIL V14\.3 .*question 1 position 2`, nil},
		{"duplicated-ciphertext", shuffleAttack(func(_ *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Outputs = slices.Clone(ms.Outputs)
			bad.Outputs[2] = ms.Outputs[0]
			return &bad
		}), `(?m)^V14 FAIL V14\.3 `, nil},
		{"proof-for-another-permutation", shuffleAttack(func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Proof = mix(e, in, ms, "another permutation").Proof
			return &bad
		}), `(?m)^V14 FAIL V14\.3 `, nil},
		{"mixer-drops-a-ballot", shuffleAttack(func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			return mix(e, in[1:], ms, "drop")
		}), `(?m)^V14 FAIL V14\.2 `, nil},
		{"replay-of-position-1", shuffleAttack(func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			first, err := tally.Mix(seeded.New("first"), e.Fingerprint(), e.JointKey, ms.Question, mixers[0], 1, ms.Width, in)
			if err != nil {
				t.Fatal(err)
			}
			bad := *first
			bad.Trustee, bad.Position = ms.Trustee, ms.Position
			return &bad
		}), `(?m)^V14 FAIL V14\.3 `, nil},
		{"wrong-decryption-share", func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", mixedConfig(), nil)
			mixes := e.TallyMixed(mixers)
			q := e.MixQuestions()[0]
			seq := mixes[q].SeqDecrypts[3]
			md, err := tally.ParseMixDecryption(e.Body(seq))
			if err != nil {
				t.Fatal(err)
			}
			md.Shares[1][2] = new(group.Element).Add(md.Shares[1][2], md.Shares[0][0])
			e.Entries[seq] = e.Resign(seq, e.TrusteeKey(3), md.Bytes())
			return e.Record()
		}, `(?m)^V15 FAIL V15\.2 .*question 1 trustee 3`, nil},
		{"decryption-of-other-rows", func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", mixedConfig(), nil)
			mixes := e.TallyMixed(mixers)
			q := e.MixQuestions()[0]
			seq := mixes[q].SeqDecrypts[3]
			e.Entries[seq], _ = e.MixDecryptionEntry(q, 3, mixes[q].Inputs)
			return e.Record()
		}, `(?m)^V15 FAIL V15\.2 `, nil},
		{"wrong-result-answers", func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", mixedConfig(), nil)
			e.TallyMixed(mixers)
			res := *e.Result
			res.Mixed = slices.Clone(res.Mixed)
			sc := res.Mixed[1] // the score question
			sc.Answers = slices.Clone(sc.Answers)
			sc.Answers[0] = ballot.Answer{Scores: []uint32{5, 5, 5}}
			if slices.Equal(e.Result.Mixed[1].Answers[0].Scores, sc.Answers[0].Scores) {
				sc.Answers[0] = ballot.Answer{Scores: []uint32{0, 0, 0}}
			}
			res.Mixed[1] = sc
			e.Entries[e.SeqResult] = e.Resign(e.SeqResult, e.EA, res.Bytes())
			return e.Record()
		}, `(?m)^V16 FAIL V16\.3 .*question 2`, nil},
	})
}

// goOutcomes is what urna verify makes of each mixed question (SPEC.md
// §11.8), in the JSON shape of pyverify's "V16.4" lines.
func goOutcomes(t *testing.T, rec []byte) map[int]any {
	t.Helper()
	s, err := client.FollowRecord(bytes.NewReader(rec), client.FollowOptions{Rand: seeded.New("pyverify")})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]any{}
	for _, mo := range s.Mixed {
		switch mo.Kind {
		case ballot.KindRanked:
			var rounds []any
			for _, r := range mo.IRV.Rounds {
				rounds = append(rounds, map[string]any{"tallies": r.Tallies, "exhausted": r.Exhausted, "excluded": r.Excluded})
			}
			out[mo.Question] = map[string]any{
				"irv":     map[string]any{"blank": mo.IRV.Blank, "rounds": rounds, "winner": mo.IRV.Winner},
				"stv":     map[string]any{"seats": mo.STV.Seats, "valid": mo.STV.Valid, "quota": mo.STV.Quota, "elected": mo.STV.Elected},
				"schulze": map[string]any{"pairwise": mo.Schulze.Pairwise, "strongest": mo.Schulze.Strongest, "order": mo.Schulze.Order, "winners": mo.Schulze.Winners},
			}
		case ballot.KindScore:
			j, sc := mo.Judgment, mo.Score
			out[mo.Question] = map[string]any{
				"judgment": map[string]any{"counts": j.Counts, "median": j.Median, "order": j.Order, "winners": j.Winners},
				"score":    map[string]any{"sums": sc.Sums, "order": sc.Order, "winners": sc.Winners},
			}
		default:
			texts := []string{}
			for i, w := range mo.WriteIns {
				if !slices.Contains(mo.Answers.Invalid, i) {
					texts = append(texts, w)
				}
			}
			out[mo.Question] = map[string]any{"write_ins": texts, "invalid": len(mo.Answers.Invalid)}
		}
	}
	return out
}

// sameOutcomes: pyverify's counting methods, written from SPEC.md §11.8
// alone (IRV with every round, STV's quota and elected options, Schulze's
// matrices and tiers, majority judgment, score sums, write-ins), give on
// rec what urna verify gives.
func sameOutcomes(t *testing.T, rec []byte, out string) {
	t.Helper()
	want := goOutcomes(t, rec)
	lines := regexp.MustCompile(`(?m)^# V16\.4 question (\d+): (.*)$`).FindAllStringSubmatch(out, -1)
	if len(lines) != len(want) {
		t.Fatalf("pyverify prints %d outcomes, urna verify has %d:\n%s", len(lines), len(want), out)
	}
	for _, l := range lines {
		q, _ := strconv.Atoi(l[1])
		var got, exp any
		if err := json.Unmarshal([]byte(l[2]), &got); err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(want[q])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &exp); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("question %d:\npyverify:    %s\nurna verify: %s", q, l[2], raw)
		}
	}
}

// TestMixedOutcomesAgreeWithGo: the outcomes of §11.8 agree (sameOutcomes)
// on an election of 23 voters whose IRV count needs three rounds and a
// tie broken backwards (the fixture's are checked in
// TestMixedRecordsAgreeWithGo).
func TestMixedOutcomesAgreeWithGo(t *testing.T) {
	e := testonly.BuildKinds(t, "pyverify-outcomes-larger", testonly.Config{Voters: 23, Ballots: 23, N: 3, T: 2, Decrypt: []int{1, 2}}, nil)
	e.TallyMixed(mixers)
	agree(t, []mixedCase{{"larger", func(*testing.T) []byte { return e.Record() }, "", sameOutcomes}})
}
