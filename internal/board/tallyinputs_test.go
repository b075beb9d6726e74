package board

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/tally"
)

// fullParseAggregate is the aggregate as the node computed it before
// sumCounted, the reference: in one read transaction, in credential
// order, every counted ballot's entry and ballot decoded whole
// (bulletin.ParseEntry, ballot.ParseBallot: every point of the proofs
// too) and added with its credential's weight, looked up one by one.
func fullParseAggregate(t *testing.T, st store.Store, m *ballot.Manifest) ([][]*ballot.Ciphertext, uint64, error) {
	t.Helper()
	sums := tally.ManifestAggregator(m)
	var counted uint64
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		return eachCounted(tx, func(key []byte, seq uint64) error {
			w, err := credentialWeight(tx, [32]byte(key))
			if err != nil {
				return err
			}
			counted += uint64(w)
			bl, err := storedBallot(tx, seq)
			if err != nil {
				return err
			}
			return sums.AddBallot(w, bl)
		})
	})
	if err != nil {
		return nil, 0, err
	}
	return sums.Aggregate(), counted, nil
}

// aggBytes is the encoding of an aggregate, or of mix rows, to compare bit
// for bit.
func aggBytes[R ~[]*ballot.Ciphertext](agg []R) []byte {
	var out []byte
	for _, row := range agg {
		out = append(out, byte(len(row)))
		for _, ct := range row {
			out = append(out, ct.Bytes()...)
		}
	}
	return out
}

// TestTallyInputsEqualFullParse: the node's tally inputs are, bit for
// bit, the aggregate and maxCount of the full decode, on boards with
// revotes (the later ballot counts), weighted and unweighted credentials,
// two questions (one of them left blank by some), one 1-of-5 question,
// and mixed questions (ranked, score, write-in: not in the aggregate),
// over several read chunks (tallyChunk) and with 1 to 3 workers.
func TestTallyInputsEqualFullParse(t *testing.T) {
	for name, cfg := range map[string]tallyFixture{
		"two questions, weighted": {voters: 2*tallyChunk + 100, revotes: 300, weighted: true},
		"1-of-5, unweighted":      {voters: 700, revotes: 70, questions: oneOfFive},
		// Weights are for selection questions only (SPEC.md §5.3).
		"mixed questions": {voters: 150, revotes: 20, questions: testonly.KindQuestions()},
	} {
		t.Run(name, func(t *testing.T) { checkTallyInputs(t, cfg) })
	}
}

// TestTallyInputsEqualFullParsePostgres is TestTallyInputsEqualFullParse
// on a PostgreSQL store (the weights merged from a scan in pages, the
// entries streamed by Entries over two chunks).
func TestTallyInputsEqualFullParsePostgres(t *testing.T) {
	checkTallyInputs(t, tallyFixture{voters: tallyChunk + 50, revotes: 30, weighted: true, open: postgresOpener(t)})
}

// checkTallyInputs builds the board of cfg and checks its tally inputs
// against the full decode's, and the node's check of partial decryptions.
func checkTallyInputs(t *testing.T, cfg tallyFixture) {
	b, e := cfg.build(t)
	v := b.FSM.current()
	want, wantCount, err := fullParseAggregate(t, b.st, e.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if wantCount <= uint64(cfg.voters) && cfg.weighted {
		t.Fatalf("maxCount %d: the weights are not in the reference", wantCount)
	}
	agg, vk, err := b.Submitter.tallyInputs(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(aggBytes(agg), aggBytes(want)) {
		t.Fatal("the aggregate differs from the full decode's")
	}
	if got := b.Submitter.tally.counted; got != wantCount {
		t.Fatalf("maxCount %d, want %d", got, wantCount)
	}
	if len(vk) != e.Config.N {
		t.Fatalf("%d verification keys", len(vk))
	}
	var counted []countedBallot
	if err := b.st.View(context.Background(), func(tx store.ReadTx) error {
		counted, err = countedBallots(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(counted) != cfg.voters {
		t.Fatalf("%d counted ballots, want %d", len(counted), cfg.voters)
	}
	for workers := 1; workers <= 3; workers++ {
		got, err := sumCounted(b.st, e.Manifest, counted, workers)
		if err != nil || !bytes.Equal(aggBytes(got), aggBytes(want)) {
			t.Fatalf("%d workers: the aggregate differs (%v)", workers, err)
		}
	}
	// The trustees' partial decryptions of this aggregate pass the
	// node's check; those of another aggregate do not.
	checkPartials(t, b, e, agg, nil)
	other := slices.Clone(agg)
	other[0] = slices.Clone(agg[0])
	other[0][0] = &ballot.Ciphertext{Alpha: group.NewElement().Add(agg[0][0].Alpha, group.Generator()), Beta: agg[0][0].Beta}
	checkPartials(t, b, e, other, bulletin.ErrInvalidProof)
}

// partialsOf returns the partial decryptions of agg by the trustees
// e.Config.Decrypt names. The fixture's ballots are no encryptions of 0 or
// 1 (their alphas were replaced), so their aggregate does not combine into
// counts (testonly.TallyOf): the trustees' key shares come from the tally
// of no ballot.
func partialsOf(t *testing.T, e *testonly.Election, agg [][]*ballot.Ciphertext) []*bulletin.Entry {
	t.Helper()
	empty, err := tally.WeightedAggregate(tally.SelectOptions(e.Manifest), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.TallyOf(empty, 0)
	var entries []*bulletin.Entry
	for _, j := range e.Config.Decrypt {
		pd, err := tally.PartialDecrypt(e.Rand, e.Params(), e.Shares[j-1], agg)
		if err != nil {
			t.Fatal(err)
		}
		raw := e.Entry(bulletin.TypePartialDecryption, bulletin.RoleTrustee, e.Trustees[j-1].SigningKey(), pd.Bytes())
		entries = append(entries, testonly.ParseEntry(t, raw))
	}
	return entries
}

// checkPartials runs the node's pre-check on the partial decryptions of
// agg by the election's trustees, and wants each refused with want (nil:
// accepted).
func checkPartials(t *testing.T, b *Board, e *testonly.Election, agg [][]*ballot.Ciphertext, want error) {
	t.Helper()
	entries := partialsOf(t, e, agg)
	skip := b.cfg.SkipChecks
	b.cfg.SkipChecks = false // the fixture applied without checks; the pre-check checks
	defer func() { b.cfg.SkipChecks = skip }()
	for i, err := range b.Submitter.preCheck(b.FSM.current(), entries) {
		if (want == nil) != (err == nil) || (want != nil && want != errAny && !errors.Is(err, want)) {
			t.Fatalf("partial decryption %d: %v, want %v", i, err, want)
		}
	}
}

// TestAttackTallyInputsStoredBallotNotCanonical: a counted ballot whose
// ciphertext point is not a canonical encoding (or whose alpha is the
// identity) is on the board only if a node proposed it without its checks;
// the node then computes no aggregate, as the full decode did, and refuses
// every partial decryption. A ballot that no longer counts (superseded by
// a revote) is not read. A non-canonical proof commitment, which the
// aggregate does not depend on, is the documented difference with the
// full decode (ballot.ParseTallyCiphertexts): the aggregate is that of
// the ballots' ciphertexts, as if the commitment were canonical.
func TestAttackTallyInputsStoredBallotNotCanonical(t *testing.T) {
	nonCanonical := bytes.Repeat([]byte{0xff}, group.Size)
	// Offsets in a ballot of testonly.Questions(): question 0's options
	// start after the header (69 bytes) and the option count; an option is
	// alpha, beta and two proof branches.
	const opt0 = 1 + 32 + group.Size + 4 + 4
	const opt1 = opt0 + ballot.CiphertextSize + 2*4*group.Size
	const voters, revotes = 1100, 10 // voters 0..9 revote: their first ballots (k < 10) are superseded
	clean, _ := tallyFixture{voters: voters, revotes: revotes, weighted: true}.build(t)
	cleanAgg, _, err := clean.Submitter.tallyInputs(clean.FSM.current())
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		k, off  int
		v       []byte
		refused bool
	}{
		"alpha of a counted ballot":            {k: 1050, off: opt1, v: nonCanonical, refused: true},
		"identity alpha of a counted ballot":   {k: 17, off: opt0, v: make([]byte, group.Size), refused: true},
		"beta of the last ballot, a revote":    {k: voters + revotes - 1, off: opt1 + group.Size, v: nonCanonical, refused: true},
		"beta of a superseded ballot":          {k: 3, off: opt0 + group.Size, v: nonCanonical},
		"proof commitment of a counted ballot": {k: 19, off: opt0 + ballot.CiphertextSize, v: nonCanonical},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := tallyFixture{voters: voters, revotes: revotes, weighted: true, tamper: func(k int, body []byte) {
				if k == c.k {
					copy(body[c.off:], c.v)
				}
			}}
			b, e := cfg.build(t)
			_, _, fullErr := fullParseAggregate(t, b.st, e.Manifest)
			agg, _, err := b.Submitter.tallyInputs(b.FSM.current())
			if !c.refused {
				checkTamperSkipped(t, c.k, revotes, err, fullErr, aggBytes(agg), aggBytes(cleanAgg))
				return
			}
			if err == nil || fullErr == nil {
				t.Fatalf("an aggregate over a bad point: %v; the full decode: %v", err, fullErr)
			}
			if agg != nil || b.Submitter.tally.agg != nil {
				t.Fatal("an aggregate was returned or cached")
			}
			// The trustees' partial decryptions cannot be checked: refused.
			checkPartials(t, b, e, cleanAgg, errAny)
		})
	}
}

// errAny stands for any error in checkPartials.
var errAny = errors.New("any error")
