package partition

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// The shape of a run. The whole test stays under three minutes on a loaded
// 2-core machine: about 15 s to build ballots and start, workload, then
// healing, the final reads and the check.
const (
	voters   = 40
	nBallots = 300 // prebuilt; revotes beyond the voters
	clients  = 5
	workload = 55 * time.Second
)

// entry is one prebuilt entry the clients post.
type entry struct {
	raw     []byte
	id      string // hex entry id
	tracker string // hex; ballots only
}

func newEntry(t *testing.T, raw []byte) *entry {
	t.Helper()
	id := bulletin.EntryID(raw)
	return &entry{raw: raw, id: hex.EncodeToString(id[:])}
}

// TestPartitionedElection runs an election on three nodes in three network
// namespaces with mutual TLS while a nemesis cuts and heals the links
// between them, then checks the recorded history (package doc).
func TestPartitionedElection(t *testing.T) {
	requireNetns(t)
	testStart := time.Now()
	nw := newNetwork(t, 3)

	e := testonly.NewElection(t, "partition", testonly.Config{Voters: voters, N: 3, T: 2, Nodes: 3})
	var setup []*entry
	for _, raw := range append(append([][]byte{e.ManifestEntry(), e.CredentialsEntry()}, e.DealEntries()...), e.ConfirmationEntries()...) {
		setup = append(setup, newEntry(t, raw))
	}
	setup = append(setup, newEntry(t, e.OpenEntry()))
	ballots := buildBallots(t, e)
	closeEntry := newEntry(t, e.CloseEntry())
	known := map[string]bool{closeEntry.id: true}
	for _, en := range append(append([]*entry{}, setup...), ballots...) {
		known[en.id] = true
	}

	c := startCluster(t, nw, e.NodeKeys())
	t.Logf("cluster of 3 namespaces with mutual TLS up after %v", time.Since(testStart).Round(time.Millisecond))

	h := newHistory()
	w := &workloadState{t: t, c: c, h: h, ballots: ballots, opened: make(chan struct{}), start: time.Now()}
	ctx, stop := context.WithTimeout(context.Background(), workload)
	defer stop()

	var wg sync.WaitGroup
	var partitions []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		partitions = nemesis(ctx, t, c)
	}()
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := w.newClient(k)
			if k == 0 {
				for _, en := range setup {
					if !cl.postUntilDone(ctx, en) {
						return
					}
				}
				close(w.opened)
			}
			cl.run(ctx)
		}()
	}
	wg.Wait()
	select {
	case <-w.opened:
	default:
		t.Fatalf("the election never opened in %v of partitions", workload)
	}

	// Heal, close the election through a stable cluster, and let every
	// node catch up.
	nw.heal()
	c.waitUntil("a leader after healing", time.Minute, func(ctx context.Context) error {
		if c.leader(ctx) == nil {
			return errors.New("no leader the majority agrees on")
		}
		return nil
	})
	fctx, fstop := context.WithTimeout(context.Background(), time.Minute)
	defer fstop()
	if !w.newClient(clients).postUntilDone(fctx, closeEntry) {
		t.Fatal("could not post the close entry after healing")
	}
	boards := finalBoards(t, c)

	// Nothing acknowledged is lost; every node holds the same board.
	final := map[string]uint64{}
	for seq, en := range boards[0] {
		if _, dup := final[en.ID]; dup {
			t.Errorf("entry %s is on the board twice", en.ID)
		}
		if !known[en.ID] {
			t.Errorf("seq %d holds entry %s that no client posted", seq, en.ID)
		}
		final[en.ID] = uint64(seq)
	}
	for i, b := range boards[1:] {
		if len(b) != len(boards[0]) {
			t.Errorf("%s's board has %d entries, %s's %d", c.nodes[i+1].id, len(b), c.nodes[0].id, len(boards[0]))
			continue
		}
		for seq := range b {
			if b[seq].ID != boards[0][seq].ID {
				t.Errorf("seq %d: %s holds %s, %s holds %s", seq, c.nodes[i+1].id, b[seq].ID, c.nodes[0].id, boards[0][seq].ID)
			}
		}
	}
	ops := h.ops
	acked := 0
	for _, o := range ops {
		if o.kind != opPost || (o.out != okFound && o.out != dupOf) {
			continue
		}
		acked++
		seq, on := final[o.id]
		switch {
		case !on:
			t.Errorf("lost: %s was acknowledged but is not on the final board", o)
		case o.out == okFound && seq != o.seq:
			t.Errorf("%s, but the final board has it at seq %d", o, seq)
		}
	}
	checkCheckpoints(t, e, boards[0], ops)

	// Linearizability of the history, and reads never going back in time.
	hist, selfDup := complete(ops, final)
	res, info := porcupine.CheckOperationsVerbose(model, hist, time.Minute)
	t.Logf("history: %d operations (%d checked by porcupine), %d acknowledged posts, final board %d entries; %s",
		len(ops), len(hist), acked, len(boards[0]), summary(ops))
	t.Logf("%d partitions: %v", len(partitions), partitions)
	if selfDup > 0 {
		t.Logf("note: %d posts were answered \"duplicate\" although they appended their entry themselves (forwarding retried after a leader change)", selfDup)
	}
	t.Logf("porcupine: %s; whole test %v", res, time.Since(testStart).Round(time.Millisecond))
	if res != porcupine.Ok {
		dir := os.Getenv("URNA_ARTIFACTS")
		if dir == "" {
			dir = os.TempDir()
		}
		path := filepath.Join(dir, fmt.Sprintf("partition-history-%d.html", os.Getpid()))
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			t.Logf("writing the visualization: %v", err)
		}
		t.Errorf("porcupine: the history is %s against the board's model (visualization: %s)", res, path)
		for _, x := range explain(hist) {
			t.Errorf("contradiction: %s", x)
		}
	}
	for _, v := range checkSessions(ops, final) {
		t.Errorf("stale read: %s", v)
	}
	if len(partitions) < 3 {
		t.Errorf("only %d partitions in %v: the nemesis was starved", len(partitions), workload)
	}
}

// buildBallots encrypts nBallots ballots (voter k mod voters) on two
// goroutines, each with its own seeded randomness.
func buildBallots(t *testing.T, e *testonly.Election) []*entry {
	t.Helper()
	out := make([]*entry, nBallots)
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; k < nBallots; k += 2 {
				raw := e.BallotWith(seeded.New(fmt.Sprintf("ballot-%d", k)), k%voters, testonly.Pick(k%3, k%5-1))
				if raw == nil {
					return
				}
				en, err := bulletin.ParseEntry(raw)
				if err != nil {
					t.Error(err)
					return
				}
				id := bulletin.EntryID(raw)
				out[k] = &entry{raw: raw, id: hex.EncodeToString(id[:]), tracker: ballot.TrackerOf(en.Body).Hex()}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// workloadState is what the clients share.
type workloadState struct {
	t       *testing.T
	c       *cluster
	h       *history
	ballots []*entry
	opened  chan struct{} // closed once the open entry is acknowledged
	start   time.Time

	next     atomic.Int64 // the next ballot to post
	maxSeq   atomic.Int64 // the largest seq any post was answered
	procs    atomic.Int64 // porcupine process ids
	sessions atomic.Int64

	mu     sync.Mutex
	posted []*entry // ballots posted at least once: the trackers to look up
}

// client is one sequential client: it talks to its home node until an
// operation fails, then moves to another one (a new session).
type client struct {
	w       *workloadState
	rnd     *rand.Rand
	proc    int
	sess    int
	home    *node
	retries []*entry // posts with unknown outcome, to post again
}

func (w *workloadState) newClient(k int) *client {
	cl := &client{w: w, rnd: rand.New(rand.NewPCG(uint64(k), uint64(time.Now().UnixNano())))}
	cl.proc, cl.sess = int(w.procs.Add(1)), int(w.sessions.Add(1))
	cl.home = w.c.nodes[cl.rnd.IntN(len(w.c.nodes))]
	return cl
}

// failedOn moves the client to another node, in a new session.
func (cl *client) failedOn() {
	nodes := cl.w.c.nodes
	cl.home = nodes[(cl.home.i+cl.rnd.IntN(len(nodes)-1))%len(nodes)]
	cl.sess = int(cl.w.sessions.Add(1))
}

// run does random operations until ctx ends.
func (cl *client) run(ctx context.Context) {
	for ctx.Err() == nil {
		opened := false
		select {
		case <-cl.w.opened:
			opened = true
		default:
		}
		switch r := cl.rnd.IntN(100); {
		case opened && r < 35:
			en := cl.nextPost()
			if en == nil {
				cl.read(ctx)
				break
			}
			cl.post(ctx, en)
		case r < 65:
			cl.read(ctx)
		case r < 85 && opened:
			cl.tracker(ctx)
		default:
			cl.checkpoint(ctx)
		}
		// Think time: pacing so the history stays checkable, not a wait
		// for anything to happen.
		time.Sleep(time.Duration(cl.rnd.IntN(30)) * time.Millisecond)
	}
}

// nextPost is a post to retry or the next ballot, or nil when all are done.
func (cl *client) nextPost() *entry {
	if len(cl.retries) > 0 && cl.rnd.IntN(2) == 0 {
		en := cl.retries[0]
		cl.retries = cl.retries[1:]
		return en
	}
	// Ballots are paced over the workload, so that posts meet every
	// partition (a rate, not a wait for anything).
	k := cl.w.next.Load()
	due := time.Duration(k) * (workload - 10*time.Second) / time.Duration(len(cl.w.ballots))
	if time.Since(cl.w.start) < due || !cl.w.next.CompareAndSwap(k, k+1) {
		k = int64(len(cl.w.ballots))
	}
	if k >= int64(len(cl.w.ballots)) {
		if len(cl.retries) > 0 {
			en := cl.retries[0]
			cl.retries = cl.retries[1:]
			return en
		}
		return nil
	}
	en := cl.w.ballots[k]
	cl.w.mu.Lock()
	cl.w.posted = append(cl.w.posted, en)
	cl.w.mu.Unlock()
	return en
}

// do records one operation of kind on the home node: set fills it in
// before the call, call runs with a timeout and fills in the answer.
func (cl *client) do(ctx context.Context, kind opKind, timeout time.Duration, set func(*op), call func(context.Context, *op) error) *op {
	o := &op{client: cl.proc, sess: cl.sess, node: cl.home.id, kind: kind}
	if set != nil {
		set(o)
	}
	o.call = cl.w.h.now()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	err := call(cctx, o)
	cancel()
	cl.end(o, err)
	return o
}

// end records o with err's outcome: notFound for a 404, failed (with a
// move to another node) for a timeout, a transport error or a 5xx.
func (cl *client) end(o *op, err error) {
	o.ret = cl.w.h.now()
	var ae *apiclient.Error
	switch {
	case err == nil:
		o.out = okFound
	case apiclient.IsCode(err, api.CodeNotFound):
		o.out = notFound
	case o.kind == opPost && apiclient.IsCode(err, "duplicate"):
		// Posting is idempotent (docs/API.md): these very bytes on the
		// board are answered with their position, never "duplicate" (a
		// forwarder's retry of a committed post once got that answer).
		cl.w.t.Errorf("post %s via %s answered duplicate: %v", short(o.id), o.node, err)
		o.out = dupOf
	case errors.As(err, &ae) && ae.Status < 500:
		cl.w.t.Errorf("%s: %s answered %v", o.kind, o.node, err)
		o.out, o.err = failed, err.Error()
	default:
		o.out, o.err = failed, err.Error()
	}
	cl.w.h.add(o)
	if o.out == failed {
		cl.failedOn()
		if o.kind == opPost {
			cl.proc = int(cl.w.procs.Add(1))
		}
	}
}

// post posts en once; it returns whether the outcome is known.
func (cl *client) post(ctx context.Context, en *entry) bool {
	o := cl.do(ctx, opPost, 20*time.Second, func(o *op) { o.id = en.id }, func(ctx context.Context, o *op) error {
		r, err := cl.home.client.SubmitOne(ctx, en.raw)
		if err != nil {
			return err
		}
		o.seq = r.Seq
		if r.ID != en.id {
			cl.w.t.Errorf("post of %s on %s answered id %s", en.id, o.node, r.ID)
		}
		for {
			m := cl.w.maxSeq.Load()
			if int64(r.Seq) <= m || cl.w.maxSeq.CompareAndSwap(m, int64(r.Seq)) {
				return nil
			}
		}
	})
	if o.out == failed {
		cl.retries = append(cl.retries, en)
	}
	return o.out != failed
}

// postUntilDone posts en until its outcome is known (posted or already
// there), moving between nodes, or ctx ends.
func (cl *client) postUntilDone(ctx context.Context, en *entry) bool {
	for ctx.Err() == nil {
		if cl.post(ctx, en) {
			cl.retries = nil
			return true
		}
	}
	return false
}

// api is the home node's client: half the reads are consistent ones
// (?consistent=1), which the model checks as linearizable.
func (cl *client) api(o *op) *apiclient.Client {
	o.consistent = cl.rnd.IntN(2) == 0
	if o.consistent {
		return cl.home.strict
	}
	return cl.home.client
}

func (cl *client) read(ctx context.Context) {
	// Half the reads go to the newest entries, where a stale answer shows.
	top := cl.w.maxSeq.Load()
	seq := uint64(cl.rnd.Int64N(top + 4))
	if cl.rnd.IntN(2) == 0 {
		seq = uint64(max(0, top-8+cl.rnd.Int64N(12)))
	}
	var ac *apiclient.Client
	cl.do(ctx, opRead, 10*time.Second, func(o *op) { o.seq, ac = seq, cl.api(o) }, func(ctx context.Context, o *op) error {
		en, err := ac.Entry(ctx, o.seq)
		if err == nil {
			o.got = cl.checkEntry(o, en.Seq, en.ID, en.Entry)
		}
		return err
	})
}

// checkEntry checks that an answered entry is the one asked for and its
// bytes hash to its id, and returns the id.
func (cl *client) checkEntry(o *op, seq uint64, id string, raw []byte) string {
	h := bulletin.EntryID(raw)
	if hex.EncodeToString(h[:]) != id || (o.kind == opRead && seq != o.seq) {
		cl.w.t.Errorf("%s: %s answered seq %d id %s for entry bytes of id %x", o.kind, o.node, seq, id, h)
	}
	return id
}

func (cl *client) tracker(ctx context.Context) {
	cl.w.mu.Lock()
	n := len(cl.w.posted)
	var en *entry
	if n > 0 {
		k := cl.rnd.IntN(n)
		if cl.rnd.IntN(2) == 0 {
			k = max(0, n-1-cl.rnd.IntN(8)) // the newest ballots
		}
		en = cl.w.posted[k]
	}
	cl.w.mu.Unlock()
	if en == nil {
		cl.checkpoint(ctx)
		return
	}
	var ac *apiclient.Client
	cl.do(ctx, opTracker, 10*time.Second, func(o *op) { o.id, ac = en.id, cl.api(o) }, func(ctx context.Context, o *op) error {
		tr, err := ac.Tracker(ctx, en.tracker)
		if err == nil {
			o.seq, o.got = tr.Seq, tr.ID
			if tr.Tracker != en.tracker {
				cl.w.t.Errorf("tracker %s on %s answered tracker %s", en.tracker, o.node, tr.Tracker)
			}
		}
		return err
	})
}

func (cl *client) checkpoint(ctx context.Context) {
	var ac *apiclient.Client
	cl.do(ctx, opCheckpoint, 10*time.Second, func(o *op) { ac = cl.api(o) }, func(ctx context.Context, o *op) error {
		cp, err := ac.Checkpoint(ctx)
		if err == nil {
			o.size, o.root, o.note, o.signers = cp.Size, cp.Root, cp.Note, len(cp.Signers)
		}
		return err
	})
}

// nemesis cuts links until ctx ends, in turn: it isolates the leader (and
// waits for the majority to elect another), isolates a follower, and cuts
// the link between the leader and one follower (the follower still reaches
// the other one). Each fault lasts 2–6 s, then heals; the next one starts
// once the cluster has a leader again. It returns what it did.
func nemesis(ctx context.Context, t *testing.T, c *cluster) []string {
	var done []string
	rnd := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	pause := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	for round := 0; ; round++ {
		if !pause(time.Duration(1000+rnd.IntN(2000)) * time.Millisecond) {
			return done
		}
		var leader *node
		for leader == nil {
			qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			leader = c.leader(qctx)
			cancel()
			if leader == nil && !pause(200*time.Millisecond) {
				return done
			}
		}
		others := []*node{}
		for _, n := range c.nodes {
			if n != leader {
				others = append(others, n)
			}
		}
		follower := others[rnd.IntN(len(others))]
		start := time.Now()
		var what string
		switch round % 3 {
		case 0:
			c.nw.isolate(leader.i)
			what = "isolated leader " + leader.id
			newLeader := ""
			for newLeader == "" && ctx.Err() == nil {
				for _, n := range others {
					qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
					h, err := n.client.Health(qctx)
					cancel()
					if err == nil && h.Role == "leader" {
						newLeader = n.id
					}
				}
				if newLeader == "" {
					pause(100 * time.Millisecond)
				}
			}
			if newLeader != "" {
				what += fmt.Sprintf(" (%s elected after %v)", newLeader, time.Since(start).Round(100*time.Millisecond))
			}
		case 1:
			c.nw.isolate(follower.i)
			what = "isolated follower " + follower.id
		case 2:
			c.nw.setLink(leader.i, follower.i, false)
			what = fmt.Sprintf("cut leader %s from %s", leader.id, follower.id)
		}
		hold := pause(time.Duration(2000+rnd.IntN(4000)) * time.Millisecond)
		c.nw.heal()
		done = append(done, fmt.Sprintf("%s for %v", what, time.Since(start).Round(100*time.Millisecond)))
		t.Logf("nemesis: %s", done[len(done)-1])
		if !hold {
			return done
		}
	}
}

// finalBoards waits until every node has applied the same number of
// entries as the leader, then reads every node's whole board.
func finalBoards(t *testing.T, c *cluster) [][]api.Entry {
	t.Helper()
	c.waitUntil("every node to hold the same entries", time.Minute, func(ctx context.Context) error {
		var counts []uint64
		for _, n := range c.nodes {
			el, err := n.client.Election(ctx)
			if err != nil {
				return err
			}
			counts = append(counts, el.Counts.Entries)
		}
		for _, k := range counts[1:] {
			if k != counts[0] {
				return fmt.Errorf("entries by node: %v", counts)
			}
		}
		return nil
	})
	var out [][]api.Entry
	for _, n := range c.nodes {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var b []api.Entry
		err := n.client.AllEntries(ctx, 0, func(en api.Entry) error {
			if en.Seq != uint64(len(b)) {
				return fmt.Errorf("entry %d where %d was next", en.Seq, len(b))
			}
			b = append(b, en)
			return nil
		})
		cancel()
		if err != nil {
			t.Fatalf("reading %s's board: %v", n.id, err)
		}
		out = append(out, b)
	}
	return out
}

// checkCheckpoints checks every checkpoint a client saw against the final
// board: its root is the root of the board's first Size entries, and one
// signed by a quorum opens with the manifest's node keys.
func checkCheckpoints(t *testing.T, e *testonly.Election, board []api.Entry, ops []*op) {
	t.Helper()
	var log bulletin.MemoryLog
	roots := []string{""}
	for _, en := range board {
		if err := log.Append(en.Entry); err != nil {
			t.Fatal(err)
		}
		r, err := log.Root(log.Size())
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, hex.EncodeToString(r[:]))
	}
	b := e.Board()
	checked := 0
	for _, o := range ops {
		if o.kind != opCheckpoint || o.out != okFound {
			continue
		}
		if o.size >= uint64(len(roots)) {
			t.Errorf("%s: beyond the final board (%d entries)", o, len(board))
			continue
		}
		if o.root != roots[o.size] {
			t.Errorf("%s: root %s, the final board's is %s", o, o.root, roots[o.size])
		}
		if o.signers >= b.Quorum {
			cp, err := b.Open([]byte(o.note))
			if err != nil {
				t.Errorf("%s: listed %d signers but does not open: %v", o, o.signers, err)
			} else if cp.Size != o.size || hex.EncodeToString(cp.Root[:]) != o.root {
				t.Errorf("%s: the note says size %d root %x", o, cp.Size, cp.Root)
			}
			checked++
		}
	}
	t.Logf("checkpoints: %d quorum-signed ones opened and matched the final board", checked)
}
