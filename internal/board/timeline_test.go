package board

import (
	"context"
	"maps"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// fullTimeline is the reference of ElectionStatus's types: every entry of the
// election's log up to size, read through Entries in pages and decoded
// strictly (bulletin.ParseEntry), counted by type.
func fullTimeline(t *testing.T, r *Reader, size uint64) map[bulletin.EntryType]TypeSpan {
	t.Helper()
	out := map[bulletin.EntryType]TypeSpan{}
	for from := uint64(0); from < size; {
		page, err := r.Entries(context.Background(), from, int(min(7, size-from)), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range page {
			if en.Seq != from || en.Seq >= size {
				t.Fatalf("entry %d read where entry %d was expected (log of %d)", en.Seq, from, size)
			}
			e, err := bulletin.ParseEntry(en.Raw)
			if err != nil {
				t.Fatalf("entry %d: %v", en.Seq, err)
			}
			s, ok := out[e.Type]
			if !ok {
				s.First = en.Seq
			}
			s.Count++
			out[e.Type] = s
			from++
		}
	}
	return out
}

// TestTimelineEqualsFullScan: on every node of a board of two
// elections posted in turns, each election's ElectionStatus (through its scope,
// and the board's own for the default election) counts each entry type
// (first entry, count) as a full decode of its log does, after every
// step of the elections: counted from where the last ElectionStatus stopped, in
// read chunks smaller than a step, never mixing the two elections.
func TestTimelineEqualsFullScan(t *testing.T) { runTimeline(t, boltOpener) }

// TestTimelineEqualsFullScanPostgres is TestTimelineEqualsFullScan with
// every node on PostgreSQL (partitions in rows).
func TestTimelineEqualsFullScanPostgres(t *testing.T) { runTimeline(t, postgresOpener(t)) }

func runTimeline(t *testing.T, open func(testing.TB, string, string) store.Store) {
	saved := timelineChunk
	timelineChunk = 3
	t.Cleanup(func() { timelineChunk = saved })
	ids := []string{"alpha", "beta"}
	es, c := newElectionsOn(t, open, 5, ids...)
	stepsA, _ := electionSteps(es[0], 5)
	stepsB, _ := electionSteps(es[1], 4)
	stepsB = stepsB[:len(stepsB)-2] // beta is still open at the end
	check := func(id string) map[bulletin.EntryType]TypeSpan {
		t.Helper()
		var ref map[bulletin.EntryType]TypeSpan
		for nid, n := range c.nodes {
			s, err := n.board.Scope(id)
			if err != nil {
				t.Fatal(err)
			}
			readers := []*Reader{s.Reader}
			if id == ids[0] {
				readers = append(readers, n.board.Reader) // the default election
			}
			for _, r := range readers {
				st, err := r.ElectionStatus(context.Background())
				if err != nil {
					t.Fatalf("%s on %s: %v", id, nid, err)
				}
				if st.Manifest.ElectionID != id {
					t.Fatalf("status of %s on %s is election %s's", id, nid, st.Manifest.ElectionID)
				}
				want := fullTimeline(t, r, st.Entries)
				if !maps.Equal(st.Types, want) {
					t.Fatalf("%s on %s, %d entries: types %v, the full decode's %v", id, nid, st.Entries, st.Types, want)
				}
				blocks, err := r.Blocks(context.Background(), 0, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if st.Blocks != uint64(len(blocks)) {
					t.Fatalf("%s on %s: %d blocks, the log has %d", id, nid, st.Blocks, len(blocks))
				}
				if nid == c.leader().id {
					ref = want
				}
			}
		}
		return ref
	}
	for k := range stepsA {
		c.mustAcceptIn(ids[0], "step", stepsA[k]()...)
		if k < len(stepsB) {
			c.mustAcceptIn(ids[1], "step", stepsB[k]()...)
		}
		c.waitAttested(ids[0])
		c.waitAttested(ids[1])
		check(ids[0])
		check(ids[1])
	}
	// The case covers the end of an election, and beta's log is its own.
	a, b := check(ids[0]), check(ids[1])
	for _, typ := range []bulletin.EntryType{bulletin.TypeManifest, bulletin.TypeBallot, bulletin.TypeClose, bulletin.TypePartialDecryption, bulletin.TypeResult} {
		if a[typ].Count == 0 {
			t.Fatalf("alpha has no %v entry: %v", typ, a)
		}
	}
	if a[bulletin.TypeBallot].Count != 5 || b[bulletin.TypeBallot].Count != 4 || b[bulletin.TypeClose].Count != 0 || b[bulletin.TypeManifest].First != 0 {
		t.Fatalf("alpha's types %v, beta's %v", a, b)
	}
}

// TestTimelineConcurrent: statuses asked concurrently while ballots are
// posted each count the types of exactly the entries they report, as a
// full decode of that prefix of the log does.
func TestTimelineConcurrent(t *testing.T) {
	saved := timelineChunk
	timelineChunk = 2
	t.Cleanup(func() { timelineChunk = saved })
	e, c := newThreeNodes(t, 12)
	c.openElection(e)
	r := c.leader().board.Reader
	done := make(chan struct{})
	type seen struct {
		entries uint64
		types   map[bulletin.EntryType]TypeSpan
	}
	got := make(chan seen, 1024)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				st, err := r.ElectionStatus(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				select {
				case got <- seen{st.Entries, st.Types}:
				default:
				}
			}
		})
	}
	for v := range 12 {
		en, _, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
		c.mustAccept("ballot", en)
	}
	close(done)
	wg.Wait()
	close(got)
	n := 0
	for s := range got {
		var sum uint64
		for _, x := range s.types {
			sum += x.Count
		}
		if sum != s.entries {
			t.Fatalf("a status of %d entries counts %d: %v", s.entries, sum, s.types)
		}
		if want := fullTimeline(t, r, s.entries); !maps.Equal(s.types, want) {
			t.Fatalf("a status of %d entries: types %v, the full decode's %v", s.entries, s.types, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no status answered")
	}
}

// entryReads is a store whose read transactions count in n the entries
// they hand out through ReadTx.Entries, in every partition: what the
// count of entry types reads.
type entryReads struct {
	store.Store
	n *atomic.Uint64
}

func (s entryReads) View(ctx context.Context, fn func(store.ReadTx) error) error {
	return s.Store.View(ctx, func(tx store.ReadTx) error { return fn(countedTx{tx, s.n}) })
}

type countedTx struct {
	store.ReadTx
	n *atomic.Uint64
}

func (tx countedTx) In(p store.Partition) store.ReadTx { return countedTx{tx.ReadTx.In(p), tx.n} }

func (tx countedTx) Entries(from, to uint64, fn func(uint64, []byte) error) error {
	return tx.ReadTx.Entries(from, to, func(seq uint64, data []byte) error {
		tx.n.Add(1)
		return fn(seq, data)
	})
}

// timelineBoard opens a board (not started) on a fresh bbolt store whose
// entry reads count in the returned counter, and returns with it a
// function that applies posts, each in its own Raft entry.
func timelineBoard(t *testing.T) (*Board, store.Store, *atomic.Uint64, func(...[]byte)) {
	t.Helper()
	n := new(atomic.Uint64)
	st := entryReads{Store: boltOpener(t, "n1", filepath.Join(t.TempDir(), "n1")), n: n}
	t.Cleanup(func() { st.Close() })
	b := openBoardOn(t, st)
	index := uint64(0)
	apply := func(entries ...[]byte) {
		t.Helper()
		for _, en := range entries {
			index++
			for _, r := range b.ApplyEntries([]replica.Entry{{Index: index, Cmds: [][]byte{encodeEntryCmd(index, en)}}})[0] {
				if r.Err != nil {
					t.Fatalf("raft entry %d: %v", index, r.Err)
				}
			}
		}
	}
	return b, st, n, apply
}

// statusReads is r's ElectionStatus with the entries it read (n's
// count), checked against a full decode of the log.
func statusReads(t *testing.T, r *Reader, n *atomic.Uint64) (*ElectionStatus, uint64) {
	t.Helper()
	n.Store(0)
	st, err := r.ElectionStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	read := n.Load()
	if want := fullTimeline(t, r, st.Entries); !maps.Equal(st.Types, want) {
		t.Fatalf("%s, %d entries: types %v, the full decode's %v", st.Manifest.ElectionID, st.Entries, st.Types, want)
	}
	return st, read
}

// TestTimelineDefaultElectionCountedOnce: the default election's status
// through the board's Reader and through its Scope share one count:
// whichever asks first reads the log's new entries, the other none.
func TestTimelineDefaultElectionCountedOnce(t *testing.T) {
	saved := timelineChunk
	timelineChunk = 2
	t.Cleanup(func() { timelineChunk = saved })
	es := makeElections(t, 3, "alpha", "beta")
	b, _, n, apply := timelineBoard(t)
	steps, _ := electionSteps(es[0], 3)
	for _, step := range steps[:4] {
		apply(step()...)
	}
	s, err := b.Scope("alpha")
	if err != nil {
		t.Fatal(err)
	}
	st, read := statusReads(t, b.Reader, n)
	if read != st.Entries {
		t.Fatalf("the first status of %d entries read %d", st.Entries, read)
	}
	if _, read := statusReads(t, s.Reader, n); read != 0 {
		t.Fatalf("the default election's scope read %d entries the board's Reader had counted", read)
	}
	for _, step := range steps[4:6] {
		apply(step()...)
	}
	st2, read := statusReads(t, s.Reader, n)
	if read != st2.Entries-st.Entries || read == 0 {
		t.Fatalf("the scope read %d entries, %d are new", read, st2.Entries-st.Entries)
	}
	if _, read := statusReads(t, b.Reader, n); read != 0 {
		t.Fatalf("the board's Reader read %d entries its scope had counted", read)
	}
	// Another election's scope has its own count.
	apply(es[1].ManifestEntry(), es[1].CredentialsEntry())
	sb, err := b.Scope("beta")
	if err != nil {
		t.Fatal(err)
	}
	if st, read := statusReads(t, sb.Reader, n); st.Manifest.ElectionID != "beta" || read != 2 {
		t.Fatalf("beta's first status (election %s) read %d entries, it has 2", st.Manifest.ElectionID, read)
	}
}

// warmUpBoard applies alpha's election up to its ballots and beta's up to
// its key ceremony onto a board on a counting store, then opens a new
// board on the same store (the node restarted) and returns it, not
// started yet, with its Readers (the board's, alpha's and beta's scopes')
// and the count of entries read.
func warmUpBoard(t *testing.T) (*Board, []*Reader, *atomic.Uint64) {
	t.Helper()
	es := makeElections(t, 3, "alpha", "beta")
	b, st, n, apply := timelineBoard(t)
	alpha, _ := electionSteps(es[0], 3)
	beta, _ := electionSteps(es[1], 3)
	for _, step := range alpha[:6] {
		apply(step()...)
	}
	for _, step := range beta[:4] {
		apply(step()...)
	}
	_ = b.Close()
	b = openBoardOn(t, st)
	readers := []*Reader{b.Reader}
	for _, id := range []string{"alpha", "beta"} {
		s, err := b.Scope(id)
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, s.Reader)
	}
	return b, readers, n
}

// TestTimelineWarmUp: a started board counts the entry types of each of
// its elections in the background, each entry read once; after that a
// status through the board's Reader or any scope reads no entry.
func TestTimelineWarmUp(t *testing.T) {
	saved := timelineChunk
	timelineChunk = 2
	t.Cleanup(func() { timelineChunk = saved })
	b, readers, n := warmUpBoard(t)
	n.Store(0)
	b.Start()
	<-b.warmed
	var total uint64
	for _, e := range b.Elections() {
		total += e.Entries
	}
	if read := n.Load(); read != total {
		t.Fatalf("the warm-up read %d entries, the board holds %d", read, total)
	}
	for _, r := range readers {
		if st, read := statusReads(t, r, n); read != 0 {
			t.Fatalf("a status of %s after the warm-up read %d entries", st.Manifest.ElectionID, read)
		}
	}
}

// TestTimelineWarmUpConcurrent: statuses asked while the warm-up counts
// each count every entry they report, as a full decode of the log does
// (never a part of the warm-up's count).
func TestTimelineWarmUpConcurrent(t *testing.T) {
	saved := timelineChunk
	timelineChunk = 1
	t.Cleanup(func() { timelineChunk = saved })
	b, readers, _ := warmUpBoard(t)
	got := make([]*ElectionStatus, len(readers))
	var wg sync.WaitGroup
	b.Start()
	for i, r := range readers {
		wg.Go(func() {
			st, err := r.ElectionStatus(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = st
		})
	}
	wg.Wait()
	<-b.warmed
	for i, st := range got {
		if st == nil {
			t.FailNow()
		}
		if want := fullTimeline(t, readers[i], st.Entries); !maps.Equal(st.Types, want) {
			t.Fatalf("%s, %d entries: types %v, the full decode's %v", st.Manifest.ElectionID, st.Entries, st.Types, want)
		}
	}
}
