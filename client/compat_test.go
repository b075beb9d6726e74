package client_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/urna-vote/urna/client"
)

// TestPinnedRecordsStillVerify verifies whole election records made by
// earlier versions of Urna and pinned in testdata, so that a change of the
// code or of SPEC.md that stops an old record verifying, or changes what
// its verification finds, is seen. spec-1.5-demo.rec is the record of
// `urna demo --ballots 40` at ec2ce1c (SPEC 1.5): a 1-of-4 and a 2-of-5
// question, 3 trustees with threshold 2, 44 ballots of which 40 count
// (revotes), 2 audited; the demo found its result equal to the simulated
// ballots. Its .expect.json holds the report's figures, result and each
// step's outcome and count as `urna verify --json` gave them then (step
// titles left out: they are wording, not findings).
func TestPinnedRecordsStillVerify(t *testing.T) {
	for _, name := range []string{"spec-1.5-demo"} {
		t.Run(name, func(t *testing.T) {
			rec, err := os.ReadFile("testdata/" + name + ".rec")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := client.VerifyElectionRecord(bytes.NewReader(rec), client.VerifyOptions{})
			if rep == nil {
				t.Fatalf("verification did not run: %v", err)
			}
			if st, f, failed := rep.FirstFailure(); failed || err != nil {
				t.Fatalf("the pinned record no longer verifies (%v): step %v: %+v", err, st, f)
			}
			got := pinnedFindings(t, rep)
			raw, err := os.ReadFile("testdata/" + name + ".expect.json")
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			for k, w := range want {
				if !reflect.DeepEqual(got[k], w) {
					t.Errorf("%s: got %v, pinned %v", k, got[k], w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("the report has %q, which the pinned findings do not", k)
				}
			}
		})
	}
}

// pinnedFindings is rep as `urna verify --json` writes it, without the
// schema version and with each step reduced to its id, outcome and count.
func pinnedFindings(t *testing.T, rep *client.Report) map[string]any {
	t.Helper()
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "schema_version")
	steps, _ := m["steps"].([]any)
	short := make([]any, len(steps))
	for i, s := range steps {
		s := s.(map[string]any)
		checked, ok := s["checked"]
		if !ok {
			checked = float64(0)
		}
		short[i] = map[string]any{"id": s["id"], "outcome": s["outcome"], "checked": checked}
	}
	m["steps"] = short
	return m
}
