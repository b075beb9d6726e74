package keyfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
