package client

import (
	"fmt"
	"strings"
)

// The verification steps of SPEC.md §10, in the order Verify reports them.
var stepTitles = [...]struct{ id, title string }{
	{"V1", "record decodes (every entry canonical)"},
	{"V2", "hash-linked chain of blocks"},
	{"V3", "Merkle log and checkpoint signatures"},
	{"V4", "manifest and its authority signature"},
	{"V5", "phase rules and authorship of every entry"},
	{"V6", "credential list"},
	{"V7", "key ceremony"},
	{"V8", "cast ballots: signatures, well-formedness proofs, binding"},
	{"V9", "audited ballots re-encrypt correctly"},
	{"V10", "counted ballots: last valid ballot per credential"},
	{"V11", "encrypted aggregate"},
	{"V12", "partial decryptions"},
	{"V13", "combination, discrete logs and the published result"},
}

// NoEntry is the Failure.Entry and Failure.Block value of a failure that
// concerns no single entry or block.
const NoEntry int64 = -1

// Failure is one failed check: where it is and what is wrong.
type Failure struct {
	// Entry is the sequence number of the failing entry, or NoEntry.
	Entry int64 `json:"entry"`
	// Block is the height of the failing block, or NoEntry.
	Block int64 `json:"block"`
	// Field names the failing field or sub-step (e.g. "V8.5 question 0 option 1").
	Field string `json:"field,omitempty"`
	// Detail says what is wrong, for people.
	Detail string `json:"detail"`
}

func (f Failure) String() string {
	var b strings.Builder
	if f.Entry != NoEntry {
		fmt.Fprintf(&b, "entry %d: ", f.Entry)
	}
	if f.Block != NoEntry {
		fmt.Fprintf(&b, "block %d: ", f.Block)
	}
	if f.Field != "" {
		b.WriteString(f.Field)
		b.WriteString(": ")
	}
	b.WriteString(f.Detail)
	return b.String()
}

// MaxFailuresPerStep bounds the failures a step records; further ones are
// only counted in StepResult.Dropped, so a hostile record cannot blow up
// the report.
const MaxFailuresPerStep = 1000

// StepResult is the outcome of one V-step.
type StepResult struct {
	ID       string    `json:"id"`      // "V1" … "V13"
	Title    string    `json:"title"`   // what the step checks
	OK       bool      `json:"ok"`      // no failure (a step the record does not reach yet is OK)
	Ran      bool      `json:"ran"`     // false when an earlier failure made the step impossible
	Checked  int       `json:"checked"` // number of objects checked
	Failures []Failure `json:"failures,omitempty"`
	Dropped  int       `json:"dropped,omitempty"` // failures beyond MaxFailuresPerStep
	Skipped  string    `json:"skipped,omitempty"` // why the step did not run
}

// Report is the outcome of Verify: one StepResult per V-step, in order,
// and, when V13 passes, the verified result.
type Report struct {
	ElectionID  string       `json:"election_id"`
	Title       string       `json:"title"`
	Fingerprint [32]byte     `json:"fingerprint"`
	Steps       []StepResult `json:"steps"`
	// Complete is true when the record reaches the published result.
	Complete bool `json:"complete"`

	// Counts is the verified result per question per option (nil unless V13 passed).
	Counts [][]uint64 `json:"counts,omitempty"`
	// Trustees are the indices of the partial decryptions the result combines.
	Trustees []int `json:"trustees,omitempty"`

	Entries     int `json:"entries"`     // entries in the record
	Blocks      int `json:"blocks"`      // blocks in the record
	Ballots     int `json:"ballots"`     // cast-ballot entries
	Counted     int `json:"counted"`     // ballots that count (V10)
	Audited     int `json:"audited"`     // audited-ballot entries
	Voters      int `json:"voters"`      // credentials with a counted ballot
	Checkpoints int `json:"checkpoints"` // checkpoints verified
}

func newReport() *Report {
	r := &Report{Steps: make([]StepResult, len(stepTitles))}
	for i, s := range stepTitles {
		r.Steps[i] = StepResult{ID: s.id, Title: s.title}
	}
	return r
}

// OK reports whether every step ran and passed.
func (r *Report) OK() bool {
	for _, s := range r.Steps {
		if !s.OK {
			return false
		}
	}
	return len(r.Steps) == len(stepTitles)
}

// Step returns the result of step id ("V1" … "V13"), or nil.
func (r *Report) Step(id string) *StepResult {
	for i := range r.Steps {
		if r.Steps[i].ID == id {
			return &r.Steps[i]
		}
	}
	return nil
}

// FirstFailure returns the first failing step and its first failure, in
// step order. ok is false when every step passed.
func (r *Report) FirstFailure() (step string, f Failure, ok bool) {
	for _, s := range r.Steps {
		if len(s.Failures) > 0 {
			return s.ID, s.Failures[0], true
		}
		if !s.OK {
			return s.ID, Failure{Entry: NoEntry, Block: NoEntry, Detail: "step did not run"}, true
		}
	}
	return "", Failure{}, false
}

// step returns the result of step n (1-based).
func (r *Report) step(n int) *StepResult { return &r.Steps[n-1] }

func (s *StepResult) fail(f Failure) {
	if len(s.Failures) >= MaxFailuresPerStep {
		s.Dropped++
		return
	}
	s.Failures = append(s.Failures, f)
}
