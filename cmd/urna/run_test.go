package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// runUrna runs `urna args…` in process as main does: printed is what it
// wrote to stderr followed, on failure, by the error main prints
// (reportError).
func runUrna(args ...string) (stdout, printed string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	if err != nil {
		reportError(&errOut, err)
	}
	return out.String(), errOut.String(), err
}

// urnaCmd runs `urna args…` and returns all it printed.
func urnaCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, printed, err := runUrna(args...)
	return out + printed, err
}

// mustUrna runs `urna args…`, fails the test if it fails, and returns all
// it printed.
func mustUrna(t *testing.T, args ...string) string {
	t.Helper()
	out, err := urnaCmd(t, args...)
	if err != nil {
		t.Fatalf("urna %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// mustRun is mustUrna as the func(args ...string) that the election
// helpers (testElection, openTestElection) take.
func mustRun(t *testing.T) func(args ...string) {
	return func(args ...string) {
		t.Helper()
		mustUrna(t, args...)
	}
}

// writeFile writes data to path, readable by the owner only.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
