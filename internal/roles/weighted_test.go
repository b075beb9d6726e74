package roles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/schnorr"
)

// TestAttackLateVoters: on a live board, a late voter is added only by the
// credential authority's signed, public late-credentials entry before the
// close (SPEC.md §3.9); a forged, re-registering or late one is refused,
// and the late voter's ballot counts with its weight.
func TestAttackLateVoters(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	ctx := context.Background()
	ca, err := roles.LoadCredentialAuthority(e.dir("ca"))
	must(t, err)
	ea, err := roles.LoadAuthority(e.dir("ea"))
	must(t, err)
	post := func(key *schnorr.PrivateKey, body []byte, mangle bool) error {
		ent, err := bulletin.NewEntry(bulletin.TypeLateCredentials, e.manifest.Fingerprint(), bulletin.RoleCredentialAuthority, key.Public(), body)
		must(t, err)
		must(t, ent.Sign(rand.Reader, key))
		raw := ent.Bytes()
		if mangle {
			raw[len(raw)-64-1] ^= 2 // the weight 1 becomes 3 after signing
		}
		_, err = e.direct.SubmitOne(ctx, raw)
		return err
	}
	listOf := func(creds []ballot.Credential, w uint32) []byte {
		var ws []uint32
		for range creds {
			ws = append(ws, w)
		}
		l, err := roles.WeightedPublicCredentials(e.manifest.ElectionID, [32]byte{}, creds, ws)
		must(t, err)
		return l.Bytes()
	}
	fresh, err := ballot.GenerateCredential(rand.Reader)
	must(t, err)

	refused := func(err error, what, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want a refusal saying %q", what, err, want)
		}
	}
	refused(post(ea, listOf([]ballot.Credential{fresh}, 1), false), "signed by the election authority", "not signed by the credential authority")
	refused(post(ca, listOf([]ballot.Credential{fresh}, 1), true), "weight changed after signing", "signature")
	refused(post(ca, listOf(e.creds[:1], ballot.MaxWeight), false), "a registered credential again", "already registered")

	// The honest path: one late voter of weight 3, who votes.
	var iss *roles.Issued
	e.retry(func() error {
		var err error
		iss, err = roles.AddLateCredentials(ctx, rand.Reader, e.direct, e.dir("ca"), []uint32{3}, [32]byte{7})
		return err
	})
	if filepath.Base(iss.Path) != roles.LateCredentialsFile(1) || iss.Count != 1 {
		t.Fatalf("issued %+v", iss)
	}
	late, err := roles.LoadCredential(iss.Path, 1)
	must(t, err)
	e.creds = append(e.creds, late)
	e.vote(len(e.creds)-1, [][]uint32{{2}, {0, 1}}, "")
	e.vote(0, [][]uint32{{0}, {1}}, "")
	e.closeAndDecrypt()

	// After the close: refused by the tool and by the board.
	if _, err := roles.AddLateCredentials(ctx, rand.Reader, e.direct, e.dir("ca"), []uint32{1}, [32]byte{}); !errors.Is(err, roles.ErrNotReady) {
		t.Fatalf("late voter after the close: %v", err)
	}
	refused(post(ca, listOf([]ballot.Credential{fresh}, 1), false), "after the close", "after close")

	var tr *roles.TallyResult
	e.retry(func() error {
		var err error
		tr, err = roles.Tally(ctx, rand.Reader, e.direct, e.dir("ea"))
		return err
	})
	// Red 1 (voter 0), Blue 3 (the late voter); A 3, B 1 + 3.
	if want := [][]uint64{{1, 0, 3}, {3, 4, 0, 0}}; !slices.EqualFunc(tr.Result.Counts, want, slices.Equal) {
		t.Fatalf("counts %v, want %v", tr.Result.Counts, want)
	}
}
