package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/bulletin"
)

// Protocol constants of C2SP tlog-witness.
const (
	// AddCheckpointPath is the add-checkpoint endpoint under a witness's
	// submission prefix.
	AddCheckpointPath = "/add-checkpoint"
	// SizeContentType is the content type of a 409 answer carrying the
	// witness's latest cosigned size.
	SizeContentType = "text/x.tlog.size"
	// MaxProofLines bounds the consistency proof of a request.
	MaxProofLines = 63
	// MaxRequestSize bounds an add-checkpoint request body.
	MaxRequestSize = 32 + MaxProofLines*45 + 1 + bulletin.MaxNoteSize
)

// Request is an add-checkpoint request: the size of the checkpoint the
// client believes the witness cosigned last (0: none), the consistency
// proof from that size to the checkpoint's, and the signed checkpoint note.
type Request struct {
	OldSize uint64
	Proof   []tlog.Hash
	Note    []byte
}

// Bytes encodes r as the request body: "old N\n", one standard-base64
// proof hash per line, an empty line, then the note.
func (r *Request) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("old ")
	b.WriteString(strconv.FormatUint(r.OldSize, 10))
	b.WriteByte('\n')
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Note)
	return b.Bytes()
}

// errMalformed: the request does not follow the protocol (400).
var errMalformed = errors.New("witness: malformed request")

// ParseRequest decodes an add-checkpoint body strictly: canonical decimal
// old size, at most MaxProofLines canonical base64 hashes of 32 bytes, an
// empty line, and a note.
func ParseRequest(body []byte) (*Request, error) {
	if len(body) > MaxRequestSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", errMalformed, len(body), MaxRequestSize)
	}
	s := string(body)
	line, rest, ok := strings.Cut(s, "\n")
	num, isOld := strings.CutPrefix(line, "old ")
	if !ok || !isOld {
		return nil, fmt.Errorf("%w: first line must be \"old <size>\"", errMalformed)
	}
	old, err := strconv.ParseUint(num, 10, 64)
	if err != nil || strconv.FormatUint(old, 10) != num {
		return nil, fmt.Errorf("%w: old size %q", errMalformed, num)
	}
	r := &Request{OldSize: old}
	for {
		line, rest, ok = strings.Cut(rest, "\n")
		if !ok {
			return nil, fmt.Errorf("%w: missing empty line before the checkpoint", errMalformed)
		}
		if line == "" {
			break
		}
		if len(r.Proof) == MaxProofLines {
			return nil, fmt.Errorf("%w: more than %d proof lines", errMalformed, MaxProofLines)
		}
		h, err := base64.StdEncoding.Strict().DecodeString(line)
		if err != nil || len(h) != len(tlog.Hash{}) || base64.StdEncoding.EncodeToString(h) != line {
			return nil, fmt.Errorf("%w: proof line %d is not a base64 hash", errMalformed, len(r.Proof)+1)
		}
		r.Proof = append(r.Proof, tlog.Hash(h))
	}
	if rest == "" {
		return nil, fmt.Errorf("%w: no checkpoint", errMalformed)
	}
	r.Note = []byte(rest)
	return r, nil
}
