package demo

import (
	"bytes"
	"context"
	"errors"
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
	// The deciding trustees and the authority follow the board while the
	// voters vote; every phase is timed, in order.
	for _, want := range []string{"trustee 1 followed the board", "trustee 2 followed the board", "election authority followed the board", "phases (wall time):"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	var names []string
	for _, p := range o.Phases {
		if p.Took <= 0 {
			t.Errorf("phase %q took %v", p.Name, p.Took)
		}
		names = append(names, strings.Fields(p.Name)[0])
	}
	if want := []string{"setup", "credentials", "key", "voting", "close", "trustee", "trustee", "tally", "export", "verify"}; !slices.Equal(names, want) {
		t.Errorf("phases %v, want %v", names, want)
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

// TestDemoManifest: the demo holds the election a version-2 template
// describes (one 1-of-5 question, threshold 1, witnesses the demo runs),
// and the record, with the witnesses' cosignatures, verifies.
func TestDemoManifest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl := []byte(`{"version": 2, "election_id": "shape", "title": "One of five", "threshold": 1, "witness_quorum": 2,
		"questions": [{"text": "Pick one", "options": ["a", "b", "c", "d", "e"], "min": 1, "max": 1}]}`)
	var progress, out bytes.Buffer
	o, err := Run(ctx, Config{Ballots: 12, Manifest: tmpl, Progress: &progress, Out: &out})
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, progress.String(), out.String())
	}
	if !o.OK || !o.Report.OK() || !o.Report.Complete {
		t.Fatalf("demo outcome not OK:\n%s", out.String())
	}
	m := o.Manifest
	if m.Version != 2 || len(m.Witnesses) != 2 || m.WitnessQuorum != 2 || len(m.Questions) != 1 || len(m.Trustees) != 2 || m.Threshold != 1 {
		t.Fatalf("manifest: version %d, %d witnesses (quorum %d), %d questions, %d trustees, threshold %d",
			m.Version, len(m.Witnesses), m.WitnessQuorum, len(m.Questions), len(m.Trustees), m.Threshold)
	}
	if len(o.Report.Trustees) != 1 || o.Report.Counted != 12 {
		t.Errorf("report: trustees %v, %d counted; want 1 trustee, 12", o.Report.Trustees, o.Report.Counted)
	}
}

func TestDemoManifestRefusesForeignParties(t *testing.T) {
	for name, tmpl := range map[string]string{
		"version 3":           `{"version": 3, "questions": [{"text": "q", "options": ["a", "b"], "min": 1, "max": 1}]}`,
		"ranked in version 1": `{"questions": [{"text": "q", "kind": "ranked", "options": ["a", "b"], "min": 1, "max": 2}]}`,
		"a trustee":           `{"trustees": [{"name": "t"}], "questions": [{"text": "q", "options": ["a", "b"], "min": 1, "max": 1}]}`,
		"a witness":           `{"version": 2, "witnesses": [{"name": "w", "key": "AAAA"}], "questions": [{"text": "q", "options": ["a", "b"], "min": 1, "max": 1}]}`,
		"unknown":             `{"colour": "red"}`,
		"not json":            `questions:`,
		"threshold":           `{"threshold": 40, "questions": [{"text": "q", "options": ["a", "b"], "min": 1, "max": 1}]}`,
	} {
		if _, err := Run(context.Background(), Config{Ballots: 1, Manifest: []byte(tmpl)}); err == nil || !strings.Contains(err.Error(), "demo: manifest") {
			t.Errorf("%s: err = %v, want a manifest error", name, err)
		}
	}
}

// TestDemoElections: three elections side by side on one cluster, each
// with its own parties and record, each verified on its own
// (SPEC.md §3.14).
func TestDemoElections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data")
	var progress, out bytes.Buffer
	o, err := Run(ctx, Config{Ballots: 6, DataDir: dir, Progress: &progress, Out: &out, Elections: 3})
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, progress.String(), out.String())
	}
	if !o.OK || len(o.Elections) != 3 {
		t.Fatalf("demo outcome not OK (%d elections):\n%s", len(o.Elections), out.String())
	}
	fps := map[[32]byte]bool{}
	for i, e := range o.Elections {
		id := "demo-" + string(rune('1'+i))
		if !e.OK || e.Report == nil || !e.Report.OK() || !e.Report.Complete || e.Manifest.ElectionID != id {
			t.Fatalf("election %d: %+v", i, e)
		}
		if !slices.EqualFunc(e.Counts, e.Expected, slices.Equal) {
			t.Fatalf("election %s: counts %v, want %v", id, e.Counts, e.Expected)
		}
		if e.Record != filepath.Join(dir, id, "record") {
			t.Errorf("election %s: record at %q", id, e.Record)
		}
		fps[e.Manifest.Fingerprint()] = true
	}
	if len(fps) != 3 {
		t.Fatalf("%d distinct elections", len(fps))
	}
	for _, want := range []string{"== election demo-1 ==", "== election demo-3 ==", "ALL 3 ELECTIONS OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		want        string
	}{
		{0, 10, "[..........]   0%"},
		{5, 10, "[#####.....]  50%"},
		{10, 10, "[##########] 100%"},
		{12, 10, "[##########] 100%"},
		{-1, 10, "[..........]   0%"},
		{1, 0, ""},
	} {
		if got := bar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("bar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}

// TestRankedDemo holds 'urna demo --ranked' with 8 voters on a real
// 3-node cluster: the record verifies (V1–V16), the decrypted answers are
// the ones cast, and the output shows the IRV and STV rounds and the
// Schulze winner.
func TestRankedDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var progress, out bytes.Buffer
	o, err := RunRanked(ctx, Config{Ballots: 8, Progress: &progress, Out: &out})
	if err != nil {
		t.Fatalf("ranked demo: %v\n%s\n%s", err, progress.String(), out.String())
	}
	if !o.OK || !o.Report.OK() || !o.Report.Complete || o.Report.Counted != 8 {
		t.Fatalf("ranked demo outcome not OK:\n%s", out.String())
	}
	for _, want := range []string{"IRV:\n    round 1:", "STV (2 seats", "Schulze winner:", "score sums:", "V16  ok", "VERDICT: OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := RunRanked(ctx, Config{Ballots: 1, Weighted: true}); err == nil || errors.Is(err, ErrMismatch) {
		t.Errorf("ranked demo with weights: %v", err)
	}
}

// TestManifestMixedDemo holds a version-3 manifest of another shape than
// --ranked's (a ranking of 5, a 0-to-2-of-3 selection and a short
// write-in, threshold 1 so that 2 trustees mix and 1 decrypts) with 5
// voters answering at random: the record verifies and the decrypted
// answers are the ones cast. A mixed election with weights is refused.
func TestManifestMixedDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmpl := []byte(`{"version": 3, "election_id": "mixed-test", "threshold": 1, "questions": [
		{"text": "Rank", "kind": "ranked", "options": ["a", "b", "c", "d", "e"], "min": 1, "max": 5},
		{"text": "Pick", "options": ["x", "y", "z"], "min": 0, "max": 2},
		{"text": "Name", "kind": "write-in", "options": [], "min": 0, "max": 6}]}`)
	var progress, out bytes.Buffer
	o, err := Run(ctx, Config{Ballots: 5, Manifest: tmpl, Progress: &progress, Out: &out})
	if err != nil {
		t.Fatalf("mixed demo: %v\n%s\n%s", err, progress.String(), out.String())
	}
	if !o.OK || !o.Report.OK() || !o.Report.Complete || o.Report.Counted != 5 {
		t.Fatalf("mixed demo outcome not OK:\n%s", out.String())
	}
	for _, want := range []string{"a ranking of 1 to 5 of 5 options", "2 trustees, threshold 1", "trustee 2 verified the board (V1–V14) and shuffled"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	if !strings.Contains(out.String(), "Pick (0 to 2 of 3, counted homomorphically)") || !strings.Contains(out.String(), "VERDICT: OK") {
		t.Errorf("output lacks the selection's result or the verdict:\n%s", out.String())
	}
	if _, err := Run(ctx, Config{Ballots: 1, Manifest: tmpl, Weighted: true}); err == nil || !strings.Contains(err.Error(), "runs alone, unweighted") {
		t.Errorf("mixed demo with weights: %v", err)
	}
}
