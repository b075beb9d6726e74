package roles_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestIncrementalContact: a trustee's later contact reads only what the
// board added since its saved state (the record suffix, GET
// /record?from=&size=, never the whole record), and a node whose suffix
// is tampered with costs the trustee a full read of the record, not a
// wrong verdict.
func TestIncrementalContact(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	tr := e.trustees[0]
	if _, err := os.Stat(filepath.Join(tr.Dir, roles.StateFile)); err != nil {
		t.Fatalf("no saved state after the key ceremony: %v", err)
	}
	e.voteAndClose()
	ctx := context.Background()

	p := testonly.NewProxy(t, e.node.APIAddr)
	e.decryptReadingSuffix(p, tr)

	// A proxy hiding the ballots from the suffix: its blocks do not chain
	// to the trustee's, the trustee reads the (honest) record instead and
	// decrypts the board's aggregate.
	tr2 := e.trustees[1]
	p.Set(hideBallots(t, e.direct), nil)
	e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, e.client(p.URL()), tr2); return err })
	var rec bytes.Buffer
	_, err := e.direct.WriteRecord(ctx, &rec)
	must(t, err)
	s, err := client.FollowRecord(&rec, client.FollowOptions{})
	must(t, err)
	if len(s.Partials) != 2 || len(s.Invalid) != 0 {
		t.Fatalf("partial decryptions on the board: %d valid, invalid %v; want both trustees' valid (V12 against the board's aggregate)", len(s.Partials), s.Invalid)
	}
}

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
	res := e.tally()
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

// TestAttackRecordSuffix: a node (a proxy in front of an honest one)
// answers a party's incremental read, the record suffix after its saved
// state (GET /record?from=&size=), with one that does not extend what the
// party holds: an entry rewritten, blocks from another height, a stream
// cut short. The party never takes it: it reads the whole record and
// verifies that instead, and when the whole record is rewritten too it
// refuses to go on, saving nothing.
func TestAttackRecordSuffix(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	ctx := context.Background()
	tr := e.trustees[0]
	mem, err := roles.OpenMemory(tr.Dir)
	must(t, err)
	p := testonly.NewProxy(t, e.node.APIAddr)
	flipLast := func(blocks []*bulletin.RecordBlock) {
		b := blocks[len(blocks)-1]
		raw := slices.Clone(b.Raw[len(b.Raw)-1])
		raw[len(raw)-70] ^= 1 // the last byte of the body
		b.Raw[len(b.Raw)-1] = raw
	}
	var mu sync.Mutex
	var whole, suffixes int
	tamper := func(suffix, record func(r *http.Request, body []byte) []byte) {
		p.Set(func(path string, r *http.Request, body []byte) []byte {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case isSuffix(path, r):
				suffixes++
				return suffix(r, body)
			case path == api.Prefix+"/record":
				whole++
				if record != nil {
					return record(r, body)
				}
			}
			return body
		}, nil)
	}
	for v, tc := range []struct {
		name   string
		suffix func(r *http.Request, body []byte) []byte
	}{
		{"an entry rewritten", func(_ *http.Request, body []byte) []byte { return rewriteRecord(t, body, flipLast) }},
		{"the blocks from the height before", func(r *http.Request, _ []byte) []byte {
			from, _ := strconv.ParseUint(r.URL.Query().Get(api.RecordFromParam), 10, 64)
			size, _ := strconv.ParseUint(r.URL.Query().Get(api.RecordSizeParam), 10, 64)
			rc, err := e.direct.RecordSuffix(r.Context(), from-1, size)
			must(t, err)
			defer rc.Close()
			body, err := io.ReadAll(rc)
			must(t, err)
			return body
		}},
		{"a stream cut short", func(_ *http.Request, body []byte) []byte { return body[:len(body)/2] }},
	} {
		e.vote(v, picks[v], "")
		must(t, roles.WaitCheckpoint(ctx, e.direct, 15*time.Second))
		whole, suffixes = 0, 0
		tamper(tc.suffix, nil)
		out, err := roles.Follow(ctx, rand.Reader, mem, e.client(p.URL()))
		if err != nil || !out.OK {
			t.Fatalf("%s: Follow = %+v, %v; want the honest whole record verified", tc.name, out, err)
		}
		if suffixes == 0 || whole == 0 {
			t.Fatalf("%s: the party read %d suffixes and %d whole records; want the suffix refused and the whole record read", tc.name, suffixes, whole)
		}
		if out.StateUnused == "" {
			t.Fatalf("%s: the whole record was read, but the outcome does not say why the saved state was not used", tc.name)
		}
	}

	// The whole record rewritten as well: the party refuses, and its saved
	// state stays where it was.
	before, err := mem.LoadState()
	must(t, err)
	e.vote(3, picks[3], "")
	must(t, roles.WaitCheckpoint(ctx, e.direct, 15*time.Second))
	flip := func(_ *http.Request, body []byte) []byte { return rewriteRecord(t, body, flipLast) }
	tamper(flip, flip)
	if out, err := roles.Follow(ctx, rand.Reader, mem, e.client(p.URL())); err == nil || (out != nil && out.OK) {
		t.Fatalf("a rewritten suffix and record: Follow = %+v, %v; want a refusal", out, err)
	}
	after, err := mem.LoadState()
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Fatal("the party saved a state after refusing the node's record")
	}
	// Through the honest node, the party follows on from its state.
	p.Set(nil, nil)
	if out, err := roles.Follow(ctx, rand.Reader, mem, e.client(p.URL())); err != nil || !out.OK || out.StateUnused != "" {
		t.Fatalf("the honest node after the attack: Follow = %+v, %v", out, err)
	}
}
