package demo

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

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
