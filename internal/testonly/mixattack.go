package testonly

import (
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// The hostile records of the mixed-question fixture, shared by the Go
// verifier's tests (package client) and pyverify's (tools/pyverify), so
// that both verifiers are shown the same attacks.

// MixedConfig is the fixture election with mixed questions (BuildKinds):
// 5 voters casting 7 ballots (two revotes), 3 trustees of threshold 2,
// trustees 1 and 3 decrypting.
func MixedConfig() Config {
	return Config{Voters: 5, Ballots: 7, N: 3, T: 2, Decrypt: []int{1, 3}}
}

// Mixers is the cascade order of MixedConfig's election: every trustee
// shuffles; the second one (trustee 3, position 2) is the hostile mixer of
// ShuffleAttacks.
func Mixers() []int { return []int{2, 3, 1} }

// ShuffleAttack is a shuffle that a hostile mixer posts, signed with its
// own key, instead of its honest one (SPEC.md §11.3).
type ShuffleAttack struct {
	Name string
	// Step is the verification step that catches it (V14.2 or V14.3).
	Step string
	// Tamper returns what the mixer posts instead of ms, its honest shuffle
	// of in.
	Tamper func(e *KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle
}

// ShuffleAttacks are the hostile shuffles of issue 14 that a node refuses
// (bulletin.ErrInvalidProof) and both verifiers report at Step.
func ShuffleAttacks() []ShuffleAttack {
	remix := func(e *KindElection, seed string, ms *tally.MixShuffle, trustee, position int, in []shuffle.Row) *tally.MixShuffle {
		e.t().Helper()
		out, err := tally.Mix(seeded.New(seed), e.Fingerprint(), e.JointKey, ms.Question, trustee, position, ms.Width, in)
		e.must(err)
		return out
	}
	return []ShuffleAttack{
		{"swapped-ciphertext", "V14.3", func(_ *KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Outputs = cloneRows(ms.Outputs)
			bad.Outputs[0][1], bad.Outputs[1][1] = bad.Outputs[1][1], bad.Outputs[0][1]
			return &bad
		}},
		{"duplicated-ciphertext", "V14.3", func(_ *KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Outputs = cloneRows(ms.Outputs)
			bad.Outputs[2] = slices.Clone(bad.Outputs[0])
			return &bad
		}},
		{"proof-for-another-permutation", "V14.3", func(e *KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Proof = remix(e, "other permutation", ms, ms.Trustee, ms.Position, in).Proof
			return &bad
		}},
		{"mixer-drops-a-ballot", "V14.2", func(e *KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := remix(e, "drop", ms, ms.Trustee, ms.Position, in[1:])
			bad.Input = ms.Input // it names the current rows: its shape gives it away (naming in[1:] is refused as stale, SPEC.md §11.3)
			return bad
		}},
		{"replay-of-position-1", "V14.3", func(e *KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			// the shuffle of position 1 (another trustee, another input),
			// relabelled as this trustee's position 2
			bad := remix(e, "first", ms, Mixers()[0], 1, in)
			bad.Trustee, bad.Position = ms.Trustee, ms.Position
			return bad
		}},
	}
}

func cloneRows(rows []shuffle.Row) []shuffle.Row {
	out := make([]shuffle.Row, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}

// TallyMixedTampered is TallyMixed(Mixers()) with the shuffle at position 2
// of the first mixed question (the ranking) replaced by what tamper
// returns. It returns the seq of that shuffle.
func (e *KindElection) TallyMixedTampered(tamper func(e *KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle) int {
	e.t().Helper()
	bad := -1
	q0 := e.MixQuestions()[0]
	mixes := e.TallyMixedWith(Mixers(), func(q, k int, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
		if q != q0 || k != 1 {
			return ms
		}
		bad = len(e.Entries)
		return tamper(e, in, ms)
	})
	if mixes[q0].SeqShuffles[1] != bad {
		e.t().Fatalf("testonly: tampered shuffle at %d, want %d", mixes[q0].SeqShuffles[1], bad)
	}
	return bad
}

// DecryptInputs replaces trustee j's decryption shares of the first mixed
// question by its shares of the cascade's input instead of its last
// output (caught at V15.2). It returns their seq.
func (e *KindElection) DecryptInputs(mixes map[int]*MixState, j int) int {
	e.t().Helper()
	q := e.MixQuestions()[0]
	seq := mixes[q].SeqDecrypts[j]
	e.Entries[seq], _ = e.MixDecryptionEntry(q, j, mixes[q].Inputs)
	return seq
}

// NodeCheck runs what a node runs on entry seq of e before proposing it
// (SPEC.md §3.9.1): the rules on the board before it, then
// bulletin.PreCheck with the production proof checker, whose cascade tips
// come from the entries before seq. An entry before seq that the rules
// refuse stops the test.
func (e *KindElection) NodeCheck(tb testing.TB, seq int) error {
	tb.Helper()
	rules := bulletin.NewRules(bulletin.StandardBodies{})
	st, idx := &bulletin.ElectionState{}, bulletin.NewMemIndex()
	tips := map[int][]shuffle.Row{}
	for _, q := range e.MixQuestions() {
		in, err := tally.MixInput(e.Manifest, q, e.Counted)
		if err != nil {
			tb.Fatal(err)
		}
		tips[q] = in
	}
	for i := 0; i < seq; i++ {
		en := ParseEntry(tb, e.Entries[i])
		eff, err := rules.Apply(st, idx, en)
		if err != nil {
			tb.Fatalf("entry %d (%s) refused while replaying: %v", i, en.Type, err)
		}
		idx.Commit(eff)
		if en.Type == bulletin.TypeShuffle {
			ms, _ := tally.ParseMixShuffle(en.Body)
			tips[ms.Question] = ms.Outputs
		}
	}
	en := ParseEntry(tb, e.Entries[seq])
	if _, err := rules.Apply(st.Clone(), idx, en); err != nil {
		return err
	}
	sp := &bulletin.StandardProofs{
		Manifest: e.Manifest, JointKey: e.JointKey,
		Tally:   func() ([][]*ballot.Ciphertext, []*group.Element, error) { return nil, e.VerificationKeys, nil },
		MixRows: func(q int) ([]shuffle.Row, error) { return tips[q], nil },
	}
	return bulletin.PreCheck(seeded.New("node"), st, []*bulletin.Entry{en}, sp)[0]
}
