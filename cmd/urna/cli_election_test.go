package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/internal/server"
)

// startRoleNode starts a one-node board with data in dir/n1 on loopback,
// stopped when the test ends, and returns its --node flag and its key.
func startRoleNode(t *testing.T, dir string) (nodeFlag string, key ed25519.PrivateKey) {
	t.Helper()
	_, key, _ = ed25519.GenerateKey(rand.Reader)
	cfg := server.DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Bootstrap = "n1", filepath.Join(dir, "n1"), true
	cfg.RaftBind, cfg.HTTPListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.SigningKey = key
	node, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Stop() })
	return "--node=" + node.APIAddr, key
}

// createTestElection runs, with must, the role commands that make the
// parties' keys in dir (ea, ca, t1–t3) and post the manifest of the
// template dir/election.json on the node of startRoleNode.
func createTestElection(must func(args ...string), dir, nodeFlag string, key ed25519.PrivateKey) {
	p := func(s string) string { return filepath.Join(dir, s) }
	must("authority", "init", "--dir", p("ea"))
	must("credentials", "init", "--dir", p("ca"))
	for i := 1; i <= 3; i++ {
		must("trustee", "init", "--dir", p(fmt.Sprintf("t%d", i)), "--name", fmt.Sprintf("t%d", i))
	}
	must("authority", "create", "--dir", p("ea"), nodeFlag, "--manifest", p("election.json"),
		"--credential-authority", p("ca/credential-authority.pub"),
		"--trustee", p("t1/trustee.pub"), "--trustee", p("t2/trustee.pub"), "--trustee", p("t3/trustee.pub"),
		"--board-node", "n1="+hex.EncodeToString(key.Public().(ed25519.PublicKey)))
}

// openTestElection is createTestElection, then count credentials, the key
// ceremony of 3 trustees and the opening.
func openTestElection(must func(args ...string), dir, nodeFlag string, key ed25519.PrivateKey, count int) {
	p := func(s string) string { return filepath.Join(dir, s) }
	createTestElection(must, dir, nodeFlag, key)
	must("credentials", "issue", "--dir", p("ca"), nodeFlag, "--count", fmt.Sprint(count))
	for _, step := range []string{"deal", "check", "answer"} {
		for i := 1; i <= 3; i++ {
			must("trustee", step, "--dir", p(fmt.Sprintf("t%d", i)), nodeFlag)
		}
	}
	must("authority", "open", "--dir", p("ea"), nodeFlag)
}
