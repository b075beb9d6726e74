package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly"
)

// TestVerifyRealRecord runs `urna verify` on a small real election record:
// it passes as built and fails once a byte of it is changed.
func TestVerifyRealRecord(t *testing.T) {
	el := testonly.Build(t, "urna-cli-verify", testonly.SmallConfig())
	rec := el.Record()
	dir := t.TempDir()
	good := filepath.Join(dir, "record")
	if err := os.WriteFile(good, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"verify", good}, &out, &errOut); err != nil {
		t.Fatalf("valid record: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Verdict: VERIFIED") || !strings.Contains(out.String(), "V13  ok") {
		t.Fatalf("report:\n%s", out.String())
	}

	bad := filepath.Join(dir, "tampered")
	tampered := bytes.Clone(rec)
	tampered[len(tampered)/2] ^= 0x01
	if err := os.WriteFile(bad, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err := run(context.Background(), []string{"verify", "--json", bad}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("tampered record: %v", err)
	}
	if !strings.Contains(out.String(), `"ok": false`) {
		t.Fatalf("JSON:\n%s", out.String())
	}
}

// TestVerifyIncompleteRecord: a record that stops before the close passes
// every step it reaches but is not verified (SPEC.md §10.2): non-zero exit.
func TestVerifyIncompleteRecord(t *testing.T) {
	el := testonly.Build(t, "urna-cli-incomplete", testonly.SmallConfig())
	path := filepath.Join(t.TempDir(), "record")
	if err := os.WriteFile(path, el.Seal(el.Entries[:el.SeqClose]).Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"verify", path}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not finished") {
		t.Fatalf("incomplete record: err = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Verdict: INCOMPLETE") || strings.Contains(out.String(), "FAILED") {
		t.Fatalf("report:\n%s", out.String())
	}
}
