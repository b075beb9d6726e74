package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDemoElection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data")
	var progress, out bytes.Buffer
	o, err := Run(ctx, Config{Ballots: 20, DataDir: dir, Progress: &progress, Out: &out})
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, progress.String(), out.String())
	}
	if !o.OK || o.Report == nil || !o.Report.OK() || !o.Report.Complete {
		t.Fatalf("demo outcome not OK:\n%s", out.String())
	}
	if !slices.EqualFunc(o.Counts, o.Expected, slices.Equal) {
		t.Fatalf("counts %v, want %v", o.Counts, o.Expected)
	}
	// 20 voters, 2 revotes: 20 counted, 22 cast, 1 audited.
	if o.Report.Counted != 20 || o.Report.Ballots != 22 || o.Report.Audited != 1 {
		t.Errorf("report: %d counted, %d ballots, %d audited; want 20, 22, 1", o.Report.Counted, o.Report.Ballots, o.Report.Audited)
	}
	if len(o.Report.Trustees) != 2 {
		t.Errorf("result combines trustees %v, want 2 of them", o.Report.Trustees)
	}
	var sum uint64
	for _, c := range o.Counts[0] {
		sum += c
	}
	if sum != 20 {
		t.Errorf("question 1 (1 of 4) has %d votes, want 20", sum)
	}
	if o.Record != filepath.Join(dir, "record") {
		t.Errorf("record at %q", o.Record)
	}
	if _, err := os.Stat(o.Record); err != nil {
		t.Error(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "credentials", "credentials.txt"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file: %v %v, want mode 0600", err, fi)
	}
	for _, want := range []string{"VERDICT: OK", "V13", "Which colour", "Pick two"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Secrets never reach the output: no credential of the file appears.
	creds, _ := os.ReadFile(filepath.Join(dir, "credentials", "credentials.txt"))
	for _, line := range strings.Split(string(creds), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
			if strings.Contains(progress.String()+out.String(), f[1]) {
				t.Fatalf("a credential was printed")
			}
		}
	}
}

func TestDemoDataDirMustBeEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Config{Ballots: 1, DataDir: dir}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want a non-empty directory error", err)
	}
}
