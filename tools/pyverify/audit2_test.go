package pyverify

import (
	"regexp"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/testonly"
)

// choices2Size is the length of the choices2 (SPEC.md §12.10) of a
// version-2 ballot of m: where an audit's opening starts.
func choices2Size(m *ballot.Manifest) int {
	n := 32 + 4
	for q, mq := range m.Questions {
		switch mq.Kind {
		case ballot.KindRanked:
			n += 1 + 8 + 64*len(mq.Options)*int(mq.Max)
		case ballot.KindWriteIn:
			n += 1 + 4 + 64*m.MixWidth(q)
		default:
			n += 1 + 4 + 64*len(mq.Options)
		}
	}
	return n
}

// TestMixedAuditsAgreeWithGo: audits (type 13) of version-2 ballots in a
// whole record (SPEC.md §12.10, written into pyverify from that section
// alone): the honest audits verify and pyverify reports what they open;
// an audit whose opening is another audit's, one cut short or with a
// trailing byte, and a version-1 audit in a version-3 election fail at
// the step urna verify names. Needs the audits of §12.10 in
// testonly.BuildKinds (branch audit2).
func TestMixedAuditsAgreeWithGo(t *testing.T) {
	cfg := testonly.MixedConfig()
	cfg.Audits = 2
	e := testonly.BuildKinds(t, "pyverify-audit2", cfg, nil)
	e.TallyMixed(testonly.Mixers())
	if len(e.SeqAudited) != 2 {
		t.Fatalf("BuildKinds posted %d audits, want 2 (SPEC.md §12.10 audits in testonly)", len(e.SeqAudited))
	}
	seq := e.SeqAudited[0]
	record := func(entry []byte) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return e.Seal(e.WithEntry(seq, entry)).Encode() }
	}
	cut := choices2Size(e.Manifest)
	other := e.Body(e.SeqAudited[1])

	agree(t, []mixedCase{
		{"honest", func(t *testing.T) []byte { return e.Record() }, "", func(t *testing.T, _ []byte, out string) {
			if n := len(regexp.MustCompile(`(?m)^# V9\.4 audit at seq \d+ `).FindAllString(out, -1)); n != 2 {
				t.Errorf("pyverify reports %d opened audits, want 2", n)
			}
		}},
		{"opening-of-another-audit", record(e.ForgedAudit(append(slices.Clone(e.Body(seq)[:cut]), other[cut:]...))), `(?m)^V9 FAIL V9\.3 `, nil},
		{"truncated", record(e.ForgedAudit(e.Body(seq)[:len(e.Body(seq))-1])), `(?m)^V1 FAIL V1\.6 `, nil},
		{"trailing-byte", record(e.ForgedAudit(append(slices.Clone(e.Body(seq)), 0))), `(?m)^V1 FAIL V1\.6 `, nil},
		{"version-1-audit", record(e.ForgedAudit(e.V1AuditBody())), `(?m)^V5 FAIL V5\.6 .*§7\.3 audit`, nil},
	})
}
