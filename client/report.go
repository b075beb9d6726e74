package client

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/urna-vote/urna/ballot"
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
	StepV14                 // shuffles of the mixed questions (§11.7)
	StepV15                 // decryptions of the mixed rows (§11.7)
	StepV16                 // the mixed answers of the result (§11.7)

	// StepLast is the last verification step.
	StepLast = StepV16
	// NumSteps is the number of verification steps.
	NumSteps = int(StepLast)
)

// String returns the step's name, "V1" … "V13".
func (s Step) String() string { return "V" + strconv.Itoa(int(s)) }

// Title says what the step checks, for people.
func (s Step) Title() string {
	if s < StepV1 || s > StepLast {
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
	"shuffles of the ranked, score and write-in questions",
	"decryptions of the mixed ballots",
	"decrypted mixed answers and the published result",
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
	ID    string `json:"id"`    // the Step's name, "V1" … "V13"
	Title string `json:"title"` // what the step checks
	// OK: the step found no failure. A step not reached (Ran false) is not
	// a failure: it is OK, and Skipped says why it did not run.
	OK       bool      `json:"ok"`
	Ran      bool      `json:"ran"`     // false when the record ends before the step, or an earlier failure stopped it
	Outcome  string    `json:"outcome"` // OutcomePassed, OutcomeFailed, OutcomeNotReached or OutcomeNotApplicable
	Checked  int       `json:"checked"` // number of objects checked
	Failures []Failure `json:"failures,omitempty"`
	Dropped  int       `json:"dropped,omitempty"` // failures beyond MaxFailuresPerStep
	Skipped  string    `json:"skipped,omitempty"` // why the step did not run
}

// Report is the outcome of Verify: one StepResult per V-step, in order,
// and, when V13 passes, the verified result. Its JSON form (MarshalJSON)
// is versioned by ReportSchemaVersion.
type Report struct {
	ElectionID  string
	Title       string
	Fingerprint [32]byte
	// Questions are the manifest's questions, which label Counts (nil
	// until V4 reads the manifest).
	Questions []ballot.Question
	Steps     []StepResult
	// Complete is true when the record reaches the published result.
	Complete bool

	// Counts is the verified result per question per option (nil unless V13 passed).
	Counts [][]uint64
	// Trustees are the indices of the partial decryptions the result combines.
	Trustees []int

	Entries     int // entries in the record
	Blocks      int // blocks in the record
	Ballots     int // cast-ballot entries
	Counted     int // ballots that count (V10)
	Audited     int // audited-ballot entries
	Voters      int // credentials with a counted ballot
	Checkpoints int // checkpoints verified
	// Credentials is N, the number of registered credentials (V6.3), and
	// ResultDigest the result digest (V13.5): set by Follow and
	// FollowRecord (zero and nil otherwise).
	Credentials int
	// Weight is the sum of the registered credentials' weights (V6.3),
	// N when every weight is 1; MaxCount the sum of the weights of the
	// credentials with a counted ballot, the bound of every count (V10.6).
	// Set with Credentials.
	Weight, MaxCount uint64
	ResultDigest     *[32]byte
	// Audits are the valid audits this pass verified, in board order, with
	// what they opened (V9.4), so that a voter who challenged a ballot
	// finds it by its tracker. A Follow resumed from a saved state lists
	// those after the state.
	Audits []OpenedAudit
}

// OpenedAudit is what a valid audit (or protocol-1.1 audited ballot)
// opened (SPEC.md V9.4, §12.10): per question, the texts of the selected
// options; for a version-2 ballot, the ranked options most preferred
// first, "option: score" per option, the write-in text.
type OpenedAudit struct {
	Seq     int64      `json:"seq"`
	Tracker string     `json:"tracker"` // full, hex
	Short   string     `json:"short"`   // the short form the booth showed
	Answers [][]string `json:"answers"`
}

// ReportSchemaVersion is the "schema_version" of the report's JSON form.
// It changes whenever a field is removed or changes meaning.
const ReportSchemaVersion = 1

// QuestionResult is one question of the verified result in the report's
// JSON form: the manifest's text and one labelled count per option.
type QuestionResult struct {
	Question int            `json:"question"` // 1-based, in manifest order
	Text     string         `json:"text"`
	Options  []OptionResult `json:"options"`
}

// OptionResult is the verified count of one option.
type OptionResult struct {
	Option int    `json:"option"` // 1-based, in manifest order
	Name   string `json:"name"`
	Count  uint64 `json:"count"`
}

// Result labels Counts with the manifest's question texts and option
// names (LabelCounts). It is nil when the report has no verified result.
func (r *Report) Result() []QuestionResult { return LabelCounts(r.Questions, r.Counts) }

// LabelCounts labels a result's counts (per question, per option) with
// the questions' texts and option names; a question or option without a
// label gets an empty text or name. It returns nil for nil counts.
func LabelCounts(questions []ballot.Question, counts [][]uint64) []QuestionResult {
	if counts == nil {
		return nil
	}
	out := make([]QuestionResult, len(counts))
	for q, row := range counts {
		var mq ballot.Question
		if q < len(questions) {
			mq = questions[q]
		}
		out[q] = QuestionResult{Question: q + 1, Text: mq.Text, Options: make([]OptionResult, len(row))}
		for o, n := range row {
			name := ""
			if o < len(mq.Options) {
				name = mq.Options[o]
			}
			out[q].Options[o] = OptionResult{Option: o + 1, Name: name, Count: n}
		}
	}
	return out
}

// MarshalJSON writes the report's JSON form, schema version
// ReportSchemaVersion: the verdict ("ok", "complete"), the election, the
// record's size, every step, and the labelled result.
func (r *Report) MarshalJSON() ([]byte, error) {
	type result struct {
		Trustees  []int            `json:"trustees"`
		Questions []QuestionResult `json:"questions"`
	}
	out := struct {
		SchemaVersion int          `json:"schema_version"`
		OK            bool         `json:"ok"`
		Complete      bool         `json:"complete"`
		ElectionID    string       `json:"election_id"`
		Title         string       `json:"title"`
		Fingerprint   string       `json:"fingerprint"`
		Entries       int          `json:"entries"`
		Blocks        int          `json:"blocks"`
		Checkpoints   int          `json:"checkpoints"`
		Ballots       int          `json:"ballots"`
		Counted       int          `json:"counted"`
		Audited       int          `json:"audited"`
		Voters        int          `json:"voters"`
		Credentials   int          `json:"credentials,omitempty"`
		Weight        uint64       `json:"credential_weight,omitempty"`
		MaxCount      uint64       `json:"max_count,omitempty"`
		ResultDigest  string       `json:"result_digest,omitempty"`
		Steps         []StepResult `json:"steps"`
		Result        *result      `json:"result,omitempty"`

		Audits []OpenedAudit `json:"audits,omitempty"`
	}{
		SchemaVersion: ReportSchemaVersion, OK: r.OK(), Complete: r.Complete,
		ElectionID: r.ElectionID, Title: r.Title, Fingerprint: hex.EncodeToString(r.Fingerprint[:]),
		Entries: r.Entries, Blocks: r.Blocks, Checkpoints: r.Checkpoints,
		Ballots: r.Ballots, Counted: r.Counted, Audited: r.Audited, Voters: r.Voters,
		Steps: r.Steps,
	}
	out.Credentials, out.Weight, out.MaxCount = r.Credentials, r.Weight, r.MaxCount
	out.Audits = r.Audits
	if r.ResultDigest != nil {
		out.ResultDigest = hex.EncodeToString(r.ResultDigest[:])
	}
	if r.Counts != nil {
		out.Result = &result{Trustees: r.Trustees, Questions: r.Result()}
	}
	return json.Marshal(out)
}

func newReport() *Report {
	r := &Report{Steps: make([]StepResult, NumSteps)}
	for s := StepV1; s <= StepLast; s++ {
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

// setManifest records the election the manifest m (fingerprint fp) describes.
func (r *Report) setManifest(m *ballot.Manifest, fp [32]byte) {
	r.ElectionID, r.Title, r.Fingerprint, r.Questions = m.ElectionID, m.Title, fp, m.Questions
}

// settle sets s.OK once the step is over: a step passes when it recorded
// no failure. A step the record does not reach (after a fatal failure such
// as a truncated record, or on an election in progress) did not fail:
// Ran is false and Skipped says why.
func (s *StepResult) settle(applies bool) {
	s.OK = len(s.Failures) == 0 && s.Dropped == 0
	switch {
	case !s.OK:
		s.Outcome = OutcomeFailed
	case s.Ran:
		s.Outcome = OutcomePassed
	case applies:
		s.Outcome = OutcomeNotReached
	default:
		s.Outcome = OutcomeNotApplicable
	}
}

// The outcomes of a step, in the report and its JSON form: a step that
// ran passed or failed; one that did not run was either not reached (the
// record ends before it, or an earlier failure stopped the verifier) or
// does not apply to this election or check (V14–V16 without a ranked,
// score or write-in question; the steps an election-key check skips).
const (
	OutcomePassed        = "passed"
	OutcomeFailed        = "failed"
	OutcomeNotReached    = "not reached"
	OutcomeNotApplicable = "not applicable"
)

// step returns the result of step s of a report made by newReport.
func (r *Report) step(s Step) *StepResult { return &r.Steps[s-1] }

func (s *StepResult) fail(f Failure) {
	if len(s.Failures) >= MaxFailuresPerStep {
		s.Dropped++
		return
	}
	s.Failures = append(s.Failures, f)
}
