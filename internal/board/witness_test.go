package board

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/witness"
)

// TestElectionWithWitnesses: a whole election on a 3-node cluster whose
// manifest names two witnesses with a witness quorum of 2 (SPEC.md
// §3.13). The leader submits each quorum checkpoint to both witnesses
// (real HTTP, C2SP tlog-witness) and replicates their cosignatures; every
// node then serves checkpoints, receipts and the record with both
// cosignatures, which open under the manifest's rules (V3.9).
func TestElectionWithWitnesses(t *testing.T) {
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: 8})
	ws, keys := witnessKeys("witness-1.example/urna", "witness-2.example")
	e.UseWitnesses(ws, 2)
	clients, wits := serveWitnesses(t, ws, keys, e.Manifest)
	c := newTCluster(t, e.NodeKeys(), boltOpener, nil)
	c.witnesses = clients
	c.startAll("n1", "n2", "n3")
	want := runElection(t, c, e)
	st := c.waitAgree(true)
	// Cosignatures trail the node quorum: wait until every node's attested
	// checkpoint covers the whole log.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		c.mu.Lock()
		for _, n := range c.nodes {
			if v := n.board.FSM.current(); v.witnessedCP != st.entries {
				ok = false
			}
		}
		c.mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the witness quorum never cosigned the final checkpoint")
		}
		time.Sleep(20 * time.Millisecond)
	}
	checkFinal(t, c, e, want)
	for id, n := range c.nodes {
		cp, err := n.board.Checkpoint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(cp.Cosigners) != 2 || !strings.Contains(string(cp.Note), "— witness-1.example/urna ") || !strings.Contains(string(cp.Note), "— witness-2.example ") {
			t.Fatalf("%s: checkpoint cosigners %v:\n%s", id, cp.Cosigners, cp.Note)
		}
	}
	// The witnesses hold the same final checkpoint.
	for i, w := range wits {
		if got := w.Latest(e.Board().Origin); !strings.Contains(string(got), "\n"+strconv.FormatUint(st.entries, 10)+"\n") {
			t.Fatalf("witness %d is at:\n%s", i, got)
		}
	}
}

// witnessKeys names witnesses with keys derived from their names.
func witnessKeys(names ...string) ([]ballot.Witness, []ed25519.PrivateKey) {
	var ws []ballot.Witness
	var keys []ed25519.PrivateKey
	for _, n := range names {
		s := sha256.Sum256([]byte(n))
		k := ed25519.NewKeyFromSeed(s[:])
		keys = append(keys, k)
		ws = append(ws, ballot.Witness{Name: n, Key: k.Public().(ed25519.PublicKey)})
	}
	return ws, keys
}

// serveWitnesses runs each witness of ws over HTTP for the elections of
// manifests until the test ends, and returns the nodes' clients of them.
func serveWitnesses(t *testing.T, ws []ballot.Witness, keys []ed25519.PrivateKey, manifests ...*ballot.Manifest) (map[string]WitnessClient, []*witness.Witness) {
	t.Helper()
	clients := map[string]WitnessClient{}
	var wits []*witness.Witness
	for i, w := range ws {
		wi, err := witness.New(witness.Config{Name: w.Name, Key: keys[i], Dir: t.TempDir(), Elections: manifests})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(wi.Handler())
		t.Cleanup(srv.Close)
		clients[w.Name] = &witness.Client{URL: srv.URL}
		wits = append(wits, wi)
	}
	return clients, wits
}
