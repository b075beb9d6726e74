package testonly

import (
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// KindQuestions are the questions of the fixture elections with mixed
// questions (SPEC.md §11): a 1-of-3 selection, a ranking of 4 options (at
// least 1 ranked), scores 0..5 of 3 options and a write-in of at most 20
// bytes.
func KindQuestions() []ballot.Question {
	return []ballot.Question{
		{Text: "Chair", Options: []string{"Ada", "Grace", "Edsger"}, Min: 1, Max: 1},
		{Text: "Rank the venues", Options: []string{"Lyon", "Oslo", "Pisa", "Kyoto"}, Min: 1, Max: 4, Kind: ballot.KindRanked},
		{Text: "Grade the menus", Options: []string{"fish", "pasta", "salad"}, Min: 0, Max: 5, Kind: ballot.KindScore},
		{Text: "Motto", Min: 0, Max: 20, Kind: ballot.KindWriteIn},
	}
}

// KindAnswers are the answers of BuildKinds' i-th ballot to
// KindQuestions: rankings and scores that vary with i, so that IRV needs
// rounds, and a few repeated write-ins.
func KindAnswers(i int) []ballot.Answer {
	rankings := [][]uint32{{0, 1, 2, 3}, {1, 0}, {2, 1, 0}, {3, 2}, {1, 2, 3, 0}, {0}, {2, 0, 1}}
	mottos := []string{"Less is more", "", "Vote!", "Less is more"}
	return []ballot.Answer{
		{Choices: []uint32{uint32(i % 3)}},
		{Ranking: rankings[i%len(rankings)]},
		{Scores: []uint32{uint32(i % 6), uint32((2 * i) % 6), uint32((i + 3) % 6)}},
		{Text: mottos[i%len(mottos)]},
	}
}

// AnswersEntry returns voter v's signed ballot entry for answers and the
// ballot (ballot.EncryptAnswers: version 2 for a version-3 manifest).
func (e *Election) AnswersEntry(v int, answers []ballot.Answer) ([]byte, *ballot.Ballot) {
	e.t().Helper()
	b, _, err := ballot.EncryptAnswers(e.Rand, e.Manifest, e.JointKey, e.Voters[v], answers)
	e.must(err)
	return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[v].PrivateKey(), b.Bytes()), b
}

// KindElection is an election with mixed questions up to its close, as
// BuildKinds leaves it.
type KindElection struct {
	*Election
	Counted []*ballot.Ballot        // the counted ballots in board order (V10)
	Answers map[int][]ballot.Answer // the answers of the cast ballot (or audit) at each seq
	// Audited are the ballots whose audits (SPEC.md §12.10) SeqAudited
	// holds, in the same order.
	Audited []*ballot.Ballot
}

// BuildKinds runs the start of an election whose manifest has mixed
// questions (cfg.Questions, KindQuestions() if nil): setup, key ceremony,
// open, cfg.Audits audits (voter a < cfg.Audits first challenges a ballot
// of answers(a), SPEC.md §12.10), cfg.Ballots cast ballots of answers(k) (KindAnswers if nil; voter k
// mod Voters casts the k-th, so later ones are revotes) and the close. The
// tally is the caller's (package internal/testonly/mixnet does it).
func BuildKinds(tb testing.TB, seed string, cfg Config, answers func(i int) []ballot.Answer) *KindElection {
	if tb != nil {
		tb.Helper()
	}
	if cfg.Questions == nil {
		cfg.Questions = KindQuestions()
	}
	if answers == nil {
		answers = KindAnswers
	}
	e := &KindElection{Election: NewElection(tb, seed, cfg), Answers: map[int][]ballot.Answer{}}
	if e.Manifest.Version != ballot.ManifestVersionKinds {
		e.t().Fatalf("testonly: BuildKinds: manifest version %d has no mixed question", e.Manifest.Version)
	}
	e.postSetup()
	for a := 0; a < cfg.Audits && a < e.Config.Voters; a++ {
		b, s, err := ballot.EncryptAnswers(e.Rand, e.Manifest, e.JointKey, e.Voters[a], answers(a))
		e.must(err)
		seq := e.Post(e.AuditEntry(b, s))
		e.SeqAudited, e.Audited = append(e.SeqAudited, seq), append(e.Audited, b)
		e.Answers[seq] = answers(a)
	}
	lastOf := map[int]int{}
	last := map[int]*ballot.Ballot{}
	for k := 0; k < e.Config.Ballots; k++ {
		v := k % e.Config.Voters
		en, b := e.AnswersEntry(v, answers(k))
		seq := e.Post(en)
		e.SeqBallots = append(e.SeqBallots, seq)
		e.Answers[seq] = answers(k)
		if prev, ok := lastOf[v]; ok {
			e.SeqSuperseded = append(e.SeqSuperseded, prev)
		}
		lastOf[v], last[v] = seq, b
	}
	// counted ballots in board order
	order := make([]int, 0, len(lastOf))
	for v := 0; v < e.Config.Voters; v++ {
		if _, ok := lastOf[v]; ok {
			order = append(order, v)
		}
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && lastOf[order[j]] < lastOf[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, v := range order {
		e.Counted = append(e.Counted, last[v])
		e.SeqCounted = append(e.SeqCounted, lastOf[v])
	}
	e.SeqClose = e.Post(e.CloseEntry())
	return e
}

// TallySelect posts the partial decryptions and the result of the
// selection questions only (what a board of this protocol accepted before
// mixed questions had entries of their own).
func (e *KindElection) TallySelect() {
	e.t().Helper()
	partials, result, res := e.TallyEntries(e.Counted)
	for i, p := range partials {
		e.SeqPartials[e.Config.Decrypt[i]] = e.Post(p)
	}
	e.Result = res
	e.SeqResult = e.Post(result)
}

// MixQuestions returns the indexes of the mixed questions of the manifest.
func (e *KindElection) MixQuestions() []int {
	var qs []int
	for q, mq := range e.Manifest.Questions {
		if mq.Kind.Mixed() {
			qs = append(qs, q)
		}
	}
	return qs
}

// TrusteeKey returns trustee j's (1-based) signing key.
func (e *KindElection) TrusteeKey(j int) *schnorr.PrivateKey { return e.Trustees[j-1].SigningKey() }

// ShuffleEntry returns trustee j's shuffle entry of question q at
// position of inputs, and the shuffle.
func (e *KindElection) ShuffleEntry(q, j, position int, inputs []shuffle.Row) ([]byte, *tally.MixShuffle) {
	e.t().Helper()
	ms, err := tally.Mix(e.Rand, e.Fingerprint(), e.JointKey, q, j, position, e.Manifest.MixWidth(q), inputs)
	e.must(err)
	return e.Entry(bulletin.TypeShuffle, bulletin.RoleTrustee, e.TrusteeKey(j), ms.Bytes()), ms
}

// MixDecryptionEntry returns trustee j's decryption entry of rows of
// question q.
func (e *KindElection) MixDecryptionEntry(q, j int, rows []shuffle.Row) ([]byte, *tally.MixDecryption) {
	e.t().Helper()
	e.keyShares()
	md, err := tally.DecryptMix(e.Rand, e.Params(), e.Shares[j-1], q, e.Manifest.MixWidth(q), rows)
	e.must(err)
	return e.Entry(bulletin.TypeMixDecryption, bulletin.RoleTrustee, e.TrusteeKey(j), md.Bytes()), md
}

// MixState is the cascade of one mixed question as TallyMixed posted it.
type MixState struct {
	Inputs      []shuffle.Row // the K.5 rows of the counted ballots
	Shuffles    []*tally.MixShuffle
	SeqShuffles []int
	SeqDecrypts map[int]int // trustee → seq
	Answers     *tally.MixedAnswers
}

// Rows returns the last shuffle's output (the inputs without shuffles).
func (s *MixState) Rows() []shuffle.Row {
	if len(s.Shuffles) == 0 {
		return s.Inputs
	}
	return s.Shuffles[len(s.Shuffles)-1].Outputs
}

// TallyMixed finishes the election: for each mixed question the shuffles
// of mixers (in cascade order) and the decryptions of Config.Decrypt, then
// the partial decryptions of the selection questions and the result with
// the mixed answers. It returns the cascades by question.
func (e *KindElection) TallyMixed(mixers []int) map[int]*MixState {
	e.t().Helper()
	return e.TallyMixedWith(mixers, nil)
}

// Tamper replaces the shuffle ms (trustee mixers[k] at position k+1 of
// question q, of input in) by what a hostile mixer posts instead, signed by
// that trustee; it returns ms for the shuffles it leaves alone.
type Tamper func(q, k int, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle

// TallyMixedWith is TallyMixed with the shuffles passed through tamper (nil:
// none changed). The cascade goes on from what was posted; a question whose
// rows no longer decrypt to valid answers gets an empty list in the result.
func (e *KindElection) TallyMixedWith(mixers []int, tamper Tamper) map[int]*MixState {
	e.t().Helper()
	out := map[int]*MixState{}
	for _, q := range e.MixQuestions() {
		in, err := tally.MixInput(e.Manifest, q, e.Counted)
		e.must(err)
		st := &MixState{Inputs: in, SeqDecrypts: map[int]int{}}
		for k, j := range mixers {
			en, ms := e.ShuffleEntry(q, j, k+1, st.Rows())
			if tamper != nil {
				if bad := tamper(q, k, st.Rows(), ms); bad != ms {
					ms, en = bad, e.Entry(bulletin.TypeShuffle, bulletin.RoleTrustee, e.TrusteeKey(j), bad.Bytes())
				}
			}
			st.Shuffles, st.SeqShuffles = append(st.Shuffles, ms), append(st.SeqShuffles, e.Post(en))
		}
		decs := map[int]*tally.MixDecryption{}
		for _, j := range e.Config.Decrypt {
			en, md := e.MixDecryptionEntry(q, j, st.Rows())
			st.SeqDecrypts[j], decs[j] = e.Post(en), md
		}
		st.Answers, err = tally.DecryptMixed(e.Manifest, e.Params(), q, st.Rows(), decs)
		if err != nil {
			if tamper == nil {
				e.must(err)
			}
			st.Answers = &tally.MixedAnswers{Question: q, Kind: e.Manifest.Questions[q].Kind, Seats: int(e.Manifest.Questions[q].Seats)}
		}
		out[q] = st
	}
	partials, _, res := e.TallyEntries(e.Counted)
	for i, p := range partials {
		e.SeqPartials[e.Config.Decrypt[i]] = e.Post(p)
	}
	for _, q := range e.MixQuestions() {
		res.Mixed = append(res.Mixed, *out[q].Answers)
	}
	e.Result = res
	e.SeqResult = e.Post(e.Entry(bulletin.TypeResult, bulletin.RoleAuthority, e.EA, res.Bytes()))
	return out
}
