package client_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

var kindMixers = []int{2, 3, 1}

func kindConfig() testonly.Config {
	return testonly.Config{Voters: 5, Ballots: 7, N: 3, T: 2, Decrypt: []int{1, 3}}
}

// nodeCheck runs what a node runs on entry seq of e before proposing it
// (SPEC.md §3.9.1): the rules on the board before it, then
// bulletin.PreCheck with the production proof checker, whose cascade tips
// come from the entries before seq.
func nodeCheck(t *testing.T, e *testonly.KindElection, seq int) error {
	t.Helper()
	rules := bulletin.NewRules(bulletin.StandardBodies{})
	st, idx := &bulletin.ElectionState{}, bulletin.NewMemIndex()
	tips := map[int][]shuffle.Row{}
	for _, q := range e.MixQuestions() {
		in, err := tally.MixInput(e.Manifest, q, e.Counted)
		if err != nil {
			t.Fatal(err)
		}
		tips[q] = in
	}
	for i := 0; i < seq; i++ {
		en, err := bulletin.ParseEntry(e.Entries[i])
		if err != nil {
			t.Fatal(err)
		}
		eff, err := rules.Apply(st, idx, en)
		if err != nil {
			t.Fatalf("entry %d (%s) refused while replaying: %v", i, en.Type, err)
		}
		idx.Commit(eff)
		if en.Type == bulletin.TypeShuffle {
			ms, _ := tally.ParseMixShuffle(en.Body)
			tips[ms.Question] = ms.Outputs
		}
	}
	en, err := bulletin.ParseEntry(e.Entries[seq])
	if err != nil {
		t.Fatal(err)
	}
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

func cloneRows(rows []shuffle.Row) []shuffle.Row {
	out := make([]shuffle.Row, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}

// TestAttackShuffle: a hostile mixer at position 2 of the first mixed
// question (the ranking) posts, signed with its own key, a shuffle whose
// rows or proof were changed. The node refuses each before proposing it,
// and the verifier reports it at its numbered step on a record that holds
// it anyway (a faulty node quorum).
func TestAttackShuffle(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle
		field   string // prefix of the V14 failure's field
		nodeErr error
	}{
		{"swapped ciphertext", func(_ *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Outputs = cloneRows(ms.Outputs)
			bad.Outputs[0][1], bad.Outputs[1][1] = bad.Outputs[1][1], bad.Outputs[0][1]
			return &bad
		}, "V14.3", bulletin.ErrInvalidProof},
		{"duplicated ciphertext", func(_ *testonly.KindElection, _ []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad := *ms
			bad.Outputs = cloneRows(ms.Outputs)
			bad.Outputs[2] = slices.Clone(bad.Outputs[0])
			return &bad
		}, "V14.3", bulletin.ErrInvalidProof},
		{"proof for another permutation", func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			other, err := tally.Mix(seeded.New("other permutation"), e.Fingerprint(), e.JointKey, ms.Question, ms.Trustee, ms.Position, ms.Width, in)
			if err != nil {
				t.Fatal(err)
			}
			bad := *ms
			bad.Proof = other.Proof
			return &bad
		}, "V14.3", bulletin.ErrInvalidProof},
		{"mixer drops a ballot", func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			bad, err := tally.Mix(seeded.New("drop"), e.Fingerprint(), e.JointKey, ms.Question, ms.Trustee, ms.Position, ms.Width, in[1:])
			if err != nil {
				t.Fatal(err)
			}
			bad.Input = ms.Input // it names the current rows: its shape gives it away (naming in[1:] is refused as stale)
			return bad
		}, "V14.2", bulletin.ErrInvalidProof},
		{"replay of the previous position", func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			// the shuffle of position 1 (another trustee, another input),
			// relabelled as this trustee's position 2
			first, err := tally.Mix(seeded.New("first"), e.Fingerprint(), e.JointKey, ms.Question, kindMixers[0], 1, ms.Width, in)
			if err != nil {
				t.Fatal(err)
			}
			bad := *first
			bad.Trustee, bad.Position = ms.Trustee, ms.Position
			return &bad
		}, "V14.3", bulletin.ErrInvalidProof},
		{"replay from another question", func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			// the same mixer's honest shuffle, posted for the score question
			bad := *ms
			bad.Question = e.MixQuestions()[1]
			return &bad
		}, "V5", bulletin.ErrInvalidBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := testonly.BuildKinds(t, "attack-shuffle", kindConfig(), nil)
			var badSeq int
			q0 := e.MixQuestions()[0]
			mixes := e.TallyMixedWith(kindMixers, func(q, k int, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
				if q != q0 || k != 1 {
					return ms
				}
				badSeq = len(e.Entries)
				return c.tamper(e, in, ms)
			})
			if mixes[q0].SeqShuffles[1] != badSeq {
				t.Fatalf("tampered shuffle at %d, want %d", mixes[q0].SeqShuffles[1], badSeq)
			}
			if err := nodeCheck(t, e, badSeq); !errors.Is(err, c.nodeErr) {
				t.Errorf("node: %v, want %v", err, c.nodeErr)
			}
			rep := verify(t, e.Record())
			if c.nodeErr == bulletin.ErrInvalidBody {
				// the score question's cascade is at position 0: the rules
				// refuse a position-2 shuffle there (V5, as the node did)
				expectFailures(t, rep, client.StepV5, at(client.StepV5, badSeq))
				return
			}
			expectFailures(t, rep, client.StepV14, at(client.StepV14, badSeq))
			if f := rep.Step(client.StepV14).Failures[0]; !strings.HasPrefix(f.Field, c.field) {
				t.Errorf("V14 failure %q, want %s", f.Field, c.field)
			}
		})
	}
}

// TestAttackMixDecryptionForOtherRows: a trustee's decryption shares of
// the cascade's input instead of its last output are refused by the node
// and reported at V15.2 (with V16 then failing for lack of T valid ones).
func TestAttackMixDecryptionForOtherRows(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-decryption", kindConfig(), nil)
	mixes := e.TallyMixed(kindMixers)
	q := e.MixQuestions()[0]
	seq := mixes[q].SeqDecrypts[3]
	en, _ := e.MixDecryptionEntry(q, 3, mixes[q].Inputs)
	e.Entries[seq] = en
	if err := nodeCheck(t, e, seq); !errors.Is(err, bulletin.ErrInvalidProof) {
		t.Errorf("node: %v, want an invalid proof", err)
	}
	rep := verify(t, e.Record())
	expectFailures(t, rep, client.StepV15, at(client.StepV15, seq), at(client.StepV16, e.SeqResult))
}

// TestAttackShuffleBeforeClose: a trustee's shuffle posted while the
// election is open is refused by the rules (wrong phase) on the node and
// reported by V5.
func TestAttackShuffleBeforeClose(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-early", kindConfig(), nil)
	q := e.MixQuestions()[0]
	in, err := tally.MixInput(e.Manifest, q, e.Counted)
	if err != nil {
		t.Fatal(err)
	}
	early, _ := e.ShuffleEntry(q, 1, 1, in)
	entries := slices.Insert(slices.Clone(e.Entries), e.SeqClose, early)
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose))
	if f := rep.Step(client.StepV5).Failures[0]; !strings.Contains(f.Detail, "phase") {
		t.Errorf("V5 says %q, want a phase error", f.Detail)
	}
	e.Entries = entries
	if err := nodeCheck(t, e, e.SeqClose); !errors.Is(err, bulletin.ErrWrongPhase) {
		t.Errorf("node: %v, want wrong phase", err)
	}
}

// Audits of version-2 ballots (SPEC.md §12.10) in a whole record.

// auditedKinds is a version-3 election up to its close in which voters 0
// and 1 first challenge a ballot (the audits at e.SeqAudited).
func auditedKinds(t *testing.T, seed string) *testonly.KindElection {
	t.Helper()
	cfg := kindConfig()
	cfg.Audits = 2
	return testonly.BuildKinds(t, seed, cfg, nil)
}

// TestVerifyKindsAudits: the audits of ranked, score and write-in ballots
// verify (V9 checks both) and the report lists what each opened: the
// selection, the ranking in order, the scores, the write-in text, under
// the tracker the booth showed.
func TestVerifyKindsAudits(t *testing.T) {
	e := auditedKinds(t, "audit2-record")
	rep := verify(t, e.Record())
	if !rep.OK() {
		dump(t, rep)
		t.Fatal("record with version-2 audits does not verify")
	}
	if s := rep.Step(client.StepV9); !s.Ran || s.Checked != 2 || rep.Audited != 2 {
		t.Fatalf("V9 ran=%v checked=%d, audited %d", s.Ran, s.Checked, rep.Audited)
	}
	if len(rep.Audits) != 2 {
		t.Fatalf("%d opened audits reported", len(rep.Audits))
	}
	for i, a := range rep.Audits {
		want := [][]string{{"Ada"}, {"Lyon", "Oslo", "Pisa", "Kyoto"}, {"fish: 0", "pasta: 0", "salad: 3"}, {"Less is more"}}
		if i == 1 {
			want = [][]string{{"Grace"}, {"Oslo", "Lyon"}, {"fish: 1", "pasta: 2", "salad: 4"}, {""}}
		}
		if a.Seq != int64(e.SeqAudited[i]) || a.Tracker != e.Audited[i].Tracker().Hex() || a.Short != e.Audited[i].Tracker().Short() ||
			!slices.EqualFunc(a.Answers, want, slices.Equal) {
			t.Errorf("audit %d: %+v, want %q", i, a, want)
		}
	}
}

// forge re-signs body as an audit with a fresh one-time key (anyone may
// post an audit).
func forge(t *testing.T, e *testonly.KindElection, body []byte) []byte {
	t.Helper()
	k, err := schnorr.GenerateKey(seeded.New("forger"))
	if err != nil {
		t.Fatal(err)
	}
	return e.Entry(bulletin.TypeAudit, bulletin.RoleAuditor, k, body)
}

// withEntry returns e with entry seq replaced (e's own entries unchanged).
func withEntry(e *testonly.KindElection, seq int, entry []byte) *testonly.KindElection {
	el := *e.Election
	el.Entries = e.WithEntry(seq, entry)
	out := *e
	out.Election = &el
	return &out
}

// TestAttackKindsAudit: what a hostile device, voter or board posts as
// the audit of a version-2 ballot, or after it. A node refuses each
// before proposing it (the rules, then the proof check); `urna verify`
// reports each at its step on a record that holds it anyway.
func TestAttackKindsAudit(t *testing.T) {
	e := auditedKinds(t, "audit2-attack")
	seq := e.SeqAudited[0]
	audit := func() *ballot.Audit {
		a, err := ballot.ParseAudit(e.Body(seq))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	v1Audit := func() []byte {
		// A version-1 audit (SPEC.md §7.3) of a version-1 election, named
		// for this one: choices of the §7.1 layout and its opening.
		v1 := testonly.NewElection(t, "audit2-v1", testonly.Config{Voters: 1, N: 1, T: 1})
		b, s, err := ballot.EncryptBallot(seeded.New("v1 ballot"), v1.Manifest, e.JointKey, v1.Voters[0], [][]uint32{{0}, {1, 2}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := b.Audit(s)
		if err != nil {
			t.Fatal(err)
		}
		body := a.Bytes()
		fp := e.Fingerprint()
		copy(body, fp[:])
		return body
	}
	castSeq := e.SeqBallots[0] // voter 0's first ballot, after the audits
	cases := []struct {
		name    string
		at      int
		entry   func() []byte
		nodeErr error
		step    client.Step // the first failing step
		others  []client.Step
		detail  string // in the failure at step
	}{
		{"opening for another ranking", seq, func() []byte {
			a := audit()
			a.Opening.Answers[1].Ranking = []uint32{3, 2, 1, 0}
			return forge(t, e, a.Bytes())
		}, bulletin.ErrInvalidProof, client.StepV9, nil, "V9.3"},
		{"opening for other scores and another text", seq, func() []byte {
			a := audit()
			a.Opening.Answers[2].Scores = []uint32{5, 5, 5}
			a.Opening.Answers[3].Text = "More is more"
			return forge(t, e, a.Bytes())
		}, bulletin.ErrInvalidProof, client.StepV9, nil, "V9.3"},
		{"choices copied from another voter's ballot, with a wrong opening", seq, func() []byte {
			// Front-running: voter 0's ballot (posted later) has its
			// choices audited first, to burn its tracker.
			victim, err := ballot.ParseBallot(e.Body(castSeq))
			if err != nil {
				t.Fatal(err)
			}
			return forge(t, e, append(victim.ChoicesBytes(), audit().Opening.Bytes()...))
		}, bulletin.ErrInvalidProof, client.StepV5, []client.Step{client.StepV9}, "audited"},
		{"a version-1 audit in a version-3 election", seq, func() []byte {
			return forge(t, e, v1Audit())
		}, bulletin.ErrInvalidBody, client.StepV5, []client.Step{client.StepV9}, ""},
		{"the audited ballot cast afterwards (V10)", castSeq, func() []byte {
			return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[0].PrivateKey(), e.Audited[0].Bytes())
		}, bulletin.ErrAudited, client.StepV5, nil, "audited"},
		{"audit truncated by one byte", seq, func() []byte {
			b := e.Body(seq)
			return forge(t, e, b[:len(b)-1])
		}, bulletin.ErrMalformed, client.StepV1, nil, ""},
		{"audit with a trailing byte", seq, func() []byte {
			return forge(t, e, append(slices.Clone(e.Body(seq)), 0))
		}, bulletin.ErrMalformed, client.StepV1, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := withEntry(e, c.at, c.entry())
			if err := nodeCheck(t, bad, c.at); !errors.Is(err, c.nodeErr) {
				t.Errorf("node: %v, want %v", err, c.nodeErr)
			}
			rep := verify(t, bad.Record())
			if rep.OK() {
				t.Fatal("the record verifies")
			}
			step, f, _ := rep.FirstFailure()
			if step != c.step {
				dump(t, rep)
				t.Fatalf("first failure %s (%s), want %s", step, f, c.step)
			}
			for _, s := range c.others {
				if len(rep.Step(s).Failures) == 0 {
					dump(t, rep)
					t.Errorf("no failure at %s", s)
				}
			}
			if c.detail != "" && !strings.Contains(failuresAt(rep, c.step), c.detail) {
				dump(t, rep)
				t.Errorf("no failure at %s names %q", c.step, c.detail)
			}
		})
	}
}

// failuresAt returns the failures at step, one a line.
func failuresAt(rep *client.Report, step client.Step) string {
	var b strings.Builder
	for _, f := range rep.Step(step).Failures {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}
