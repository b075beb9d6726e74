package keyfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/internal/wire"
)

// Marshal encodes a key file's JSON, indented, with a final newline. v
// MUST be a fixed struct type (it cannot fail to encode).
func Marshal(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic("keyfile: encoding a key file: " + err.Error()) // only fixed struct types
	}
	return append(b, '\n')
}

// Decode reads a key file's JSON into v strictly: no unknown field, one
// value, nothing after it. kindOf returns the "kind" field decoded, which
// MUST be kind. The error names neither path nor contents: the caller
// prefixes where the data came from.
func Decode(data []byte, kind string, v any, kindOf func() string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a %s file: %w", kind, err)
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	if got := kindOf(); got != kind {
		return fmt.Errorf("a %q file, want %q", got, kind)
	}
	return nil
}

// DecodeSecret decodes a key file's "secret" field: base64url, then the
// key's own decoder parse. Either failure is an error "secret: …".
func DecodeSecret[T any](secret string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	raw, err := wire.DecodeB64(secret)
	if err != nil {
		return zero, fmt.Errorf("secret: %w", err)
	}
	k, err := parse(raw)
	if err != nil {
		return zero, fmt.Errorf("secret: %w", err)
	}
	return k, nil
}
