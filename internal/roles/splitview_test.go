package roles_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/internal/witness"
)

// Issue 9, finding 5: operators who hold the node keys show one trustee
// a history without a ballot. Without witnesses the forked record
// verifies on its own (every signature in it is real) and the trustee
// would decrypt its aggregate. With a witness quorum in the manifest the
// witnesses, which cosigned the honest history, refuse the forked
// checkpoints; no checkpoint of the forked view opens (V3.9), and the
// trustee refuses before making any partial decryption.
func TestAttackSplitViewCaughtByWitnesses(t *testing.T) {
	names := []string{"witness-1.example/urna", "witness-2.example"}
	var keys []testonly.Witness
	var listed []map[string]string
	handlers := make([]atomic.Pointer[http.Handler], len(names))
	urls := map[string]string{}
	wits := make([]*witness.Witness, len(names))
	for i, n := range names {
		keys = append(keys, testonly.NewWitness(n))
		listed = append(listed, map[string]string{"name": n, "key": wire.EncodeB64(keys[i].Public())})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h := handlers[i].Load(); h != nil {
				(*h).ServeHTTP(w, r)
				return
			}
			http.Error(w, "witness not started", http.StatusServiceUnavailable)
		}))
		t.Cleanup(srv.Close)
		urls[n] = srv.URL
	}
	e := newLiveElection(t, liveConfig{
		Template: map[string]any{"version": ballot.ManifestVersionWitnessed, "witnesses": listed, "witness_quorum": len(names)},
		Manifest: func(m *ballot.Manifest) {
			for i, n := range names {
				w, err := witness.New(witness.Config{Name: n, Key: keys[i].Key, Dir: t.TempDir(), Elections: []*ballot.Manifest{m}})
				must(t, err)
				h := w.Handler()
				handlers[i].Store(&h)
				wits[i] = w
			}
		},
		Node: func(c *server.Config) { c.Witnesses = urls },
	})
	ctx := context.Background()
	e.voteAndClose()
	must(t, roles.WaitCheckpoint(ctx, e.direct, 15*time.Second))
	honest := e.entries()
	var honestRaw [][]byte
	hidden := -1
	for i, ent := range honest {
		if ent.Type == bulletin.TypeBallot && hidden < 0 {
			hidden = i // the first voter's ballot disappears from the fork
			continue
		}
		honestRaw = append(honestRaw, ent.Bytes())
	}

	// The operators re-sign the history without that ballot.
	fork := testonly.Resealer(t, "split view", e.manifest, []testonly.Node{{ID: "n1", Key: e.nodeKey}}, honestRaw).SealWith(honestRaw, 4, nil)
	forkNote := fork.Notes[len(fork.Notes)-1]
	nodesOnly := bulletin.BoardFor(e.manifest)
	nodesOnly.Witnesses, nodesOnly.WitnessQuorum = nil, 0
	forkCP, err := nodesOnly.Open(forkNote) // valid node signatures, no cosignature
	must(t, err)
	// The witnesses saw the honest history: they refuse to cosign the fork.
	for i, n := range names {
		latest := wits[i].Latest(forkCP.Origin)
		lc, err := nodesOnly.Open(latest)
		must(t, err)
		for _, old := range []uint64{lc.Size, 0} {
			_, err = (&witness.Client{URL: urls[n]}).AddCheckpoint(ctx, &witness.Request{OldSize: old, Note: forkNote})
			if err == nil {
				t.Fatalf("witness %s cosigned a forked checkpoint of size %d after cosigning the honest one of size %d", n, forkCP.Size, lc.Size)
			}
			t.Logf("witness %s refuses the fork (old size %d): %v", n, old, err)
		}
		if !bytes.Equal(wits[i].Latest(forkCP.Origin), latest) {
			t.Fatalf("witness %s moved to the forked history", n)
		}
	}

	// A consistent liar in front of the honest node shows trustee 1 only
	// the fork: its record, its newest checkpoint and its size. It keeps
	// whatever the trustee posts.
	rec := fork.Encode()
	cpJSON, _ := json.Marshal(api.Checkpoint{Size: forkCP.Size, Root: hex.EncodeToString(forkCP.Root[:]), Note: string(forkNote), Signers: []string{"n1"}})
	p := testonly.NewProxy(t, e.node.APIAddr)
	p.Set(serveView(snapshot{record: rec, checkpoint: cpJSON}, true), testonly.HoldAll)
	res, err := roles.Decrypt(ctx, rand.Reader, e.client(p.URL()), e.trustees[0])
	if err == nil {
		t.Fatalf("trustee 1 decrypted a history without entry %d that no witness cosigned (entry %d)", hidden, res.Seq)
	}
	if !strings.Contains(err.Error(), "witness") {
		t.Fatalf("the refusal %q does not name the missing witness cosignatures", err)
	}
	t.Logf("trustee 1 refuses: %v", err)
	if held := heldEntries(t, p); len(held) != 0 {
		t.Fatalf("trustee 1 sent %d entries (%s) on the forked view", len(held), held[0].Type)
	}
	if n := e.count(bulletin.TypePartialDecryption); n != 0 {
		t.Fatalf("%d partial decryptions on the board after the forked view", n)
	}
}
