package demo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
)

// rankedTemplate is the election of RunRanked: a homomorphic 1-of-3
// question beside a ranking, scores and a write-in (SPEC.md §12).
func rankedTemplate(id string) []byte {
	return mustJSON(map[string]any{
		"version": 3, "election_id": id, "title": "Ranked demo election", "threshold": 2,
		"questions": []map[string]any{
			{"text": "Chair", "options": []string{"Ada", "Grace", "Edsger"}, "min": 1, "max": 1},
			{"text": "Rank the venues", "options": []string{"Lyon", "Oslo", "Pisa", "Kyoto"}, "min": 1, "max": 4, "kind": "ranked"},
			{"text": "Grade the menus", "options": []string{"fish", "pasta", "salad"}, "min": 0, "max": 5, "kind": "score"},
			{"text": "Motto", "options": []string{}, "min": 0, "max": 20, "kind": "write-in"},
		},
	})
}

var demoMottos = []string{"Less is more", "Vote!", "", "Rank them all", "Less is more"}

// rankedAnswers are voter v's answers: a ranking that favours Oslo and
// Pisa (so IRV needs rounds), scores and a motto, from rng.
func rankedAnswers(rng *mrand.Rand) []ballot.Answer {
	perm := rng.Perm(4)
	if rng.IntN(3) == 0 { // a third rank Oslo first
		i := slices.Index(perm, 1)
		perm[0], perm[i] = perm[i], perm[0]
	}
	ranking := make([]uint32, 1+rng.IntN(4))
	for i := range ranking {
		ranking[i] = uint32(perm[i])
	}
	return []ballot.Answer{
		{Choices: []uint32{uint32(rng.IntN(3))}},
		{Ranking: ranking},
		{Scores: []uint32{uint32(rng.IntN(6)), uint32(rng.IntN(6)), uint32(rng.IntN(6))}},
		{Text: demoMottos[rng.IntN(len(demoMottos))]},
	}
}

// RunRanked holds the ranked demo election on a 3-node cluster: cfg.Ballots
// voters answer a 1-of-3 question (counted homomorphically), a ranking of
// 4 options, scores 0..5 of 3 options and a write-in; after the close all
// 3 trustees shuffle the mixed questions (SPEC.md §11), 2 of them decrypt,
// the authority publishes, and the record is verified (V1–V16). It prints
// the IRV and STV rounds, the Schulze matrix and winner, majority judgment,
// score sums and the write-ins, and fails unless the verified answers are
// exactly the ones cast. Config.Manifest, Weighted, Elections and Serve
// are not used.
func RunRanked(ctx context.Context, cfg Config) (*Outcome, error) {
	if cfg.Manifest != nil || cfg.Weighted || cfg.Elections > 1 || cfg.Serve != nil {
		return nil, errors.New("demo: the ranked demo runs its own election: no manifest, weights, several elections or serving")
	}
	cfg.ranked = true
	return Run(ctx, cfg)
}

func (r *run) ranked(ctx context.Context, board []ballot.BoardNode) (*Outcome, error) {
	const trustees = 3
	r.phases.begin()
	ea, ca := r.clients[0], r.clients[1%nodes]
	m, err := r.initParties(trustees, rankedTemplate(fmt.Sprintf("ranked-demo-%d", time.Now().UnixNano()%1e9)), board)
	if err != nil {
		return nil, err
	}
	ts := make([]*roles.Trustee, trustees)
	if _, err := roles.CreateElection(ctx, r.rand, ea, r.dirOf("authority"), m); err != nil {
		return nil, err
	}
	r.progress("election authority posted the manifest (version %d): a 1-of-3, a ranked, a score and a write-in question", m.Version)
	r.phases.end("setup (parties' keys, manifest)")
	var iss *roles.Issued
	if err := waitFor(ctx, func() error {
		var err error
		iss, err = roles.IssueCredentials(ctx, r.rand, ca, r.dirOf("credentials"), r.cfg.Ballots)
		return err
	}); err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i], err = roles.LoadTrustee(r.dirOf(fmt.Sprintf("trustee%d", i+1))); err != nil {
			return nil, err
		}
	}
	tc := func(i int) *apiclient.Client { return r.clients[i%nodes] }
	steps := []struct {
		name string
		do   func(i int) error
	}{
		{"deal", func(i int) error { _, err := roles.Deal(ctx, r.rand, tc(i), ts[i]); return err }},
		{"check", func(i int) error { _, err := roles.Check(ctx, r.rand, tc(i), ts[i], false); return err }},
	}
	for _, st := range steps {
		for i := range ts {
			if err := waitFor(ctx, func() error { return st.do(i) }); err != nil {
				return nil, fmt.Errorf("demo: trustee %d %s: %w", i+1, st.name, err)
			}
		}
	}
	if err := waitFor(ctx, func() error { _, err := roles.Open(ctx, r.rand, ea, r.dirOf("authority"), false); return err }); err != nil {
		return nil, fmt.Errorf("demo: open: %w", err)
	}
	r.progress("key ceremony done; voting is open")
	r.phases.end("key ceremony and open")

	creds, order, el, err := r.voterKit(ctx, iss, nodes)
	if err != nil {
		return nil, err
	}
	// The voters encrypt on every core and post in batches (castAll); every
	// trustee (each mixes) and the authority follow the board meanwhile, so
	// that their checks after the close verify only the last ballots.
	rng := mrand.New(mrand.NewPCG(uint64(r.cfg.Ballots), 14))
	cast := newAnswerCounts()
	expected := [][]uint64{make([]uint64, 3), nil, nil, nil}
	jobs := func(yield func(*job) bool) {
		for _, n := range order[:r.cfg.Ballots] {
			a := rankedAnswers(rng)
			cast.add(a)
			expected[0][a[0].Choices[0]]++
			if !yield(&job{voter: n, answers: a}) {
				return
			}
		}
	}
	stopFollow := r.followWhileVoting(ctx, r.followers(ts, tc, ea))
	_, err = r.castAll(ctx, el, creds, jobs, r.cfg.Ballots, 0)
	if ferr := stopFollow(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	r.progress("%d voters cast version-2 ballots (each answer proved well formed), encrypted on %d workers, posted in batches of %d",
		r.cfg.Ballots, r.cfg.Workers, postBatch)
	r.phases.end("voting (encrypt, post; parties follow)")

	if _, err := roles.Close(ctx, r.rand, ea, r.dirOf("authority"), "end of the ranked demo"); err != nil {
		return nil, err
	}
	r.progress("election authority closed voting")
	r.phases.end("close (the authority follows the board, posts the close)")
	for i := range ts {
		if err := waitFor(ctx, func() error { _, err := roles.Mix(ctx, r.rand, tc(i), ts[i]); return err }); err != nil {
			return nil, fmt.Errorf("demo: trustee %d mix: %w", i+1, err)
		}
		d := r.phases.end(fmt.Sprintf("trustee %d: check since its last follow (V1–V14), shuffle", i+1))
		r.progress("trustee %d verified the board (V1–V14) and shuffled the 3 mixed questions in %v", i+1, d.Round(time.Millisecond))
	}
	for i := 0; i < 2; i++ {
		if err := waitFor(ctx, func() error { _, err := roles.Decrypt(ctx, r.rand, tc(i), ts[i]); return err }); err != nil {
			return nil, fmt.Errorf("demo: trustee %d decrypt: %w", i+1, err)
		}
		d := r.phases.end(fmt.Sprintf("trustee %d: check, decrypt (partial and mix decryption)", i+1))
		r.progress("trustee %d posted its partial decryption and the mixed rows' decryption shares in %v", i+1, d.Round(time.Millisecond))
	}
	var tr *roles.TallyResult
	if err := waitFor(ctx, func() error { var err error; tr, err = roles.Tally(ctx, r.rand, ea, r.dirOf("authority")); return err }); err != nil {
		return nil, err
	}
	r.progress("election authority posted the result (%d ballots counted)", tr.Counted)
	r.phases.end("tally (the authority's check, combine, post)")

	recPath := filepath.Join(r.dir, "record")
	if err := r.export(ctx, recPath); err != nil {
		return nil, err
	}
	r.phases.end("export the record")
	f, err := os.Open(recPath)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s, verr := client.FollowRecord(f, client.FollowOptions{Rand: r.rand})
	f.Close()
	r.phases.end("verify the whole record (V1–V16)")
	out := &Outcome{Expected: expected, Counts: tr.Result.Counts, Manifest: m}
	if s != nil {
		out.Report = s.Report
	}
	if r.cfg.DataDir != "" {
		out.Record = recPath
	}
	if verr != nil {
		if out.Report != nil {
			r.printVerdict(out.Report)
		}
		return out, fmt.Errorf("%w: %v", ErrVerification, verr)
	}
	r.progress("verified the complete election record (%d entries, %d blocks)", s.Report.Entries, s.Report.Blocks)
	out.Phases = r.phases.list
	r.phases.print(r.progress)
	r.out("\n%s (1 of 3, counted homomorphically): %s (cast: %s)\n", m.Questions[0].Text,
		textreport.Tallies(m.Questions[0].Options, toInt64(out.Counts[0])), textreport.Tallies(m.Questions[0].Options, toInt64(expected[0])))
	if r.cfg.Out != nil {
		textreport.Mixed(r.cfg.Out, m, s.Mixed)
	}
	r.printVerdict(s.Report)
	match := slices.Equal(out.Counts[0], expected[0]) && cast.same(s.Mixed)
	out.OK = match && s.Report.OK()
	if !match {
		r.out("\nVERDICT: FAIL, the verified answers are not the ballots cast\n")
		return out, ErrMismatch
	}
	r.out("\nVERDICT: OK, the decrypted ballots are exactly the ones cast, and the whole record verifies (V1–V16).\n")
	if out.Record != "" {
		r.out("The election record is in %s; check it again with 'urna verify %s'.\n", out.Record, out.Record)
	}
	return out, nil
}

// answerCounts counts the cast answers of each mixed question (1..3),
// answer by answer: the shuffles hide the order, not the content, so the
// verified answers must be the same multisets.
type answerCounts map[int]map[string]int

func newAnswerCounts() answerCounts { return answerCounts{1: {}, 2: {}, 3: {}} }

func (c answerCounts) add(a []ballot.Answer) {
	for q, m := range c {
		m[answerKey(a[q])]++
	}
}

// same reports whether mixed lists exactly the counted answers.
func (c answerCounts) same(mixed []*client.MixedOutcome) bool {
	if len(mixed) != len(c) {
		return false
	}
	for _, mo := range mixed {
		want := c[mo.Question]
		if want == nil {
			return false
		}
		got := map[string]int{}
		for _, a := range mo.Answers.Answers {
			got[answerKey(a)]++
		}
		if !maps.Equal(want, got) {
			return false
		}
	}
	return true
}

func answerKey(a ballot.Answer) string { return fmt.Sprint(a.Ranking, a.Scores, a.Text) }

func toInt64(xs []uint64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
