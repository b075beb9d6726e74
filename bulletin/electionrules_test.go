package bulletin

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestRulesPhaseTable tries every entry type in every phase and checks the
// exact outcome (nil = accepted) (SPEC.md §3.9).
func TestRulesPhaseTable(t *testing.T) {
	el := newElection(t, "phase-table")
	candidates := []struct {
		typ  EntryType
		make func() *Entry
	}{
		{TypeManifest, func() *Entry { return el.manifestE(t) }},
		{TypeCredentials, func() *Entry { return el.credentialsE(t) }},
		{TypeDKGDeal, func() *Entry { return el.dealE(t, 3) }},
		{TypeDKGConfirmation, func() *Entry { return el.confirmE(t, 3, 2) }},
		{TypeDKGComplaint, func() *Entry { return el.complaintE(t, 3, 2) }},
		{TypeDKGReveal, func() *Entry { return el.revealE(t, 1, 2) }},
		{TypeOpen, func() *Entry { return el.openE(t, 1, 2, 3) }},
		{TypeBallot, func() *Entry { return el.ballotE(t, 1, "fresh") }},
		{TypeAuditedBallot, func() *Entry { return el.auditedE(t, 2, "fresh-audit") }},
		{TypeClose, func() *Entry { return el.closeE(t) }},
		{TypePartialDecryption, func() *Entry { return el.partialE(t, 3) }},
		{TypeResult, func() *Entry { return el.resultE(t) }},
		{TypeAudit, func() *Entry { return el.auditE(t, "fresh-audit-2") }},
		{TypeLateCredentials, func() *Entry { return el.lateE(t, "late-table") }},
	}
	WP, CL, UC, OK := ErrWrongPhase, ErrClosed, ErrUnknownCredential, error(nil)
	// want[phase][type-1]
	want := map[Phase][14]error{
		//                 manifest creds deal conf compl reveal open ballot audited close partial result audit late
		PhaseEmpty:       {OK, WP, WP, WP, WP, WP, WP, WP, WP, WP, WP, WP, WP, WP},
		PhaseSetup:       {WP, OK, WP, WP, WP, WP, WP, UC, UC, WP, WP, WP, WP, WP},
		PhaseKeyCeremony: {WP, WP, OK, OK, OK, OK, WP, WP, WP, WP, WP, WP, WP, OK}, // open: |QUAL| = 1 < T
		PhaseOpen:        {WP, WP, WP, WP, WP, WP, WP, OK, OK, OK, WP, WP, OK, OK},
		PhaseClosed:      {WP, WP, WP, WP, WP, WP, WP, CL, CL, CL, OK, WP, CL, CL},
		PhaseTally:       {WP, WP, WP, WP, WP, WP, WP, CL, CL, CL, OK, WP, CL, CL}, // result: 1 partial < T
		PhaseResult:      {CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL},
	}
	for p := PhaseEmpty; p <= PhaseResult; p++ {
		prefix := el.prefix(t, p)
		for _, c := range candidates {
			b := newBoard()
			b.mustApply(t, prefix...)
			if b.st.Phase != p {
				t.Fatalf("prefix reaches %s, want %s", b.st.Phase, p)
			}
			before := b.st.Bytes()
			_, err := b.apply(c.make())
			exp := want[p][c.typ-1]
			if exp == nil && err != nil || exp != nil && !errors.Is(err, exp) {
				t.Errorf("%s in phase %s: got %v, want %v", c.typ, p, err, exp)
			}
			if err != nil && !bytes.Equal(before, b.st.Bytes()) {
				t.Errorf("%s in phase %s: rejected entry changed the state", c.typ, p)
			}
		}
	}
}

func TestRulesFullElection(t *testing.T) {
	el := newElection(t, "full")
	b := newBoard()
	b.mustApply(t, el.prefix(t, PhaseOpen)...)
	if b.st.Phase != PhaseOpen || !bytes.Equal(b.st.JointKey[:], el.jointKey(1, 2, 3).Bytes()) {
		t.Fatal("open did not set the joint key")
	}
	// revote: the second ballot of voter 1 replaces the first
	effs := b.mustApply(t, el.ballotE(t, 1, "v1-a"), el.ballotE(t, 1, "v1-b"))
	eff1, eff2 := effs[0], effs[1]
	if eff2.LastBallot == nil || eff2.LastBallot.Seq != eff1.Seq+1 {
		t.Fatalf("revote effects %+v", eff2)
	}
	if s, _ := b.idx.LastBallot(key32(el.voters[1])); s != eff2.Seq {
		t.Fatalf("last ballot %d, want %d", s, eff2.Seq)
	}
	b.mustApply(t, el.closeE(t), el.partialE(t, 3), el.partialE(t, 1), el.resultE(t))
	if b.st.Phase != PhaseResult || b.st.Ballots != 2 || b.st.Partials != 2 || b.st.Entries != uint64(len(b.raw)) {
		t.Fatalf("final state %+v", b.st)
	}
	st2, err := ParseElectionState(b.st.Bytes())
	if err != nil || !bytes.Equal(st2.Bytes(), b.st.Bytes()) {
		t.Fatalf("state round trip: %v", err)
	}
}

func openBoard(t *testing.T, el *election) *board {
	b := newBoard()
	b.mustApply(t, el.prefix(t, PhaseOpen)...)
	return b
}

func TestRulesRejections(t *testing.T) {
	el := newElection(t, "reject")
	other := newElection(t, "other")
	dupBallot := el.ballotE(t, 3, "dup")
	cases := []struct {
		name  string
		setup []func(*election) *Entry // applied after the open prefix
		entry func(*election) *Entry
		want  error
	}{
		{"duplicate bytes", []func(*election) *Entry{func(el *election) *Entry { return dupBallot }}, func(el *election) *Entry { return dupBallot }, ErrDuplicate},
		{"same tracker twice", []func(*election) *Entry{func(el *election) *Entry { return el.ballotE(t, 1, "x") }}, func(el *election) *Entry { return el.ballotE(t, 2, "x") }, ErrDuplicate},
		{"ballot after its audit", []func(*election) *Entry{func(el *election) *Entry { return el.auditedE(t, 1, "aud") }}, func(el *election) *Entry { return el.ballotE(t, 1, "aud") }, ErrAudited},
		{"audit of a cast ballot", []func(*election) *Entry{func(el *election) *Entry { return el.ballotE(t, 1, "cast") }}, func(el *election) *Entry { return el.auditedE(t, 1, "cast") }, ErrDuplicate},
		{"ballot after its audit (1.2)", []func(*election) *Entry{func(el *election) *Entry { return el.auditE(t, "aud2") }}, func(el *election) *Entry { return el.ballotE(t, 1, "aud2") }, ErrAudited},
		{"audit of a cast ballot (1.2)", []func(*election) *Entry{func(el *election) *Entry { return el.ballotE(t, 1, "cast2") }}, func(el *election) *Entry { return el.auditE(t, "cast2") }, ErrDuplicate},
		{"audit twice", []func(*election) *Entry{func(el *election) *Entry { return el.auditE(t, "twice") }}, func(el *election) *Entry { return el.auditE(t, "twice") }, ErrDuplicate},
		{"audit signed by a credential", nil, func(el *election) *Entry { return el.auditBy(t, el.voters[0], "linked") }, ErrNotAuthorized},
		{"audit signed by a trustee", nil, func(el *election) *Entry { return el.auditBy(t, el.trustees[1], "trustee") }, ErrNotAuthorized},
		{"audit posted as a voter", nil, func(el *election) *Entry {
			return el.entry(t, TypeAudit, RoleVoter, el.voters[0], js(AuditFacts{Election: el.fp}))
		}, ErrNotAuthorized},
		{"audit of another election", nil, func(el *election) *Entry {
			return el.entry(t, TypeAudit, RoleAuditor, mustKey(t, el.rng), js(AuditFacts{Election: other.fp}))
		}, ErrWrongElection},
		{"malformed audit body", nil, func(el *election) *Entry { return el.entry(t, TypeAudit, RoleAuditor, mustKey(t, el.rng), []byte("{")) }, ErrMalformed},
		{"wrong election", nil, func(*election) *Entry { return other.ballotE(t, 1, "y") }, ErrWrongElection},
		{"unknown credential", nil, func(el *election) *Entry {
			return el.entry(t, TypeBallot, RoleVoter, other.voters[0], js(BallotFacts{Credential: key32(other.voters[0])}))
		}, ErrUnknownCredential},
		{"ballot names another credential", nil, func(el *election) *Entry {
			return el.entry(t, TypeBallot, RoleVoter, el.voters[1], js(BallotFacts{Credential: key32(el.voters[2])}))
		}, ErrNotAuthorized},
		{"close by a trustee key", nil, func(el *election) *Entry { return el.entry(t, TypeClose, RoleAuthority, el.trustees[0], nil) }, ErrNotAuthorized},
		{"close with voter role", nil, func(el *election) *Entry { return el.entry(t, TypeClose, RoleVoter, el.voters[0], nil) }, ErrNotAuthorized},
		{"ballot by the authority", nil, func(el *election) *Entry {
			return el.entry(t, TypeBallot, RoleAuthority, el.auth, js(BallotFacts{Credential: key32(el.auth)}))
		}, ErrNotAuthorized},
		{"malformed ballot body", nil, func(el *election) *Entry { return el.entry(t, TypeBallot, RoleVoter, el.voters[1], []byte("{")) }, ErrMalformed},
		{"malformed close body", nil, func(el *election) *Entry { return el.entry(t, TypeClose, RoleAuthority, el.auth, []byte{1}) }, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := openBoard(t, el)
			for _, s := range c.setup {
				b.mustApply(t, s(el))
			}
			before := b.st.Bytes()
			if _, err := b.apply(c.entry(el)); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !bytes.Equal(before, b.st.Bytes()) {
				t.Fatal("rejected entry changed the state")
			}
		})
	}
}

func TestRulesKeyCeremony(t *testing.T) {
	el := newElection(t, "dkg")
	kc := func() *board {
		b := newBoard()
		b.mustApply(t, el.manifestE(t), el.credentialsE(t))
		return b
	}
	cases := []struct {
		name    string
		entries []*Entry
		last    *Entry
		want    error
	}{
		{"deal for another dealer", nil, el.entry(t, TypeDKGDeal, RoleTrustee, el.trustees[0], js(DealFacts{Dealer: 2, ConstantTerm: el.constTerm(2)})), ErrNotAuthorized},
		{"deal twice", []*Entry{el.dealE(t, 1)}, el.dealE(t, 1), ErrDuplicate},
		{"deal by a non-trustee", nil, el.entry(t, TypeDKGDeal, RoleTrustee, el.auth, js(DealFacts{Dealer: 1})), ErrNotAuthorized},
		{"complaint against non-dealer", nil, el.complaintE(t, 1, 2), ErrInvalidBody},
		{"complaint against self", []*Entry{el.dealE(t, 1)}, el.complaintE(t, 1, 1), ErrInvalidBody},
		{"complaint twice", []*Entry{el.dealE(t, 1), el.complaintE(t, 2, 1)}, el.complaintE(t, 2, 1), ErrDuplicate},
		{"reveal without complaint", []*Entry{el.dealE(t, 1)}, el.revealE(t, 1, 2), ErrInvalidBody},
		{"reveal twice", []*Entry{el.dealE(t, 1), el.complaintE(t, 2, 1), el.revealE(t, 1, 2)}, el.revealE(t, 1, 2), ErrDuplicate},
		{"confirmation twice", []*Entry{el.dealE(t, 1), el.confirmE(t, 2, 1)}, el.confirmE(t, 2, 1), ErrDuplicate},
		{"confirmation of non-dealer", nil, el.confirmE(t, 2, 1), ErrInvalidBody},
		{"open below threshold", []*Entry{el.dealE(t, 1)}, el.openE(t, 1), ErrWrongPhase},
		{"open with unanswered complaint", []*Entry{el.dealE(t, 1), el.dealE(t, 2), el.dealE(t, 3), el.complaintE(t, 2, 1)}, el.openE(t, 1, 2, 3), ErrInvalidBody},
		{"open excluding the accused", []*Entry{el.dealE(t, 1), el.dealE(t, 2), el.dealE(t, 3), el.complaintE(t, 2, 1)}, el.openE(t, 2, 3), nil},
		{"open with a smaller QUAL", []*Entry{el.dealE(t, 1), el.dealE(t, 2), el.dealE(t, 3)}, el.openE(t, 1, 2), ErrInvalidBody},
		{"open with answered complaint", []*Entry{el.dealE(t, 1), el.dealE(t, 2), el.complaintE(t, 2, 1), el.revealE(t, 1, 2)}, el.openE(t, 1, 2), nil},
		{"open with T complaints", []*Entry{el.dealE(t, 1), el.dealE(t, 2), el.dealE(t, 3), el.complaintE(t, 2, 1), el.complaintE(t, 3, 1), el.revealE(t, 1, 2), el.revealE(t, 1, 3)}, el.openE(t, 2, 3), nil},
		{"open with wrong joint key", []*Entry{el.dealE(t, 1), el.dealE(t, 2)}, el.entry(t, TypeOpen, RoleAuthority, el.auth, (&OpenBody{JointKey: el.jointKey(1), Qualified: []uint16{1, 2}}).Bytes()), ErrInvalidBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := kc()
			b.mustApply(t, c.entries...)
			_, err := b.apply(c.last)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestRulesManifest(t *testing.T) {
	el := newElection(t, "manifest")
	// envelope fingerprint differs from the manifest's
	e, _ := NewEntry(TypeManifest, sha256.Sum256([]byte("x")), RoleAuthority, el.auth.Public(), el.manifestB)
	e.Sign(el.rng, el.auth)
	if _, err := newBoard().apply(e); !errors.Is(err, ErrWrongElection) {
		t.Fatalf("got %v", err)
	}
	// signed by someone other than the authority it names
	e = el.entry(t, TypeManifest, RoleAuthority, el.ca, el.manifestB)
	if _, err := newBoard().apply(e); !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("got %v", err)
	}
	m := el.manifest
	m.Nodes = append([]NodeKey{}, m.Nodes...)
	m.Nodes[1] = NodeKey{ID: "node b", PublicKey: m.Nodes[1].PublicKey}
	e = el.entry(t, TypeManifest, RoleAuthority, el.auth, js(m))
	if _, err := newBoard().apply(e); !errors.Is(err, ErrInvalidBody) {
		t.Fatalf("node id with a space: %v", err)
	}
	m = el.manifest
	m.Threshold = 4
	e = el.entry(t, TypeManifest, RoleAuthority, el.auth, js(m))
	if _, err := newBoard().apply(e); !errors.Is(err, ErrInvalidBody) {
		t.Fatalf("got %v", err)
	}
}

func TestPreCheck(t *testing.T) {
	el := newElection(t, "precheck")
	b := openBoard(t, el)
	good := []*Entry{el.ballotE(t, 1, "p1"), el.ballotE(t, 2, "p2"), el.closeE(t)}
	forged := el.ballotE(t, 3, "p3")
	forged.Body = append(forged.Body, ' ')
	other := newElection(t, "precheck-other").ballotE(t, 0, "p4")
	entries := append(append([]*Entry{}, good...), forged, other)
	errs := PreCheck(seeded.Raw("w"), b.st, entries, nil)
	for i := range good {
		if errs[i] != nil {
			t.Errorf("entry %d: %v", i, errs[i])
		}
	}
	if !errors.Is(errs[3], ErrInvalidSignature) || !errors.Is(errs[4], ErrWrongElection) {
		t.Errorf("got %v, %v", errs[3], errs[4])
	}
	pc := checkerFunc(func(es []*Entry) []error {
		out := make([]error, len(es))
		out[0] = errors.New("bad proof")
		return out
	})
	errs = PreCheck(seeded.Raw("w"), b.st, good, pc)
	if errs[0] == nil || errs[1] != nil {
		t.Errorf("proof checker results not mapped: %v", errs)
	}
}

type checkerFunc func([]*Entry) []error

func (f checkerFunc) CheckProofs(_ io.Reader, _ *ElectionState, es []*Entry) []error { return f(es) }

// TestAttackAuditFlood posts audits from fresh keys until the board is
// full: the audit after MaxAudits is refused with ErrAuditLimit and a
// message that says so, legacy audited ballots count against the same
// cap, and cast ballots still go through.
func TestAttackAuditFlood(t *testing.T) {
	el := newElection(t, "flood")
	b := openBoard(t, el)
	limit := MaxAudits(uint64(len(el.voters)))
	if limit != uint64(len(el.voters))+64 || b.st.Credentials != uint64(len(el.voters)) {
		t.Fatalf("cap %d for %d credentials", limit, b.st.Credentials)
	}
	b.mustApply(t, el.auditedE(t, 0, "legacy"))
	for i := uint64(1); i < limit; i++ {
		b.mustApply(t, el.auditE(t, fmt.Sprint("flood-", i)))
	}
	before := b.st.Bytes()
	for _, e := range []*Entry{el.auditE(t, "one-too-many"), el.auditedE(t, 1, "legacy-too-many")} {
		_, err := b.apply(e)
		if !errors.Is(err, ErrAuditLimit) || !strings.Contains(err.Error(), "takes no more audits") || !strings.Contains(err.Error(), fmt.Sprint(limit)) {
			t.Fatalf("audit beyond the cap: %v", err)
		}
	}
	if !bytes.Equal(before, b.st.Bytes()) || b.st.Audited != limit {
		t.Fatal("refused audit changed the state")
	}
	b.mustApply(t, el.ballotE(t, 2, "still-votes"))
}
