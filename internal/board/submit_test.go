package board

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestAttackPrecheckBlamesOnlyTheBadBallots: the node's pre-check puts the
// envelope signatures and the ballot proofs of a batch into one
// multi-scalar multiplication; a forged signature, a forged proof or both
// among good ballots MUST be refused alone, with the error the two separate
// checks gave (signature first), and every good ballot of the same batch
// accepted.
func TestAttackPrecheckBlamesOnlyTheBadBallots(t *testing.T) {
	e, c := newThreeNodes(t, 10)
	c.openElection(e)

	entries := make([][]byte, 10)
	bodies := make([][]byte, 10)
	for v := range entries {
		en, b, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
		entries[v], bodies[v] = en, b.Bytes()
	}
	// withSig returns entry with the (well-formed, wrong) signature of other.
	withSig := func(entry, other []byte) []byte {
		en := testonly.ParseEntry(t, entry)
		en.Sig = testonly.ParseEntry(t, other).Sig
		return en.Bytes()
	}
	// foreignProof returns voter v's ballot entry, correctly signed, whose
	// body is voter w's ballot with v's credential: it parses, but its
	// proofs are bound to w's credential.
	foreignProof := func(v, w int) []byte {
		body := slices.Clone(bodies[w])
		copy(body[1+32:1+64], e.Voters[v].Public().Bytes())
		return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[v].PrivateKey(), body)
	}
	malformed := func(v int) []byte {
		return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[v].PrivateKey(), bodies[v][:len(bodies[v])-1])
	}
	want := make([]error, len(entries))
	entries[2], want[2] = withSig(entries[2], entries[3]), bulletin.ErrInvalidSignature
	entries[5], want[5] = foreignProof(5, 6), bulletin.ErrInvalidProof
	entries[7], want[7] = withSig(foreignProof(7, 8), entries[3]), bulletin.ErrInvalidSignature
	entries[8], want[8] = malformed(8), bulletin.ErrMalformed
	entries[9], want[9] = withSig(malformed(9), entries[3]), bulletin.ErrInvalidSignature

	res := c.submit(entries...)
	for i, r := range res {
		if want[i] == nil {
			if r.Err != nil {
				t.Errorf("good ballot %d refused: %v", i, r.Err)
			}
			continue
		}
		if !errors.Is(r.Err, want[i]) {
			t.Errorf("ballot %d: got %v, want %v", i, r.Err, want[i])
		}
	}

	// A batch of only good ballots is accepted whole; a batch of one forged
	// signature alone is refused.
	good, _, _ := e.BallotEntry(2, testonly.Pick(1, 1))
	c.mustAccept("a good ballot alone", good)
	other, _, _ := e.BallotEntry(4, testonly.Pick(1, 1))
	c.mustReject("a forged signature alone", withSig(other, entries[3]), bulletin.ErrInvalidSignature)
}

// TestSubmitAnswers: a post's answer names the entry's ID, whether it was
// accepted, refused before proposal or refused by the rules, and an
// accepted ballot's or audit's tracker, the same on a resubmission (the
// leader takes an accepted entry's ID and tracker from its own apply, and
// hashes every other post itself).
func TestSubmitAnswers(t *testing.T) {
	e, c := newThreeNodes(t, 4)
	c.openElection(e)
	good, b0, s0 := e.BallotEntry(0, testonly.Pick(0, 1))
	other, b1, _ := e.BallotEntry(1, testonly.Pick(1, 0))
	_, b2, s2 := e.BallotEntry(2, testonly.Pick(2, 1))
	audit := e.AuditEntry(b2, s2)
	short := good[:len(good)-1]
	audited := e.AuditedEntry(3, b0, s0) // voter 3 opening voter 0's ballot: refused
	entries := [][]byte{good, short, other, audit, audited}
	t0, t1, t2 := b0.Tracker(), b1.Tracker(), b2.Tracker()
	wantTracker := [][]byte{t0[:], nil, t1[:], t2[:], nil}
	check := func(name string, res []Posted, accepted []bool) {
		t.Helper()
		for i, r := range res {
			if r.ID != bulletin.EntryID(entries[i]) {
				t.Errorf("%s: entry %d: ID %x, want %x", name, i, r.ID[:8], bulletin.EntryID(entries[i]))
			}
			if (r.Err == nil) != accepted[i] {
				t.Errorf("%s: entry %d: accepted %v, want %v (%v)", name, i, r.Err == nil, accepted[i], r.Err)
			}
			if r.Err == nil && !bytes.Equal(r.Tracker, wantTracker[i]) {
				t.Errorf("%s: entry %d: tracker %x, want %x", name, i, r.Tracker, wantTracker[i])
			}
		}
	}
	first := c.submit(entries...)
	check("first", first, []bool{true, false, true, true, false})
	again := c.submit(entries...)
	check("again", again, []bool{true, false, true, true, false})
	for _, i := range []int{0, 2, 3} {
		if again[i].Seq != first[i].Seq {
			t.Errorf("entry %d resubmitted at %d, first at %d", i, again[i].Seq, first[i].Seq)
		}
	}
}

// BenchmarkPreCheck compares the node's pre-check of 512 cast ballots with
// their envelope signatures and proofs in one multi-scalar multiplication
// (joint, preCheckBallots) against two (separate, bulletin.PreCheck then
// the proofs), in one process, on one core:
//
//	go test ./internal/board -run '^$' -bench PreCheck -benchtime 10x -count 3
func BenchmarkPreCheck(b *testing.B) {
	const n = 512
	e := testonly.NewElection(b, "board test election", testonly.Config{Voters: 16})
	e.ManifestEntry()
	e.CredentialsEntry()
	e.DealEntries()
	e.ConfirmationEntries()
	e.OpenEntry()
	raw := make([][]byte, n)
	for i := range raw {
		raw[i] = e.BallotWith(seeded.New(fmt.Sprint(i)), i%16, testonly.Pick(i%3, i%2))
	}
	v := &state{rules: &bulletin.ElectionState{Phase: bulletin.PhaseOpen, Election: e.Fingerprint()}}
	sp := &bulletin.StandardProofs{Manifest: e.Manifest, JointKey: e.JointKey}
	parse := func() []*bulletin.Entry {
		out := make([]*bulletin.Entry, n)
		for i, r := range raw {
			var err error
			if out[i], err = bulletin.ParseEntry(r); err != nil {
				b.Fatal(err)
			}
		}
		return out
	}
	run := func(b *testing.B, check func([]*bulletin.Entry) []error) {
		entries := parse()
		b.ResetTimer()
		for range b.N {
			for i, err := range check(entries) {
				if err != nil {
					b.Fatalf("ballot %d: %v", i, err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/ballot")
	}
	b.Run("separate", func(b *testing.B) {
		run(b, func(en []*bulletin.Entry) []error { return bulletin.PreCheck(rand.Reader, v.rules, en, sp) })
	})
	b.Run("joint", func(b *testing.B) {
		run(b, func(en []*bulletin.Entry) []error { return preCheckBallots(v, sp, en) })
	})
}

// TestAttackCredentialListNotCanonical: a credential list whose last
// element is no canonical encoding (SPEC.md V6.2) is refused by the
// pre-check with the rules' own error, and nothing is proposed. Apply
// reads lists without decoding their elements (applyBodies.Credentials),
// so the pre-check is where a list is decoded strictly.
func TestAttackCredentialListNotCanonical(t *testing.T) {
	e, c := newThreeNodes(t, 3)
	c.mustAccept("manifest", e.ManifestEntry())
	good, err := bulletin.ParseEntry(e.CredentialsEntry())
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Clone(good.Body)
	copy(body[len(body)-32:], bytes.Repeat([]byte{0xff}, 32))
	want := func() error {
		_, err := bulletin.StandardBodies{}.Credentials(bulletin.TypeCredentials, body)
		return err
	}()
	if want == nil {
		t.Fatal("the forged list decodes")
	}
	res := c.submit(e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, body))
	if res[0].Err == nil || !strings.HasSuffix(res[0].Err.Error(), want.Error()) {
		t.Fatalf("a list with a non-canonical credential: %v, want the rules' %v", res[0].Err, want)
	}
	if n := c.leader().board.current().entries; n != 1 {
		t.Fatalf("the board holds %d entries, want the manifest alone", n)
	}
	c.mustAccept("credentials", e.CredentialsEntry())
}

// TestAttackPostAfterClose: an honest node refuses a ballot posted from
// closes_at on (its own clock), before checking its proofs, naming the
// times; and its stamps never go back behind the last block's time even
// when its clock is slow (a new leader's may be).
func TestAttackPostAfterClose(t *testing.T) {
	e := testonly.NewElection(t, "board window submit", testonly.Config{Voters: 3, Schedule: windowSchedule(true)})
	clock := newFakeClock(int64(windowOpens) + 1000)
	c := newTCluster(t, e.NodeKeys(), boltOpener, nil)
	c.now = clock.Now
	c.startAll("n1")
	c.openElection(e)
	b0, _, _ := e.BallotEntry(0, testonly.Pick(0, 0))
	c.mustAccept("a ballot in the window", b0)
	clock.Set(int64(windowOpens) - 5000)
	b1, _, _ := e.BallotEntry(1, testonly.Pick(1, 0))
	c.mustAccept("a ballot from a node with a slow clock", b1)
	if last := c.leader().board.current().last.Time; last != windowOpens+1000 {
		t.Fatalf("block time %d after a slow clock, want %d (held)", last, windowOpens+1000)
	}
	clock.Set(int64(windowCloses))
	b2, _, _ := e.BallotEntry(2, testonly.Pick(2, 1))
	p := c.submit(b2)[0]
	if !errors.Is(p.Err, bulletin.ErrClosed) || !strings.Contains(p.Err.Error(), "closed at 2027-01-15T09:00:00Z") {
		t.Fatalf("ballot at closes_at: %v", p.Err)
	}
	if got := c.leader().board.current().rules.Ballots; got != 2 {
		t.Fatalf("%d ballots on the board, want 2", got)
	}
	clock.Set(int64(windowOpens) - 1)
	c.mustAccept("the close (manual close allowed)", e.CloseEntry())
}

// TestSubmitLargerThanOneEntry: a post whose entries do not fit one Raft
// log entry (replica.Node.FitEntry) is proposed in several, one after the
// other, and every entry is accepted at the position its order in the post
// gives.
func TestSubmitLargerThanOneEntry(t *testing.T) {
	const voters = 240
	e, c := newThreeNodes(t, voters)
	c.openElection(e)
	var entries [][]byte
	size := 0
	for v := range voters {
		en, _, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
		entries = append(entries, en)
		size += len(en)
	}
	if limit := replica.DefaultConfig().MaxBatchBytes; size < 3*limit/2 {
		t.Fatalf("test setup: %d ballots of %d bytes in all, want more than 1.5 entries of %d bytes", voters, size, limit)
	}
	res := c.submit(entries...)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("ballot %d: %v", i, r.Err)
		}
		if i > 0 && r.Seq != res[i-1].Seq+1 {
			t.Fatalf("ballot %d at position %d after ballot %d at %d, want the post's order", i, r.Seq, i-1, res[i-1].Seq)
		}
	}
}
