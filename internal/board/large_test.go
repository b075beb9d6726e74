package board

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// largeCredentialList is a weighted list of n credentials, 36·n bytes;
// n = ballot.MaxCredentials (2^20, 36 MiB) is the largest the rules
// accept. Its credentials are testonly.LargeCredentials.
func largeCredentialList(t testing.TB, n int) []byte {
	t.Helper()
	ws := make([]uint32, n)
	for i := range ws {
		ws[i] = uint32(1 + i%ballot.MaxWeight)
	}
	l, err := ballot.NewWeightedCredentialList(testonly.Roll, testonly.LargeCredentials(n), ws)
	if err != nil {
		t.Fatal(err)
	}
	return l.Bytes()
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t testing.TB) uint64 {
	n, ok, err := testonly.ProcStatus("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("no VmHWM in /proc/self/status")
	}
	return n
}

// largeCluster is a cluster for large entries: Raft over TCP (raft's
// network transport, as in production, with its heartbeat fast path) and
// the production Raft timeouts, which tolerate a node busy writing a
// large entry; the test cluster's 100 ms timers do not.
func largeCluster(t *testing.T, e *testonly.Election, open func(testing.TB, string, string) store.Store) *tcluster {
	d := replica.DefaultConfig()
	c := newTCluster(t, e.NodeKeys(), open, func(rc *replica.Config) {
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	})
	c.tcp = true
	// Replicating tens of MiB on a busy machine can cost the leader its
	// lease more than once (CI with two CPU burners: 20 s ran out).
	c.wait = 3 * time.Minute
	return c
}

// TestLargestEntryOnCluster: a credential list many times a Raft batch
// (9 MiB; with URNA_LARGE_ENTRIES=1 the largest the rules accept, 36 MiB)
// goes through a 3-node cluster, pre-checked, replicated as one Raft
// command alone in its log entry, and applied by every replica alike
// (issue 11: Raft entries were capped at 1 MiB).
func TestLargestEntryOnCluster(t *testing.T) {
	runLargeEntry(t, boltOpener, largeN(ballot.MaxCredentials/4))
}

// largeN is how many credentials the large-entry tests post: n by
// default, and the rules' maximum, 2^20 (36 MiB, about 1.6 GiB of memory
// per node and minutes of CPU), with URNA_LARGE_ENTRIES=1.
func largeN(n int) int {
	if os.Getenv("URNA_LARGE_ENTRIES") == "1" {
		return ballot.MaxCredentials
	}
	return n
}

// runLargeEntry posts a list of n weighted credentials to a 3-node
// cluster on stores from open and wants every node to apply it.
func runLargeEntry(t *testing.T, open func(testing.TB, string, string) store.Store, n int) {
	if testing.Short() {
		t.Skip("-short: a 36 MiB credential list takes a minute of CPU")
	}
	e := testonly.NewElection(t, "board largest entry", testonly.Config{Voters: 2})
	body := largeCredentialList(t, n)
	entry := e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, body)
	c := largeCluster(t, e, open)
	c.startAll("n1", "n2", "n3")
	c.mustAccept("manifest", e.ManifestEntry())
	runtime.GC()
	before := peakRSS(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for {
		res, err := c.leader().board.Submit(ctx, [][]byte{entry})
		if errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrLeadershipLost) {
			continue // idempotent: a committed entry answers its position
		}
		if err != nil || res[0].Err != nil {
			t.Fatalf("the largest credential list: %v, %v", err, res)
		}
		break
	}
	deadline := time.Now().Add(15 * time.Minute)
	for _, id := range []string{"n1", "n2", "n3"} {
		n := c.nodes[id]
		for n.board.current().entries != 2 {
			if time.Now().After(deadline) {
				t.Fatalf("%s holds %d entries after 15 minutes, want 2", id, n.board.current().entries)
			}
			time.Sleep(50 * time.Millisecond)
		}
		got, err := n.board.Entries(context.Background(), 1, 1, 0)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, entry) {
			t.Fatalf("%s: the credential list reads back wrong (%v)", id, err)
		}
		if v := n.board.current(); v.rules.Credentials != uint64(len(body)-37)/36 || v.bytes != uint64(len(e.ManifestEntry())+len(entry)) {
			t.Fatalf("%s: %d credentials, %d bytes", id, v.rules.Credentials, v.bytes)
		}
	}
	t.Logf("a %d-byte entry on 3 nodes in one process: %v; peak RSS %d MiB before, %d MiB after (the three nodes and the test's own copies)",
		len(entry), time.Since(start).Round(time.Millisecond), before>>20, peakRSS(t)>>20)
	// The board goes on: a small entry after the large one.
	c.mustAccept("deals", e.DealEntries()...)
}

// TestAttackLargestBodyRefusedAlike: a body of the type registry's 40 MiB
// limit that is no valid credential list (here one credential too many),
// proposed by a node that skips its checks, crosses Raft as one command
// and every replica refuses it alike; the board goes on.
func TestAttackLargestBodyRefusedAlike(t *testing.T) {
	e := testonly.NewElection(t, "board largest body", testonly.Config{Voters: 2})
	body := make([]byte, bulletin.TypeCredentials.MaxBodySize())
	body[0], body[1], body[2], body[3] = 0, 0x10, 0, 1 // a count of 2^20 + 1
	entry := e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, body)
	c := largeCluster(t, e, boltOpener)
	c.skip = true
	c.startAll("n1", "n2", "n3")
	c.mustAccept("manifest", e.ManifestEntry())
	p := c.submit(entry)[0]
	if !errors.Is(p.Err, bulletin.ErrInvalidBody) && !errors.Is(p.Err, bulletin.ErrMalformed) {
		t.Fatalf("a 40 MiB body that is no credential list: %v, want it refused by the rules", p.Err)
	}
	c.mustAccept("credentials", e.CredentialsEntry())
	c.waitAgree(false)
}

// TestLargestEntryFits: every layer under the board takes the largest
// entry of bulletin's type registry: the store's values and one Raft
// command (an entry command's header and the entry).
func TestLargestEntryFits(t *testing.T) {
	if store.MaxValueSize < bulletin.MaxEntrySize {
		t.Fatalf("store.MaxValueSize %d < bulletin.MaxEntrySize %d", store.MaxValueSize, bulletin.MaxEntrySize)
	}
	if n := len(encodeEntryCmd(0, nil)) + bulletin.MaxEntrySize; replica.DefaultConfig().MaxCommandBytes < n {
		t.Fatalf("replica MaxCommandBytes %d < the largest entry command, %d bytes", replica.DefaultConfig().MaxCommandBytes, n)
	}
}
