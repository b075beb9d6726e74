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
)

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

// TestMixedRecordsAgreeWithGo: on records of an election with a 1-of-3
// question beside a ranked, a score and a write-in question (SPEC.md
// §11–§13), mixed by 3 trustees and decrypted by 2, pyverify and urna
// verify agree: the honest record verifies (V1–V16), and each attack of
// issue 14 is caught at the same step by both.
func TestMixedRecordsAgreeWithGo(t *testing.T) {
	cases := []mixedCase{{"honest", func(t *testing.T) []byte {
		e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
		e.TallyMixed(testonly.Mixers())
		return e.Record()
	}, "", sameOutcomes}}
	for _, a := range testonly.ShuffleAttacks() {
		cases = append(cases, mixedCase{a.Name, func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
			e.TallyMixedTampered(a.Tamper)
			return e.Record()
		}, `(?m)^V14 FAIL ` + regexp.QuoteMeta(a.Step) + ` .*question 1 position 2`, nil})
	}
	agree(t, append(cases, []mixedCase{
		{"three-seats", func(t *testing.T) []byte {
			// the ranked question elects 3 of its 4 options (SPEC.md §12.1)
			cfg := testonly.MixedConfig()
			cfg.Questions = testonly.KindQuestions()
			cfg.Questions[1].Seats = 3
			e := testonly.BuildKinds(t, "pyverify-three-seats", cfg, nil)
			e.TallyMixed(testonly.Mixers())
			return e.Record()
		}, "", func(t *testing.T, rec []byte, out string) {
			sameOutcomes(t, rec, out)
			if !strings.Contains(out, `"seats": 3`) {
				t.Errorf("pyverify does not count STV for 3 seats:\n%s", out)
			}
		}},
		{"wrong-decryption-share", func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
			mixes := e.TallyMixed(testonly.Mixers())
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
			e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
			e.DecryptInputs(e.TallyMixed(testonly.Mixers()), 3)
			return e.Record()
		}, `(?m)^V15 FAIL V15\.2 `, nil},
		{"wrong-result-answers", func(t *testing.T) []byte {
			e := testonly.BuildKinds(t, "pyverify-mixed", testonly.MixedConfig(), nil)
			e.TallyMixed(testonly.Mixers())
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
	}...))
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
	e.TallyMixed(testonly.Mixers())
	agree(t, []mixedCase{{"larger", func(*testing.T) []byte { return e.Record() }, "", sameOutcomes}})
}
