package pyverify

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

// steps are the verification steps pyverify.py implements; on a valid record
// it must print "Vn PASS" for each.
var steps = []string{"V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9", "V10", "V11", "V12", "V13", "V14", "V15", "V16"}

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 not found (required when CI is set): %v", err)
		}
		t.Skipf("python3 not found: %v", err)
	}
	return py
}

func script(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Join(filepath.Dir(file), "pyverify.py")
}

// run writes rec to a temporary file (or to $PYVERIFY_KEEP/name if set, for
// development) and runs the Python verifier on it.
func run(t *testing.T, py, name string, rec []byte) (string, int) {
	t.Helper()
	dir := t.TempDir()
	if keep := os.Getenv("PYVERIFY_KEEP"); keep != "" {
		dir = keep
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script(t), path)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running pyverify: %v", err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func build(t *testing.T) *testonly.Election {
	t.Helper()
	return testonly.Build(t, "pyverify", testonly.SmallConfig())
}

func TestSelftest(t *testing.T) {
	py := python(t)
	out, err := exec.Command(py, script(t), "--selftest").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "selftest PASS") {
		t.Fatalf("pyverify --selftest: %v\n%s", err, out)
	}
}

// valid runs pyverify on rec, which must verify with every step PASS, and
// returns its output.
func valid(t *testing.T, py, name string, rec []byte) string {
	t.Helper()
	out, code := run(t, py, name, rec)
	t.Logf("pyverify output:\n%s", out)
	if code != 0 {
		t.Fatalf("pyverify exit %d on a valid record", code)
	}
	for _, s := range steps {
		if !regexp.MustCompile(`(?m)^` + s + ` PASS\b`).MatchString(out) {
			t.Errorf("output does not report %s PASS", s)
		}
	}
	return out
}

// refused runs pyverify on rec, which it must refuse with a line matching want.
func refused(t *testing.T, py, name string, rec []byte, want string) {
	t.Helper()
	out, code := run(t, py, name+".urnarec", rec)
	t.Logf("pyverify output:\n%s", out)
	if code == 0 {
		t.Fatalf("pyverify accepted a tampered record (%s)", name)
	}
	if !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("output does not match %q", want)
	}
	if strings.Contains(out, "Traceback") {
		t.Errorf("pyverify crashed")
	}
}

func TestValidRecord(t *testing.T) {
	py := python(t)
	t.Run("small", func(t *testing.T) { valid(t, py, "valid.urnarec", build(t).Record()) })
	t.Run("larger", func(t *testing.T) {
		// 5 trustees (t = 3), a complaint, decryption by 4 of them (the result
		// uses the 3 smallest), 4 nodes (quorum 3), 2 audits, 3 revotes,
		// blocks of 3 entries.
		cfg := testonly.Config{Voters: 7, Ballots: 9, Abstain: 1, Audits: 2, N: 5, T: 3,
			Decrypt: []int{1, 2, 4, 5}, Complaint: true, Nodes: 4, BlockSize: 3}
		e := testonly.Build(t, "pyverify-larger", cfg)
		valid(t, py, "larger.urnarec", e.Record())
	})
}

// TestIDVectors runs pyverify's identifier rules (SPEC.md §4.1) on the
// vectors that pin ballot.ValidElectionID and ballot.ValidNodeID.
func TestIDVectors(t *testing.T) {
	runVectors(t, "id-vectors", "ballot", "ids.json")
}

// runVectors runs pyverify --<mode> on pkg/testdata/<name> and wants it to
// end with "<mode> PASS".
func runVectors(t *testing.T, mode, pkg, name string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	runVectorFile(t, mode, filepath.Join(filepath.Dir(file), "..", "..", pkg, "testdata", name))
}

// runVectorFile runs pyverify --<mode> FILE, wants it to end with
// "<mode> PASS" and returns its output.
func runVectorFile(t *testing.T, mode, file string) string {
	t.Helper()
	out, err := exec.Command(python(t), script(t), "--"+mode, file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), mode+" PASS") {
		t.Fatalf("pyverify --%s: %v\n%s", mode, err, out)
	}
	return string(out)
}

// TestEntryIDs compares pyverify's entry identifiers (SPEC §3.4, computed
// with the general Digest rule of §2.3) with bulletin.EntryID. Entry ids are
// not stored in a record, so this is the only way to check them; see
// FINDINGS.md (the §3.4 example says u32(18), the label is 19 bytes).
func TestEntryIDs(t *testing.T) {
	py := python(t)
	e := build(t)
	path := filepath.Join(t.TempDir(), "ids.urnarec")
	if err := os.WriteFile(path, e.Record(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, script(t), "--ids", path).Output()
	if err != nil {
		t.Fatalf("pyverify --ids: %v", err)
	}
	var want strings.Builder
	for i, entry := range e.Entries {
		id := bulletin.EntryID(entry)
		fmt.Fprintf(&want, "%d %s\n", i, hex.EncodeToString(id[:]))
	}
	if string(out) != want.String() {
		t.Errorf("entry ids differ:\npyverify:\n%s\nbulletin.EntryID:\n%s", out, want.String())
	}
}

func TestTamperedRecords(t *testing.T) {
	py := python(t)
	e := build(t)

	// A byte of the first counted ballot's option proof changed, the entry
	// re-signed by its voter and the record re-sealed: V8.6 must fail.
	ballotProof := func() []byte {
		seq := e.SeqCounted[0]
		body := append([]byte(nil), e.Body(seq)...)
		// §6.1: 69-byte header, u32 n_0, α, β, then branch 0 of the option
		// proof: its challenge scalar c₀ starts 64 bytes into the branch.
		off := 69 + 4 + 64 + 64
		body[off] ^= 0x01
		entry := e.Resign(seq, e.VoterKey(seq), body)
		return e.Seal(e.WithEntry(seq, entry)).Encode()
	}

	// A count of the result changed, re-signed by the EA: V13 must fail.
	resultCount := func() []byte {
		seq := e.SeqResult
		body := append([]byte(nil), e.Body(seq)...)
		// §9.5: the last 8 bytes are the last option's u64 count.
		body[len(body)-1] ^= 0x01
		entry := e.Resign(seq, e.EA, body)
		return e.Seal(e.WithEntry(seq, entry)).Encode()
	}

	// The prev hash of the second block altered in the record bytes: V2.
	blockPrev := func() []byte {
		rec := append([]byte(nil), e.Record()...)
		blocks := 0
		for off := 8; off < len(rec); {
			tag := rec[off]
			n := int(binary.BigEndian.Uint32(rec[off+1 : off+5]))
			if tag == 1 {
				blocks++
				if blocks == 2 {
					rec[off+5+8] ^= 0x80 // first byte of prev (after u64 height)
					return rec
				}
			}
			off += 5 + n
		}
		t.Fatal("record has fewer than two blocks")
		return nil
	}

	// Checkpoints signed by one node of three (quorum 2): V3.
	belowQuorum := func() []byte {
		s := e.SealWith(e.Entries, e.Config.BlockSize, []int{0})
		return s.Encode()
	}

	// The response z of trustee 3's first factor changed, re-signed by the
	// trustee: V12.3 at the partial (and V13.1: one valid partial, T = 2).
	partialFactor := func() []byte {
		seq := e.SeqPartials[3]
		body := append([]byte(nil), e.Body(seq)...)
		// §9.5: u16 j, u32 Q, u32 O_0, then factor (0, 0) = D ‖ a ‖ b ‖ z.
		body[2+4+4+96] ^= 0x01
		entry := e.Resign(seq, e.Trustees[2].SigningKey(), body)
		return e.Seal(e.WithEntry(seq, entry)).Encode()
	}

	cases := []struct {
		name string
		rec  func() []byte
		want string // a line "Vn FAIL ... Vn.m" must appear
	}{
		{"ballot-proof", ballotProof, `(?m)^V8 FAIL .*V8\.6`},
		{"result-count", resultCount, `(?m)^V13 FAIL .*V13\.4`},
		{"block-prev", blockPrev, `(?m)^V2 FAIL .*V2\.2`},
		{"below-quorum", belowQuorum, `(?m)^V3 FAIL .*V3\.3`},
		{"partial-factor", partialFactor, `(?m)^V12 FAIL .*V12\.3 .*q=0, o=0`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { refused(t, py, c.name, c.rec(), c.want) })
	}
}

// TestCosignatureVectors: pyverify agrees with bulletin on the pinned
// cosignature/v1 vectors (SPEC.md §3.13, V3.9) and with ballot on the
// node-key vectors (§4.1): valid lines count, invalid lines fail, lines of
// unknown keys are ignored, and every small-order, mixed-order or
// non-canonical key is refused.
func TestCosignatureVectors(t *testing.T) {
	runVectors(t, "cosignature-vectors", "bulletin", "cosignature.json")
}

// TestManifestVectors: pyverify decodes the pinned version-4 manifest
// (SPEC.md §4.2: languages, translations, schedule) to the fingerprint
// ballot pins.
func TestManifestVectors(t *testing.T) {
	runVectors(t, "manifest-vectors", "ballot", "manifest4.json")
}

// TestWindowedRecords: on a version-4 record with a voting window pyverify
// agrees with urna verify (package client): the honest record passes
// every step; a ballot whose block a hostile leader stamped after
// closes_at fails V5.7 in both, and a block stamped back behind the
// previous one fails V2.4 in both.
func TestWindowedRecords(t *testing.T) {
	py := python(t)
	cfg := testonly.SmallConfig()
	first := (2 + 2*cfg.N + 3) / cfg.BlockSize // the block of the first audit
	w := ballot.Schedule{OpensAt: testonly.BlockTime(first), ClosesAt: testonly.BlockTime(100), Manual: true}
	cfg.Schedule = &w
	e := testonly.Build(t, "pyverify-window", cfg)
	late := e.SeqBallots[len(e.SeqBallots)-1] / cfg.BlockSize
	cases := []struct {
		name      string
		at        func(h int) uint64
		pyWant    string // "" for a valid record
		goStep    client.Step
		goSubstep string
	}{
		{"honest", testonly.BlockTime, "", 0, ""},
		{"ballot-after-close", func(h int) uint64 {
			if h >= late {
				return w.ClosesAt + uint64(h)
			}
			return testonly.BlockTime(h)
		}, `(?m)^V5 FAIL V5\.7 at entry seq \d+ \(ballot\)`, client.StepV5, "V5.7 window"},
		{"time-back", func(h int) uint64 {
			switch h {
			case late - 1:
				return w.ClosesAt
			case late:
				return w.ClosesAt - 1
			}
			return testonly.BlockTime(h)
		}, `(?m)^V2 FAIL V2\.4`, client.StepV2, "V2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.SealTimed(e.Entries, cfg.BlockSize, nil, c.at).Encode()
			out, code := run(t, py, c.name+".urnarec", rec)
			t.Logf("pyverify output:\n%s", out)
			rep, err := client.VerifyElectionRecord(bytes.NewReader(rec), client.VerifyOptions{})
			if c.pyWant == "" {
				if code != 0 || err != nil {
					t.Fatalf("valid windowed record: pyverify exit %d, urna verify %v", code, err)
				}
				return
			}
			if code == 0 || !regexp.MustCompile(c.pyWant).MatchString(out) {
				t.Errorf("pyverify: exit %d, output does not match %q", code, c.pyWant)
			}
			step, f, _ := rep.FirstFailure()
			if err == nil || step != c.goStep || !strings.HasPrefix(f.Field, c.goSubstep) {
				t.Errorf("urna verify: %v, first failure %s %s", err, step, f)
			}
		})
	}
}

// TestWeightedRecords: pyverify agrees with client on a weighted election
// with a late voter (SPEC.md §5.3, §3.9, V6.4, V10.6, V11): the honest
// record verifies with its weighted result, and a changed weight, a weight
// above the bound and a late voter after the close fail where client
// fails them.
func TestWeightedRecords(t *testing.T) {
	py := python(t)
	e := testonly.Build(t, "pyverify-weighted", testonly.WeightedConfig())
	out := valid(t, py, "weighted.urnarec", e.Record())
	if !strings.Contains(out, "V6.4 late credentials") || !strings.Contains(out, "total weight 1012") {
		t.Errorf("output does not report the late credentials and the list's weight")
	}

	withWeight := func(w uint32) []byte {
		body := e.Body(e.SeqCredentials)
		// §5.3 version 2: u8 2, [32] roll, u32 N, then (element, u32 weight).
		binary.BigEndian.PutUint32(body[1+32+4+32:], w)
		return e.Seal(e.WithEntry(e.SeqCredentials, e.Resign(e.SeqCredentials, e.CA, body))).Encode()
	}
	first := e.Body(e.SeqCredentials)[1+32+4+32+3]
	lateAfterClose := func() []byte {
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, e.LateCredentialsBody(e.Stranger().Public(), 5))
		es := append(append(append([][]byte(nil), e.Entries[:e.SeqClose+1]...), late), e.Entries[e.SeqClose+1:]...)
		return e.Seal(es).Encode()
	}
	cases := []struct {
		name string
		rec  []byte
		want string
	}{
		// The first credential's weight changed (and re-signed): the
		// trustees decrypted another aggregate.
		{"weight-changed", withWeight(uint32(first%7) + 2), `(?m)^V12 FAIL .*V12\.3`},
		{"weight-above-bound", withWeight(ballot.MaxWeight + 1), `(?m)^V1 FAIL .*V1\.6`},
		{"late-after-close", lateAfterClose(), `(?m)^V5 FAIL .*V5\.5`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused(t, py, c.name, c.rec, c.want)
			rep, err := client.VerifyElectionRecord(bytes.NewReader(c.rec), client.VerifyOptions{})
			if err == nil || rep.OK() {
				t.Errorf("client accepts what pyverify refuses (%s)", c.name)
			}
		})
	}
}
