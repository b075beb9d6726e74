package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// runErr runs `urna args…` and returns what main prints on failure.
func runErr(t *testing.T, args ...string) (stdout, printed string) {
	t.Helper()
	stdout, printed, err := runUrna(args...)
	if err == nil {
		t.Fatalf("urna %s succeeded", strings.Join(args, " "))
	}
	return stdout, printed
}

// nodeArgs is a node command line with a valid key file in dir.
func nodeArgs(t *testing.T, dir string, extra ...string) []string {
	t.Helper()
	key := filepath.Join(dir, "n1.key")
	if _, err := os.Stat(key); err != nil {
		writeFile(t, key, []byte(strings.Repeat("ab", 32)+"\n"))
	}
	return append([]string{"node", "--id", "n1", "--data", filepath.Join(dir, "data"), "--key-file", key,
		"--raft", "127.0.0.1:0", "--http", "127.0.0.1:0"}, extra...)
}

// withStartNode replaces the node for one test.
func withStartNode(t *testing.T, f func(context.Context, server.Config) error) {
	saved := startNode
	startNode = f
	t.Cleanup(func() { startNode = saved })
}

// A data directory (or PostgreSQL schema) that another node holds says so.
func TestNodeDataLocked(t *testing.T) {
	dir := t.TempDir()
	withStartNode(t, func(context.Context, server.Config) error {
		return fmt.Errorf("server: open store: %w: bolt database is open in another process", store.ErrLocked)
	})
	_, printed := runErr(t, nodeArgs(t, dir, "--bootstrap")...)
	data := filepath.Join(dir, "data")
	for _, want := range []string{
		"urna: error: urna node: another process holds the data directory " + data + ": ",
		"hint: is a node already running with --data " + data + "? stop it, or give this node its own --data directory\n",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("lacks %q:\n%s", want, printed)
		}
	}

	_, printed = runErr(t, nodeArgs(t, dir, "--bootstrap", "--store", "postgres://u@h/db", "--pg-schema", "n1")...)
	if !strings.Contains(printed, "another process holds the PostgreSQL schema n1") || !strings.Contains(printed, "give each node its own --pg-schema\n") {
		t.Errorf("PostgreSQL schema held:\n%s", printed)
	}
}

// `urna demo --serve` on a busy port advises --http, not --logs.
func TestDemoBusyPort(t *testing.T) {
	ln := testonly.Listen(t)
	_, printed := runErr(t, "demo", "--serve", "--http", ln.Addr().String(), "--ballots", "1")
	want := "hint: another process listens on " + ln.Addr().String() + ": give the demo a free address with --http 127.0.0.1:PORT\n"
	if !strings.Contains(printed, "address already in use") || !strings.Contains(printed, want) {
		t.Errorf("want %q:\n%s", want, printed)
	}
	if strings.Contains(printed, "--logs") {
		t.Errorf("advises --logs:\n%s", printed)
	}
}

// A node started before the one it joins through says that it waits.
func TestNodeJoinWaits(t *testing.T) {
	dir := t.TempDir()
	withStartNode(t, func(context.Context, server.Config) error { return nil })
	down := "http://" + testonly.FreeAddr(t) // nothing listens there

	var out, errOut bytes.Buffer
	if err := run(context.Background(), nodeArgs(t, dir, "--join", down), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	want := `level=WARN msg="urna node: the node to join does not answer yet; waiting for it (start the first node, and let it become leader, before the others)" join=` + down
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("lacks %q:\n%s", want, errOut.String())
	}

	ready := httptest.NewServer(httpapi.New(httpapitest.Sample(), httpapi.Options{}))
	defer ready.Close()
	errOut.Reset()
	if err := run(context.Background(), nodeArgs(t, dir, "--join", ready.URL), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errOut.String(), "WARN") {
		t.Errorf("warns although the node to join is ready:\n%s", errOut.String())
	}
}

// --node pointed at something that closes the connection without an HTTP
// answer (a node's Raft port) says what it probably is.
func TestNodeNotHTTP(t *testing.T) {
	ln := testonly.Listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Like a Raft port: read the request, answer nothing, close.
			go func() {
				defer c.Close()
				var req []byte
				buf := make([]byte, 512)
				for !bytes.Contains(req, []byte("\r\n\r\n")) {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					req = append(req, buf[:n]...)
				}
			}()
		}
	}()
	url := "http://" + ln.Addr().String()
	for _, args := range [][]string{
		{"export", "--node", url, "-o", filepath.Join(t.TempDir(), "rec")},
		{"verify", url},
	} {
		_, printed := runErr(t, args...)
		want := "hint: " + url + " closed the connection without an HTTP answer: is it a node's Raft address? give its HTTP API address (urna node --http)\n"
		if !strings.Contains(printed, "urna: error: urna "+args[0]+": ") || !strings.Contains(printed, want) {
			t.Errorf("urna %s: want %q:\n%s", args[0], want, printed)
		}
	}
}

// A node whose --raft or --http address another process listens on says
// which flag to change (as `urna demo --serve` does for its --http).
func TestNodeBusyPort(t *testing.T) {
	for _, flag := range []string{"--raft", "--http"} {
		dir := t.TempDir()
		ln := testonly.Listen(t)
		_, printed := runErr(t, nodeArgs(t, dir, "--bootstrap", flag, ln.Addr().String())...)
		want := "hint: another process listens on " + ln.Addr().String() + " (a node already running?): stop it, or give this node a free address with " + flag + "\n"
		if !strings.Contains(printed, "address already in use") || !strings.Contains(printed, want) {
			t.Errorf("%s busy: want %q:\n%s", flag, want, printed)
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
			t.Errorf("%s busy: the failed start left its data directory (%v)", flag, err)
		}
	}
}
