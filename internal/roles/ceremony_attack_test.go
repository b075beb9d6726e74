package roles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/tally"
)

// The key ceremony through a key-less man in the middle (issue 9: every
// role step acts only on the verified board). Before, `urna trustee
// answer` read the complaints from /entries, so a proxy hiding a
// complaint had the dealer answer nothing (and be disqualified at open);
// `urna authority open --force` computed QUAL from /entries, so a proxy
// showing the board before a reveal had the authority sign an open entry
// with a wrong QUAL (kept by the proxy for a forked history). Now both
// read only the verified record, which MUST reach the newest checkpoint
// any node shows.
func TestAttackHiddenComplaint(t *testing.T) {
	e := newLiveElection(t, liveConfig{UntilDealt: true})
	ctx := context.Background()
	beforeComplaint := e.snapshot()
	// Trustee 2 complains against trustee 3 (a complaint need not be
	// right: the dealer answers it by revealing the share in the clear).
	e.postAs(e.trustees[1], bulletin.TypeDKGComplaint, (&tally.Complaint{Dealer: 3, Complainer: 2}).Bytes())
	for _, tr := range e.trustees {
		e.retry(func() error { _, err := roles.Check(ctx, rand.Reader, e.direct, tr, false); return err })
	}
	beforeReveal := e.snapshot()
	dealer := e.trustees[2]

	// A node serving the record from before the complaint beside its
	// honest newest checkpoint: a stale view, refused.
	p := testonly.NewProxy(t, e.node.APIAddr)
	p.Set(serveView(beforeComplaint, false), nil)
	done, err := roles.Answer(ctx, rand.Reader, e.client(p.URL()), dealer)
	if !errors.Is(err, roles.ErrRefused) || !errors.Is(err, client.ErrStale) {
		t.Fatalf("answer on a record from before the complaint: answered %v, err %v; want a refusal naming the stale view", done, err)
	}
	if n := e.count(bulletin.TypeDKGReveal); n != 0 {
		t.Fatalf("%d reveals posted on a stale view", n)
	}

	// A node hiding the complaint from its /entries pages: the trustee
	// never reads them, so it answers the complaint the record holds.
	p.Set(hideType(t, e.direct, bulletin.TypeDKGComplaint), nil)
	done, err = roles.Answer(ctx, rand.Reader, e.client(p.URL()), dealer)
	must(t, err)
	if !slices.Equal(done, []int{2}) {
		t.Fatalf("trustee 3 answered %v through a proxy hiding trustee 2's complaint, want [2]", done)
	}
	if n := e.count(bulletin.TypeDKGReveal); n != 1 {
		t.Fatalf("%d reveals on the board, want 1", n)
	}

	// The authority opens (--force) through a node showing the board from
	// before the reveal: QUAL would lack trustee 3. The proxy keeps
	// whatever the authority signs.
	hold := func([]byte) bool { return true }
	p.Set(serveView(beforeReveal, false), hold)
	info, err := roles.Open(ctx, rand.Reader, e.client(p.URL()), e.dir("ea"), true)
	if !errors.Is(err, roles.ErrRefused) || !errors.Is(err, client.ErrStale) {
		t.Fatalf("open on a record from before the reveal: %+v, err %v; want a refusal naming the stale view", info, err)
	}
	// A consistent liar (its checkpoint is the stale record's) is caught
	// by asking a second node (SPEC.md §10.7).
	p.Set(serveView(beforeReveal, true), hold)
	info, err = roles.Open(ctx, rand.Reader, e.client(p.URL()), e.dir("ea"), true, e.direct)
	if !errors.Is(err, roles.ErrRefused) || !errors.Is(err, client.ErrStale) {
		t.Fatalf("open on a consistent stale view with a second node asked: %+v, err %v; want a refusal naming the stale view", info, err)
	}
	if held := heldEntries(t, p); len(held) != 0 {
		t.Fatalf("the authority signed %d entries (%s) on a view without trustee 3's reveal", len(held), held[0].Type)
	}

	var opened *roles.OpenInfo
	e.retry(func() error {
		var err error
		opened, err = roles.Open(ctx, rand.Reader, e.direct, e.dir("ea"), false)
		return err
	})
	if !slices.Equal(opened.Qualified, []int{1, 2, 3}) {
		t.Fatalf("QUAL %v after trustee 3 answered, want [1 2 3]", opened.Qualified)
	}
}
