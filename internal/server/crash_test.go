package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// procNode is a board node running as a separate process.
type procNode struct {
	id, dir, raft, http, seed string
	bootstrap                 bool
	join                      string
	cmd                       *exec.Cmd
	log                       *testonly.LockedBuffer
}

// buildCrashNode builds the real `urna` binary: the crash test kills and
// restarts `urna node` processes.
func buildCrashNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "urna")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/urna")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build urna: %v\n%s", err, out)
	}
	return bin
}

func (n *procNode) start(t *testing.T, bin string, extra ...string) {
	t.Helper()
	args := []string{"node", "--id", n.id, "--data", n.dir, "--raft", n.raft, "--http", n.http, "--key-env", "URNA_NODE_KEY", "--no-web", "--log-level", "info"}
	if n.bootstrap {
		args = append(args, "--bootstrap")
	} else {
		args = append(args, "--join", n.join)
	}
	args = append(args, extra...)
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = append(os.Environ(), "URNA_NODE_KEY="+n.seed)
	if n.log == nil {
		n.log = &testonly.LockedBuffer{}
	}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (n *procNode) kill9() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill() // SIGKILL
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

func (n *procNode) url() string { return "http://" + n.http }

type submitItem struct {
	Seq   uint64 `json:"seq"`
	ID    string `json:"id"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// post submits entries to a node; it returns the items of a 200 answer.
func post(ctx context.Context, hc *http.Client, base string, entries [][]byte) ([]submitItem, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/entries", bytes.NewReader(submitJSON(entries...)))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var out struct {
		Results []submitItem `json:"results"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	if len(out.Results) != len(entries) {
		return nil, fmt.Errorf("%d results for %d entries", len(out.Results), len(entries))
	}
	return out.Results, nil
}

func getJSON(ctx context.Context, hc *http.Client, url string, v any) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// mustPost submits setup entries until they are accepted (retrying while
// the cluster elects a leader).
func mustPost(t *testing.T, hc *http.Client, base string, entries ...[]byte) []submitItem {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		items, err := post(context.Background(), hc, base, entries)
		if err == nil {
			for i, it := range items {
				if it.Error != nil {
					t.Fatalf("setup entry %d rejected: %s", i, it.Error.Code)
				}
			}
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("setup post: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCrashRecovery runs a 3-node cluster of real processes (fsync on)
// under a stream of ballots, kill -9s the leader and then a follower and
// restarts them (the follower after the log was compacted, so it is
// restored from a snapshot), and checks that every acknowledged post is on
// the board exactly once and that all nodes agree on the checkpoint.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs real processes; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("kill -9 semantics")
	}
	bin := buildCrashNode(t)
	const voters = 400
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: voters})
	base := t.TempDir()
	var nodes []*procNode
	for i, id := range []string{"n1", "n2", "n3"} {
		n := &procNode{id: id, dir: filepath.Join(base, id), raft: testonly.FreeAddr(t), http: testonly.FreeAddr(t),
			seed: hex.EncodeToString(e.NodeKeys()[id].Seed()), bootstrap: i == 0}
		if i > 0 {
			n.join = nodes[0].url()
		}
		nodes = append(nodes, n)
	}
	extra := []string{"--snapshot-threshold", "64", "--trailing-logs", "16", "--snapshot-interval", "500ms"}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.kill9()
		}
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("--- %s log (tail):\n%s", n.id, tail(n.log.String(), 3000))
			}
		}
	})
	for _, n := range nodes {
		n.start(t, bin, extra...)
	}
	hc := &http.Client{Timeout: 10 * time.Second}

	mustPost(t, hc, nodes[0].url(), e.ManifestEntry())
	mustPost(t, hc, nodes[0].url(), e.CredentialsEntry())
	mustPost(t, hc, nodes[1].url(), e.DealEntries()...)
	mustPost(t, hc, nodes[2].url(), e.ConfirmationEntries()...)
	mustPost(t, hc, nodes[0].url(), e.OpenEntry())

	// Pre-encrypt the ballots: one per voter, then revotes.
	var ballots [][]byte
	for v := range voters {
		b, _, _ := e.BallotEntry(v, testonly.Pick(v%3, v%2))
		ballots = append(ballots, b)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	next := make(chan []byte)
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for b := range next {
				// Retry until acknowledged: a retry of a post that was
				// committed but not acknowledged answers "duplicate".
				for attempt := 0; attempt < 100 && ctx.Err() == nil; attempt++ {
					n := nodes[rng.IntN(len(nodes))]
					items, err := post(ctx, hc, n.url(), [][]byte{b})
					if err != nil {
						time.Sleep(50 * time.Millisecond)
						continue // not acknowledged: may or may not be on the board
					}
					if it := items[0]; it.Error == nil || it.Error.Code == "duplicate" {
						id := bulletin.EntryID(b)
						mu.Lock()
						acked[hex.EncodeToString(id[:])] = true
						mu.Unlock()
						break
					}
					t.Errorf("ballot rejected: %s", items[0].Error.Code)
					break
				}
			}
		})
	}
	feed := func(from, to int) {
		for _, b := range ballots[from:to] {
			select {
			case next <- b:
			case <-ctx.Done():
				return
			}
		}
	}
	leader := func() *procNode {
		for range 100 {
			for _, n := range nodes {
				var ci struct {
					Leader string `json:"leader"`
				}
				if n.cmd != nil && getJSON(context.Background(), hc, n.url()+"/api/v1/cluster", &ci) == nil && ci.Leader != "" {
					for _, m := range nodes {
						if m.id == ci.Leader {
							return m
						}
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("no leader")
		return nil
	}

	feed(0, 80)
	l := leader()
	t.Logf("kill -9 leader %s", l.id)
	l.kill9()
	feed(80, 160)
	l.start(t, bin, extra...)
	feed(160, 200)

	var f *procNode
	l = leader()
	for _, n := range nodes {
		if n != l {
			f = n
			break
		}
	}
	t.Logf("kill -9 follower %s", f.id)
	f.kill9()
	feed(200, 360) // enough entries for the leader to snapshot and compact past f
	time.Sleep(1200 * time.Millisecond)
	f.start(t, bin, extra...)
	feed(360, voters)
	close(next)
	wg.Wait()
	cancel()

	// Every node converges on the same checkpoint and entries.
	type cpInfo struct {
		Size uint64 `json:"size"`
		Root string `json:"root"`
	}
	deadline := time.Now().Add(30 * time.Second)
	var cps []cpInfo
	for {
		cps = cps[:0]
		ok := true
		var sizes []uint64
		for _, n := range nodes {
			var h struct {
				Applied uint64 `json:"applied"`
			}
			var cp cpInfo
			if err := getJSON(context.Background(), hc, n.url()+"/api/v1/checkpoint", &cp); err != nil {
				ok = false
				break
			}
			_ = h
			cps = append(cps, cp)
			sizes = append(sizes, cp.Size)
		}
		// The same quorum checkpoint on every node, and it covers every
		// entry of every node: a lagging node (one restarted from a
		// snapshot) can serve the same checkpoint as the leader while the
		// leader already holds entries that no quorum checkpoint covers.
		if ok && cps[0] == cps[1] && cps[1] == cps[2] {
			covered := true
			for _, n := range nodes {
				var st struct {
					Counts struct {
						Entries uint64 `json:"entries"`
					} `json:"counts"`
				}
				if getJSON(context.Background(), hc, n.url()+"/api/v1/election", &st) != nil || st.Counts.Entries != cps[0].Size {
					covered = false
				}
			}
			if covered {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes do not converge: checkpoints %v", cps)
		}
		time.Sleep(200 * time.Millisecond)
	}
	size := cps[0].Size

	// Every acknowledged ballot is on every node, exactly once.
	for _, n := range nodes {
		seen := map[string]bool{}
		for from := uint64(0); from < size; from += 1000 {
			var page struct {
				Entries []struct {
					ID string `json:"id"`
				} `json:"entries"`
			}
			if err := getJSON(context.Background(), hc, fmt.Sprintf("%s/api/v1/entries?from=%d&limit=1000", n.url(), from), &page); err != nil {
				t.Fatal(err)
			}
			for _, en := range page.Entries {
				if seen[en.ID] {
					t.Fatalf("%s: entry %s twice on the board", n.id, en.ID)
				}
				seen[en.ID] = true
			}
		}
		if uint64(len(seen)) != size {
			t.Fatalf("%s: %d entries, checkpoint size %d", n.id, len(seen), size)
		}
		for id := range acked {
			if !seen[id] {
				t.Fatalf("%s: acknowledged entry %s is missing", n.id, id)
			}
		}
	}
	if !strings.Contains(f.log.String(), "restored snapshot") {
		t.Errorf("follower %s was not restored from a snapshot", f.id)
	}
	if len(acked) != voters {
		t.Errorf("only %d of %d ballots acknowledged", len(acked), voters)
	}
	t.Logf("%d ballots acknowledged, board of %d entries, checkpoint root %s on all nodes", len(acked), size, cps[0].Root)
	_ = ed25519.PublicKeySize
	_ = os.Getpid
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
