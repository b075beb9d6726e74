package bulletin

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// EntryVersion is the only envelope version of protocol version 1.
const EntryVersion = 1

// EntryType says what an entry's body is (SPEC.md §3.2).
type EntryType uint8

// The entry types. Their numbers are part of the canonical encoding.
const (
	TypeManifest        EntryType = 1 // election manifest (ballot.Manifest)
	TypeCredentials     EntryType = 2 // public credential list (ballot.CredentialList)
	TypeDKGDeal         EntryType = 3 // key ceremony: a dealer's commitments and encrypted shares (tally.DealerPost)
	TypeDKGConfirmation EntryType = 4 // key ceremony: a trustee accepts a dealer's share (tally.Confirmation)
	TypeDKGComplaint    EntryType = 5 // key ceremony: a trustee accuses a dealer (tally.Complaint)
	TypeDKGReveal       EntryType = 6 // key ceremony: a dealer answers a complaint (tally.Reveal)
	TypeOpen            EntryType = 7 // the EA opens voting (OpenBody)
	TypeBallot          EntryType = 8 // a cast ballot (ballot.Ballot)
	TypeAuditedBallot   EntryType = 9 // protocol 1.1: a challenged ballot, opened and signed by its credential (ballot.AuditedBallot); nodes no longer take it

	TypeClose             EntryType = 10 // the EA closes voting (CloseBody)
	TypePartialDecryption EntryType = 11 // a trustee's partial decryption (tally.PartialDecryption)
	TypeResult            EntryType = 12 // the EA's published result (tally.Result)
	TypeAudit             EntryType = 13 // protocol 1.2: a challenged ballot's ciphertexts and opening, signed by a one-time key (ballot.Audit)
	// TypeLateCredentials: the credential authority registers more
	// credentials (late voters, with their weights) before the close
	// (ballot.CredentialList, SPEC.md §3.2, §5.3).
	TypeLateCredentials EntryType = 14
	// TypeShuffle: a trustee's shuffle of a mixed question's rows, with
	// its proof (tally.MixShuffle, SPEC.md §11.3).
	TypeShuffle EntryType = 15
	// TypeMixDecryption: a trustee's decryption shares of a mixed
	// question's last shuffle, with a batched proof (tally.MixDecryption,
	// SPEC.md §11.4).
	TypeMixDecryption EntryType = 16
)

// Role is the kind of party that authored an entry (SPEC.md §3.2).
type Role uint8

// The author roles.
const (
	RoleAuthority           Role = 1 // election authority (EA)
	RoleCredentialAuthority Role = 2 // credential authority (CA)
	RoleTrustee             Role = 3 // a trustee
	RoleVoter               Role = 4 // a voter; the author key is the public credential
	// RoleAuditor: anyone posting an audit (a voter's device challenging a
	// ballot); the author key is a fresh one-time key, never a credential,
	// so the audit is not linkable to the voter (SPEC.md §7.3).
	RoleAuditor Role = 5
)

// typeInfo is one row of the type registry.
type typeInfo struct {
	name    string
	role    Role
	maxBody int
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

// MaxAuditBody bounds an audit's body (SPEC.md §3.2, §12.10): the audit of
// the largest ballot a valid manifest allows (ballot.MaxAuditBytes).
const MaxAuditBody = ballot.MaxAuditBytes

// registry is the type registry of SPEC.md §3.2: name, author role, body size limit.
var registry = map[EntryType]typeInfo{
	TypeManifest:          {"manifest", RoleAuthority, 1 * mib},
	TypeCredentials:       {"credentials", RoleCredentialAuthority, 40 * mib},
	TypeDKGDeal:           {"dkg-deal", RoleTrustee, 1 * mib},
	TypeDKGConfirmation:   {"dkg-confirmation", RoleTrustee, 64 * kib},
	TypeDKGComplaint:      {"dkg-complaint", RoleTrustee, 64 * kib},
	TypeDKGReveal:         {"dkg-reveal", RoleTrustee, 64 * kib},
	TypeOpen:              {"open", RoleAuthority, 64 * kib},
	TypeBallot:            {"ballot", RoleVoter, ballot.MaxBallotBytes},
	TypeAuditedBallot:     {"audited-ballot", RoleVoter, 2 * ballot.MaxBallotBytes},
	TypeClose:             {"close", RoleAuthority, 4 * kib},
	TypePartialDecryption: {"partial-decryption", RoleTrustee, 4 * mib},
	TypeResult:            {"result", RoleAuthority, MaxMixBody},
	TypeAudit:             {"audit", RoleAuditor, MaxAuditBody},
	TypeLateCredentials:   {"late-credentials", RoleCredentialAuthority, 40 * mib},
	TypeShuffle:           {"shuffle", RoleTrustee, MaxMixBody},
	TypeMixDecryption:     {"mix-decryption", RoleTrustee, MaxMixBody / 2},
}

// MaxMixBody bounds the body of a shuffle and of a result (SPEC.md §3.2,
// §11.6): the shuffle of 100 000 rows of width 5 is 32 MB of rows and
// 16 MB of proof; its decryption (half the limit) 16 MB of shares; a
// result lists every decrypted answer (a write-in up to 256 bytes).
const MaxMixBody = 64 * mib

// Valid reports whether t is a registered entry type.
func (t EntryType) Valid() bool { _, ok := registry[t]; return ok }

// String returns the registered name of t.
func (t EntryType) String() string {
	if ti, ok := registry[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// CheckedAgainstElection reports whether a node checks an entry of type t
// against the whole election before proposing it (SPEC.md §3.14.6, item
// 5): a credential list against every credential, a shuffle against all
// the question's rows, a mix decryption against the last shuffle's rows,
// a partial decryption against the aggregate of every counted ballot (the
// first one a node checks adds them all up), a result against the tally
// and every mixed question. At 100,000 ballots and more such a check
// takes minutes, and a post of such an entry is given that long.
func (t EntryType) CheckedAgainstElection() bool {
	switch t {
	case TypeCredentials, TypeLateCredentials, TypeShuffle, TypeMixDecryption, TypePartialDecryption, TypeResult:
		return true
	}
	return false
}

// PostCheckedAgainstElection reports whether a post of these canonical
// entries holds one of a type CheckedAgainstElection (an entry's type is
// its second byte, SPEC.md §3.1; one too short to have it is refused
// anyway): a post a node gives longer to be answered, and its client
// waits longer for (SPEC.md §3.14.6, item 5).
func PostCheckedAgainstElection(entries [][]byte) bool {
	for _, e := range entries {
		if len(e) > 1 && EntryType(e[1]).CheckedAgainstElection() {
			return true
		}
	}
	return false
}

// Role returns the only role allowed to author entries of type t.
func (t EntryType) Role() Role { return registry[t].role }

// MaxBodySize returns the body size limit of type t (0 for unknown types).
func (t EntryType) MaxBodySize() int { return registry[t].maxBody }

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleAuthority:
		return "election-authority"
	case RoleCredentialAuthority:
		return "credential-authority"
	case RoleTrustee:
		return "trustee"
	case RoleVoter:
		return "voter"
	case RoleAuditor:
		return "auditor"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Entry is one board entry: a typed, signed envelope around the canonical
// encoding of a protocol object (SPEC.md §3.1). Decoded entries are
// validated; fields MUST NOT be modified after signing.
type Entry struct {
	Type     EntryType
	Election [32]byte       // election fingerprint
	Role     Role           // author role
	Author   *group.Element // author's Schnorr public key (voters: public credential); never the identity
	Body     []byte         // canonical encoding of the typed object
	Sig      *schnorr.Signature
}

// envelope sizes
const (
	entryHeaderSize = 1 + 1 + 32 + 1 + 32 + 4
	// MaxEntrySize bounds any encoded entry (the largest body limit plus the envelope).
	MaxEntrySize = MaxMixBody + entryHeaderSize + schnorr.SignatureSize
)

// NewEntry returns an unsigned entry after checking the type, role and body
// size (SPEC.md §3.1).
func NewEntry(t EntryType, election [32]byte, role Role, author *group.Element, body []byte) (*Entry, error) {
	e := &Entry{Type: t, Election: election, Role: role, Author: author, Body: append([]byte(nil), body...)}
	if err := e.checkHeader(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Entry) checkHeader() error {
	ti, ok := registry[e.Type]
	switch {
	case !ok:
		return fmt.Errorf("%w: unknown entry type %d", ErrMalformed, e.Type)
	case e.Role < RoleAuthority || e.Role > RoleAuditor:
		return fmt.Errorf("%w: unknown author role %d", ErrMalformed, e.Role)
	case e.Author == nil || e.Author.IsIdentity():
		return fmt.Errorf("%w: author key missing or identity", ErrMalformed)
	case len(e.Body) > ti.maxBody:
		return fmt.Errorf("%w: %s body of %d bytes exceeds %d", ErrMalformed, ti.name, len(e.Body), ti.maxBody)
	}
	return nil
}

// appendTBS appends the to-be-signed bytes: every field before the signature.
func (e *Entry) appendTBS(w *wire.Writer) *wire.Writer {
	return w.U8(EntryVersion).U8(uint8(e.Type)).Fixed(e.Election[:]).U8(uint8(e.Role)).Element(e.Author).Bytes(e.Body)
}

// SigningMessage returns the message the envelope signature signs
// (SPEC.md §3.3): u32be(len(T)) || T || tbs, with T =
// "urna/v1/board-entry-signature" and tbs the entry's encoding without the
// signature.
func (e *Entry) SigningMessage() []byte {
	tag := transcript.EntrySignature.Tag()
	w := wire.NewWriter(4 + len(tag) + entryHeaderSize + len(e.Body)).Bytes(tag)
	return e.appendTBS(w).Out()
}

// Sign signs the entry with key, whose public key MUST be the author key
// (SPEC.md §3.3). The nonce comes from rand.
func (e *Entry) Sign(rand io.Reader, key *schnorr.PrivateKey) error {
	if err := e.checkHeader(); err != nil {
		return err
	}
	if !key.Public().Equal(e.Author) {
		return fmt.Errorf("bulletin: signing key is not the entry's author key")
	}
	sig, err := key.Sign(rand, e.SigningMessage())
	if err != nil {
		return fmt.Errorf("bulletin: signing entry: %w", err)
	}
	e.Sig = sig
	return nil
}

// VerifySignature checks the envelope signature (SPEC.md V1.4). It returns
// ErrInvalidSignature on failure. Variable time (public data).
func (e *Entry) VerifySignature() error {
	if e.Sig == nil {
		return ErrInvalidSignature
	}
	if schnorr.Verify(e.Author, e.SigningMessage(), e.Sig) != nil {
		return ErrInvalidSignature
	}
	return nil
}

// AddToBatch adds the envelope signature's verification equation to v under
// owner, so that many signatures (and the proofs of ballot.VerifyBatch)
// verify in one multi-scalar multiplication (SPEC.md §2.5).
func (e *Entry) AddToBatch(v *batch.Verifier, owner int) {
	g, terms := schnorr.Equation(e.Author, e.SigningMessage(), e.Sig)
	q := v.Add(owner).G(g)
	for _, t := range terms {
		q.Term(t.S, t.P)
	}
}

// Bytes returns the canonical encoding (SPEC.md §3.1). The entry MUST be signed.
func (e *Entry) Bytes() []byte {
	if e.Sig == nil {
		panic("bulletin: encoding an unsigned entry")
	}
	w := wire.NewWriter(entryHeaderSize + len(e.Body) + schnorr.SignatureSize)
	return e.appendTBS(w).Fixed(e.Sig.Bytes()).Out()
}

// ID returns the entry identifier Digest("board-entry"; bytes) (SPEC.md §3.4).
func (e *Entry) ID() [32]byte { return EntryID(e.Bytes()) }

// EntryID returns the identifier of an entry's canonical bytes (SPEC.md §3.4).
func EntryID(entryBytes []byte) [32]byte {
	return transcript.DigestOf(transcript.EntryHash, entryBytes)
}

// AuthorKey returns the 32-byte encoding of the author key.
func (e *Entry) AuthorKey() [32]byte { return [32]byte(e.Author.Bytes()) }

// ParseEntry decodes an entry strictly (SPEC.md V1.3): version 1, a
// registered type and role, a canonical non-identity author key, a body
// within the type's size limit, a canonical signature, and no trailing
// bytes. It does not verify the signature. On error it returns nil.
func ParseEntry(b []byte) (*Entry, error) { return parseEntry(b, false) }

// ParseEntryShared is ParseEntry without the copy of the body: the entry's
// Body aliases b, so the caller MUST keep b unchanged while it uses the
// entry (a node's pre-check of a post it holds until the post is
// answered).
func ParseEntryShared(b []byte) (*Entry, error) { return parseEntry(b, true) }

func parseEntry(b []byte, shared bool) (*Entry, error) {
	r, h, err := readEnvelopeStart(b)
	if err != nil {
		return nil, err
	}
	e := &Entry{Type: h.Type, Election: h.Election, Role: h.Role}
	e.Author = r.NonIdentity("author key")
	if shared {
		e.Body = r.BytesView("body", e.Type.MaxBodySize())
	} else {
		e.Body = r.Bytes("body", e.Type.MaxBodySize())
	}
	if r.Err() == nil {
		// body may be empty; keep a non-nil slice so re-encoding is identical
		if e.Body == nil {
			e.Body = []byte{}
		}
		sig, err := schnorr.ParseSignature(r.Fixed("signature", schnorr.SignatureSize))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		e.Sig = sig
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: entry: %v", ErrMalformed, err)
	}
	if err := e.checkHeader(); err != nil {
		return nil, err
	}
	return e, nil
}

// EntryView is a read-only JSON view of an entry for people (explorer, API).
// It is NOT hashed, NOT signed and MUST NOT be parsed back into an entry.
type EntryView struct {
	Seq      *uint64 `json:"seq,omitempty"`
	ID       string  `json:"id"`
	Type     string  `json:"type"`
	Election string  `json:"election"`
	Role     string  `json:"author_role"`
	Author   string  `json:"author"`
	Tracker  string  `json:"tracker,omitempty"`
	BodySize int     `json:"body_size"`
	Body     any     `json:"body,omitempty"`
	Raw      string  `json:"raw"` // base64url of the canonical entry bytes: the authoritative form
}

// BodyViewer decodes a body for display: the tracker (ballots and audited
// ballots, else nil) and any JSON-marshalable description of its fields.
type BodyViewer func(t EntryType, body []byte) (tracker []byte, fields any, err error)

// View returns the JSON view of e. seq may be nil; bv may be nil (no
// decoded body fields). A body the viewer cannot decode is shown without fields.
func (e *Entry) View(seq *uint64, bv BodyViewer) *EntryView {
	raw := e.Bytes()
	id := EntryID(raw)
	v := &EntryView{
		Seq:      seq,
		ID:       hex.EncodeToString(id[:]),
		Type:     e.Type.String(),
		Election: hex.EncodeToString(e.Election[:]),
		Role:     e.Role.String(),
		Author:   wire.EncodeB64(e.Author.Bytes()),
		BodySize: len(e.Body),
		Raw:      wire.EncodeB64(raw),
	}
	if bv != nil {
		if tr, fields, err := bv(e.Type, e.Body); err == nil {
			if tr != nil {
				v.Tracker = hex.EncodeToString(tr)
			}
			v.Body = fields
		}
	}
	return v
}

// open and close bodies, defined by this package (SPEC.md §3.5)

// OpenBody is the body of an open entry: the joint election key and the
// qualified dealers, both of which every verifier recomputes from the key
// ceremony entries (SPEC.md §3.5, V5).
type OpenBody struct {
	JointKey  *group.Element // never the identity
	Qualified []uint16       // trustee indexes, strictly increasing, each ≥ 1
}

// MaxTrustees bounds the number of trustees (and so every trustee index).
const MaxTrustees = 1000

// Bytes returns jointKey[32] || u32 count || count × u16 index.
func (o *OpenBody) Bytes() []byte {
	w := wire.NewWriter(32 + 4 + 2*len(o.Qualified)).Element(o.JointKey).Count(len(o.Qualified))
	for _, i := range o.Qualified {
		w.U16(i)
	}
	return w.Out()
}

// ParseOpenBody decodes an open body strictly.
func ParseOpenBody(b []byte) (*OpenBody, error) {
	r := wire.NewReader(b)
	o := &OpenBody{JointKey: r.NonIdentity("joint key")}
	n := r.Count("qualified", MaxTrustees)
	o.Qualified = make([]uint16, 0, n)
	for k := 0; k < n && r.Err() == nil; k++ {
		i := r.U16("trustee index")
		if r.Err() == nil && (i == 0 || (k > 0 && i <= o.Qualified[k-1])) {
			r.Failf("qualified indexes must be ≥ 1 and strictly increasing")
		}
		o.Qualified = append(o.Qualified, i)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: open body: %v", ErrMalformed, err)
	}
	return o, nil
}

// CloseBody is the body of a close entry: a human-readable reason.
type CloseBody struct {
	Reason string // UTF-8, at most MaxCloseReason bytes
}

// MaxCloseReason bounds CloseBody.Reason.
const MaxCloseReason = 1024

// Bytes returns the string-encoded reason.
func (c *CloseBody) Bytes() []byte { return wire.NewWriter(4 + len(c.Reason)).String(c.Reason).Out() }

// ParseCloseBody decodes a close body strictly.
func ParseCloseBody(b []byte) (*CloseBody, error) {
	r := wire.NewReader(b)
	c := &CloseBody{Reason: r.String("reason", MaxCloseReason)}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: close body: %v", ErrMalformed, err)
	}
	return c, nil
}
