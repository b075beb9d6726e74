package client

import (
	"fmt"
	"strconv"
	"strings"
)

// Step is a verification step of SPEC.md §10.3, V1 … V13. Its String is the
// step's name ("V7"); sub-steps ("V7.6") appear in Failure.Field.
type Step int

// The verification steps, in the order of SPEC.md §10.3 and of the report.
// TestStepsMatchSpec ties every constant to its numbered step in SPEC.md.
const (
	StepV1  Step = iota + 1 // the record decodes (§3.12, §10.3)
	StepV2                  // the block chain (§3.12)
	StepV3                  // the Merkle log and the checkpoints (§3.12)
	StepV4                  // the manifest (§7.4, §10.3)
	StepV5                  // phase rules and authorship (§3.12)
	StepV6                  // the credential list (§7.4)
	StepV7                  // the key ceremony (§8.8)
	StepV8                  // every cast ballot (§7.4)
	StepV9                  // audited ballots (§7.4)
	StepV10                 // which ballots count (§7.4)
	StepV11                 // the encrypted aggregate (§9.6)
	StepV12                 // partial decryptions (§9.7)
	StepV13                 // combination and result (§9.8)

	// NumSteps is the number of verification steps.
	NumSteps = int(StepV13)
)

// String returns the step's name, "V1" … "V13".
func (s Step) String() string { return "V" + strconv.Itoa(int(s)) }

// Title says what the step checks, for people.
func (s Step) Title() string {
	if s < StepV1 || s > StepV13 {
		return ""
	}
	return stepTitles[s-1]
}

var stepTitles = [NumSteps]string{
	"record decodes (every entry canonical)",
	"hash-linked chain of blocks",
	"Merkle log and checkpoint signatures",
	"manifest and its authority signature",
	"phase rules and authorship of every entry",
	"credential list",
	"key ceremony",
	"cast ballots: signatures, well-formedness proofs, binding",
	"audited ballots re-encrypt correctly",
	"counted ballots: last valid ballot per credential",
	"encrypted aggregate",
	"partial decryptions",
	"combination, discrete logs and the published result",
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
	ID       string    `json:"id"`      // the Step's name, "V1" … "V13"
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
	r := &Report{Steps: make([]StepResult, NumSteps)}
	for s := StepV1; s <= StepV13; s++ {
		r.Steps[s-1] = StepResult{ID: s.String(), Title: s.Title()}
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
	return len(r.Steps) == NumSteps
}

// Step returns the result of step s, or nil if the report has none.
func (r *Report) Step(s Step) *StepResult {
	for i := range r.Steps {
		if r.Steps[i].ID == s.String() {
			return &r.Steps[i]
		}
	}
	return nil
}

// FirstFailure returns the first failing step and its first failure, in
// step order. ok is false when every step passed.
func (r *Report) FirstFailure() (step Step, f Failure, ok bool) {
	for i, s := range r.Steps {
		if len(s.Failures) > 0 {
			return Step(i + 1), s.Failures[0], true
		}
		if !s.OK {
			return Step(i + 1), Failure{Entry: NoEntry, Block: NoEntry, Detail: "step did not run"}, true
		}
	}
	return 0, Failure{}, false
}

// step returns the result of step s of a report made by newReport.
func (r *Report) step(s Step) *StepResult { return &r.Steps[s-1] }

func (s *StepResult) fail(f Failure) {
	if len(s.Failures) >= MaxFailuresPerStep {
		s.Dropped++
		return
	}
	s.Failures = append(s.Failures, f)
}
