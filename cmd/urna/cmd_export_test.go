package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/testonly"
)

// streamElection is a record of over 600 entries: more than a job of the
// verifier's pipeline (512 entries), so its first part can be checked
// before the rest exists.
func streamElection(t *testing.T) []byte {
	t.Helper()
	cfg := testonly.Config{Voters: 620, Ballots: 620, N: 3, T: 2, Decrypt: []int{1, 2}, Nodes: 3, BlockSize: 32}
	return testonly.Build(t, "urna-cli-stream", cfg).Record()
}

// gatedNode serves rec at GET /record in two parts: the first cut bytes,
// then, once the test opens the gate (or after two minutes, a failure),
// the rest.
func gatedNode(t *testing.T, rec []byte, cut int) (url string, open func()) {
	gate := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != api.Prefix+"/record" {
			http.NotFound(w, r)
			return
		}
		w.Write(rec[:cut])
		w.(http.Flusher).Flush()
		select {
		case <-gate:
		case <-time.After(2 * time.Minute):
			t.Errorf("the client did not use the first %d of %d bytes before the rest was sent: it holds the whole record", cut, len(rec))
		case <-r.Context().Done():
			return
		}
		w.Write(rec[cut:])
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() { once.Do(func() { close(gate) }) }
}

// TestExportVerifyStream: `urna export` and `urna verify URL` stream the
// record. The node sends most of it and waits: the exporter has written
// those bytes to disk, and the verifier has verified entries of them,
// before the node sends the rest, so neither holds the whole record.
func TestExportVerifyStream(t *testing.T) {
	rec := streamElection(t)
	cut := len(rec) * 9 / 10

	url, open := gatedNode(t, rec, cut)
	dir := t.TempDir()
	out := filepath.Join(dir, "record")
	errc := make(chan error, 1)
	go func() {
		var o, e bytes.Buffer
		errc <- run(context.Background(), []string{"export", "--node", url, "-o", out}, &o, &e)
	}()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		parts, _ := filepath.Glob(filepath.Join(dir, ".record.partial-*"))
		if len(parts) == 1 {
			if fi, err := os.Stat(parts[0]); err == nil && fi.Size() >= int64(cut) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("urna export did not write the first %d bytes before the rest came", cut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	open()
	if err := <-errc; err != nil {
		t.Fatalf("urna export: %v", err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, rec) {
		t.Fatalf("the exported record differs from the node's (%d of %d bytes)", len(got), len(rec))
	}

	url, open = gatedNode(t, rec, cut)
	verified := make(chan struct{})
	var once sync.Once
	defer func(f func(io.Reader, client.FollowOptions) (*client.Verified, error)) { follower = f }(follower)
	follower = func(r io.Reader, opts client.FollowOptions) (*client.Verified, error) {
		opts.Progress = func(step string, done, total int) {
			if done > 0 {
				once.Do(func() { close(verified); open() })
			}
		}
		return client.FollowRecord(r, opts)
	}
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"verify", "--progress", "never", url}, &o, &e); err != nil {
		t.Fatalf("urna verify URL: %v\n%s", err, o.String())
	}
	select {
	case <-verified:
	default:
		t.Fatal("urna verify URL reported no progress")
	}
}

// TestAttackExportVerifyHostileStream: a node that stalls in the middle
// of the record, cuts the connection, or ends the record early at a clean
// HTTP end. `urna export` writes no file and says why; `urna verify URL`
// says the record did not arrive whole (or, for a clean early end, which
// V1 check failed) and gives no verdict of a valid record.
func TestAttackExportVerifyHostileStream(t *testing.T) {
	rec := testonly.Build(t, "urna-cli-hostile-stream", testonly.SmallConfig()).Record()
	defer func(d time.Duration) { streamIdle = d }(streamIdle)
	streamIdle = 300 * time.Millisecond

	node := func(h func(w http.ResponseWriter, r *http.Request)) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != api.Prefix+"/record" {
				http.NotFound(w, r)
				return
			}
			h(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	stalls := node(func(w http.ResponseWriter, r *http.Request) {
		w.Write(rec[:len(rec)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // sends nothing more until the client gives up
	})
	aborts := node(func(w http.ResponseWriter, r *http.Request) {
		w.Write(rec[:len(rec)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	short := node(func(w http.ResponseWriter, r *http.Request) { w.Write(rec[:len(rec)/2]) })

	for _, tc := range []struct {
		name, url string
		export    []string // in the error
		verify    []string
	}{
		{"stalls", stalls, []string{"stream stalled", "no data from the node for 300ms", "not written"},
			[]string{"reading the record from " + stalls, "stream stalled"}},
		{"cuts the connection", aborts, []string{"reading the record", "not written"},
			[]string{"reading the record from " + aborts}},
		{"ends early", short, []string{"incomplete", "record truncated", "not written"},
			[]string{"V1", "record truncated"}},
	} {
		dir := t.TempDir()
		out := filepath.Join(dir, "record")
		var o, e bytes.Buffer
		err := run(context.Background(), []string{"export", "--node", tc.url, "-o", out}, &o, &e)
		if err == nil {
			t.Errorf("a node that %s: urna export succeeded", tc.name)
		} else {
			for _, want := range tc.export {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("a node that %s: urna export: %v; want %q", tc.name, err, want)
				}
			}
			var h interface{ Hint() string }
			if !errors.As(err, &h) || !strings.Contains(h.Hint(), "another node") {
				t.Errorf("a node that %s: urna export gives no hint: %v", tc.name, err)
			}
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("a node that %s: urna export left %v", tc.name, left)
		}
		o.Reset()
		err = run(context.Background(), []string{"verify", "--progress", "never", tc.url}, &o, &e)
		if err == nil {
			t.Errorf("a node that %s: urna verify URL succeeded:\n%s", tc.name, o.String())
			continue
		}
		for _, want := range tc.verify {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("a node that %s: urna verify URL: %v; want %q", tc.name, err, want)
			}
		}
	}
}
