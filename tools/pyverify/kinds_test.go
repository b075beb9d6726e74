package pyverify

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// TestKindsVectors: pyverify, from SPEC.md §12 alone, verifies the
// honest ballots of ballot/testdata/kinds.json (§12.7), recomputes their mix
// rows (§12.5), decrypts and decodes them (§12.6) to the vector's answers,
// rejects each malformed ballot at the step Go names, and encodes the
// write-ins as Go does (§12.4); and it decodes and checks every audited
// ballot of ballot/testdata/audit_kinds.json (§12.9) with Go's verdict.
func TestKindsVectors(t *testing.T) {
	runVectors(t, "kinds-vectors", "ballot", "kinds.json")
	runVectors(t, "audit-kinds-vectors", "ballot", "audit_kinds.json")
}

// TestKindsTamperedAgreesWithGo changes one byte in fields across the first
// pinned ballot of kinds.json (ciphertexts, proof commitments, challenges
// and responses of every kind of question) and checks that pyverify
// rejects each at the same step as ballot.ParseBallot and Diagnose.
func TestKindsTamperedAgreesWithGo(t *testing.T) {
	raw, err := os.ReadFile("../../ballot/testdata/kinds.json")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	unhex := func(s any) []byte {
		b, err := hex.DecodeString(s.(string))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	m, err := ballot.ParseManifest(unhex(v["manifest"]))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := group.DecodeNonIdentity(unhex(v["election_key"]))
	if err != nil {
		t.Fatal(err)
	}
	honest := unhex(v["ballots"].([]any)[0].(map[string]any)["ballot"])
	type bad struct {
		What   string `json:"what"`
		Ballot string `json:"ballot"`
		Step   string `json:"step"`
	}
	var bads []bad
	// Offsets: a prime stride walks through every region of the ballot
	// (header, each question's ciphertexts, branches a, b, c, s, the
	// write-in's t and s) without lining up with field boundaries.
	for off := 37; off < len(honest); off += 499 {
		b := append([]byte(nil), honest...)
		b[off] ^= 0x02
		step := "accepted"
		if p, err := ballot.ParseBallot(b); err != nil {
			step = "V8.1"
		} else if f := p.Diagnose(m, pk); f != nil {
			step = f.Step
		}
		bads = append(bads, bad{What: fmt.Sprintf("byte %d changed", off), Ballot: hex.EncodeToString(b), Step: step})
	}
	v["ballots"], v["write_ins"], v["bad_ballots"] = []any{}, []any{}, bads
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tampered.json")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tampered ballots\n%s", len(bads), runVectorFile(t, "kinds-vectors", file))
}
