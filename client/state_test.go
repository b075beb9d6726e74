package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// sealedNode is a node that also serves the blocks after a height
// (client.SuffixSource), as internal/roles does over /blocks and /entries.
// It counts what it was asked, so that a test sees the incremental path.
type sealedNode struct {
	node
	sealed          *testonly.Sealed
	records, since  int
	sinceFrom, size uint64
}

func newSealedNode(t testing.TB, e *testonly.Election, entries [][]byte, blockSize int) *sealedNode {
	t.Helper()
	return newTimedNode(t, e, entries, blockSize, testonly.BlockTime)
}

// newTimedNode is newSealedNode with the time of each block height
// (testonly.Election.SealTimed).
func newTimedNode(t testing.TB, e *testonly.Election, entries [][]byte, blockSize int, timeOf func(h int) uint64) *sealedNode {
	t.Helper()
	s := e.SealTimed(entries, blockSize, nil, timeOf)
	n := &sealedNode{node: node{rec: s.Encode(), note: s.Notes[len(s.Notes)-1]}, sealed: s}
	for _, en := range entries {
		if err := n.log.Append(en); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (n *sealedNode) Record(ctx context.Context) (io.ReadCloser, error) {
	n.records++
	return n.node.Record(ctx)
}

func (n *sealedNode) RecordSince(_ context.Context, from, size uint64, note []byte) (io.ReadCloser, error) {
	n.since++
	n.sinceFrom, n.size = from, size
	var buf bytes.Buffer
	w, err := bulletin.NewRecordWriter(&buf)
	if err != nil {
		return nil, err
	}
	for _, b := range n.sealed.Blocks {
		if b.Header.Height >= from && b.Header.LogSize <= size {
			if err := w.WriteBlock(b.Header, b.Entries); err != nil {
				return nil, err
			}
		}
	}
	if err := w.WriteCheckpoint(note); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return io.NopCloser(&buf), nil
}

// summary is everything a party acts on, and the report, in a comparable
// form. The checkpoints a report counts (and V3's count, which includes
// them) are those of the records read, so they are left out.
func summary(t *testing.T, s *client.Verified) string {
	t.Helper()
	rep := *s.Report
	rep.Checkpoints = 0
	rep.Steps = slices.Clone(rep.Steps)
	rep.Steps[client.StepV3-1].Checked = 0
	j, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "report %s\nnote %q\ncreds %d closed %v counted %d max %d invalid %v\n", j, s.Note, s.Credentials, s.Closed, s.Counted, s.MaxCount, s.Invalid)
	if s.JointKey != nil {
		fmt.Fprintf(&b, "joint %x\n", s.JointKey.Bytes())
	}
	for _, x := range s.VerificationKeys {
		fmt.Fprintf(&b, "vk %x\n", x.Bytes())
	}
	for q := range s.Aggregate {
		for o, ct := range s.Aggregate[q] {
			fmt.Fprintf(&b, "agg %d %d %x\n", q, o, ct.Bytes())
		}
	}
	for _, j := range slices.Sorted(func(yield func(int) bool) {
		for j := range s.Partials {
			if !yield(j) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "partial %d\n", j)
	}
	if s.Result != nil {
		fmt.Fprintf(&b, "result %v %v\n", s.Result.Trustees, s.Result.Counts)
	}
	for _, e := range s.Entries {
		fmt.Fprintf(&b, "entry %d %x\n", e.Seq, bulletin.EntryID(e.Entry.Bytes()))
	}
	for _, c := range s.Cascades {
		h := sha256.New()
		for _, row := range c.Rows {
			for _, ct := range row {
				h.Write(ct.Bytes())
			}
		}
		fmt.Fprintf(&b, "cascade %d width %d position %d shufflers %v decryptions %v rows %d %x\n", c.Question, c.Width, c.Position,
			c.Shufflers, slices.Sorted(maps.Keys(c.Decryptions)), len(c.Rows), h.Sum(nil))
		for _, j := range slices.Sorted(maps.Keys(c.Decryptions)) {
			fmt.Fprintf(&b, "decryption %d %x\n", j, sha256.Sum256(c.Decryptions[j].Bytes()))
		}
	}
	for _, o := range s.Mixed {
		j, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "mixed %s\n", j)
	}
	return b.String()
}

func findings(t *testing.T, r *client.Report) string {
	var b bytes.Buffer
	for _, s := range r.Steps {
		j, err := json.Marshal(s.Failures)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s ok=%v ran=%v dropped=%d %s\n", s.ID, s.OK, s.Ran, s.Dropped, j)
	}
	return b.String()
}

// savedAfter verifies src's record and returns the verified state and the
// state it saves (Verified.MarshalState).
func savedAfter(t testing.TB, src client.Source) (*client.Verified, []byte) {
	t.Helper()
	s, err := followSeeded(src, client.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	state, err := s.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	return s, state
}

func followSeeded(src client.Source, opts client.FollowOptions) (*client.Verified, error) {
	opts.Rand = seeded.New("incremental")
	return client.Follow(context.Background(), src, opts)
}

// errText is an error's text with the failure's place, for comparing the
// outcome of two verifications.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestIncrementalEqualsFull: for split points (random ones, and those
// around what the saved state must carry), a party that saved its state
// after a prefix and then verifies only the rest reaches the same verified
// state and report as one verifying the whole record, on the honest record
// and on records tampered after the split point. It runs on the small
// election, on a weighted one with a late voter (its weights, the
// late-credentials entry, maxCount and the weighted aggregate across the
// split), on a version-4 one with a voting window (V2.4 and V5.7
// across the split) and on a version-3 one with ranked, score and
// write-in questions (the counted ballots' mix rows and the cascades
// across the split: before the close, mid-cascade, after the decryptions).
func TestIncrementalEqualsFull(t *testing.T) {
	t.Run("small", func(t *testing.T) {
		e := smallElection(t)
		const bs = 3
		checkIncremental(t, e, bs, randomSplits(e, bs, 9), func(k int) []tampering { return tamperings(e, k) })
	})
	t.Run("weighted", func(t *testing.T) {
		e := weightedElection()
		const bs = 1 // a split before the credential list, and on either side of the late voter
		splits := []int{1, e.SeqCredentials + 1, e.SeqLate, e.SeqLate + 1, e.SeqCounted[len(e.SeqCounted)/2], e.SeqClose + 1}
		checkIncremental(t, e, bs, splits, func(k int) []tampering {
			return append(tamperings(e, k), weightTamperings(t, e, k)...)
		})
	})
	t.Run("mixed", func(t *testing.T) {
		e, mixes := mixedElection()
		const bs = 1
		// Before the close, at it, mid-cascade (after the first shuffle of
		// the first question, and after its first decryption), after every
		// decryption, and random ones.
		q0 := mixes[e.MixQuestions()[0]]
		splits := append(randomSplits(e.Election, bs, 14), e.SeqCounted[len(e.SeqCounted)/2], e.SeqClose, e.SeqClose+1,
			q0.SeqShuffles[0]+1, q0.SeqDecrypts[e.Config.Decrypt[0]]+1, e.SeqResult)
		checkIncremental(t, e.Election, bs, splits, func(k int) []tampering {
			return append(tamperings(e.Election, k), mixTamperings(t, e, mixes, k)...)
		})
	})
	t.Run("windowed", func(t *testing.T) {
		e, w := windowedElection(t)
		bs := e.Config.BlockSize
		// the block before the first audit's, the last ballot's, and random ones
		splits := append(randomSplits(e, bs, 10), e.SeqAudited[0]/bs*bs, e.SeqBallots[len(e.SeqBallots)-1]/bs*bs)
		checkIncremental(t, e, bs, splits, func(k int) []tampering {
			return append(tamperings(e, k), timeTamperings(e, w, bs, k)...)
		})
	})
}

// randomSplits returns block boundaries of e's entries in blocks of bs to
// split at: the first block, the last whole one and random ones.
func randomSplits(e *testonly.Election, bs int, seed uint64) []int {
	all := len(e.Entries)
	rnd := rand.New(rand.NewPCG(seed, seed))
	splits := map[int]bool{bs: true, all / bs * bs: true}
	for len(splits) < min(6, all/bs) { // all/bs: the number of block boundaries
		splits[(1+rnd.IntN(all/bs))*bs] = true
	}
	return slices.Sorted(maps.Keys(splits))
}

// checkIncremental is TestIncrementalEqualsFull on e sealed in blocks of
// bs, saving the state at each split (a block boundary), with the records
// tampered(k) after split k.
func checkIncremental(t *testing.T, e *testonly.Election, bs int, splits []int, tampered func(k int) []tampering) {
	all := e.Entries
	full := newSealedNode(t, e, all, bs)
	want, err := followSeeded(full, client.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantSum := summary(t, want)
	slices.Sort(splits)
	for _, k := range slices.Compact(splits) {
		if k%bs != 0 || k <= 0 || k > len(all) {
			t.Fatalf("split %d is not the end of a block of %d", k, bs)
		}
		t.Run(fmt.Sprintf("split=%d", k), func(t *testing.T) {
			_, state := savedAfter(t, newSealedNode(t, e, all[:k], bs))
			// Honest: identical to the full verification, and only the
			// blocks after the split were read.
			n := newSealedNode(t, e, all, bs)
			got, err := followSeeded(n, client.FollowOptions{State: state})
			if err != nil {
				t.Fatal(err)
			}
			if n.records != 0 || (k < len(all) && (n.since != 1 || n.sinceFrom != uint64(k/bs))) {
				t.Errorf("read the whole record %d times, the blocks from %d %d times", n.records, n.sinceFrom, n.since)
			}
			if g := summary(t, got); g != wantSum {
				t.Errorf("incremental verification differs from the full one:\n%s\nwant\n%s", g, wantSum)
			}
			// Saved again and resumed at the same size: still identical.
			again, err := got.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			if g, err := followSeeded(n, client.FollowOptions{State: again}); err != nil || summary(t, g) != wantSum {
				t.Errorf("resuming at the end: %v", err)
			}
			// Tampered after the split: the incremental path alone (Follow
			// falls back to the whole record when it fails) refuses as the
			// full verification does, naming the same step and entry.
			for _, tm := range tampered(k) {
				timeOf := tm.times
				if timeOf == nil {
					timeOf = testonly.BlockTime
				}
				bad := newTimedNode(t, e, tm.entries, bs, timeOf)
				wantS, wantErr := followSeeded(bad, client.FollowOptions{})
				gotS, gotErr := client.Resume(context.Background(), bad, client.FollowOptions{State: state, Rand: seeded.New("incremental")})
				if bad.records != 1 {
					t.Fatalf("%s: the incremental path read the whole record", tm.name)
				}
				if tm.caught && wantErr == nil {
					t.Errorf("%s: the full verification does not fail", tm.name)
				}
				if errText(gotErr) != errText(wantErr) {
					t.Errorf("%s: incremental says %v, full says %v", tm.name, gotErr, wantErr)
				}
				if (gotS == nil) != (wantS == nil) {
					t.Fatalf("%s: incremental state %v, full %v", tm.name, gotS != nil, wantS != nil)
				}
				switch {
				case gotS == nil:
				case wantErr == nil:
					if g, w := summary(t, gotS), summary(t, wantS); g != w {
						t.Errorf("%s: the verified states differ:\n%s\nwant\n%s", tm.name, g, w)
					}
				default:
					// What was found, step by step. (Counters may differ on
					// a record that stops decoding: the full pass never
					// checks the ballots pending before the bad frame, the
					// incremental one checked those before the split.)
					if g, w := findings(t, gotS.Report), findings(t, wantS.Report); g != w {
						t.Errorf("%s: the failures differ:\n%s\nwant\n%s", tm.name, g, w)
					}
				}
			}
		})
	}
}

// mixedElection is a version-3 election with a ranked, a score and a
// write-in question, mixed by trustees 2, 3, 1 and decrypted by 1 and 3,
// with its cascades, built once (without a test: a failure panics).
var mixedElection = sync.OnceValues(func() (*testonly.KindElection, map[int]*testonly.MixState) {
	e := testonly.BuildKinds(nil, "client-incremental-mixed", testonly.MixedConfig(), nil)
	return e, e.TallyMixed(testonly.Mixers())
})

// mixTamperings are mixed records that differ from the honest one only
// after entry k: a mixer's shuffle with two output rows swapped, and a
// trustee's mix decryption with one share replaced, each re-signed by
// the trustee (V14.3, V15.2).
func mixTamperings(t *testing.T, e *testonly.KindElection, mixes map[int]*testonly.MixState, k int) []tampering {
	var out []tampering
	shuffled, decrypted := false, false
	for _, q := range e.MixQuestions() {
		st := mixes[q]
		for i, seq := range st.SeqShuffles {
			if seq < k || shuffled {
				continue
			}
			shuffled = true
			ms, err := tally.ParseMixShuffle(e.Body(seq))
			if err != nil {
				t.Fatal(err)
			}
			ms.Outputs[0], ms.Outputs[1] = ms.Outputs[1], ms.Outputs[0]
			out = append(out, tampering{name: fmt.Sprintf("shuffle %d of question %d: two rows swapped, re-signed", i+1, q), caught: true,
				entries: e.WithEntry(seq, e.Resign(seq, e.TrusteeKey(ms.Trustee), ms.Bytes()))})
		}
		for _, j := range e.Config.Decrypt {
			seq := st.SeqDecrypts[j]
			if seq < k || decrypted {
				continue
			}
			decrypted = true
			md, err := tally.ParseMixDecryption(e.Body(seq))
			if err != nil {
				t.Fatal(err)
			}
			md.Shares[0][0] = md.Shares[1][0]
			out = append(out, tampering{name: fmt.Sprintf("trustee %d's decryption of question %d: a share replaced, re-signed", j, q), caught: true,
				entries: e.WithEntry(seq, e.Resign(seq, e.TrusteeKey(j), md.Bytes()))})
		}
	}
	return out
}

type tampering struct {
	name    string
	entries [][]byte
	times   func(h int) uint64 // the time of each block height (nil: testonly.BlockTime)
	caught  bool               // the full verification must fail
}

// tamperings are records that differ from the honest one only after entry
// k: an entry's byte flipped, a ballot replayed, an entry dropped.
func tamperings(e *testonly.Election, k int) []tampering {
	var out []tampering
	if k >= len(e.Entries) {
		return nil
	}
	for _, at := range []int{k, (k + len(e.Entries)) / 2, len(e.Entries) - 1} {
		for _, off := range []int{40, -3} {
			en := slices.Clone(e.Entries)
			b := slices.Clone(en[at])
			i := off
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 1
			en[at] = b
			out = append(out, tampering{name: fmt.Sprintf("entry %d byte %d flipped", at, i), entries: en})
		}
		if at < len(e.Entries)-1 { // without its last entry, the record is one in progress
			out = append(out, tampering{name: fmt.Sprintf("entry %d dropped", at), entries: withoutBallot(e.Entries, at)})
		}
	}
	for _, seq := range e.SeqCounted {
		if seq >= k {
			en := slices.Clone(e.Entries)
			en = slices.Insert(en, seq+1, e.Entries[e.SeqCounted[0]])
			out = append(out, tampering{name: fmt.Sprintf("ballot %d replayed after %d", e.SeqCounted[0], seq), entries: en})
			break
		}
	}
	return out
}

// weightedElection is testonly.WeightedConfig's election (weights 1, 3,
// 1000, 1, 7 and a late voter of weight 2), built once (without a test:
// a failure panics).
var weightedElection = sync.OnceValue(func() *testonly.Election {
	return testonly.Build(nil, "client-incremental-weighted", testonly.WeightedConfig())
})

// weightTamperings are weighted records that differ from the honest one
// only after entry k: a weight changed in the credential list or in the
// late-credentials entry, re-signed by the credential authority or not.
func weightTamperings(t *testing.T, e *testonly.Election, k int) []tampering {
	reweigh := func(seq int, from, to uint32) []byte {
		l, err := ballot.ParseCredentialList(e.Body(seq))
		if err != nil {
			t.Fatal(err)
		}
		ws := slices.Clone(l.Weights)
		i := slices.Index(ws, from)
		if i < 0 {
			t.Fatalf("entry %d has no credential of weight %d: %v", seq, from, ws)
		}
		ws[i] = to
		l2, err := ballot.NewWeightedCredentialList(l.Roll, l.Credentials, ws)
		if err != nil {
			t.Fatal(err)
		}
		return l2.Bytes()
	}
	var out []tampering
	if k <= e.SeqCredentials {
		out = append(out, tampering{name: "the weight 1000 made 1 in the credential list, re-signed", caught: true,
			entries: e.WithEntry(e.SeqCredentials, e.Resign(e.SeqCredentials, e.CA, reweigh(e.SeqCredentials, ballot.MaxWeight, 1)))})
	}
	if k <= e.SeqLate {
		body := reweigh(e.SeqLate, 2, 5)
		out = append(out, tampering{name: "the late voter's weight made 5, re-signed", caught: true,
			entries: e.WithEntry(e.SeqLate, e.Resign(e.SeqLate, e.CA, body))})
		en, err := bulletin.ParseEntry(e.Entries[e.SeqLate])
		if err != nil {
			t.Fatal(err)
		}
		forged, err := bulletin.NewEntry(en.Type, en.Election, en.Role, en.Author, body)
		if err != nil {
			t.Fatal(err)
		}
		forged.Sig = en.Sig
		out = append(out, tampering{name: "the late voter's weight made 5, signature kept", caught: true,
			entries: e.WithEntry(e.SeqLate, forged.Bytes())})
	}
	return out
}

// timeTamperings are windowed records whose block times differ from the
// honest ones only from the first block after entry k (blocks of bs) on:
// that block's time goes back behind the last block before the split
// (V2.4 across the split), or every block from it on lies after closes_at
// (V5.7 under the saved window).
func timeTamperings(e *testonly.Election, w ballot.Schedule, bs, k int) []tampering {
	if k >= len(e.Entries) {
		return nil
	}
	h0 := k / bs
	back := func(h int) uint64 {
		if h == h0 {
			return testonly.BlockTime(h0-1) - 1
		}
		return testonly.BlockTime(h)
	}
	late := func(h int) uint64 {
		if h >= h0 {
			return w.ClosesAt + uint64(h)
		}
		return testonly.BlockTime(h)
	}
	return []tampering{
		{name: fmt.Sprintf("block %d's time before block %d's", h0, h0-1), entries: e.Entries, times: back, caught: true},
		{name: fmt.Sprintf("blocks from %d on after closes_at", h0), entries: e.Entries, times: late,
			caught: e.SeqBallots[len(e.SeqBallots)-1] >= k},
	}
}

// TestAttackRewriteBeforeSavedState: the node operators rewrite the
// history before the party's saved state (a counted ballot dropped, every
// checkpoint re-signed) and serve it to a party that verifies
// incrementally. The new entries alone would verify; the consistency of
// the node's checkpoint with the saved one does not, and the evidence the
// party gets proves the fork offline.
func TestAttackRewriteBeforeSavedState(t *testing.T) {
	e := smallElection(t)
	const bs = 1
	closed := closedEntries(e)
	hidden := e.SeqCounted[0]
	k := hidden + 2
	_, state := savedAfter(t, newSealedNode(t, e, closed[:k], bs))
	forged := newSealedNode(t, e, withoutBallot(closed, hidden), bs)
	_, err := followSeeded(forged, client.FollowOptions{State: state})
	var fe *client.ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("incremental Follow of a rewritten history: %v, want a *ForkError", err)
	}
	if rep, err := client.CheckEvidence(fe.Evidence.Marshal()); err != nil || !rep.Proven {
		t.Fatalf("the evidence does not prove the fork: %+v, %v", rep, err)
	}
	// A node that lags behind the saved state is refused as stale.
	if _, err := followSeeded(newSealedNode(t, e, closed[:k-1], bs), client.FollowOptions{State: state}); !errors.Is(err, client.ErrStale) {
		t.Fatalf("incremental Follow of a lagging node: %v, want ErrStale", err)
	}
}

// TestStateUnusable: a damaged or foreign state is not trusted: Follow
// verifies the whole record instead.
func TestStateUnusable(t *testing.T) {
	e := smallElection(t)
	n := newSealedNode(t, e, e.Entries, 4)
	s, state := savedAfter(t, n)
	for i, bad := range [][]byte{{}, []byte("urna-verified-state"), state[:len(state)-1], append(slices.Clone(state[:100]), state[101:]...)} {
		n.records, n.since = 0, 0
		got, err := followSeeded(n, client.FollowOptions{State: append(bad, 0)})
		if err != nil || n.records != 1 || summary(t, got) != summary(t, s) {
			t.Errorf("state %d: %v, whole record read %d times", i, err, n.records)
		}
	}
}

// TestStateOlderVersion: a state saved by an older version (3, before the
// report listed the opened audits) is refused with its version
// named, and Follow verifies the whole record instead, reaching the same
// verified state as without any state.
func TestStateOlderVersion(t *testing.T) {
	e, _ := mixedElection()
	n := newSealedNode(t, e.Election, e.Entries, 4)
	s, state := savedAfter(t, n)
	old := slices.Clone(state[:len(state)-sha256.Size])
	if v := old[len("urna-verified-state")]; v != 4 {
		t.Fatalf("state version %d, want 4", v)
	}
	old[len("urna-verified-state")] = 3
	sum := sha256.Sum256(old)
	old = append(old, sum[:]...)
	if _, err := client.Resume(context.Background(), n, client.FollowOptions{State: old}); !errors.Is(err, client.ErrState) || !strings.Contains(err.Error(), "version 3, want 4") {
		t.Fatalf("resuming from a version-3 state: %v", err)
	}
	n.records, n.since = 0, 0
	got, err := followSeeded(n, client.FollowOptions{State: old})
	if err != nil || n.records != 1 || n.since != 0 || summary(t, got) != summary(t, s) {
		t.Fatalf("following from a version-3 state: %v, whole record read %d times", err, n.records)
	}
}

// TestAttackRewriteShuffleBeforeSavedState: the node operators replace a
// shuffle that a trustee verified and saved its state after by another
// valid shuffle of the same input by the same mixer (re-signed, every
// checkpoint re-signed), to re-link the cascade behind the trustee's back.
// The suffix alone would not show it; the consistency with the saved
// checkpoint does, and the evidence proves the fork offline.
func TestAttackRewriteShuffleBeforeSavedState(t *testing.T) {
	e, mixes := mixedElection()
	const bs = 1
	st := mixes[e.MixQuestions()[0]]
	seq := st.SeqShuffles[0]
	_, state := savedAfter(t, newSealedNode(t, e.Election, e.Entries[:seq+1], bs))
	ms, err := tally.ParseMixShuffle(e.Body(seq))
	if err != nil {
		t.Fatal(err)
	}
	again, err := tally.Mix(seeded.New("remix"), e.Fingerprint(), e.JointKey, ms.Question, ms.Trustee, ms.Position, ms.Width, st.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	// The forged history goes on from the other shuffle: the next mixer's
	// shuffle of its rows, so that it verifies by itself.
	next, _ := e.ShuffleEntry(ms.Question, 3, ms.Position+1, again.Outputs)
	history := append(slices.Clone(e.Entries[:seq]), e.Resign(seq, e.TrusteeKey(ms.Trustee), again.Bytes()), next)
	if _, err := followSeeded(newSealedNode(t, e.Election, history, bs), client.FollowOptions{}); err != nil {
		t.Fatalf("the forged history does not verify by itself: %v", err)
	}
	forged := newSealedNode(t, e.Election, history, bs)
	_, err = followSeeded(forged, client.FollowOptions{State: state})
	var fe *client.ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("incremental Follow of a rewritten cascade: %v, want a *ForkError", err)
	}
	if rep, err := client.CheckEvidence(fe.Evidence.Marshal()); err != nil || !rep.Proven {
		t.Fatalf("the evidence does not prove the fork: %+v, %v", rep, err)
	}
}
