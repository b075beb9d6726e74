package demo

import (
	"context"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
)

// mixedElection holds an election with ranked, score or write-in questions
// (a version-3 manifest: --ranked's or a template's) on the cluster: the
// key ceremony of the shape's trustees, cfg.Ballots voters with random
// valid answers (rankedAnswers for --ranked), the close; then every
// trustee shuffles the mixed questions (SPEC.md §11), threshold of them
// decrypt, the authority publishes, and the record is verified (V1–V16).
// It fails unless the select questions' result is the count of the
// choices cast and every mixed question's decrypted answers are exactly
// the answers cast.
func (r *run) mixedElection(ctx context.Context, board []ballot.BoardNode) (*Outcome, error) {
	trustees, threshold := r.shape.trustees, r.shape.threshold
	r.phases.begin()
	ea, ca := r.clients[0], r.clients[1%nodes]
	m, err := r.createElection(ctx, ea, board)
	if err != nil {
		return nil, err
	}
	ts := make([]*roles.Trustee, trustees)
	r.progress("election authority posted the manifest (version %d): %s; %d trustees, threshold %d",
		m.Version, describeQuestions(m), trustees, threshold)
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
	answers := func() []ballot.Answer { return randomAnswers(rng, m) }
	if r.cfg.ranked {
		answers = func() []ballot.Answer { return rankedAnswers(rng) }
	}
	cast := newAnswerCounts(m)
	expected := make([][]uint64, len(m.Questions))
	for q, mq := range m.Questions {
		if !mq.Kind.Mixed() {
			expected[q] = make([]uint64, len(mq.Options))
		}
	}
	jobs := func(yield func(*job) bool) {
		for _, n := range order[:r.cfg.Ballots] {
			a := answers()
			cast.add(a)
			for q := range expected {
				for _, o := range a[q].Choices {
					expected[q][o]++
				}
			}
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

	if _, err := roles.Close(ctx, r.rand, ea, r.dirOf("authority"), "end of the demo"); err != nil {
		return nil, err
	}
	r.progress("election authority closed voting")
	r.phases.end("close (the authority follows the board, posts the close)")
	for i := range ts {
		if err := waitFor(ctx, func() error { _, err := roles.Mix(ctx, r.rand, tc(i), ts[i]); return err }); err != nil {
			return nil, fmt.Errorf("demo: trustee %d mix: %w", i+1, err)
		}
		d := r.phases.end(fmt.Sprintf("trustee %d: check since its last follow (V1–V14), shuffle", i+1))
		r.progress("trustee %d verified the board (V1–V14) and shuffled the %d mixed questions in %v", i+1, len(cast), d.Round(time.Millisecond))
	}
	for i := range threshold {
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
	match := cast.same(s.Mixed)
	for q, mq := range m.Questions {
		if mq.Kind.Mixed() {
			continue
		}
		var got []uint64
		if q < len(out.Counts) {
			got = out.Counts[q]
		}
		match = match && slices.Equal(got, expected[q])
		r.out("\n%s (%d to %d of %d, counted homomorphically): %s (cast: %s)\n", mq.Text, mq.Min, mq.Max, len(mq.Options),
			textreport.Tallies(mq.Options, toInt64(got)), textreport.Tallies(mq.Options, toInt64(expected[q])))
	}
	if r.cfg.Out != nil {
		textreport.Mixed(r.cfg.Out, m, s.Mixed)
	}
	r.printVerdict(s.Report)
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

// describeQuestions names m's questions by kind, e.g. "a select 1-of-3
// question, a ranked question of 4 options".
func describeQuestions(m *ballot.Manifest) string {
	parts := make([]string, len(m.Questions))
	for q, mq := range m.Questions {
		switch mq.Kind {
		case ballot.KindSelect:
			parts[q] = fmt.Sprintf("a %d-to-%d-of-%d question", mq.Min, mq.Max, len(mq.Options))
		case ballot.KindRanked:
			parts[q] = fmt.Sprintf("a ranking of %d to %d of %d options", mq.Min, mq.Max, len(mq.Options))
		case ballot.KindScore:
			parts[q] = fmt.Sprintf("scores %d..%d of %d options", mq.Min, mq.Max, len(mq.Options))
		case ballot.KindWriteIn:
			parts[q] = fmt.Sprintf("a write-in of up to %d bytes", mq.Max)
		default:
			parts[q] = mq.Kind.String()
		}
	}
	return strings.Join(parts, ", ")
}

// demoWriteIns are the texts the simulated voters write in (cut to the
// question's length; all ASCII, so any cut is valid UTF-8).
var demoWriteIns = []string{"", "Ada Lovelace", "Grace Hopper", "none of the above", "Edsger Dijkstra"}

// randomAnswers draws a valid answer to every question of m: between Min
// and Max distinct options of a select question, a ranking of Min..Max
// distinct options, a score in Min..Max for every option, a write-in of at
// most Max bytes.
func randomAnswers(rng *mrand.Rand, m *ballot.Manifest) []ballot.Answer {
	out := make([]ballot.Answer, len(m.Questions))
	for q, mq := range m.Questions {
		pick := func() []uint32 {
			perm := rng.Perm(len(mq.Options))
			k := int(mq.Min) + rng.IntN(int(mq.Max-mq.Min)+1)
			sel := make([]uint32, k)
			for i := range sel {
				sel[i] = uint32(perm[i])
			}
			return sel
		}
		switch mq.Kind {
		case ballot.KindSelect:
			out[q].Choices = pick()
		case ballot.KindRanked:
			out[q].Ranking = pick()
		case ballot.KindScore:
			out[q].Scores = make([]uint32, len(mq.Options))
			for i := range out[q].Scores {
				out[q].Scores[i] = mq.Min + uint32(rng.IntN(int(mq.Max-mq.Min)+1))
			}
		case ballot.KindWriteIn:
			t := demoWriteIns[rng.IntN(len(demoWriteIns))]
			out[q].Text = t[:min(len(t), int(mq.Max))]
		}
	}
	return out
}

// answerCounts counts the cast answers of each mixed question, answer by
// answer: the shuffles hide the order, not the content, so the verified
// answers must be the same multisets.
type answerCounts map[int]map[string]int

func newAnswerCounts(m *ballot.Manifest) answerCounts {
	c := answerCounts{}
	for q, mq := range m.Questions {
		if mq.Kind.Mixed() {
			c[q] = map[string]int{}
		}
	}
	return c
}

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
