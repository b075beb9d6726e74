package partition

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestAttackIsolatedLeaderConsistentRead: the leader's links to the other
// nodes are cut (clients still reach it). It may go on believing it leads
// for a while, and the majority elects a new leader that acknowledges a
// post the old one never sees. From the cut on, the old leader MUST NOT
// answer a consistent read from its state: every one fails (503) until the
// links are back, while its plain reads, served from its replica, show how
// stale that state is. The other nodes answer consistent reads with the
// new post, and the old leader does too once healed.
func TestAttackIsolatedLeaderConsistentRead(t *testing.T) {
	requireNetns(t)
	nw := newNetwork(t, 3)
	e := testonly.NewElection(t, "isolated leader", testonly.Config{Voters: 4, N: 3, T: 2, Nodes: 3})
	c := startCluster(t, nw, e.NodeKeys())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	postVia := func(n *node, raw []byte) apiclient.SubmitResult {
		t.Helper()
		var err error
		for range 20 {
			var r apiclient.SubmitResult
			pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
			r, err = n.client.SubmitOne(pctx, raw)
			pcancel()
			if err == nil {
				return r
			}
			time.Sleep(250 * time.Millisecond) // a retry after a failed attempt, not a wait for an event
		}
		t.Fatalf("posting via %s: %v", n.id, err)
		return apiclient.SubmitResult{}
	}
	var old *node
	c.waitUntil("a leader", time.Minute, func(ctx context.Context) error {
		if old = c.leader(ctx); old == nil {
			return errors.New("no leader the majority agrees on")
		}
		return nil
	})
	postVia(old, e.ManifestEntry())
	if _, err := old.strict.Entry(ctx, 0); err != nil {
		t.Fatalf("consistent read on the leader before the cut: %v", err)
	}

	// Consistent reads hammer the old leader from the cut until the heal;
	// each is recorded with when it ended.
	type answer struct {
		what  string
		ended time.Time
		err   error
	}
	var (
		mu      sync.Mutex
		answers []answer
		wg      sync.WaitGroup
	)
	hammer, stopHammer := context.WithCancel(ctx)
	nw.isolate(old.i)
	cut := time.Now()
	t.Logf("cut %s off", old.id)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for hammer.Err() == nil {
				rctx, rcancel := context.WithTimeout(hammer, 20*time.Second)
				var what string
				var err error
				switch g {
				case 0:
					what = "entry 1"
					_, err = old.strict.Entry(rctx, 1)
				case 1:
					what = "election"
					_, err = old.strict.Election(rctx)
				default:
					what = "entries from 0"
					var list []api.Entry
					list, _, err = old.strict.Entries(rctx, 0, 10)
					what = fmt.Sprintf("entries from 0 (%d)", len(list))
				}
				rcancel()
				mu.Lock()
				answers = append(answers, answer{what, time.Now(), err})
				mu.Unlock()
			}
		}()
	}

	// The majority elects a leader and acknowledges a post.
	var nl *node
	c.waitUntil("a new leader among the others", time.Minute, func(ctx context.Context) error {
		for _, n := range c.nodes {
			if n == old {
				continue
			}
			if h, err := n.client.Health(ctx); err == nil && h.Role == "leader" {
				nl = n
				return nil
			}
		}
		return errors.New("none of the others leads")
	})
	r := postVia(nl, e.CredentialsEntry())
	t.Logf("%s elected after %v; it acknowledged the credentials at seq %d", nl.id, time.Since(cut).Round(100*time.Millisecond), r.Seq)

	// The old leader's own state does not have it (a plain read is stale
	// and says so), and a consistent read there fails rather than say so.
	if _, err := old.client.Entry(ctx, r.Seq); !apiclient.IsCode(err, api.CodeNotFound) {
		t.Fatalf("plain read of seq %d on the cut-off %s: %v; want not_found (the test cut nothing?)", r.Seq, old.id, err)
	}
	_, err := old.strict.Entry(ctx, r.Seq)
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status != 503 || (ae.Code != api.CodeNoLeader && ae.Code != api.CodeNotReady) {
		t.Fatalf("consistent read of seq %d on the cut-off %s: %v; want 503 no_leader or not_ready", r.Seq, old.id, err)
	}
	t.Logf("cut-off %s: plain read not_found, consistent read %s", old.id, ae.Code)
	for _, n := range c.nodes {
		if n == old {
			continue
		}
		if en, err := n.strict.Entry(ctx, r.Seq); err != nil || en.Seq != r.Seq {
			t.Errorf("consistent read of seq %d on %s: %+v, %v", r.Seq, n.id, en, err)
		}
	}

	// Let the hammer run through a few of its timeouts, then heal.
	time.Sleep(6 * time.Second) // exposure time for the hammer, not a wait for an event
	healing := time.Now()
	nw.heal()
	stopHammer()
	wg.Wait()
	served, refused := 0, 0
	for _, a := range answers {
		if !a.ended.Before(healing) {
			continue // may have got its read index after the heal
		}
		if a.err == nil || apiclient.IsCode(a.err, api.CodeNotFound) {
			served++
			t.Errorf("the cut-off %s answered a consistent read of %s %v after the cut: %v", old.id, a.what, a.ended.Sub(cut).Round(time.Millisecond), a.err)
			continue
		}
		refused++
	}
	t.Logf("the cut-off %s refused %d consistent reads and served %d", old.id, refused, served)
	if refused == 0 {
		t.Error("no consistent read ended while the leader was cut off")
	}

	// Healed, it catches up and serves the post consistently.
	c.waitUntil(old.id+" serving the new post consistently", time.Minute, func(ctx context.Context) error {
		en, err := old.strict.Entry(ctx, r.Seq)
		if err != nil {
			return err
		}
		if en.Seq != r.Seq {
			return fmt.Errorf("seq %d answered for %d", en.Seq, r.Seq)
		}
		return nil
	})
}
