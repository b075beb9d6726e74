package client_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

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
