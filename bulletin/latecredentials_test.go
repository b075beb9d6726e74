package bulletin

import (
	"errors"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestLateCredentialsRegister: a late-credentials entry registers its
// credentials (their ballots are accepted) and raises the audit cap.
func TestLateCredentialsRegister(t *testing.T) {
	el := newElection(t, "late")
	b := openBoard(t, el)
	before := b.st.Credentials
	late := el.lateE(t, "late-voters")
	eff, err := b.apply(late)
	if err != nil {
		t.Fatal(err)
	}
	if len(eff.Credentials) != 2 || b.st.Credentials != before+2 || b.st.Phase != PhaseOpen {
		t.Fatalf("effects %+v, credentials %d (was %d), phase %s", eff, b.st.Credentials, before, b.st.Phase)
	}
	rng := seeded.Raw("late-voters")
	k := mustKey(t, rng)
	b.mustApply(t, el.entry(t, TypeBallot, RoleVoter, k, js(BallotFacts{Credential: key32(k), Tracker: [32]byte{9}})))
	if b.st.Ballots != 1 {
		t.Fatalf("ballots %d", b.st.Ballots)
	}
}

// TestAttackLateCredentials: a late voter is added only by the credential
// authority's signed, public entry, before the close, and never twice.
func TestAttackLateCredentials(t *testing.T) {
	el := newElection(t, "late-attack")
	cases := []struct {
		name  string
		phase Phase
		entry func() *Entry
		want  error
	}{
		{"after close", PhaseClosed, func() *Entry { return el.lateE(t, "after-close") }, ErrClosed},
		{"in the tally", PhaseTally, func() *Entry { return el.lateE(t, "in-tally") }, ErrClosed},
		{"before the credential list", PhaseSetup, func() *Entry { return el.lateE(t, "too-early") }, ErrWrongPhase},
		{"a registered credential again", PhaseOpen, func() *Entry { return el.lateE(t, "dup", key32(el.voters[2])) }, ErrDuplicate},
		{"signed by the election authority", PhaseOpen, func() *Entry {
			return el.entry(t, TypeLateCredentials, RoleCredentialAuthority, el.auth, js([][32]byte{{1}}))
		}, ErrNotAuthorized},
		{"posted as a voter", PhaseOpen, func() *Entry {
			return el.entry(t, TypeLateCredentials, RoleVoter, el.voters[0], js([][32]byte{{1}}))
		}, ErrNotAuthorized},
		{"unsorted body", PhaseOpen, func() *Entry {
			return el.entry(t, TypeLateCredentials, RoleCredentialAuthority, el.ca, js([][32]byte{{2}, {1}}))
		}, ErrInvalidBody},
	}
	for _, c := range cases {
		b := newBoard()
		b.mustApply(t, el.prefix(t, c.phase)...)
		before := b.st.Bytes()
		if _, err := b.apply(c.entry()); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if string(before) != string(b.st.Bytes()) {
			t.Errorf("%s: the refused entry changed the state", c.name)
		}
	}

	// The same entry twice (a replay of the CA's post) is a duplicate.
	b := openBoard(t, el)
	late := el.lateE(t, "replayed")
	b.mustApply(t, late)
	if _, err := b.apply(late); !errors.Is(err, ErrDuplicate) {
		t.Errorf("replayed late-credentials entry: %v", err)
	}

	// A late-credentials entry whose signature is not the CA's (a man in
	// the middle changed the body) is refused by the node's pre-check.
	forged := el.lateE(t, "forged")
	forged.Body = js([][32]byte{{7}})
	st := openBoard(t, el).st
	if errs := PreCheck(seeded.Raw("pc"), st, []*Entry{forged}, nil); !errors.Is(errs[0], ErrInvalidSignature) {
		t.Errorf("forged late-credentials entry passed the pre-check: %v", errs[0])
	}
}
