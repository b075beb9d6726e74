package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/witness"
)

// TestNodeWitnessFlag: a node started with --witness NAME=URL submits its
// checkpoints to the witness at URL (not at https://NAME) and serves them
// with the witness's cosignature, which opens under the manifest's rules.
func TestNodeWitnessFlag(t *testing.T) {
	e := testonly.NewElection(t, "node witness flag", testonly.Config{Voters: 2, Nodes: 1})
	const name = "witness.invalid/urna"
	wit := testonly.NewWitness(name)
	e.UseWitnesses([]ballot.Witness{wit.Listed()}, 1)
	w, err := witness.New(witness.Config{Name: name, Key: wit.Key, Dir: t.TempDir(), Elections: []*ballot.Manifest{e.Manifest}})
	if err != nil {
		t.Fatal(err)
	}
	ws := httptest.NewServer(w.Handler())
	defer ws.Close()

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "n1.key")
	writeFile(t, keyFile, []byte(hex.EncodeToString(e.NodeKeys()["n1"].Seed())+"\n"))
	api := testonly.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"node", "--id", "n1", "--data", filepath.Join(dir, "data"), "--key-file", keyFile,
			"--raft", testonly.FreeAddr(t), "--http", api, "--bootstrap", "--no-web", "--log-level", "error",
			"--witness", name + "=" + ws.URL}, &out, &errOut)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("urna node: %v\n%s", err, errOut.String())
		}
	}()
	cl, err := apiclient.New("http://"+api, apiclient.Options{MaxRetries: 20})
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if h, err := cl.Health(ctx); err == nil && h.Leader != "" {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the node never became healthy:\n%s", errOut.String())
		}
	}
	for _, entry := range [][]byte{e.ManifestEntry(), e.CredentialsEntry()} {
		if _, err := cl.SubmitOne(ctx, entry); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		note, err := cl.CheckpointNote(ctx)
		if err == nil {
			if cp, err := e.Board().Open(note); err == nil && cp.Size == 2 {
				if !strings.Contains(string(note), "— "+name+" ") {
					t.Fatalf("the checkpoint opens without the witness's line:\n%s", note)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size 2 cosigned by the witness: %v\n%s\n%s", err, note, errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := w.Latest(e.Board().Origin); got == nil {
		t.Fatal("the witness holds no checkpoint")
	}
}

func TestWitnessFlagSyntax(t *testing.T) {
	w := witnessURLs{}
	for _, bad := range []string{"", "name", "=http://x", "name=ftp://x", "name=witness.example"} {
		if err := w.Set(bad); err == nil {
			t.Errorf("--witness %q accepted", bad)
		}
	}
	if err := w.Set("a=http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Set("a=http://127.0.0.1:2"); err == nil {
		t.Error("a witness given twice was accepted")
	}
}
