package board

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// runElection drives a whole election through cluster c, checking every
// phase's forbidden posts, and returns the expected result counts.
func runElection(t *testing.T, c *tcluster, e *testonly.Election) [][]uint64 {
	manifest := e.ManifestEntry()
	creds := e.CredentialsEntry()

	c.mustReject("credentials before the manifest", creds, bulletin.ErrWrongPhase)
	c.mustAccept("manifest", manifest)
	c.mustRepeat("manifest again", manifest)
	c.mustReject("close in setup", e.CloseEntry(), bulletin.ErrWrongPhase)
	c.mustAccept("credentials", creds)
	c.mustRepeat("credentials again", creds)

	deals := e.DealEntries()
	c.mustReject("open before the deals", e.OpenEntry(), bulletin.ErrWrongPhase)
	c.mustAccept("deals", deals...)
	c.mustRepeat("deal again", deals[0])
	c.mustAccept("confirmations", e.ConfirmationEntries()...)
	open := e.OpenEntry()
	c.mustAccept("open", open)
	c.mustRepeat("open again", open)

	// Ballots: voters 0..5 vote, voter 0 revotes, voter 1 audits one ballot first.
	var counted []*ballot.Ballot
	want := [][]uint64{make([]uint64, 3), make([]uint64, 4)} // testonly.Questions: chair, committee
	first, b0, _ := e.BallotEntry(0, testonly.Pick(0, 1))
	var entries [][]byte
	entries = append(entries, first)
	var lastOf = map[int]*ballot.Ballot{0: b0}
	choices := map[int][2]int{0: {0, 1}}
	for v := 1; v <= 5; v++ {
		en, b, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
		entries = append(entries, en)
		lastOf[v], choices[v] = b, [2]int{v % 3, v % 2}
	}
	res := c.mustAccept("ballots", entries...)
	if res[0].Tracker == nil || res[0].Block == 0 {
		t.Fatalf("ballot result lacks tracker or block: %+v", res[0])
	}
	c.mustRepeat("the same ballot again", first)
	revote, rb, _ := e.BallotEntry(0, testonly.Pick(2, 0))
	c.mustAccept("revote", revote)
	lastOf[0], choices[0] = rb, [2]int{2, 0}

	aud, ab, as := e.BallotEntry(1, testonly.Pick(1, 0))
	c.mustAccept("audit", e.AuditEntry(ab, as))
	c.mustReject("casting an audited ballot", aud, bulletin.ErrAudited)

	stranger := e.Stranger()
	foreign := e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, stranger, rb.Bytes())
	c.mustReject("ballot by an unregistered credential", foreign, bulletin.ErrUnknownCredential)

	forged := slices.Clone(revote)
	forged[len(forged)-1] ^= 1
	res = c.submit(forged)
	if res[0].Err == nil {
		t.Fatal("forged signature accepted")
	}

	// Trackers: the first ballot of voter 0 is superseded, the revote counts.
	ctx := context.Background()
	l := c.leader()
	// Voters 0..5 cast ballots; voter 0's revote, the repeated post and
	// the audit count no voter twice.
	if el, err := l.board.Election(ctx); err != nil || el.Voted != 6 || el.Rules.Ballots != 7 {
		t.Fatalf("voters who voted: %+v, %v; want 6 voters, 7 ballots", el, err)
	}
	trackerOf := func(b []byte) []byte { tr := ballot.TrackerOf(b); return tr[:] }
	ti, err := l.board.Tracker(ctx, trackerOf(rb.Bytes())[:5]) // the short form's 40 bits
	if err != nil || !ti.Counts || ti.Audited {
		t.Fatalf("revote tracker: %+v, %v", ti, err)
	}
	ti, err = l.board.Tracker(ctx, trackerOf(b0.Bytes()))
	if err != nil || ti.Counts || ti.SupersededBy == nil {
		t.Fatalf("first ballot tracker: %+v, %v", ti, err)
	}
	ti, err = l.board.Tracker(ctx, trackerOf(ab.Bytes()))
	if err != nil || !ti.Audited || ti.Counts {
		t.Fatalf("audited tracker: %+v, %v", ti, err)
	}

	c.mustAccept("close", e.CloseEntry())
	late, _, _ := e.BallotEntry(2, testonly.Pick(0, 0))
	c.mustReject("ballot after close", late, bulletin.ErrClosed)

	for v := 0; v <= 5; v++ {
		counted = append(counted, lastOf[v])
		want[0][choices[v][0]]++
		want[1][choices[v][1]]++
	}
	partials, result, tallied := e.TallyEntries(counted)
	counts := tallied.Counts
	for q := range want {
		if !slices.Equal(counts[q], want[q]) {
			t.Fatalf("question %d: tally %v, want %v", q, counts[q], want[q])
		}
	}
	c.mustReject("result before the partials", result, bulletin.ErrWrongPhase)
	c.mustAccept("partial 1", partials[0])
	c.mustRepeat("partial 1 again", partials[0])
	c.mustAccept("partial 2", partials[1])
	c.mustAccept("result", result)
	c.mustReject("post after the result", e.CloseEntry(), bulletin.ErrClosed)
	return want
}

func TestElectionOnCluster(t *testing.T) {
	e, c := newThreeNodes(t, 8)
	want := runElection(t, c, e)
	checkFinal(t, c, e, want)
}

// checkFinal checks that all replicas agree, the results, a receipt and the record.
func checkFinal(t *testing.T, c *tcluster, e *testonly.Election, want [][]uint64) {
	t.Helper()
	st := c.waitAgree(true)
	c.compareBlocks()
	t.Logf("%d nodes agree: %d entries, %d blocks, checkpoint of size %d", len(c.nodes), st.entries, st.blocks, st.quorumCP)
	ctx := context.Background()
	for id, n := range c.nodes {
		r, err := n.board.Result(ctx)
		if err != nil {
			t.Fatalf("%s results: %v", id, err)
		}
		for q := range want {
			if len(r.Result.Counts[q]) != len(r.Manifest.Questions[q].Options) {
				t.Fatalf("%s: question %d: %d counts for %d options", id, q, len(r.Result.Counts[q]), len(r.Manifest.Questions[q].Options))
			}
			for o, count := range r.Result.Counts[q] {
				if count != want[q][o] {
					t.Fatalf("%s: question %d option %d: %d, want %d", id, q, o, count, want[q][o])
				}
			}
		}
		cp, err := n.board.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Checkpoint.Size != st.entries || len(cp.Signers) < 2 {
			t.Fatalf("%s checkpoint: size %d signers %v, want size %d", id, cp.Checkpoint.Size, cp.Signers, st.entries)
		}
		bd := e.Board()
		if _, err := bd.Open(cp.Note); err != nil {
			t.Fatalf("%s checkpoint note: %v", id, err)
		}
		rc, err := n.board.Receipt(ctx, 9)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := bulletin.ParseReceipt(rc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := bd.VerifyReceipt(parsed); err != nil {
			t.Fatalf("%s receipt: %v", id, err)
		}
	}
	var rec bytes.Buffer
	if err := c.leader().board.WriteRecord(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	blocks, _ := testonly.ReadRecord(t, &rec)
	var n uint64
	for _, blk := range blocks {
		n += uint64(blk.Header.Count)
	}
	if n != st.entries {
		t.Fatalf("record holds %d entries, board %d", n, st.entries)
	}
}
