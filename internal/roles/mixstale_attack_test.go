package roles_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestAttackStaleMixerRereads: trustee 2 reads the closed board, and
// before its shuffle reaches the node trustee 1's shuffle is applied (the
// race of a mixer whose view missed the previous shuffle, SPEC.md §11.2).
// The node refuses trustee 2's shuffle as stale_input, not as an invalid
// proof; roles.Mix recognises it, reads the board again with consistent
// reads and shuffles the current rows. The ranked question elects 3
// seats, and the verified outcome counts STV for 3 (SPEC.md §12.1).
func TestAttackStaleMixerRereads(t *testing.T) {
	e := newLiveElection(t, liveConfig{Template: map[string]any{
		"version": 3,
		"questions": []map[string]any{
			{"text": "Chair", "options": []string{"Ada", "Grace", "Edsger"}, "min": 1, "max": 1},
			{"text": "Elect the board", "options": []string{"Lyon", "Oslo", "Pisa", "Kyoto", "Quito"}, "min": 1, "max": 5, "kind": "ranked", "seats": 3},
		},
	}})
	if got := e.manifest.Questions[1].Seats; got != 3 {
		t.Fatalf("the manifest's ranked question elects %d seats, want 3", got)
	}
	ctx := context.Background()
	el, err := roles.FetchVerifiedElection(ctx, e.direct, roles.ElectionOptions{})
	must(t, err)
	rankings := [][]uint32{{0, 1, 2}, {1, 2, 0, 3}, {2, 1}, {4, 3, 2, 1, 0}}
	for v := range e.creds {
		key, err := e.creds[v].Key(el.Manifest.ElectionID)
		must(t, err)
		p, err := roles.PrepareAnswers(rand.Reader, el, key, []ballot.Answer{{Choices: []uint32{uint32(v % 3)}}, {Ranking: rankings[v]}})
		must(t, err)
		_, err = e.direct.SubmitOne(ctx, p.Entry)
		must(t, err)
	}
	_, err = roles.Close(ctx, rand.Reader, e.direct, e.dir("ea"), "")
	must(t, err)

	// Trustee 2 reaches the node through p: its first post waits until
	// trustee 1 has shuffled (directly on the node).
	p := testonly.NewProxy(t, e.node.APIAddr)
	var once sync.Once
	var first error
	p.Set(nil, func([]byte) bool {
		once.Do(func() { _, first = roles.Mix(ctx, rand.Reader, e.direct, e.trustees[0]) })
		return false
	})
	var res *roles.MixResult
	e.retry(func() error {
		var err error
		res, err = roles.Mix(ctx, rand.Reader, e.client(p.URL()), e.trustees[1])
		return err
	})
	must(t, first)
	if !res.Reread || len(res.Seqs) != 1 {
		t.Fatalf("trustee 2's mix: reread %v, %d shuffles; want a reread after the stale refusal and 1 shuffle", res.Reread, len(res.Seqs))
	}
	if n := e.count(bulletin.TypeShuffle); n != 2 {
		t.Fatalf("%d shuffles on the board, want 2", n)
	}
	for _, tr := range e.trustees[:2] {
		e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.direct, tr); return err })
	}
	e.tally()
	if s := e.follow(); len(s.Mixed) != 1 || s.Mixed[0].STVSeats != 3 || s.Mixed[0].STV.Seats != 3 || len(s.Mixed[0].STV.Elected) != 3 {
		t.Fatalf("verified STV: %+v", s.Mixed)
	}
}
