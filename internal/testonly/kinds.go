package testonly

import (
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
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
	Answers map[int][]ballot.Answer // the answers of the cast ballot at each seq
}

// BuildKinds runs the start of an election whose manifest has mixed
// questions (cfg.Questions, KindQuestions() if nil): setup, key ceremony,
// open, cfg.Ballots cast ballots of answers(k) (KindAnswers if nil; voter k
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
