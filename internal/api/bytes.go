package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/urna-vote/urna/internal/wire"
)

// Bytes are canonical bytes on the wire. Their JSON form is a string of
// unpadded base64url (SPEC.md §2.4); decoding is strict (DecodeBytes).
type Bytes []byte

// MarshalJSON writes b as an unpadded base64url string.
func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(wire.EncodeB64(b)) }

// UnmarshalJSON reads a string of strict unpadded base64url.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("api: binary field: %w", err)
	}
	v, err := DecodeBytes(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ErrNotBase64URL: a binary field is not strict unpadded base64url.
var ErrNotBase64URL = errors.New("api: not unpadded base64url")

// DecodeBytes decodes strict unpadded base64url. Why the CR/LF check: Go's
// base64 decoders skip CR and LF even in strict mode, so "AQ\nID" would
// otherwise pass as a second spelling of "AQID".
func DecodeBytes(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, ErrNotBase64URL
	}
	v, err := wire.DecodeB64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotBase64URL, err)
	}
	return v, nil
}
