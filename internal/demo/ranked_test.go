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
