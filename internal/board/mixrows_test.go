package board

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// ranked5 is the shape of bench/manifest-ranked5.json: one question, rank
// 5 options.
var ranked5 = []ballot.Question{{Text: "Rank the options", Kind: ballot.KindRanked, Options: []string{"a", "b", "c", "d", "e"}, Min: 1, Max: 5}}

// ranked5Answers is voter v's ranking of ranked5: 1 to 5 options, varying
// with v.
func ranked5Answers(v int) []ballot.Answer {
	rankings := [][]uint32{{0, 1, 2, 3, 4}, {4}, {2, 0}, {1, 3, 0}, {3, 4, 2, 1}}
	return []ballot.Answer{{Ranking: rankings[v%len(rankings)]}}
}

// fullParseRows is the rows of mixed question q as the node computed them
// before ballot.ParseMixRow, the reference: in one read transaction, every
// counted ballot's entry and ballot decoded whole (bulletin.ParseEntry,
// ballot.ParseBallot: every point of the proofs too), in board order, and
// its row made by Ballot.MixRow.
func fullParseRows(st store.Store, m *ballot.Manifest, q int) ([]shuffle.Row, error) {
	var rows []shuffle.Row
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		var seqs []uint64
		err := eachCounted(tx, func(_ []byte, seq uint64) error {
			seqs = append(seqs, seq)
			return nil
		})
		if err != nil {
			return err
		}
		slices.Sort(seqs)
		counted := make([]*ballot.Ballot, len(seqs))
		for i, seq := range seqs {
			if counted[i], err = storedBallot(tx, seq); err != nil {
				return err
			}
		}
		rows, err = tally.MixInput(m, q, counted)
		return err
	})
	return rows, err
}

// mixedQuestions returns the mixed questions of m.
func mixedQuestions(m *ballot.Manifest) []int {
	var qs []int
	for q := range m.Questions {
		if m.Questions[q].Kind.Mixed() {
			qs = append(qs, q)
		}
	}
	return qs
}

// TestCountedRowsEqualFullParse: the node's mix inputs are, bit for bit
// and in the same order, the rows of the full decode, on boards with
// revotes (the later ballot counts) over several read chunks
// (tallyChunk), with 1 to 3 workers and through Submitter.mixRows: a
// ranking whose every ballot has its own row, and questions of every
// kind (select, ranked, score, write-in).
func TestCountedRowsEqualFullParse(t *testing.T) {
	for name, cfg := range map[string]tallyFixture{
		"ranked":     {voters: 2*tallyChunk + 30, revotes: 100, questions: ranked5, answers: ranked5Answers},
		"every kind": {voters: tallyChunk + 150, revotes: 40, questions: testonly.KindQuestions()},
	} {
		t.Run(name, func(t *testing.T) { checkCountedRows(t, cfg) })
	}
}

// TestCountedRowsEqualFullParsePostgres is TestCountedRowsEqualFullParse
// on a PostgreSQL store (the entries streamed by Entries over two chunks).
func TestCountedRowsEqualFullParsePostgres(t *testing.T) {
	checkCountedRows(t, tallyFixture{voters: tallyChunk + 50, revotes: 30, questions: ranked5, answers: ranked5Answers, open: postgresOpener(t)})
}

// checkCountedRows builds the board of cfg and checks the rows of its
// mixed questions against the full decode's.
func checkCountedRows(t *testing.T, cfg tallyFixture) {
	b, e := cfg.build(t)
	m := e.Manifest
	v := b.FSM.current()
	for _, q := range mixedQuestions(m) {
		want, err := fullParseRows(b.st, m, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != cfg.voters {
			t.Fatalf("question %d: %d rows in the reference, want %d", q, len(want), cfg.voters)
		}
		if q == 0 && cfg.questions[0].Kind == ballot.KindRanked {
			// The fixture gives every ballot its own first entry, so
			// every row differs: a row out of order would show.
			distinct := map[string]bool{}
			for _, row := range want {
				distinct[string(aggBytes([]shuffle.Row{row}))] = true
			}
			if len(distinct) != len(want) {
				t.Fatalf("%d distinct rows of %d", len(distinct), len(want))
			}
		}
		for workers := 1; workers <= 3; workers++ {
			got, err := countedRows(b.st, m, q, workers)
			if err != nil {
				t.Fatalf("question %d, %d workers: %v", q, workers, err)
			}
			if !bytes.Equal(aggBytes(got), aggBytes(want)) {
				t.Fatalf("question %d, %d workers: the rows differ from the full decode's", q, workers)
			}
		}
		got, err := b.Submitter.mixRows(v, q)
		if err != nil || !bytes.Equal(aggBytes(got), aggBytes(want)) {
			t.Fatalf("question %d: Submitter.mixRows: the rows differ from the full decode's (%v)", q, err)
		}
	}
}

// Offsets in a ballot of ranked5 (SPEC.md §12.2): the header (69 bytes),
// the question's kind, option count and rank count, then the 25 entries
// of the matrix, each alpha, beta and two proof branches.
const (
	ranked5Entry0 = 1 + 32 + group.Size + 4 + 1 + 4 + 4
	rankedEntry   = ballot.CiphertextSize + 2*4*group.Size
)

// TestAttackCountedRowsStoredBallotNotCanonical: a counted ballot whose
// mixed question has a ciphertext point that is not a canonical encoding
// (or an identity alpha) is on the board only if a node proposed it
// without its checks; the node then computes no rows, as the full decode
// did, says which entry and point, caches nothing, and refuses the
// first shuffle (which it cannot check). A ballot that no longer counts
// (superseded by a revote) is not read. A non-canonical proof commitment,
// which the rows do not depend on, is the documented difference with the
// full decode (ballot.ParseMixRow): the rows are those of the ballots'
// ciphertexts, as if the commitment were canonical, and the shuffle of
// those rows is accepted.
func TestAttackCountedRowsStoredBallotNotCanonical(t *testing.T) {
	nonCanonical := bytes.Repeat([]byte{0xff}, group.Size)
	const voters, revotes = tallyChunk + 76, 10 // voters 0..9 revote: their first ballots (k < 10) are superseded
	fixture := tallyFixture{voters: voters, revotes: revotes, questions: ranked5, answers: ranked5Answers}
	clean, e := fixture.build(t)
	cleanRows, err := clean.Submitter.mixRows(clean.FSM.current(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Trustee 1's shuffle of the clean rows, the first of the cascade
	// (every fixture is the same election: its randomness is seeded by
	// its name).
	ms, err := tally.Mix(e.Rand, e.Fingerprint(), e.JointKey, 0, 1, 1, e.Manifest.MixWidth(0), cleanRows)
	if err != nil {
		t.Fatal(err)
	}
	shuffleEntry := testonly.ParseEntry(t, e.Entry(bulletin.TypeShuffle, bulletin.RoleTrustee, e.Trustees[0].SigningKey(), ms.Bytes()))
	if err := preCheckShuffle(clean, shuffleEntry); err != nil {
		t.Fatalf("the shuffle of the clean rows: %v", err)
	}
	for name, c := range map[string]struct {
		k, off  int
		v       []byte
		refused string // what the error names; "" if the rows are the clean ones
	}{
		"alpha of a counted ballot":            {k: 1050, off: ranked5Entry0 + 7*rankedEntry, v: nonCanonical, refused: "alpha"},
		"identity alpha of a counted ballot":   {k: 17, off: ranked5Entry0, v: make([]byte, group.Size), refused: "alpha"},
		"beta of the last ballot, a revote":    {k: voters + revotes - 1, off: ranked5Entry0 + 24*rankedEntry + group.Size, v: nonCanonical, refused: "beta"},
		"beta of a superseded ballot":          {k: 3, off: ranked5Entry0 + group.Size, v: nonCanonical},
		"proof commitment of a counted ballot": {k: 19, off: ranked5Entry0 + 3*rankedEntry + ballot.CiphertextSize, v: nonCanonical},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixture
			cfg.tamper = func(k int, body []byte) {
				if k == c.k {
					copy(body[c.off:], c.v)
				}
			}
			b, _ := cfg.build(t)
			_, fullErr := fullParseRows(b.st, e.Manifest, 0)
			rows, err := b.Submitter.mixRows(b.FSM.current(), 0)
			if c.refused == "" {
				checkTamperSkipped(t, c.k, revotes, err, fullErr, aggBytes(rows), aggBytes(cleanRows))
				if err := preCheckShuffle(b, shuffleEntry); err != nil {
					t.Fatalf("the shuffle of the same rows: %v", err)
				}
				return
			}
			if err == nil || fullErr == nil {
				t.Fatalf("rows with a bad point: %v; the full decode: %v", err, fullErr)
			}
			if !errors.Is(err, wire.ErrMalformed) || !strings.Contains(err.Error(), "counted ballot at entry") || !strings.Contains(err.Error(), c.refused) {
				t.Fatalf("the error does not say what is wrong and where: %v", err)
			}
			if rows != nil || len(b.Submitter.mix.tips) != 0 {
				t.Fatal("rows were returned or cached")
			}
			t.Log(err)
			if err := preCheckShuffle(b, shuffleEntry); err == nil || !strings.Contains(err.Error(), "counted ballot at entry") {
				t.Fatalf("the shuffle: %v, want refused for the counted ballot", err)
			}
		})
	}
}

// preCheckShuffle returns the node's pre-check's answer to the shuffle
// entry.
func preCheckShuffle(b *Board, entry *bulletin.Entry) error {
	skip := b.cfg.SkipChecks
	b.cfg.SkipChecks = false // the fixture applied without checks; the pre-check checks
	defer func() { b.cfg.SkipChecks = skip }()
	return b.Submitter.preCheck(b.FSM.current(), []*bulletin.Entry{entry})[0]
}
