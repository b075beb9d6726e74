package client_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// TestAttackShuffle: a hostile mixer at position 2 of the first mixed
// question (the ranking) posts, signed with its own key, a shuffle whose
// rows or proof were changed. The node refuses each before proposing it,
// and the verifier reports it at its numbered step on a record that holds
// it anyway (a faulty node quorum).
func TestAttackShuffle(t *testing.T) {
	type attack struct {
		testonly.ShuffleAttack
		nodeErr error
	}
	var cases []attack
	for _, a := range testonly.ShuffleAttacks() {
		cases = append(cases, attack{a, bulletin.ErrInvalidProof})
	}
	cases = append(cases, attack{testonly.ShuffleAttack{Name: "replay-from-another-question", Step: "V5",
		Tamper: func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			// the same mixer's honest shuffle, posted for the score question
			bad := *ms
			bad.Question = e.MixQuestions()[1]
			return &bad
		}}, bulletin.ErrInvalidBody})
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			e := testonly.BuildKinds(t, "attack-shuffle", testonly.MixedConfig(), nil)
			badSeq := e.TallyMixedTampered(c.Tamper)
			if err := e.NodeCheck(t, badSeq); !errors.Is(err, c.nodeErr) {
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
			if f := rep.Step(client.StepV14).Failures[0]; !strings.HasPrefix(f.Field, c.Step) {
				t.Errorf("V14 failure %q, want %s", f.Field, c.Step)
			}
		})
	}
}

// TestAttackMixDecryptionForOtherRows: a trustee's decryption shares of
// the cascade's input instead of its last output are refused by the node
// and reported at V15.2 (with V16 then failing for lack of T valid ones).
func TestAttackMixDecryptionForOtherRows(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-decryption", testonly.MixedConfig(), nil)
	seq := e.DecryptInputs(e.TallyMixed(testonly.Mixers()), 3)
	if err := e.NodeCheck(t, seq); !errors.Is(err, bulletin.ErrInvalidProof) {
		t.Errorf("node: %v, want an invalid proof", err)
	}
	rep := verify(t, e.Record())
	expectFailures(t, rep, client.StepV15, at(client.StepV15, seq), at(client.StepV16, e.SeqResult))
}

// TestAttackShuffleBeforeClose: a trustee's shuffle posted while the
// election is open is refused by the rules (wrong phase) on the node and
// reported by V5.
func TestAttackShuffleBeforeClose(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-early", testonly.MixedConfig(), nil)
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
	if err := e.NodeCheck(t, e.SeqClose); !errors.Is(err, bulletin.ErrWrongPhase) {
		t.Errorf("node: %v, want wrong phase", err)
	}
}

// Audits of version-2 ballots (SPEC.md §12.10) in a whole record.

// auditedKinds is a version-3 election up to its close in which voters 0
// and 1 first challenge a ballot (the audits at e.SeqAudited).
func auditedKinds(t *testing.T, seed string) *testonly.KindElection {
	t.Helper()
	cfg := testonly.MixedConfig()
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
			return e.ForgedAudit(a.Bytes())
		}, bulletin.ErrInvalidProof, client.StepV9, nil, "V9.3"},
		{"opening for other scores and another text", seq, func() []byte {
			a := audit()
			a.Opening.Answers[2].Scores = []uint32{5, 5, 5}
			a.Opening.Answers[3].Text = "More is more"
			return e.ForgedAudit(a.Bytes())
		}, bulletin.ErrInvalidProof, client.StepV9, nil, "V9.3"},
		{"choices copied from another voter's ballot, with a wrong opening", seq, func() []byte {
			// Front-running: voter 0's ballot (posted later) has its
			// choices audited first, to burn its tracker.
			victim, err := ballot.ParseBallot(e.Body(castSeq))
			if err != nil {
				t.Fatal(err)
			}
			return e.ForgedAudit(append(victim.ChoicesBytes(), audit().Opening.Bytes()...))
		}, bulletin.ErrInvalidProof, client.StepV5, []client.Step{client.StepV9}, "audited"},
		{"a version-1 audit in a version-3 election", seq, func() []byte {
			return e.ForgedAudit(e.V1AuditBody())
		}, bulletin.ErrInvalidBody, client.StepV5, []client.Step{client.StepV9}, ""},
		{"the audited ballot cast afterwards (V10)", castSeq, func() []byte {
			return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[0].PrivateKey(), e.Audited[0].Bytes())
		}, bulletin.ErrAudited, client.StepV5, nil, "audited"},
		{"audit truncated by one byte", seq, func() []byte {
			b := e.Body(seq)
			return e.ForgedAudit(b[:len(b)-1])
		}, bulletin.ErrMalformed, client.StepV1, nil, ""},
		{"audit with a trailing byte", seq, func() []byte {
			return e.ForgedAudit(append(slices.Clone(e.Body(seq)), 0))
		}, bulletin.ErrMalformed, client.StepV1, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := withEntry(e, c.at, c.entry())
			if err := bad.NodeCheck(t, c.at); !errors.Is(err, c.nodeErr) {
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
