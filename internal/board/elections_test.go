package board

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// newElections makes test elections with the ids given, all naming the
// same three board nodes (one cluster's keys), and the cluster n1..n3.
func newElections(t *testing.T, voters int, ids ...string) ([]*testonly.Election, *tcluster) {
	t.Helper()
	return newElectionsOn(t, boltOpener, voters, ids...)
}

// newElectionsOn is newElections with the nodes' stores from open.
func newElectionsOn(t *testing.T, open func(testing.TB, string, string) store.Store, voters int, ids ...string) ([]*testonly.Election, *tcluster) {
	t.Helper()
	es := makeElections(t, voters, ids...)
	return es, newTCluster(t, es[0].NodeKeys(), open, nil, "n1", "n2", "n3")
}

// makeElections makes the test elections of newElections.
func makeElections(t *testing.T, voters int, ids ...string) []*testonly.Election {
	t.Helper()
	var keys []ed25519.PrivateKey
	var es []*testonly.Election
	for _, id := range ids {
		e := testonly.NewElection(t, "board election "+id, testonly.Config{Voters: voters, ElectionID: id, NodeKeys: keys})
		if keys == nil {
			for _, n := range e.Nodes {
				keys = append(keys, n.Key)
			}
		}
		es = append(es, e)
	}
	return es
}

// postTo posts entries to election id through the current leader.
func (c *tcluster) postTo(id string, entries ...[]byte) []Posted {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		s, err := c.leader().board.Scope(id)
		if err != nil {
			c.t.Fatal(err)
		}
		res, err := s.Submit(ctx, entries)
		if errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrLeadershipLost) {
			continue
		}
		if err != nil {
			c.t.Fatalf("post to %s: %v", id, err)
		}
		return res
	}
}

func (c *tcluster) mustAcceptIn(id, what string, entries ...[]byte) []Posted {
	c.t.Helper()
	res := c.postTo(id, entries...)
	for i, r := range res {
		if r.Err != nil {
			c.t.Fatalf("%s: %s %d rejected: %v", id, what, i, r.Err)
		}
	}
	return res
}

// electionSteps are the posts of a small whole election, in order, and
// the counts its result must show.
func electionSteps(e *testonly.Election, voters int) (steps []func() [][]byte, want [][]uint64) {
	want = [][]uint64{make([]uint64, 3), make([]uint64, 4)}
	var counted []*ballot.Ballot
	steps = []func() [][]byte{
		func() [][]byte { return [][]byte{e.ManifestEntry()} },
		func() [][]byte { return [][]byte{e.CredentialsEntry()} },
		e.DealEntries,
		e.ConfirmationEntries,
		func() [][]byte { return [][]byte{e.OpenEntry()} },
		func() [][]byte {
			var out [][]byte
			for v := range voters {
				en, b, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
				out, counted = append(out, en), append(counted, b)
				want[0][v%3]++
				want[1][v%2]++
			}
			return out
		},
		func() [][]byte { return [][]byte{e.CloseEntry()} },
		func() [][]byte {
			partials, result, _ := e.TallyEntries(counted)
			return append(partials[:2:2], result)
		},
	}
	return steps, want
}

// waitAttested waits until every node holds a quorum checkpoint of
// election id covering all of its entries.
func (c *tcluster) waitAttested(id string) uint64 {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		done, entries := true, uint64(0)
		c.mu.Lock()
		for _, n := range c.nodes {
			s, err := n.board.Scope(id)
			if err != nil {
				c.mu.Unlock()
				c.t.Fatal(err)
			}
			v := s.Reader.src.current()
			if v.manifest == nil || v.attestedCP() != v.entries || (entries != 0 && v.entries != entries) {
				done = false
			}
			entries = v.entries
		}
		c.mu.Unlock()
		if done {
			return entries
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("election %s: no quorum checkpoint covering every entry on every node", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestManyElectionsOnCluster: two elections run side by side on one
// replicated board, their posts interleaved; each keeps its own log,
// blocks and checkpoints, and each one's record verifies with the
// unchanged verifier (SPEC.md §3.14). The first is the default
// election of the un-prefixed reads. A snapshot carries both.
func TestManyElectionsOnCluster(t *testing.T) { runManyElections(t, boltOpener) }

func runManyElections(t *testing.T, open func(testing.TB, string, string) store.Store) {
	ids := []string{"alpha", "beta"}
	es, c := newElectionsOn(t, open, 3, ids...)
	var steps [][]func() [][]byte
	var want [][][]uint64
	for _, e := range es {
		s, w := electionSteps(e, 3)
		steps, want = append(steps, s), append(want, w)
	}
	for k := range steps[0] {
		for i, id := range ids {
			c.mustAcceptIn(id, "step", steps[i][k]()...)
		}
	}
	ctx := context.Background()
	list := c.leader().board.Elections()
	if len(list) != 2 || list[0].ID != "alpha" || !list[0].Default || list[1].ID != "beta" || list[1].Default {
		t.Fatalf("Elections() = %+v", list)
	}
	for i, id := range ids {
		size := c.waitAttested(id)
		if list[i].Fingerprint != es[i].Fingerprint() || list[i].Phase != bulletin.PhaseResult {
			t.Fatalf("election %s listed as %+v", id, list[i])
		}
		// Every node holds the same blocks of the election.
		var ref []Block
		for nid, n := range c.nodes {
			s, _ := n.board.Scope(id)
			bs, err := s.Blocks(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = bs
				continue
			}
			if len(bs) != len(ref) {
				t.Fatalf("%s: node %s has %d blocks, want %d", id, nid, len(bs), len(ref))
			}
			for h := range bs {
				if !bytes.Equal(bs[h].Raw, ref[h].Raw) {
					t.Fatalf("%s: block %d differs on node %s", id, h, nid)
				}
			}
		}
		s, _ := c.leader().board.Scope(id)
		r, err := s.Result(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for q := range want[i] {
			for o, n := range r.Result.Counts[q] {
				if n != want[i][q][o] {
					t.Fatalf("%s: question %d option %d: %d, want %d", id, q, o, n, want[i][q][o])
				}
			}
		}
		cp, err := s.Checkpoint(ctx)
		if err != nil || cp.Checkpoint.Size != size || cp.Checkpoint.Origin != es[i].Board().Origin {
			t.Fatalf("%s: checkpoint %+v, %v; want size %d, origin %s", id, cp, err, size, es[i].Board().Origin)
		}
		var rec bytes.Buffer
		if err := s.WriteRecord(ctx, &rec); err != nil {
			t.Fatal(err)
		}
		rep, err := client.VerifyElectionRecord(&rec, client.VerifyOptions{Fingerprint: es[i].Fingerprint()})
		if err != nil || !rep.Complete {
			t.Fatalf("%s: the record does not verify: %v (complete %v)", id, err, rep != nil && rep.Complete)
		}
	}
	// The un-prefixed reads are the default election's.
	el, err := c.leader().board.Election(ctx)
	if err != nil || el.Manifest.ElectionID != "alpha" {
		t.Fatalf("default election: %v, %v", el, err)
	}

	// A snapshot of the store restores both elections, exactly.
	l := c.leader()
	// Cosignatures go on being applied in the background: hold the
	// apply lock so that the snapshot and the state compared with it are
	// the same applied index.
	l.board.FSM.applyMu.Lock()
	snap, err := l.st.Snapshot(ctx)
	orig := l.board.FSM.board()
	l.board.FSM.applyMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, err = snap.WriteTo(&buf)
	snap.Release()
	if err != nil {
		t.Fatal(err)
	}
	fresh := open(t, "fresh", filepath.Join(t.TempDir(), "fresh"))
	t.Cleanup(func() { fresh.Close() })
	f, err := newFSM(fresh, fsmHooks{block: func(*state, Block) {}, applied: func() {}, restored: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Restore(readCloser{&buf}); err != nil {
		t.Fatal(err)
	}
	got := f.board()
	if len(got.elections) != 2 || got.applied != orig.applied {
		t.Fatalf("restored %d elections at %d, want 2 at %d", len(got.elections), got.applied, orig.applied)
	}
	for p, v := range got.elections {
		o := orig.elections[p]
		if v.entries != o.entries || v.blocks != o.blocks || v.last.Hash() != o.last.Hash() || v.quorumCP != o.quorumCP ||
			!bytes.Equal(v.rules.Bytes(), o.rules.Bytes()) || v.manifest.fingerprint != o.manifest.fingerprint {
			t.Fatalf("restored election %d differs", p)
		}
	}
}

type readCloser struct{ *bytes.Buffer }

func (readCloser) Close() error { return nil }

// TestAttackPostForAnotherElection: a post signed for election A sent to
// B's route is refused as wrong election, lands nowhere, and leaves both
// logs as they were; a manifest can create an election only on its own id;
// the default route cannot create a second election; and a hostile leader
// that proposes a manifest reusing a taken id gets it refused by every
// replica's rules (duplicate), whatever the route.
func TestAttackPostForAnotherElection(t *testing.T) {
	es, c := newElections(t, 2, "alpha", "beta", "gamma")
	a, b, g := es[0], es[1], es[2]
	c.mustAcceptIn("alpha", "manifest", a.ManifestEntry())
	c.mustAcceptIn("alpha", "credentials", a.CredentialsEntry())
	c.mustAcceptIn("beta", "manifest", b.ManifestEntry())
	entries := func(id string) uint64 {
		s, _ := c.leader().board.Scope(id)
		return s.Reader.src.current().entries
	}
	beforeA, beforeB := entries("alpha"), entries("beta")
	check := func(what string, res []Posted, want error) {
		t.Helper()
		if !errors.Is(res[0].Err, want) {
			t.Fatalf("%s: %v, want %v", what, res[0].Err, want)
		}
		if ea, eb := entries("alpha"), entries("beta"); ea != beforeA || eb != beforeB {
			t.Fatalf("%s: logs moved to %d/%d from %d/%d", what, ea, eb, beforeA, beforeB)
		}
	}
	// A's credential list and a deal of A's trustee, posted to B.
	check("A's deal on B's route", c.postTo("beta", a.DealEntries()[0]), bulletin.ErrWrongElection)
	check("A's manifest again on B's route", c.postTo("beta", a.ManifestEntry()), bulletin.ErrWrongElection)
	// gamma's manifest on beta's route, and on the default route.
	check("gamma's manifest on B's route", c.postTo("beta", g.ManifestEntry()), bulletin.ErrWrongElection)
	check("gamma's manifest on the default route", c.submit(g.ManifestEntry()), bulletin.ErrWrongElection)
	// A manifest for a new id posted to another new id.
	check("gamma's manifest on delta's route", c.postTo("delta", g.ManifestEntry()), bulletin.ErrWrongElection)
	if len(c.leader().board.Elections()) != 2 {
		t.Fatalf("elections: %+v", c.leader().board.Elections())
	}

	// A hostile leader skips the route check: it proposes a manifest whose
	// id is taken (a second "alpha" with other keys) straight to Raft.
	dup := testonly.NewElection(t, "another alpha", testonly.Config{Voters: 2, ElectionID: "alpha"})
	r, err := c.leader().rep.Submit(context.Background(), encodeEntryCmd(1, dup.ManifestEntry()))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(r.Err, bulletin.ErrDuplicate) {
		t.Fatalf("a second election with a taken id: %v, want duplicate", r.Err)
	}
	// And an entry of no election of the board that is not a manifest.
	r, err = c.leader().rep.Submit(context.Background(), encodeEntryCmd(1, g.CredentialsEntry()))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(r.Err, bulletin.ErrWrongElection) {
		t.Fatalf("credentials of no election: %v, want wrong election", r.Err)
	}
	// A's deal proposed straight to Raft lands in A, never in B.
	r, err = c.leader().rep.Submit(context.Background(), encodeEntryCmd(1, a.DealEntries()[0]))
	if err != nil || r.Err != nil {
		t.Fatalf("A's deal: %v, %v", err, r.Err)
	}
	if ea, eb := entries("alpha"), entries("beta"); ea != beforeA+1 || eb != beforeB {
		t.Fatalf("A's deal: logs at %d/%d, want %d/%d", ea, eb, beforeA+1, beforeB)
	}
	if len(c.leader().board.Elections()) != 2 {
		t.Fatalf("elections: %+v", c.leader().board.Elections())
	}
	c.waitAgree(false)
}

// openLoneBoard opens node n1's board with cfg on a fresh bbolt store,
// with no replica attached yet, and applies entries, each committed in
// its own Raft entry (indexes 1, 2, ...).
func openLoneBoard(t *testing.T, cfg Config, entries ...[]byte) *Board {
	t.Helper()
	st := boltOpener(t, "n1", filepath.Join(t.TempDir(), "n1"))
	t.Cleanup(func() { st.Close() })
	cfg.NodeID, cfg.Store = "n1", st
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for i, e := range entries {
		b.ApplyEntries([]replica.Entry{{Index: uint64(i + 1), Cmds: [][]byte{encodeEntryCmd(1, e)}}})
	}
	return b
}

// blockingReplica is a leader whose proposals wait until release is
// closed, then fail: the posts it holds stay in flight meanwhile.
type blockingReplica struct {
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func (r *blockingReplica) Submit(ctx context.Context, cmd []byte) (replica.Result, error) {
	_, err := r.SubmitCommands(ctx, []replica.Command{{Body: cmd}})
	return replica.Result{}, err
}

func (r *blockingReplica) SubmitCommands(ctx context.Context, cmds []replica.Command) ([]replica.Result, error) {
	r.mu.Lock()
	r.waiting++
	r.mu.Unlock()
	<-r.release
	return nil, replica.ErrLeadershipLost
}

func (r *blockingReplica) FitEntry(cmds []replica.Command) int                { return len(cmds) }
func (r *blockingReplica) held() int                                          { r.mu.Lock(); defer r.mu.Unlock(); return r.waiting }
func (r *blockingReplica) Leader() (string, string)                           { return "n1", "mem://n1" }
func (r *blockingReplica) IsLeader() bool                                     { return true }
func (r *blockingReplica) Stats() replica.Stats                               { return replica.Stats{} }
func (r *blockingReplica) Servers() ([]replica.Server, error)                 { return nil, nil }
func (r *blockingReplica) Join(context.Context, string, string, string) error { return nil }
func (r *blockingReplica) Remove(context.Context, string) error               { return nil }
func (r *blockingReplica) ReadIndex(context.Context) (uint64, error)          { return 0, nil }

// TestElectionQuota: an election flooding the node holds at most its share
// of the submit pipeline; another election's posts are admitted up to
// theirs whatever the first does (SPEC.md §3.14.5). No
// timing: the replica holds every admitted post, and the test counts
// admissions and refusals.
func TestElectionQuota(t *testing.T) {
	es := makeElections(t, 2, "alpha", "beta")
	b := openLoneBoard(t, Config{SkipChecks: true, SubmitCapacity: 8, SubmitMinShare: 2}, es[0].ManifestEntry(), es[1].ManifestEntry())
	if len(b.Elections()) != 2 {
		t.Fatalf("elections: %+v", b.Elections())
	}
	rep := &blockingReplica{release: make(chan struct{})}
	b.Attach(rep)
	var wg sync.WaitGroup
	// post sends one entry and reports whether it was admitted (held by
	// the replica) or refused as overload.
	post := func(submit func(context.Context, [][]byte) ([]Posted, error), entry []byte) bool {
		t.Helper()
		held := rep.held()
		done := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := submit(context.Background(), [][]byte{entry})
			done <- err
		}()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-done:
				if !errors.Is(err, replica.ErrOverloaded) {
					t.Fatalf("a refused post: %v, want overload", err)
				}
				return false
			default:
			}
			if rep.held() > held {
				return true
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("a post was neither held nor refused")
		return false
	}
	count := func(submit func(context.Context, [][]byte) ([]Posted, error), entry []byte, n int) (admitted, refused int) {
		for range n {
			if post(submit, entry) {
				admitted++
			} else {
				refused++
			}
		}
		return
	}
	sa, _ := b.Scope("alpha")
	sb, _ := b.Scope("beta")
	ea, eb := es[0].CredentialsEntry(), es[1].CredentialsEntry()
	// Alone, alpha is bounded only by the replica's queue, as a board of
	// one election always was.
	if a, r := count(sa.Submit, ea, 12); a != 12 || r != 0 {
		t.Fatalf("alpha alone: %d admitted, %d refused; want 12, 0", a, r)
	}
	// Beta is admitted up to its half although alpha holds more than the
	// whole pipeline.
	if a, r := count(sb.Submit, eb, 6); a != 4 || r != 2 {
		t.Fatalf("beta beside a flooding alpha: %d admitted, %d refused; want 4, 2", a, r)
	}
	// Alpha, above its half now, is refused on its route and on the
	// default route alike (the same election).
	if a, r := count(sa.Submit, ea, 2); a != 0 || r != 2 {
		t.Fatalf("alpha above its share: %d admitted, %d refused; want 0, 2", a, r)
	}
	if a, r := count(b.Submit, ea, 1); a != 0 || r != 1 {
		t.Fatalf("alpha on the default route: %d admitted, %d refused; want 0, 1", a, r)
	}
	close(rep.release)
	wg.Wait()
	// Everything finished: both are admitted again.
	for s, e := range map[*Scoped][]byte{sa: ea, sb: eb} {
		if _, err := s.Submit(context.Background(), [][]byte{e}); !errors.Is(err, replica.ErrLeadershipLost) {
			t.Fatalf("%s after the flood: %v, want it proposed (and lost by the fake leader)", s.ID(), err)
		}
	}
}

// TestAttackElectionAdmission: a node proposes a manifest creating an
// election (on its route, or the first through the default route) only
// from the authorities its operator lists (Config.Creators),
// and never one naming this node with another key (SPEC.md
// §3.14.2); the others are refused before anything is proposed.
func TestAttackElectionAdmission(t *testing.T) {
	es := makeElections(t, 2, "alpha", "gamma")
	other := testonly.NewElection(t, "foreign nodes", testonly.Config{Voters: 2, ElectionID: "delta"}) // its own node keys
	creators := [][32]byte{[32]byte(es[0].EA.Public().Bytes()), [32]byte(other.EA.Public().Bytes())}
	b := openLoneBoard(t, Config{Key: es[0].Nodes[0].Key, Creators: creators})
	rep := &blockingReplica{release: make(chan struct{})}
	close(rep.release) // every proposal fails at once, after it was made
	b.Attach(rep)
	post := func(id string, entry []byte) error {
		s, err := b.Scope(id)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Submit(context.Background(), [][]byte{entry})
		if err != nil {
			return err
		}
		return res[0].Err
	}
	if err := post("gamma", es[1].ManifestEntry()); !errors.Is(err, bulletin.ErrNotAuthorized) {
		t.Fatalf("a manifest by an unlisted authority: %v, want not authorized", err)
	}
	if err := post("delta", other.ManifestEntry()); !errors.Is(err, bulletin.ErrInvalidBody) {
		t.Fatalf("a manifest naming this node with another key: %v, want invalid body", err)
	}
	// The board's first election through the default route: the same.
	res, err := b.Submit(context.Background(), [][]byte{es[1].ManifestEntry()})
	if err != nil || !errors.Is(res[0].Err, bulletin.ErrNotAuthorized) {
		t.Fatalf("an unlisted authority's manifest on the default route: %v, %v", err, res[0].Err)
	}
	if rep.held() != 0 {
		t.Fatalf("%d refused manifests were proposed", rep.held())
	}
	if err := post("alpha", es[0].ManifestEntry()); !errors.Is(err, replica.ErrLeadershipLost) {
		t.Fatalf("a listed authority's manifest: %v, want it proposed", err)
	}
	if rep.held() != 1 {
		t.Fatalf("%d proposals, want 1", rep.held())
	}
	// Scopes of ids naming no election are not kept.
	if len(b.scopes.byID) != 0 {
		t.Fatalf("%d scopes kept for elections that do not exist", len(b.scopes.byID))
	}
}

// TestArchiveElection: the operator archives one election while another
// runs (SPEC.md §3.14.3): every replica then refuses its
// entries, on its route and straight through Raft, while the other goes
// on; its log stays readable, its record verifies (incomplete), the list
// says when it was archived, and the state survives a reload.
func TestArchiveElection(t *testing.T) {
	es, c := newElections(t, 2, "alpha", "beta")
	a, b := es[0], es[1]
	c.mustAcceptIn("alpha", "manifest", a.ManifestEntry())
	c.mustAcceptIn("beta", "manifest", b.ManifestEntry())
	c.mustAcceptIn("beta", "credentials", b.CredentialsEntry())
	ctx := context.Background()
	if err := c.leader().board.Archive(ctx, "gamma"); !errors.Is(err, ErrUnknownElection) {
		t.Fatalf("archiving an unknown election: %v", err)
	}
	for range 2 { // the second time changes nothing
		if err := c.leader().board.Archive(ctx, "beta"); err != nil {
			t.Fatal(err)
		}
	}
	if res := c.postTo("beta", b.DealEntries()[0]); !errors.Is(res[0].Err, ErrArchived) {
		t.Fatalf("a post to an archived election: %v, want archived", res[0].Err)
	}
	r, err := c.leader().rep.Submit(ctx, encodeEntryCmd(1, b.DealEntries()[1]))
	if err != nil || !errors.Is(r.Err, ErrArchived) {
		t.Fatalf("an entry of an archived election straight to Raft: %v, %v", err, r.Err)
	}
	c.mustAcceptIn("alpha", "credentials", a.CredentialsEntry())
	c.mustAcceptIn("alpha", "deals", a.DealEntries()...)
	c.waitAttested("beta")
	c.waitAttested("alpha")
	for id, n := range c.nodes {
		list := n.board.Elections()
		if len(list) != 2 || list[0].Archived || !list[1].Archived || list[1].ArchivedAt != 2 {
			t.Fatalf("node %s lists %+v", id, list)
		}
	}
	s, _ := c.leader().board.Scope("beta")
	var rec bytes.Buffer
	if err := s.WriteRecord(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	rep, err := client.VerifyElectionRecord(&rec, client.VerifyOptions{Fingerprint: b.Fingerprint()})
	if err != nil || rep.Complete || rep.Entries != 2 {
		t.Fatalf("the archived election's record: %v (complete %v, %d entries)", err, rep != nil && rep.Complete, rep.Entries)
	}
	bs, err := loadBoard(ctx, c.leader().st)
	if err != nil || bs.elections[1].archived != 3 || bs.elections[0].archived != 0 {
		t.Fatalf("reloaded: %v", err)
	}
}

// TestElectionCaps: this node proposes nothing that takes an election's
// log past MaxElectionEntries, and no manifest creating an election
// beyond MaxActiveElections; archiving one makes room (§3.14.5.3, §3.14.5.5).
func TestElectionCaps(t *testing.T) {
	es := makeElections(t, 2, "alpha", "beta")
	b := openLoneBoard(t, Config{SkipChecks: true, MaxActiveElections: 1, MaxElectionEntries: 2}, es[0].ManifestEntry(), es[0].CredentialsEntry())
	rep := &blockingReplica{release: make(chan struct{})}
	close(rep.release)
	b.Attach(rep)
	sa, _ := b.Scope("alpha")
	if _, err := sa.Submit(context.Background(), [][]byte{es[0].DealEntries()[0]}); !errors.Is(err, ErrQuota) {
		t.Fatalf("a third entry for an election capped at 2: %v, want quota", err)
	}
	sb, _ := b.Scope("beta")
	res, err := sb.Submit(context.Background(), [][]byte{es[1].ManifestEntry()})
	if err != nil || !errors.Is(res[0].Err, ErrQuota) {
		t.Fatalf("a second active election beyond the cap of 1: %v, %v; want quota", err, res[0].Err)
	}
	if rep.held() != 0 {
		t.Fatalf("%d posts beyond the caps were proposed", rep.held())
	}
	b.ApplyEntries([]replica.Entry{{Index: 3, Cmds: [][]byte{encodeArchiveCmd(es[0].Fingerprint())}}})
	if _, err := sb.Submit(context.Background(), [][]byte{es[1].ManifestEntry()}); !errors.Is(err, replica.ErrLeadershipLost) {
		t.Fatalf("beta once alpha is archived: %v, want it proposed", err)
	}
}

// TestManyElectionsWithWitnesses: beside an election without witnesses,
// the second election of the board names two witnesses with a quorum of 2;
// the leader submits that election's checkpoints (origin and all) to them
// and replicates their cosignatures through cosign-in commands, so its
// attested checkpoint and record carry both, and the witnesses hold its
// final checkpoint (SPEC.md §3.14.4).
func TestManyElectionsWithWitnesses(t *testing.T) {
	es := makeElections(t, 2, "alpha")
	var keys []ed25519.PrivateKey
	for _, n := range es[0].Nodes {
		keys = append(keys, n.Key)
	}
	beta := testonly.NewElection(t, "board election beta", testonly.Config{Voters: 2, ElectionID: "beta", NodeKeys: keys})
	ws, wkeys := witnessKeys("w1.example", "w2.example")
	beta.UseWitnesses(ws, 2)
	es = append(es, beta)
	clients, wits := serveWitnesses(t, ws, wkeys, beta.Manifest)
	c := newTCluster(t, es[0].NodeKeys(), boltOpener, nil)
	c.witnesses = clients
	c.startAll("n1", "n2", "n3")
	ids := []string{"alpha", "beta"}
	var steps [][]func() [][]byte
	for _, e := range es {
		s, _ := electionSteps(e, 2)
		steps = append(steps, s)
	}
	for k := range steps[0] {
		for i, id := range ids {
			c.mustAcceptIn(id, "step", steps[i][k]()...)
		}
	}
	size := c.waitAttested("beta") // attested = node quorum and witness quorum
	c.waitAttested("alpha")
	ctx := context.Background()
	s, _ := c.leader().board.Scope("beta")
	cp, err := s.Checkpoint(ctx)
	if err != nil || len(cp.Cosigners) != 2 || cp.Checkpoint.Size != size {
		t.Fatalf("beta's checkpoint: %+v, %v", cp, err)
	}
	var rec bytes.Buffer
	if err := s.WriteRecord(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	if rep, err := client.VerifyElectionRecord(&rec, client.VerifyOptions{Fingerprint: beta.Fingerprint()}); err != nil || !rep.Complete {
		t.Fatalf("beta's record: %v", err)
	}
	for i, w := range wits {
		if got := w.Latest(beta.Board().Origin); !strings.Contains(string(got), "\n"+strconv.FormatUint(size, 10)+"\n") {
			t.Fatalf("witness %d is at:\n%s", i, got)
		}
	}
	sa, _ := c.leader().board.Scope("alpha")
	if cp, err := sa.Checkpoint(ctx); err != nil || len(cp.Cosigners) != 0 {
		t.Fatalf("alpha's checkpoint: %+v, %v", cp, err)
	}
}

// TestJoinManyElectionsBySnapshot: a node that joins after the log was
// compacted installs a snapshot holding every election (format v2), then
// follows both, and a restarted node replays nothing twice in either.
func TestJoinManyElectionsBySnapshot(t *testing.T) {
	es := makeElections(t, 3, "alpha", "beta")
	c := newTCluster(t, es[0].NodeKeys(), boltOpener, func(rc *replica.Config) { rc.TrailingLogs = 2 }, "n1", "n2", "n3")
	ids := []string{"alpha", "beta"}
	var steps [][]func() [][]byte
	for _, e := range es {
		s, _ := electionSteps(e, 3)
		steps = append(steps, s)
	}
	for k := range 5 { // up to the open
		for i, id := range ids {
			c.mustAcceptIn(id, "step", steps[i][k]()...)
		}
	}
	l := c.leader()
	if err := l.rep.Snapshot(); err != nil {
		t.Fatal(err)
	}
	c.mustAcceptIn("alpha", "ballots", steps[0][5]()...)
	if err := l.rep.Snapshot(); err != nil {
		t.Fatal(err)
	}
	n4 := c.start("n4", false)
	c.join("n4")
	c.mustAcceptIn("beta", "ballots", steps[1][5]()...)
	sizes := map[string]uint64{}
	for _, id := range ids {
		sizes[id] = c.waitAttested(id)
	}
	if n4.board.restores.Load() == 0 {
		t.Fatal("n4 caught up without installing a snapshot")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		list := n4.board.Elections()
		if len(list) == 2 && list[0].Entries == sizes["alpha"] && list[1].Entries == sizes["beta"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n4 lists %+v, want alpha at %d and beta at %d", list, sizes["alpha"], sizes["beta"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Restart a follower: Raft replays what it applied; nothing doubles.
	var follower string
	for id, n := range c.nodes {
		if !n.rep.IsLeader() && id != "n4" {
			follower = id
			break
		}
	}
	c.stop(follower)
	n := c.start(follower, false)
	for k := 6; k < len(steps[0]); k++ {
		for i, id := range ids {
			c.mustAcceptIn(id, "step", steps[i][k]()...)
		}
	}
	for _, id := range ids {
		size := c.waitAttested(id)
		s, _ := n.board.Scope(id)
		var rec bytes.Buffer
		if err := s.WriteRecord(context.Background(), &rec); err != nil {
			t.Fatal(err)
		}
		rep, err := client.VerifyElectionRecord(&rec, client.VerifyOptions{})
		if err != nil || !rep.Complete || uint64(rep.Entries) != size {
			t.Fatalf("%s on the restarted node: %v (%d entries, want %d)", id, err, rep.Entries, size)
		}
	}
}

// TestElectionRate: with a rate limit, each election spends its own token
// bucket on the node's clock (§3.14.5.4): one election posting too fast is
// refused as overload while another is not. The clock is the test's.
func TestElectionRate(t *testing.T) {
	es := makeElections(t, 2, "alpha", "beta")
	clock := newFakeClock(1_800_000_000_000)
	b := openLoneBoard(t, Config{SkipChecks: true, ElectionRate: 1, ElectionBurst: 3, Now: clock.Now}, es[0].ManifestEntry(), es[1].ManifestEntry())
	rep := &blockingReplica{release: make(chan struct{})}
	close(rep.release)
	b.Attach(rep)
	count := func(id string, entry []byte, n int) (admitted, refused int) {
		s, _ := b.Scope(id)
		for range n {
			_, err := s.Submit(context.Background(), [][]byte{entry})
			switch {
			case errors.Is(err, replica.ErrOverloaded):
				refused++
			case errors.Is(err, replica.ErrLeadershipLost):
				admitted++
			default:
				t.Fatalf("%s: %v", id, err)
			}
		}
		return
	}
	if a, r := count("alpha", es[0].CredentialsEntry(), 5); a != 3 || r != 2 {
		t.Fatalf("alpha, burst 3: %d admitted, %d refused; want 3, 2", a, r)
	}
	if a, r := count("beta", es[1].CredentialsEntry(), 3); a != 3 || r != 0 {
		t.Fatalf("beta beside a throttled alpha: %d admitted, %d refused; want 3, 0", a, r)
	}
	clock.Add(2 * time.Second)
	if a, r := count("alpha", es[0].CredentialsEntry(), 3); a != 2 || r != 1 {
		t.Fatalf("alpha two seconds later at 1/s: %d admitted, %d refused; want 2, 1", a, r)
	}
}

// TestApplyEntriesGroupingManyElections: Raft entries that mix commands
// of several elections (a creation and the new election's next entry in
// one Raft entry, a manifest reusing a taken id, an entry of no election,
// an archive followed by that election's entry) leave every replica in the
// same state, bit for bit, however raft groups them, with one block per
// election per Raft entry.
func TestApplyEntriesGroupingManyElections(t *testing.T) {
	es := makeElections(t, 3, "alpha", "beta", "gamma")
	a, b, g := es[0], es[1], es[2]
	dup := testonly.NewElection(t, "another alpha", testonly.Config{Voters: 2, ElectionID: "alpha"})
	ms := uint64(1_700_000_000_000)
	cmd := func(dt uint64, e []byte) []byte { return encodeEntryCmd(ms+dt, e) }
	log := []replica.Entry{
		{Index: 3, Cmds: [][]byte{cmd(1, a.ManifestEntry())}},
		// beta created and credentialed in the Raft entry that credentials alpha.
		{Index: 4, Cmds: [][]byte{cmd(2, a.CredentialsEntry()), cmd(3, b.ManifestEntry()), cmd(2, b.CredentialsEntry())}},
		// a second "alpha", gamma's credentials (no such election), gamma created.
		{Index: 6, Cmds: [][]byte{cmd(4, dup.ManifestEntry()), cmd(4, g.CredentialsEntry()), cmd(5, g.ManifestEntry())}},
		// beta archived, then one of its deals in the same Raft entry; alpha goes on.
		{Index: 7, Cmds: [][]byte{cmd(6, a.DealEntries()[0]), encodeArchiveCmd(b.Fingerprint()), cmd(6, b.DealEntries()[0]), cmd(7, a.DealEntries()[1])}},
	}
	ref, _ := openApplyBoard(t, t.TempDir())
	var want [][]replica.Result
	for _, e := range log {
		want = append(want, ref.ApplyBatch(e.Index, e.Cmds))
	}
	for k, werr := range map[[2]int]error{{2, 0}: bulletin.ErrDuplicate, {2, 1}: bulletin.ErrWrongElection, {3, 2}: ErrArchived} {
		if got := want[k[0]][k[1]].Err; !errors.Is(got, werr) {
			t.Fatalf("raft entry %d command %d: %v, want %v", k[0], k[1], got, werr)
		}
	}
	list := ref.Elections()
	if len(list) != 3 || list[0].Entries != 4 || list[1].Entries != 2 || !list[1].Archived || list[2].Entries != 1 {
		t.Fatalf("elections %+v", list)
	}
	bs := ref.FSM.board()
	if bs.elections[0].blocks != 3 || bs.elections[1].blocks != 1 || bs.elections[2].blocks != 1 {
		t.Fatalf("blocks %d, %d, %d; want 3, 1, 1", bs.elections[0].blocks, bs.elections[1].blocks, bs.elections[2].blocks)
	}
	wantState := stateOf(t, ref)
	sameUnderGroupings(t, log, want, wantState, 1, 2, 3, 4)
}
