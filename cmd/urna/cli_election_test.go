package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/testonly/servertest"
)

// startRoleNode starts a one-node board with data in dir/n1 on loopback,
// stopped when the test ends, and returns its --node flag and its key.
func startRoleNode(t *testing.T, dir string) (nodeFlag string, key ed25519.PrivateKey) {
	t.Helper()
	_, key, _ = ed25519.GenerateKey(rand.Reader)
	cfg := servertest.Config(t, "n1", filepath.Join(dir, "n1"), key)
	cfg.Bootstrap = true
	return "--node=" + servertest.Start(t, cfg).APIAddr, key
}

// createTestElection runs, with must, the role commands that make the
// parties' keys in dir (ea, ca, t1–t3) and post the manifest of the
// template dir/election.json on the one-node board of nodeFlag (as
// startRoleNode returns it) whose node key is key.
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

// testElection starts a node on loopback (startRoleNode, stopped when the
// test ends), writes electionJSON to dir/election.json and runs
// createTestElection with must. It returns the node's --node flag and key.
func testElection(t *testing.T, dir, electionJSON string, must func(args ...string)) (nodeFlag string, key ed25519.PrivateKey) {
	t.Helper()
	nodeFlag, key = startRoleNode(t, dir)
	writeFile(t, filepath.Join(dir, "election.json"), []byte(electionJSON))
	createTestElection(must, dir, nodeFlag, key)
	return nodeFlag, key
}

// openTestElection is testElection, then count credentials, the key
// ceremony of 3 trustees and the opening. It returns the node's --node
// flag.
func openTestElection(t *testing.T, dir, electionJSON string, must func(args ...string), count int) (nodeFlag string) {
	t.Helper()
	p := func(s string) string { return filepath.Join(dir, s) }
	nodeFlag, _ = testElection(t, dir, electionJSON, must)
	must("credentials", "issue", "--dir", p("ca"), nodeFlag, "--count", fmt.Sprint(count))
	for _, step := range []string{"deal", "check", "answer"} {
		for i := 1; i <= 3; i++ {
			must("trustee", step, "--dir", p(fmt.Sprintf("t%d", i)), nodeFlag)
		}
	}
	must("authority", "open", "--dir", p("ea"), nodeFlag)
	return nodeFlag
}

// voteElection is openTestElection of electionJSON in a new directory with
// 2 credentials and a receipt directory for voter 1. It returns the
// node's --node flag, p (a path in the directory), must, and vote: `urna
// vote` as voter 1 with the clock at now (runVoteCmd).
func voteElection(t *testing.T, electionJSON string) (N string, p func(string) string, must func(args ...string), vote func(now time.Time, args ...string) (string, error)) {
	t.Helper()
	dir := t.TempDir()
	p = func(s string) string { return filepath.Join(dir, s) }
	must = mustRun(t)
	N = openTestElection(t, dir, electionJSON, must, 2)
	if err := os.MkdirAll(p("receipts"), 0o700); err != nil {
		t.Fatal(err)
	}
	vote = func(now time.Time, args ...string) (string, error) {
		return runVoteCmd(t, N, p("ca/credentials.txt"), p("receipts"), now, args...)
	}
	return N, p, must, vote
}
