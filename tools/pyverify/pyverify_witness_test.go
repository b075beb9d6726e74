package pyverify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// cosigned returns the sealed record with every checkpoint given the
// lines that lines makes for it.
func cosigned(s *testonly.Sealed, lines func(note []byte) [][]byte) []byte {
	c := *s
	c.Notes = nil
	for _, n := range s.Notes {
		out := slices.Clone(n)
		for _, l := range lines(n) {
			out = append(out, l...)
		}
		c.Notes = append(c.Notes, out)
	}
	return c.Encode()
}

// goVerdict is `urna verify`'s verdict on a record: "" when it verifies,
// else the first failing step.
func goVerdict(t *testing.T, rec []byte) string {
	t.Helper()
	rep, err := client.VerifyElectionRecord(bytes.NewReader(rec), client.VerifyOptions{Rand: seeded.New("pyverify")})
	if err != nil && err != client.ErrFailed {
		t.Fatal(err)
	}
	if step, _, bad := rep.FirstFailure(); bad {
		return step.String()
	}
	return ""
}

// pyVerdict is pyverify's: "" when it exits 0, else the first failing step.
func pyVerdict(t *testing.T, out string, code int) string {
	if code == 0 {
		return ""
	}
	if m := regexp.MustCompile(`(?m)^(V\d+) (FAIL|NOT-REACHED)`).FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return "?"
}

// TestWitnessedRecords: records of an election whose manifest names two
// witnesses with witness quorum 2 (SPEC.md §3.13, V3.9): pyverify and the
// Go verifier agree on every case, honest and tampered.
func TestWitnessedRecords(t *testing.T) {
	py := python(t)
	w1, w2, stranger := testonly.NewWitness("witness-1.example/urna"), testonly.NewWitness("witness-2.example"), testonly.NewWitness("stranger.example")
	cfg := testonly.SmallConfig()
	cfg.Witnesses, cfg.WitnessQuorum = []ballot.Witness{w1.Listed(), w2.Listed()}, 2
	e := testonly.Build(t, "pyverify-witnessed", cfg)
	s := e.Seal(e.Entries)
	const ts = 1_700_000_000
	cases := []struct {
		name  string
		rec   []byte
		valid bool
	}{
		{"both-witnesses", cosigned(s, func(n []byte) [][]byte { return [][]byte{w1.CosignLine(n, ts, ts), w2.CosignLine(n, ts, ts)} }), true},
		{"unlisted-witness-ignored", cosigned(s, func(n []byte) [][]byte {
			return [][]byte{stranger.CosignLine(n, ts, ts), w2.CosignLine(n, ts, ts), w1.CosignLine(n, ts, ts)}
		}), true},
		{"repeated-line-counts-once", cosigned(s, func(n []byte) [][]byte { return [][]byte{w1.CosignLine(n, ts, ts), w1.CosignLine(n, ts+1, ts+1)} }), false},
		{"below-witness-quorum", cosigned(s, func(n []byte) [][]byte { return [][]byte{w1.CosignLine(n, ts, ts)} }), false},
		{"timestamp-changed", cosigned(s, func(n []byte) [][]byte { return [][]byte{w1.CosignLine(n, ts, ts), w2.CosignLine(n, ts, ts+1)} }), false},
		{"no-cosignatures", s.Encode(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := run(t, py, c.name+".urnarec", c.rec)
			if strings.Contains(out, "Traceback") {
				t.Fatalf("pyverify crashed:\n%s", out)
			}
			g, p := goVerdict(t, c.rec), pyVerdict(t, out, code)
			if g != p || (g == "") != c.valid {
				t.Fatalf("Go verifier: %q, pyverify: %q (want valid %v)\n%s", g, p, c.valid, out)
			}
			if !c.valid && !regexp.MustCompile(`(?m)^V3 FAIL V3\.9 `).MatchString(out) {
				t.Errorf("pyverify does not name V3.9:\n%s", out)
			}
		})
	}
}

// TestEvidence: pyverify --evidence (SPEC.md §10.8, E0–E3) agrees with
// `urna verify --evidence` (client.CheckEvidence) on proven forks, on
// evidence that proves nothing, and on malformed evidence, naming the same
// E-step.
func TestEvidence(t *testing.T) {
	py := python(t)
	e := build(t)
	closed := e.Entries[:e.SeqClose+1]
	hidden := e.SeqCounted[0]
	forgedEntries := slices.Delete(slices.Clone(closed), hidden, hidden+1)
	honest, forged := e.SealWith(closed, 1, nil), e.SealWith(forgedEntries, 1, nil)
	cp := func(s *testonly.Sealed, size int) []byte { return e.Checkpoint(s.Blocks[size-1].Header, nil) }
	old, newSize := hidden+1, len(forgedEntries)
	proof := testonly.Consistency(t, forgedEntries, uint64(old), uint64(newSize))
	implied, err := testonly.MemLog(t, forgedEntries).Root(uint64(old))
	must(t, err)
	iroot := [32]byte(implied)
	hlog := testonly.MemLog(t, closed)
	hproof, err := bulletin.ProveConsistency(3, uint64(newSize), hlog)
	must(t, err)
	ev := func(o, n []byte, p *bulletin.ConsistencyProof, root *[32]byte) []byte {
		return (&client.Evidence{Manifest: e.Manifest.Bytes(), Old: o, New: n, Proof: p, ImpliedOldRoot: root, Reason: "test"}).Marshal()
	}
	edit := func(data []byte, f func(map[string]any)) []byte {
		var m map[string]any
		must(t, json.Unmarshal(data, &m))
		f(m)
		out, err := json.Marshal(m)
		must(t, err)
		return out
	}
	proven := ev(cp(honest, old), cp(forged, newSize), proof, &iroot)
	cases := []struct {
		name string
		data []byte
		want string // "proven", "not-proven" or the failing E-step
	}{
		{"implied-root", proven, "proven"},
		{"equal-size-two-roots", ev(cp(honest, hidden+2), cp(forged, hidden+2), nil, nil), "proven"},
		{"node-proof-alone", ev(cp(honest, old), cp(forged, newSize), proof, nil), "not-proven"},
		{"implied-root-is-old-root", ev(cp(honest, old), cp(forged, newSize), proof, (*[32]byte)(cp32(t, hlog, old))), "not-proven"},
		{"consistent", ev(cp(honest, 3), cp(honest, newSize), hproof, nil), "not-proven"},
		{"same-checkpoint", ev(cp(honest, old), cp(honest, old), nil, nil), "not-proven"},
		{"no-proof", ev(cp(honest, old), cp(forged, newSize), nil, nil), "not-proven"},
		{"old-larger", ev(cp(forged, newSize), cp(honest, old), nil, nil), "E2"},
		{"new-below-quorum", ev(cp(honest, old), e.Checkpoint(forged.Blocks[newSize-1].Header, []int{0}), proof, &iroot), "E2"},
		{"old-of-another-election", ev(bytes.Replace(cp(honest, old), []byte(e.Manifest.ElectionID), []byte("x"+e.Manifest.ElectionID), 1), cp(forged, newSize), proof, &iroot), "E1"},
		{"unknown-member", edit(proven, func(m map[string]any) { m["extra"] = 1 }), "E0"},
		{"padded-manifest", edit(proven, func(m map[string]any) { m["manifest"] = m["manifest"].(string) + "=" }), "E0"},
		{"short-implied-root", edit(proven, func(m map[string]any) { m["implied_old_root"] = m["implied_old_root"].(string)[1:] }), "E0"},
		{"version-2", edit(proven, func(m map[string]any) { m["version"] = 2 }), "E0"},
		{"proof-zero-size", edit(proven, func(m map[string]any) {
			m["proof"] = base64.RawURLEncoding.EncodeToString((&bulletin.ConsistencyProof{OldSize: 0, NewSize: 3}).Bytes())
		}), "E0"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := goEvidence(c.data)
			path := filepath.Join(dir, c.name+".json")
			must(t, os.WriteFile(path, c.data, 0o600))
			out, err := exec.Command(py, script(t), "--evidence", path).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			p := pyEvidence(string(out), code)
			if g != c.want || p != c.want {
				t.Fatalf("Go: %s, pyverify: %s, want %s\n%s", g, p, c.want, out)
			}
		})
	}
}

func cp32(t *testing.T, l *bulletin.MemoryLog, size int) *[32]byte {
	r, err := l.Root(uint64(size))
	must(t, err)
	out := [32]byte(r)
	return &out
}

func goEvidence(data []byte) string {
	r, err := client.CheckEvidence(data)
	switch {
	case err == nil && r.Proven:
		return "proven"
	case err == nil:
		return "not-proven"
	case strings.Contains(err.Error(), "E1 "):
		return "E1"
	case strings.Contains(err.Error(), "E2 "), strings.Contains(err.Error(), "larger than new"):
		return "E2"
	}
	return "E0"
}

func pyEvidence(out string, code int) string {
	switch {
	case code == 0 && strings.Contains(out, "E3 PROVEN"):
		return "proven"
	case code == 1 && strings.Contains(out, "E3 NOT-PROVEN"):
		return "not-proven"
	}
	if m := regexp.MustCompile(`(?m)^(E\d) FAIL`).FindStringSubmatch(out); m != nil && code == 1 {
		return m[1]
	}
	return "?"
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
