package roles_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestMixIncrementalContact: in an election with a ranked question, a
// trustee keeps its verification state after its turn in the cascade
// (SPEC.md §10.7), so its next contact (the decryption after the other
// trustee's shuffle) reads only the blocks and entries since then, never
// the whole record; a proxy that hides a ballot from the entries pages
// costs the trustee a full read, not a wrong verdict.
func TestMixIncrementalContact(t *testing.T) {
	e := newLiveElection(t, liveConfig{Kinds: 2})
	e.castKindsAndClose()
	ctx := context.Background()
	for _, tr := range e.trustees[:2] {
		e.retry(func() error { _, err := roles.Mix(ctx, rand.Reader, e.direct, tr); return err })
		if _, err := os.Stat(filepath.Join(tr.Dir, roles.StateFile)); err != nil {
			t.Fatalf("trustee %s saved no state after its shuffle: %v", tr.Name, err)
		}
	}

	p := testonly.NewProxy(t, e.node.APIAddr)
	e.decryptReadingSuffix(p, e.trustees[0])

	// The second trustee through a proxy that hides the ballots from the
	// record suffix: it reads the honest record instead and decrypts.
	p.Set(hideBallots(t, e.direct), nil)
	e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.client(p.URL()), e.trustees[1]); return err })
	// The authority tallies from its own saved state too.
	var res *roles.TallyResult
	e.retry(func() error {
		var err error
		res, err = roles.Tally(ctx, rand.Reader, e.direct, e.dir("ea"))
		return err
	})
	if len(res.Result.Mixed) != 1 || len(res.Result.Mixed[0].Answers) != len(e.creds) {
		t.Fatalf("result's mixed answers after an incremental cascade: %+v", res.Result.Mixed)
	}
}

// decryptReadingSuffix has trustee tr decrypt through the proxy p, which
// counts the requests by path, and fails the test unless tr read only the
// record suffix since its saved state, never the whole record.
func (e *liveElection) decryptReadingSuffix(p *testonly.Proxy, tr *roles.Trustee) {
	var mu sync.Mutex
	seen := map[string]int{}
	p.Set(func(path string, r *http.Request, body []byte) []byte {
		if path == api.Prefix+"/record" && r.URL.Query().Has(api.RecordFromParam) {
			path += "?from" // the record suffix (SPEC.md §3.11)
		}
		mu.Lock()
		seen[path]++
		mu.Unlock()
		return body
	}, nil)
	e.retry(func() error {
		_, err := roles.Decrypt(context.Background(), rand.Reader, e.client(p.URL()), tr)
		return err
	})
	mu.Lock()
	defer mu.Unlock()
	if seen[api.Prefix+"/record"] != 0 || seen[api.Prefix+"/record?from"] == 0 {
		e.t.Errorf("trustee %s's contact read %v; want the record suffix since its saved state, not the whole record", tr.Name, seen)
	}
}
