package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestVerifyRealRecord runs `urna verify` on a small real election record:
// it passes as built and fails once a byte of it is changed.
func TestVerifyRealRecord(t *testing.T) {
	el := testonly.Build(t, "urna-cli-verify", testonly.SmallConfig())
	rec := el.Record()
	dir := t.TempDir()
	good := filepath.Join(dir, "record")
	writeFile(t, good, rec)
	out, _, err := runUrna("verify", good)
	if err != nil {
		t.Fatalf("valid record: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Verdict: VERIFIED") || !strings.Contains(out, "V13  ok") {
		t.Fatalf("report:\n%s", out)
	}

	bad := filepath.Join(dir, "tampered")
	tampered := bytes.Clone(rec)
	tampered[len(tampered)/2] ^= 0x01
	writeFile(t, bad, tampered)
	out, _, err = runUrna("verify", "--json", bad)
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("tampered record: %v", err)
	}
	if !strings.Contains(out, `"ok": false`) {
		t.Fatalf("JSON:\n%s", out)
	}
}

// TestVerifyIncompleteRecord: a record that stops before the close passes
// every step it reaches but is not verified (SPEC.md §10.2): non-zero exit.
func TestVerifyIncompleteRecord(t *testing.T) {
	el := testonly.Build(t, "urna-cli-incomplete", testonly.SmallConfig())
	path := filepath.Join(t.TempDir(), "record")
	writeFile(t, path, el.Seal(el.Entries[:el.SeqClose]).Encode())
	out, _, err := runUrna("verify", path)
	if err == nil || !strings.Contains(err.Error(), "not finished") {
		t.Fatalf("incomplete record: err = %v\n%s", err, out)
	}
	if !strings.Contains(out, "Verdict: INCOMPLETE") || strings.Contains(out, "FAILED") {
		t.Fatalf("report:\n%s", out)
	}
}

// TestVerifyInputs: --fingerprint (V4.6), N and the result digest in the
// report (V6.3, V13.5), --receipt and --checkpoint (V3.7, V3.8) with the
// evidence kept on a contradiction, and --evidence.
func TestVerifyInputs(t *testing.T) {
	el := testonly.Build(t, "urna-cli-inputs", testonly.SmallConfig())
	sealed := el.Seal(el.Entries)
	dir := t.TempDir()
	rec := filepath.Join(dir, "record")
	writeFile(t, rec, sealed.Encode())
	urnaOut := func(wantOK bool, args ...string) (string, error) {
		t.Helper()
		out, _, err := runUrna(args...)
		if (err == nil) != wantOK {
			t.Fatalf("urna %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out, err
	}

	fp := el.Manifest.Fingerprint()
	digest := el.Result.Digest(fp)
	out, _ := urnaOut(true, "verify", "--fingerprint", hex.EncodeToString(fp[:]), rec)
	for _, want := range []string{fmt.Sprintf("Credentials  %d registered", el.Config.Voters), "Result digest " + hex.EncodeToString(digest[:])} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	out, _ = urnaOut(true, "verify", "--json", rec)
	for _, want := range []string{fmt.Sprintf(`"credentials": %d`, el.Config.Voters), `"result_digest": "` + hex.EncodeToString(digest[:])} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %q:\n%s", want, out)
		}
	}
	other := fp
	other[0] ^= 1
	if _, err := urnaOut(false, "verify", "--fingerprint", hex.EncodeToString(other[:]), rec); !strings.Contains(err.Error(), "V4") {
		t.Errorf("a wrong --fingerprint fails with %v, want V4", err)
	}

	// A receipt of a ballot a revote replaced, at the first checkpoint that includes it.
	seq := el.SeqSuperseded[0]
	note, size := firstCovering(t, el, sealed.Notes, uint64(seq))
	receipt := filepath.Join(dir, "receipt.json")
	writeReceipt(t, receipt, el.Manifest.ElectionID, testonly.Receipt(t, el.Entries, seq, note, size))
	cpFile := filepath.Join(dir, "seen.note")
	writeFile(t, cpFile, note)
	out, _ = urnaOut(true, "verify", "--receipt", receipt, "--checkpoint", cpFile, rec)
	if !strings.Contains(out, "The record extends 2 checkpoints seen before") || !strings.Contains(out, fmt.Sprintf("(entry %d) is in the record; a later ballot of its credential", seq)) {
		t.Errorf("report of a receipt and a checkpoint:\n%s", out)
	}

	// A party's memory file holds a note per election it follows: the
	// notes of other elections are skipped (V3.8 step 1), this one's checked.
	foreign := strings.Replace(string(note), el.Manifest.ElectionID, el.Manifest.ElectionID+"-other", 1)
	mem, _ := json.Marshal(map[string]any{"kind": "urna-board-memory", "elections": map[string]string{
		hex.EncodeToString(fp[:]): string(note), strings.Repeat("ab", 32): foreign}})
	memFile := filepath.Join(t.TempDir(), roles.MemoryFile)
	writeFile(t, memFile, mem)
	out, _ = urnaOut(true, "verify", "--checkpoint", memFile, rec)
	if !strings.Contains(out, "The record extends 1 checkpoint seen before") || !strings.Contains(out, "Skipped 1 checkpoint of other elections") {
		t.Errorf("report of a memory file with two elections:\n%s", out)
	}

	// Colluding nodes signed another history without that ballot: the
	// record contradicts it, the evidence is kept and proves the fork.
	forkDir := t.TempDir()
	forkedEntries := append(append([][]byte{}, el.Entries[:seq]...), el.Entries[seq+1:]...)
	forkNote, _ := firstCovering(t, el, el.Seal(forkedEntries).Notes, uint64(seq))
	forked := filepath.Join(forkDir, "forked.note")
	writeFile(t, forked, forkNote)
	_, err := urnaOut(false, "verify", "--checkpoint", forked, rec)
	if !strings.Contains(err.Error(), "evidence kept in") {
		t.Fatalf("a contradicted checkpoint: %v", err)
	}
	evs, _ := filepath.Glob(filepath.Join(forkDir, "evidence-*.json"))
	if len(evs) != 1 {
		t.Fatalf("evidence files %v", evs)
	}
	out, _ = urnaOut(true, "verify", "--evidence", evs[0])
	if !strings.Contains(out, "Verdict: PROVEN") {
		t.Errorf("--evidence report:\n%s", out)
	}
	// Evidence that proves nothing (the same checkpoint twice) exits 1.
	raw, _ := os.ReadFile(evs[0]) // a failed read leaves nothing to parse
	ev, err := client.ParseEvidence(raw)
	if err != nil {
		t.Fatal(err)
	}
	ev.Old, ev.ImpliedOldRoot, ev.Proof = ev.New, nil, nil
	weak := filepath.Join(forkDir, "weak.json")
	writeFile(t, weak, ev.Marshal())
	if _, err := urnaOut(false, "verify", "--evidence", weak); !strings.Contains(err.Error(), "does not prove a fork") {
		t.Errorf("unproven evidence: %v", err)
	}
	writeFile(t, weak, []byte(`{"kind":"urna-evidence"}`))
	if _, err := urnaOut(false, "verify", "--evidence", weak); !strings.Contains(err.Error(), "not valid evidence") {
		t.Errorf("malformed evidence: %v", err)
	}
}

// writeReceipt writes rc to path as a voter's receipt file of the election
// electionID (roles.ReceiptFile).
func writeReceipt(t *testing.T, path, electionID string, rc *bulletin.Receipt) {
	t.Helper()
	rf, err := json.Marshal(roles.ReceiptFile{Kind: "urna-receipt", ElectionID: electionID, Seq: rc.Seq, Receipt: base64.RawURLEncoding.EncodeToString(rc.Bytes())})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, rf)
}

// firstCovering returns the smallest checkpoint note among notes whose log
// includes entry seq, and its size.
func firstCovering(t *testing.T, el *testonly.Election, notes [][]byte, seq uint64) ([]byte, uint64) {
	t.Helper()
	var best []byte
	var size uint64
	for _, n := range notes {
		c, err := el.Board().Open(n)
		if err != nil {
			t.Fatal(err)
		}
		if c.Size > seq && (best == nil || c.Size < size) {
			best, size = n, c.Size
		}
	}
	if best == nil {
		t.Fatalf("no checkpoint covers entry %d", seq)
	}
	return best, size
}

// TestSpecVersion: `urna --version` names the protocol version of SPEC.md.
func TestSpecVersion(t *testing.T) {
	first, _, _ := strings.Cut(testonly.Spec(t), "\n")
	if want := "# Urna protocol specification, version " + specVersion; first != want {
		t.Fatalf("SPEC.md begins %q; versionString says %q", first, specVersion)
	}
	if v := versionString(); !strings.Contains(v, "SPEC version "+specVersion) {
		t.Fatalf("version string %q", v)
	}
}

// TestVerifyMixedReport: `urna verify` on a ranked, score and write-in
// election reads in order: the result of the selection question, then the
// outcomes of the mixed questions (no heading left empty), the result
// digest, and the verdict last; the Schulze matrix is a table, not Go's
// slice syntax.
func TestVerifyMixedReport(t *testing.T) {
	e := testonly.BuildKinds(t, "urna-cli-mixed", testonly.Config{Voters: 5, Ballots: 7, N: 3, T: 2, Decrypt: []int{1, 3}}, nil)
	e.TallyMixed([]int{2, 3, 1})
	path := filepath.Join(t.TempDir(), "record")
	writeFile(t, path, e.Record())
	out := mustUrna(t, "verify", path)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Verdict: VERIFIED") {
		t.Errorf("the last line is %q, want the verdict:\n%s", last, out)
	}
	order := []string{"Result (combined from trustees 1 and 3):", "\nChair\n  Ada", "\nRank the venues (ranked,", "  IRV:",
		"\nGrade the menus (score,", "\nMotto (write-in,", "\nResult digest ", "\nVerdict: VERIFIED"}
	at := 0
	for _, want := range order {
		i := strings.Index(out[at:], want)
		if i < 0 {
			t.Fatalf("after byte %d the report lacks %q (in order %q):\n%s", at, want, order, out)
		}
		at += i + len(want)
	}
	for _, q := range []string{"Rank the venues", "Grade the menus", "Motto"} {
		if strings.Contains(out, "\n"+q+"\n") {
			t.Errorf("question %q has an empty heading in the result:\n%s", q, out)
		}
	}
	if regexp.MustCompile(`\[\d`).MatchString(out) {
		t.Errorf("the report prints Go slice syntax:\n%s", out)
	}
}

// TestAttackVerifyHostileNode (issue 9, finding 6): `urna verify URL`
// reads the record from a node run by operators who hold the node keys.
// They serve a history without one voter's counted ballot, every
// checkpoint re-signed, which passes V1–V12 on its own. The verifier's
// inputs catch it, each naming its step: the voter's receipt (V3.7), the
// voter's saved checkpoint memory (V3.8), with the evidence kept beside
// each file and proven offline; a record older than the receipt (V3.7,
// stale); and a look-alike election under the published fingerprint
// (V4.6).
func TestAttackVerifyHostileNode(t *testing.T) {
	el := testonly.Build(t, "urna-cli-hostile", testonly.SmallConfig())
	closed := el.Entries[:el.SeqClose+1]
	honest := el.SealWith(closed, 1, nil) // a block per entry
	hidden := el.SeqCounted[0]
	forged := el.Seal(slices.Delete(slices.Clone(closed), hidden, hidden+1))

	// The voter's receipt of the hidden ballot, from the honest board, and
	// its memory of the same checkpoint.
	note, size := el.Checkpoint(honest.Blocks[hidden].Header, nil), uint64(hidden+1)
	voterDir, memDir := t.TempDir(), t.TempDir()
	receipt := filepath.Join(voterDir, "receipt.json")
	writeReceipt(t, receipt, el.Manifest.ElectionID, testonly.Receipt(t, closed, hidden, note, size))
	fp := el.Manifest.Fingerprint()
	mem, _ := json.Marshal(map[string]any{"kind": "urna-board-memory", "elections": map[string]string{hex.EncodeToString(fp[:]): string(note)}})
	memFile := filepath.Join(memDir, roles.MemoryFile)
	writeFile(t, memFile, mem)

	serve := func(rec []byte) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != api.Prefix+"/record" {
				http.NotFound(w, r)
				return
			}
			w.Write(rec)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	verify := func(args ...string) (string, error) {
		out, _, err := runUrna(append([]string{"verify", "--progress", "never"}, args...)...)
		if err == nil {
			t.Fatalf("urna verify %s accepted a hostile node's record:\n%s", strings.Join(args, " "), out)
		}
		return out, err
	}
	proven := func(dir string) {
		t.Helper()
		evs, _ := filepath.Glob(filepath.Join(dir, "evidence-*.json"))
		if len(evs) != 1 {
			t.Fatalf("evidence files in %s: %v", dir, evs)
		}
		if out, _, err := runUrna("verify", "--evidence", evs[0]); err != nil || !strings.Contains(out, "Verdict: PROVEN") {
			t.Fatalf("the evidence kept does not prove the fork: %v\n%s", err, out)
		}
	}
	url := serve(forged.Encode())

	_, err := verify("--receipt", receipt, url)
	if !strings.Contains(err.Error(), "V3.7") || !strings.Contains(err.Error(), "contradicts the receipt") || !strings.Contains(err.Error(), "evidence kept in "+voterDir) {
		t.Errorf("--receipt against a forged history: %v; want V3.7 and the evidence beside the receipt", err)
	}
	proven(voterDir)

	_, err = verify("--checkpoint", memFile, url)
	if !strings.Contains(err.Error(), "V3.8") || !strings.Contains(err.Error(), "evidence kept in "+memDir) {
		t.Errorf("--checkpoint against a forged history: %v; want V3.8 and the evidence beside the memory", err)
	}
	proven(memDir)

	// A node serving the record from before the receipt: stale, refused.
	_, err = verify("--receipt", receipt, serve(el.Seal(closed[:hidden]).Encode()))
	if !strings.Contains(err.Error(), "V3.7") || !strings.Contains(err.Error(), "older board") {
		t.Errorf("--receipt against a record older than it: %v; want V3.7 and a stale view", err)
	}

	// A look-alike election (same shape, other keys) under the published
	// fingerprint.
	other := testonly.Build(t, "urna-cli-hostile-lookalike", testonly.SmallConfig())
	_, err = verify("--fingerprint", hex.EncodeToString(fp[:]), serve(other.Record()))
	if !strings.Contains(err.Error(), "V4") || !strings.Contains(err.Error(), "V4.6 fingerprint") {
		t.Errorf("--fingerprint against a look-alike election: %v; want V4.6", err)
	}
}
