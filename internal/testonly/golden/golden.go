// Package golden pins the bytes a test generates (known-answer vectors,
// persisted formats) in files under testdata/: a test fails when what it
// generates differs from the file by one byte, and rewrites the file only
// when asked to (the package's -update flag, or whatever its caller
// decides). It imports only the standard library, so the in-package tests
// of every Urna package can use it. Production code MUST NOT import it
// (internal/deptest checks).
package golden

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check fails t unless the file at path holds exactly got. With update it
// first writes got to path (a deliberate change of the pinned format).
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate the pinned file)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for k := range min(len(gl), len(wl)) {
		if gl[k] != wl[k] {
			t.Fatalf("%s: line %d differs (if the change is intended, regenerate the file: it breaks compatibility):\n got %.120s\nwant %.120s",
				path, k+1, gl[k], wl[k])
		}
	}
	t.Fatalf("%s: %d lines generated, %d pinned (if the change is intended, regenerate the file: it breaks compatibility)",
		path, len(gl), len(wl))
}

// JSON is Check for v in indented JSON with a final newline. It returns
// the pinned bytes, for tests that go on to check them on their own.
func JSON(t testing.TB, path string, v any, update bool) []byte {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	Check(t, path, got, update)
	return got
}

// Hex decodes s, the hex of a pinned vector, or stops the test.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
