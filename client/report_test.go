package client_test

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/urna-vote/urna/client"
)

// A record cut short fails V1; the steps it never reaches are "not
// reached" (Ran false, no failure, a reason), not failed.
func TestReportTruncatedRecordNotReached(t *testing.T) {
	rec := smallElection(t).Record()
	rep := verify(t, rec[:len(rec)/2])
	if rep.OK() {
		t.Fatal("a truncated record verifies")
	}
	if step, f, _ := rep.FirstFailure(); step != client.StepV1 || !strings.Contains(f.Detail, "truncated") {
		t.Errorf("first failure %s: %s; want V1 naming the truncation", step, f)
	}
	if got := rep.Steps[0].Outcome; got != client.OutcomeFailed {
		t.Errorf("V1 outcome %q, want %q", got, client.OutcomeFailed)
	}
	notReached := 0
	for _, s := range rep.Steps[1:] {
		switch {
		case len(s.Failures) > 0:
			t.Errorf("%s: failures %v in the decodable part of a valid record", s.ID, s.Failures)
		case s.Ran:
			t.Errorf("%s ran over a record that does not decode", s.ID)
		case !s.OK:
			t.Errorf("%s: not reached, but marked failed", s.ID)
		case !strings.Contains(s.Skipped, "V1"):
			t.Errorf("%s: skipped %q, want the reason (V1)", s.ID, s.Skipped)
		case s.Outcome != client.OutcomeNotReached:
			t.Errorf("%s: outcome %q, want %q", s.ID, s.Outcome, client.OutcomeNotReached)
		default:
			notReached++
		}
	}
	if notReached != client.NumSteps-1 {
		dump(t, rep)
		t.Errorf("%d steps not reached, want %d", notReached, client.NumSteps-1)
	}
}

// The JSON form carries a schema version and the result labelled with the
// manifest's question texts and option names.
func TestReportJSON(t *testing.T) {
	e := smallElection(t)
	rep := verify(t, e.Record())
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SchemaVersion *int                  `json:"schema_version"`
		OK            bool                  `json:"ok"`
		Complete      bool                  `json:"complete"`
		ElectionID    string                `json:"election_id"`
		Fingerprint   string                `json:"fingerprint"`
		Ballots       int                   `json:"ballots"`
		Counts        any                   `json:"counts"`
		Steps         []struct{ ID string } `json:"steps"`
		Result        *struct {
			Trustees  []int                   `json:"trustees"`
			Questions []client.QuestionResult `json:"questions"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	fp := e.Manifest.Fingerprint()
	switch {
	case got.SchemaVersion == nil || *got.SchemaVersion != client.ReportSchemaVersion:
		t.Errorf("schema_version %v, want %d", got.SchemaVersion, client.ReportSchemaVersion)
	case !got.OK || !got.Complete || got.ElectionID != e.Manifest.ElectionID || got.Ballots != rep.Ballots:
		t.Errorf("ok %v complete %v election %q ballots %d", got.OK, got.Complete, got.ElectionID, got.Ballots)
	case got.Fingerprint != hex.EncodeToString(fp[:]):
		t.Errorf("fingerprint %q, want the hex of %x", got.Fingerprint, fp)
	case got.Counts != nil:
		t.Errorf("bare counts %v next to the labelled result", got.Counts)
	case len(got.Steps) != client.NumSteps || got.Steps[12].ID != "V13":
		t.Errorf("steps %v", got.Steps)
	case got.Result == nil || len(got.Result.Questions) != len(e.Manifest.Questions):
		t.Fatalf("result %+v, want %d questions\n%s", got.Result, len(e.Manifest.Questions), raw)
	}
	if len(got.Result.Trustees) == 0 {
		t.Errorf("result without its trustees: %s", raw)
	}
	for q, mq := range e.Manifest.Questions {
		gq := got.Result.Questions[q]
		if gq.Question != q+1 || gq.Text != mq.Text || len(gq.Options) != len(mq.Options) {
			t.Errorf("question %d: %+v, want %q with %d options", q+1, gq, mq.Text, len(mq.Options))
			continue
		}
		for o, name := range mq.Options {
			want := client.OptionResult{Option: o + 1, Name: name, Count: e.Result.Counts[q][o]}
			if gq.Options[o] != want {
				t.Errorf("question %d option %d: %+v, want %+v", q+1, o+1, gq.Options[o], want)
			}
		}
	}
}

// An election in progress has no result in its JSON form.
func TestReportJSONWithoutResult(t *testing.T) {
	raw, err := json.Marshal(&client.Report{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"result"`) || !strings.Contains(string(raw), `"schema_version":1`) {
		t.Errorf("JSON of a report without a result: %s", raw)
	}
}

func TestLabelCounts(t *testing.T) {
	if client.LabelCounts(nil, nil) != nil {
		t.Error("no counts, yet a result")
	}
	got := client.LabelCounts(nil, [][]uint64{{7}})
	if len(got) != 1 || got[0].Text != "" || got[0].Options[0] != (client.OptionResult{Option: 1, Count: 7}) {
		t.Errorf("counts without a manifest: %+v", got)
	}
}
