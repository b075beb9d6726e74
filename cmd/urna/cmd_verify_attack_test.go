package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

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
