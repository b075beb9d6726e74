package roles_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestIncrementalContact: a trustee's later contact reads only what the
// board added since its saved state (GET /blocks and /entries from there,
// never GET /record), and a node whose pages are tampered with costs the
// trustee a full read of the record, not a wrong verdict.
func TestIncrementalContact(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	tr := e.trustees[0]
	if _, err := os.Stat(filepath.Join(tr.Dir, roles.StateFile)); err != nil {
		t.Fatalf("no saved state after the key ceremony: %v", err)
	}
	for v := range 3 {
		e.vote(v, picks[v], "")
	}
	ctx := context.Background()
	_, err := roles.Close(ctx, rand.Reader, e.direct, e.dir("ea"), "")
	must(t, err)

	p := testonly.NewProxy(t, e.node.APIAddr)
	e.decryptReadingSuffix(p, tr)

	// A proxy hiding a ballot from /entries: the pages do not frame the
	// node's blocks, the trustee reads the (honest) record instead and
	// decrypts the board's aggregate.
	tr2 := e.trustees[1]
	p.Set(hideBallots(t, e.direct), nil)
	e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.client(p.URL()), tr2); return err })
	var rec bytes.Buffer
	_, err = e.direct.WriteRecord(ctx, &rec)
	must(t, err)
	s, err := client.FollowRecord(&rec, client.FollowOptions{})
	must(t, err)
	if len(s.Partials) != 2 || len(s.Invalid) != 0 {
		t.Fatalf("partial decryptions on the board: %d valid, invalid %v; want both trustees' valid (V12 against the board's aggregate)", len(s.Partials), s.Invalid)
	}
}
