package server

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/internal/testonly"
)

// TestFailedStartLeavesNoState (issue 13): a node whose start fails (here
// its HTTP port is taken) leaves a new data directory as it found it: not
// there, rather than a 16 MB state.db that makes the next attempt look
// like a restart. A directory that already held state is never touched.
func TestFailedStartLeavesNoState(t *testing.T) {
	busy := testonly.Listen(t)
	_, key, _ := ed25519.GenerateKey(nil)
	start := func(dir string) error {
		cfg := DefaultConfig()
		cfg.ID, cfg.DataDir, cfg.Bootstrap, cfg.SigningKey = "n1", dir, true, key
		cfg.RaftBind, cfg.HTTPListen = "127.0.0.1:0", busy.Addr().String()
		n, err := Start(context.Background(), cfg)
		if err == nil {
			n.Stop()
		}
		return err
	}

	fresh := filepath.Join(t.TempDir(), "n1")
	if err := start(fresh); err == nil {
		t.Fatal("start on a busy HTTP port succeeded")
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(fresh)
		t.Fatalf("failed start left %s behind (%v): %v", fresh, err, ents)
	}

	used := t.TempDir()
	keep := filepath.Join(used, "operator-notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := start(used); err == nil {
		t.Fatal("start on a busy HTTP port succeeded")
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Fatalf("failed start touched a directory in use: %v %q", err, b)
	}
}
