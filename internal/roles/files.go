package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urna-vote/urna/internal/keyfile"
)

// Errors callers branch on.
var (
	// ErrExists: the board already holds what the step would post (a
	// second deal, a second list...). Secret files that would be
	// overwritten fail with keyfile.ErrExists instead.
	ErrExists = errors.New("roles: already done")
	// ErrRefused: a trustee's own check of the board failed, so it did not decrypt.
	ErrRefused = errors.New("roles: refusing to decrypt")
	// ErrNotReady: the board is not in the phase the step needs.
	ErrNotReady = errors.New("roles: board not ready")
)

// writeSecret creates path with owner-only permissions (0600, its
// directory 0700) and writes data (internal/keyfile). It refuses to
// overwrite an existing file.
func writeSecret(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	return keyfile.Write(path, data)
}

// readSecret reads a secret file, refusing one that others may read or
// write (internal/keyfile).
func readSecret(path string) ([]byte, error) { return keyfile.Read(path) }

// writePublic writes a public file (0644), replacing any previous one.
func writePublic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	return nil
}

// marshalFile encodes a key file's JSON, indented, with a final newline.
func marshalFile(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic("roles: encoding a key file: " + err.Error()) // only fixed struct types
	}
	return append(b, '\n')
}

// unmarshalFile decodes a key file strictly and checks its kind.
func unmarshalFile(path string, data []byte, kind string, v interface{ fileKind() string }) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("roles: %s: not a %s file: %w", path, kind, err)
	}
	if dec.More() {
		return fmt.Errorf("roles: %s: trailing data", path)
	}
	if v.fileKind() != kind {
		return fmt.Errorf("roles: %s is a %q file, want %q", path, v.fileKind(), kind)
	}
	return nil
}

// readPublicFile reads a small public file.
func readPublicFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("roles: reading %s: %w", path, err)
	}
	return b, nil
}
