package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/board/boardtest"
)

type tWriter struct {
	t   testing.TB
	off atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.off.Load() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.off.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// TestStartThreeNodes starts three in-process nodes (as `urna demo` does),
// joins them over HTTP, posts through a follower and waits for a
// checkpoint signed by a quorum, which needs the followers' cosignatures
// forwarded to the leader.
func TestStartThreeNodes(t *testing.T) {
	e := boardtest.NewElection(t, 4, "n1", "n2", "n3")
	ctx := context.Background()
	nodes := startCluster(t, e, 3, nil)
	defer func() {
		for _, n := range nodes {
			if err := n.Stop(); err != nil {
				t.Errorf("stop %s: %v", n.ID, err)
			}
		}
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	mustPost(t, hc, nodes[2].APIAddr, e.Manifest())
	mustPost(t, hc, nodes[1].APIAddr, e.Credentials())

	deadline := time.Now().Add(15 * time.Second)
	for {
		var cp struct {
			Size    uint64   `json:"size"`
			Note    string   `json:"note"`
			Signers []string `json:"signers"`
		}
		err := getJSON(ctx, hc, nodes[1].APIAddr+"/api/v1/checkpoint", &cp)
		if err == nil && cp.Size == 2 && len(cp.Signers) >= 2 {
			if _, err := e.Board().Open([]byte(cp.Note)); err != nil {
				t.Fatalf("checkpoint note: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quorum checkpoint of size 2: %+v, %v", cp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var cl struct {
		Servers []struct {
			ID string `json:"id"`
		} `json:"servers"`
	}
	if err := getJSON(ctx, hc, nodes[0].APIAddr+"/api/v1/cluster", &cl); err != nil || len(cl.Servers) != 3 {
		t.Fatalf("cluster: %+v, %v", cl, err)
	}
}
