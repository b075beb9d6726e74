package roles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/authority"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/tally"
)

// TestMixedElectionFlows runs a ranked, score and write-in election on a
// real node through the roles flows: voters cast version-2 ballots, the
// trustees mix (each after verifying the board) and decrypt, the authority
// publishes, and the verified result holds the IRV, STV, Schulze and
// score outcomes of the cast answers.
func TestMixedElectionFlows(t *testing.T) {
	e := newLiveElection(t, liveConfig{Kinds: 4})
	e.castKindsAndClose()
	ctx := context.Background()
	// Decrypting before T shuffles posts only the homomorphic part.
	e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.direct, e.trustees[0]); return err })
	// A hostile mixer (trustee 3) posts a shuffle with two output
	// ciphertexts swapped: the node refuses it before proposing.
	closed := e.follow()
	c0 := closed.Cascades[0]
	ms, err := tally.Mix(rand.Reader, e.manifest.Fingerprint(), closed.JointKey, c0.Question, 3, 1, c0.Width, c0.Rows)
	must(t, err)
	ms.Outputs[0][0], ms.Outputs[1][0] = ms.Outputs[1][0], ms.Outputs[0][0]
	bad, err := bulletin.NewEntry(bulletin.TypeShuffle, e.manifest.Fingerprint(), bulletin.RoleTrustee, e.trustees[2].Secret.SigningKey().Public(), ms.Bytes())
	must(t, err)
	must(t, bad.Sign(rand.Reader, e.trustees[2].Secret.SigningKey()))
	if _, err := e.direct.SubmitOne(ctx, bad.Bytes()); err == nil || !strings.Contains(err.Error(), "shuffle of question 1") {
		t.Fatalf("tampered shuffle: %v", err)
	}
	for _, tr := range e.trustees[:2] {
		e.retry(func() error {
			r, err := roles.Mix(ctx, rand.Reader, e.direct, tr)
			if err == nil && len(r.Seqs) != 3 {
				t.Errorf("trustee %s posted %d shuffles, want 3", tr.Name, len(r.Seqs))
			}
			return err
		})
	}
	if _, err := roles.Mix(ctx, rand.Reader, e.direct, e.trustees[0]); !errors.Is(err, roles.ErrExists) {
		t.Errorf("second mix by the same trustee: %v", err)
	}
	for _, tr := range e.trustees[:2] {
		e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.direct, tr); return err })
	}
	if n := e.count(bulletin.TypeMixDecryption); n != 6 {
		t.Fatalf("%d mix decryptions on the board, want 6", n)
	}
	// A lying authority: the right counts, but one ranking changed. The
	// node refuses it (it decrypts the rows itself, V16); so would V16.
	forged, err := authority.Result(e.follow())
	must(t, err)
	a := &forged.Mixed[0].Answers[0]
	a.Ranking = append([]uint32{a.Ranking[len(a.Ranking)-1]}, a.Ranking[:len(a.Ranking)-1]...)
	if len(a.Ranking) == 1 {
		a.Ranking[0] = (a.Ranking[0] + 1) % 4
	}
	sk, err := roles.LoadAuthority(e.dir("ea"))
	must(t, err)
	en, err := bulletin.NewEntry(bulletin.TypeResult, e.manifest.Fingerprint(), bulletin.RoleAuthority, sk.Public(), forged.Bytes())
	must(t, err)
	must(t, en.Sign(rand.Reader, sk))
	if _, err := e.direct.SubmitOne(ctx, en.Bytes()); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("forged mixed answers: %v", err)
	}
	res := e.tally()
	if len(res.Result.Mixed) != 3 || len(res.Result.Mixed[0].Answers) != len(e.creds) {
		t.Fatalf("result's mixed answers: %+v", res.Result.Mixed)
	}
	if s := e.follow(); len(s.Mixed) != 3 || s.Mixed[0].IRV == nil || s.Mixed[0].Schulze == nil || s.Mixed[1].Score == nil {
		t.Fatalf("verified outcomes: %+v", s.Mixed)
	}
}
