package client_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestStepsMatchSpec ties the Step constants to SPEC.md: §10.3 lists the
// numbered steps V1 … V16 in order, one per constant, and every step's
// String is its name there.
func TestStepsMatchSpec(t *testing.T) {
	spec := testonly.Spec(t)
	start := strings.Index(spec, "\n### §10.3 The steps\n")
	if start < 0 {
		t.Fatal("SPEC.md has no §10.3 The steps")
	}
	end := strings.Index(spec[start+1:], "\n### ")
	if end < 0 {
		t.Fatal("§10.3 has no end")
	}
	section := spec[start : start+1+end]
	var specSteps []int
	for _, m := range regexp.MustCompile(`(?m)^\*\*V([0-9]+) — [^*]+\*\*`).FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		specSteps = append(specSteps, n)
	}
	if len(specSteps) != client.NumSteps {
		t.Fatalf("SPEC.md §10.3 numbers %d steps %v, the client has %d", len(specSteps), specSteps, client.NumSteps)
	}
	for i, n := range specSteps {
		s := client.Step(i + 1)
		if int(s) != n || s.String() != "V"+strconv.Itoa(n) {
			t.Errorf("step %d of SPEC.md §10.3 is V%d, the constant is %s", i+1, n, s)
		}
		if s.Title() == "" {
			t.Errorf("%s has no title", s)
		}
	}
	if client.StepV1.String() != "V1" || client.StepV16.String() != "V16" || client.StepLast != client.StepV16 || client.Step(17).Title() != "" {
		t.Error("step names are not V1 … V16")
	}
	// The report lists the steps in this order, under these names.
	rep, _ := client.VerifyElectionRecord(strings.NewReader(""), client.VerifyOptions{})
	if rep == nil || len(rep.Steps) != client.NumSteps {
		t.Fatalf("report of an empty record: %+v", rep)
	}
	for i, r := range rep.Steps {
		if s := client.Step(i + 1); r.ID != s.String() || r.Title != s.Title() || rep.Step(s) != &rep.Steps[i] {
			t.Errorf("report step %d is %q %q, want %s", i, r.ID, r.Title, s)
		}
	}
}
