package bulletin

import (
	"fmt"

	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
)

// Header is what the election rules read of an entry (SPEC.md §3.9): its
// identifier and the envelope fields, with the author key as its 32-byte
// encoding. The rules never need the decoded author key or the signature.
type Header struct {
	ID       [32]byte // Digest("board-entry"; entry bytes), SPEC.md §3.4
	Type     EntryType
	Election [32]byte
	Role     Role
	Author   [32]byte // encoding of the author's public key
	Body     []byte
	// Time is the time of the block holding the entry (SPEC.md §3.6), in
	// Unix milliseconds, set by the caller of the rules: a version-4
	// manifest's window reads it (§3.9). ReadHeader and Entry.Header
	// leave it 0.
	Time uint64
}

// Header returns the rules' view of a parsed entry.
func (e *Entry) Header() *Header {
	return &Header{ID: e.ID(), Type: e.Type, Election: e.Election, Role: e.Role, Author: e.AuthorKey(), Body: e.Body}
}

// ReadHeader reads the header of an entry from its canonical bytes without
// decoding any group element: it checks the layout of SPEC.md §3.1
// (version, registered type and role, the body's length and limit, the
// signature's length, no trailing bytes) but NOT that the author key and
// the signature are canonical encodings, nor the signature itself.
//
// It exists for board replicas applying entries that the proposing node
// already decoded strictly and verified (§3.9.1), where the two square roots
// of a strict decode per entry and replica are the largest cost of Apply.
// Everything else MUST use ParseEntry.
//
// The header's Body aliases raw (no copy: the copy was 4 % of the board's
// CPU): the caller keeps raw unchanged while it uses the header, and
// copies the body to keep it longer.
func ReadHeader(raw []byte) (*Header, error) {
	r, h, err := readEnvelopeStart(raw)
	if err != nil {
		return nil, err
	}
	copy(h.Author[:], r.FixedView("author key", 32))
	h.Body = r.BytesView("body", h.Type.MaxBodySize())
	r.FixedView("signature", schnorr.SignatureSize)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: entry: %v", ErrMalformed, err)
	}
	if h.Role < RoleAuthority || h.Role > RoleAuditor {
		return nil, fmt.Errorf("%w: unknown author role %d", ErrMalformed, h.Role)
	}
	if h.Author == ([32]byte{}) {
		return nil, fmt.Errorf("%w: author key missing or identity", ErrMalformed)
	}
	if h.Body == nil {
		h.Body = []byte{}
	}
	h.ID = EntryID(raw)
	return h, nil
}

// readEnvelopeStart checks an entry's size and reads the fields that
// ParseEntry and ReadHeader read alike (SPEC.md §3.1): the version, a
// registered type, the election fingerprint and the author role. It returns
// the reader positioned at the author key.
func readEnvelopeStart(raw []byte) (*wire.Reader, *Header, error) {
	if len(raw) > MaxEntrySize {
		return nil, nil, fmt.Errorf("%w: entry of %d bytes exceeds %d", ErrMalformed, len(raw), MaxEntrySize)
	}
	r := wire.NewReader(raw)
	if v := r.U8("version"); r.Err() == nil && v != EntryVersion {
		return nil, nil, fmt.Errorf("%w: entry version %d", ErrMalformed, v)
	}
	h := &Header{Type: EntryType(r.U8("type"))}
	if r.Err() == nil && !h.Type.Valid() {
		return nil, nil, fmt.Errorf("%w: unknown entry type %d", ErrMalformed, h.Type)
	}
	copy(h.Election[:], r.Fixed("election fingerprint", 32))
	h.Role = Role(r.U8("author role"))
	return r, h, nil
}
