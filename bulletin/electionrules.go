package bulletin

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
)

// Facts are the few fields of a typed body the rules need. A Bodies
// implementation extracts them with the owning package's strict parser
// (ballot.ParseManifest, tally.ParseDealerPost, ...).
type (
	// ManifestFacts: the parties and parameters a manifest fixes.
	ManifestFacts struct {
		Fingerprint         [32]byte // Manifest.Fingerprint()
		ElectionID          string
		Authority           [32]byte
		CredentialAuthority [32]byte
		Trustees            [][32]byte // signing keys of trustees 1..n
		Threshold           int
		Nodes               []NodeKey
		Quorum              int
		// The voting window of a version-4 manifest (SPEC.md §3.9), as
		// ElectionState holds it: all zero for versions 1–3.
		OpensAt, ClosesAt uint64
		NoManualClose     bool
		// Mixed lists the mixed (ranked, score, write-in) questions in
		// increasing order (SPEC.md §11).
		Mixed []int
	}
	// ShuffleFacts: a shuffle's question, trustee and cascade position.
	ShuffleFacts struct{ Question, Trustee, Position int }
	// MixDecryptionFacts: a mix decryption's question and trustee.
	MixDecryptionFacts struct{ Question, Trustee int }
	// DealFacts: a dealer post's dealer index and constant-term commitment C_i0.
	DealFacts struct {
		Dealer       int
		ConstantTerm [32]byte
	}
	// ConfirmationFacts: the confirming trustee and the dealers it accepted.
	ConfirmationFacts struct {
		Trustee int
		Dealers []int
	}
	// ComplaintFacts: trustee Complainer accuses Dealer.
	ComplaintFacts struct{ Dealer, Complainer int }
	// RevealFacts: Dealer answers Complainer's complaint.
	RevealFacts struct{ Dealer, Complainer int }
	// CredentialFacts: the public credentials a credentials or
	// late-credentials entry registers, and their weights (nil: all 1).
	CredentialFacts struct {
		Credentials [][32]byte
		Weights     []uint32
	}
	// BallotFacts: the credential a (cast or audited) ballot names and its tracker.
	BallotFacts struct{ Credential, Tracker [32]byte }
	// AuditFacts: the election an audit names, its tracker and its layout
	// (Kinds: the audit2 of a version-2 ballot, SPEC.md §12.10).
	AuditFacts struct {
		Election, Tracker [32]byte
		Kinds             bool
	}
	// PartialFacts: the trustee of a partial decryption.
	PartialFacts struct{ Trustee int }
)

// Bodies decodes entry bodies for the rules. Every method MUST be
// deterministic and MUST reject any body its owner's parser rejects.
type Bodies interface {
	Manifest(body []byte) (*ManifestFacts, error)
	// Credentials decodes the body of a credentials or late-credentials
	// entry (t), a credential list of SPEC.md §5.3.
	Credentials(t EntryType, body []byte) (*CredentialFacts, error)
	Deal(body []byte) (*DealFacts, error)
	Confirmation(body []byte) (*ConfirmationFacts, error)
	Complaint(body []byte) (*ComplaintFacts, error)
	Reveal(body []byte) (*RevealFacts, error)
	Ballot(body []byte) (*BallotFacts, error)
	AuditedBallot(body []byte) (*BallotFacts, error)
	Audit(body []byte) (*AuditFacts, error)
	PartialDecryption(body []byte) (*PartialFacts, error)
	Result(body []byte) error
	Shuffle(body []byte) (*ShuffleFacts, error)
	MixDecryption(body []byte) (*MixDecryptionFacts, error)
}

// TrackerKind says whether a tracker belongs to a cast or an audited ballot.
type TrackerKind uint8

// Tracker kinds.
const (
	TrackerCast    TrackerKind = 1
	TrackerAudited TrackerKind = 2
)

// TrackerRecord maps a ballot tracker to the entry that carries it.
type TrackerRecord struct {
	Tracker [32]byte
	Kind    TrackerKind
	Seq     uint64
}

// Index is the read side of the board's unbounded sets, implemented by the
// node's storage. Reads MUST reflect the Effects of every entry applied
// before, including earlier entries of the same batch. An error from Index
// is a storage failure, never a rejection: Apply returns it unwrapped from
// any sentinel and the node MUST stop rather than diverge.
type Index interface {
	// HasCredential reports whether cred is a registered public credential.
	HasCredential(cred [32]byte) (bool, error)
	// EntrySeen reports whether an entry with this id is on the board.
	EntrySeen(id [32]byte) (bool, error)
	// Tracker returns the record of a tracker, if any.
	Tracker(tracker [32]byte) (TrackerRecord, bool, error)
}

// Effects is what the node MUST store, atomically with the entry and the
// new ElectionState, after Apply accepts an entry.
type Effects struct {
	Seq         uint64     // the entry's sequence number (its Merkle leaf index)
	ID          [32]byte   // entry id; store id → seq
	Phase       Phase      // phase after the entry
	Credentials [][32]byte // credentials and late-credentials entries: register every credential
	// Weights[i] is the weight of Credentials[i] (SPEC.md §5.3); nil when
	// every weight is 1. The node keeps the weights other than 1 for the
	// aggregate it checks partial decryptions against (§9.1).
	Weights []uint32
	Tracker *TrackerRecord // ballot / audited ballot: store tracker → record
	// LastBallot is set for a cast ballot: credential → seq of its latest
	// ballot (a revote replaces the previous value; SPEC.md V10).
	LastBallot *CredentialBallot
}

// CredentialBallot is the latest ballot of a credential.
type CredentialBallot struct {
	Credential [32]byte
	Seq        uint64
}

// Rules is the election state machine (SPEC.md §3.9). It is pure and
// deterministic: Apply reads no clock, no randomness and no map order.
type Rules struct {
	Bodies Bodies
}

// NewRules returns the rules decoding bodies with b.
func NewRules(b Bodies) *Rules { return &Rules{Bodies: b} }

func reject(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

func containsU16(l []uint16, v uint16) bool { _, ok := slices.BinarySearch(l, v); return ok }

func insertU16(l []uint16, v uint16) []uint16 {
	i, _ := slices.BinarySearch(l, v)
	return slices.Insert(slices.Clone(l), i, v)
}

// Apply applies entry e to st (SPEC.md §3.9, V5). On acceptance it updates
// st in place and returns the effects to store; on rejection it returns an
// error wrapping one of the rule sentinels and leaves st unchanged. The
// caller MUST have run PreCheck (signatures and body proofs) on e; Apply
// only performs cheap deterministic checks.
func (r *Rules) Apply(st *ElectionState, idx Index, e *Entry) (*Effects, error) {
	return r.ApplyHeader(st, idx, e.Header())
}

// ApplyHeader is Apply on an entry's header (ReadHeader or Entry.Header):
// the rules read nothing else of an entry.
func (r *Rules) ApplyHeader(st *ElectionState, idx Index, e *Header) (*Effects, error) {
	if st.Phase == PhaseEmpty {
		return r.applyManifest(st, e)
	}
	if e.Election != st.Election {
		return nil, reject(ErrWrongElection, "entry for election %x", e.Election[:8])
	}
	id := e.ID
	if seen, err := idx.EntrySeen(id); err != nil {
		return nil, fmt.Errorf("bulletin: index: %v", err)
	} else if seen {
		return nil, reject(ErrDuplicate, "entry %x already on the board", id[:8])
	}
	if st.Phase == PhaseResult {
		return nil, reject(ErrClosed, "%s after the result", e.Type)
	}
	if e.Role != e.Type.Role() {
		return nil, reject(ErrNotAuthorized, "%s posted as %s", e.Type, e.Role)
	}
	author := e.Author
	trustee := 0 // 1-based trustee index of the author, for trustee entries
	switch e.Role {
	case RoleAuthority:
		if author != st.Authority {
			return nil, reject(ErrNotAuthorized, "%s not signed by the election authority", e.Type)
		}
	case RoleCredentialAuthority:
		if author != st.CredentialAuthority {
			return nil, reject(ErrNotAuthorized, "%s not signed by the credential authority", e.Type)
		}
	case RoleTrustee:
		for i, t := range st.Trustees {
			if t.Key == author {
				trustee = i + 1
			}
		}
		if trustee == 0 {
			return nil, reject(ErrNotAuthorized, "%s author is not a trustee", e.Type)
		}
	case RoleVoter:
		ok, err := idx.HasCredential(author)
		if err != nil {
			return nil, fmt.Errorf("bulletin: index: %v", err)
		}
		if !ok {
			return nil, reject(ErrUnknownCredential, "%s by unregistered credential", e.Type)
		}
	}
	var next *ElectionState
	if countersOnly(e.Type) {
		c := *st
		next = &c
	} else {
		next = st.Clone()
	}
	eff := &Effects{Seq: st.Entries, ID: id}
	if err := r.applyTyped(next, idx, e, trustee, author, eff); err != nil {
		return nil, err
	}
	next.Entries++
	eff.Phase = next.Phase
	*st = *next
	return eff, nil
}

// countersOnly reports whether the rules of type t change only the state's
// scalar fields (its counters), never one of its lists: the voters' entries.
// ApplyHeader applies those to a copy of the state's struct instead of a
// deep Clone, which is what keeps a rejected entry from changing the state
// (a Clone per ballot was 2-3 % of the board's CPU, bench/README.md).
// TestRulesPhaseTable and TestRulesRejections check that no rejected entry
// of any type changes the state's encoding, lists included.
func countersOnly(t EntryType) bool {
	return t == TypeBallot || t == TypeAuditedBallot || t == TypeAudit
}

func (r *Rules) applyManifest(st *ElectionState, e *Header) (*Effects, error) {
	if e.Type != TypeManifest {
		return nil, reject(ErrWrongPhase, "%s before the manifest", e.Type)
	}
	if e.Role != RoleAuthority {
		return nil, reject(ErrNotAuthorized, "manifest posted as %s", e.Role)
	}
	m, err := r.Bodies.Manifest(e.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	if m.Fingerprint != e.Election {
		return nil, reject(ErrWrongElection, "envelope fingerprint is not the manifest's")
	}
	if m.Authority != e.Author {
		return nil, reject(ErrNotAuthorized, "manifest not signed by the authority it names")
	}
	if !ballot.ValidElectionID(m.ElectionID) || m.Threshold < 1 || m.Threshold > len(m.Trustees) || len(m.Trustees) > MaxTrustees ||
		m.Quorum < 1 || m.Quorum > len(m.Nodes) || len(m.Nodes) > 1024 {
		return nil, reject(ErrInvalidBody, "manifest parameters")
	}
	for _, n := range m.Nodes {
		// a node whose ID cannot name a note key could never sign a checkpoint
		if !ballot.ValidNodeID(n.ID) || len(n.PublicKey) != ed25519.PublicKeySize {
			return nil, reject(ErrInvalidBody, "board node %q: invalid id or key", n.ID)
		}
	}
	next := &ElectionState{
		Phase: PhaseSetup, Election: m.Fingerprint, ElectionID: m.ElectionID,
		Authority: m.Authority, CredentialAuthority: m.CredentialAuthority,
		Threshold: uint16(m.Threshold), Quorum: uint16(m.Quorum), Entries: 1,
		OpensAt: m.OpensAt, ClosesAt: m.ClosesAt, NoManualClose: m.NoManualClose,
	}
	for _, k := range m.Trustees {
		next.Trustees = append(next.Trustees, TrusteeState{Key: k})
	}
	for _, q := range m.Mixed {
		if q < 0 || q > 0xffff || len(next.Mixes) > 0 && uint16(q) <= next.Mixes[len(next.Mixes)-1].Question {
			return nil, reject(ErrInvalidBody, "manifest parameters: mixed questions")
		}
		next.Mixes = append(next.Mixes, MixState{Question: uint16(q)})
	}
	for _, n := range m.Nodes {
		next.Nodes = append(next.Nodes, NodeKey{ID: n.ID, PublicKey: slices.Clone(n.PublicKey)})
	}
	*st = *next
	return &Effects{Seq: 0, ID: e.ID, Phase: PhaseSetup}, nil
}

// credentials returns the decoder of a credentials or late-credentials body.
func (r *Rules) credentials(t EntryType) func(body []byte) (*CredentialFacts, error) {
	return func(body []byte) (*CredentialFacts, error) { return r.Bodies.Credentials(t, body) }
}

// MaxWeight is the largest weight of a public credential (SPEC.md §5.3),
// ballot.MaxWeight.
const MaxWeight = ballot.MaxWeight

// phaseIs rejects e unless st is in one of the phases; voting entries after
// close are ErrClosed.
func phaseIs(st *ElectionState, e *Header, ok ...Phase) error {
	if slices.Contains(ok, st.Phase) {
		return nil
	}
	if st.Phase >= PhaseClosed && (e.Type == TypeBallot || e.Type == TypeAuditedBallot || e.Type == TypeAudit || e.Type == TypeClose || e.Type == TypeLateCredentials) {
		return reject(ErrClosed, "%s after close", e.Type)
	}
	return reject(ErrWrongPhase, "%s in phase %s", e.Type, st.Phase)
}

// inWindow rejects a voting entry (ballot, audited ballot, audit) unless
// st is open and the time of e's block lies in the manifest's window
// [opens_at, closes_at) (SPEC.md §3.9, V5.7): before it with
// ErrNotOpenYet, from closes_at on with ErrClosed, both naming the times.
func inWindow(st *ElectionState, e *Header) error {
	if err := phaseIs(st, e, PhaseOpen); err != nil {
		return err
	}
	return CheckWindow(st.Window(), e.Type, e.Time)
}

// CheckWindow rejects a voting entry of type t (ballot, audited ballot,
// audit) at time t (the Unix milliseconds of its block) outside window w
// (SPEC.md §3.9, V5.7). It is the rules' check, which a node also runs on
// its own clock before it proposes a post, to refuse it early.
func CheckWindow(w ballot.Schedule, typ EntryType, at uint64) error {
	if typ != TypeBallot && typ != TypeAuditedBallot && typ != TypeAudit {
		return nil
	}
	switch w.At(at) {
	case ballot.WindowNotOpen:
		return &WindowError{Type: typ, At: at, Window: w, sentinel: ErrNotOpenYet, detail: "the election opens at " + ballot.FormatTime(w.OpensAt)}
	case ballot.WindowClosed:
		return &WindowError{Type: typ, At: at, Window: w, sentinel: ErrClosed, detail: "the election closed at " + ballot.FormatTime(w.ClosesAt)}
	}
	return nil
}

// WindowError is a rules rejection by the voting window of a version-4
// manifest (SPEC.md §3.9, V5.7): a ballot, audited ballot or audit whose
// block time is outside [opens_at, closes_at) (it wraps ErrNotOpenYet or
// ErrClosed), or a close before closes_at that the manifest does not
// allow (it wraps ErrNotAuthorized).
type WindowError struct {
	Type     EntryType
	At       uint64 // the time the entry was judged at (its block's), Unix ms
	Window   ballot.Schedule
	sentinel error
	detail   string
}

func (e *WindowError) Error() string {
	return fmt.Sprintf("%v: %s at %s: %s", e.sentinel, e.Type, ballot.FormatTime(e.At), e.detail)
}

// Unwrap returns the rule sentinel.
func (e *WindowError) Unwrap() error { return e.sentinel }

// MaxAudits is the number of audits (audit and, from protocol 1.1 records,
// audited-ballot entries) an election with n registered credentials takes
// (SPEC.md §3.9): n + 64. Audits are anonymous, so the rules cannot bound
// them per voter; this bounds the board's growth, and every node also
// rate-limits the audits it proposes (outside the replicated rules).
func MaxAudits(credentials uint64) uint64 { return credentials + 64 }

// auditVersion names an audit layout by the ballot version it opens.
func auditVersion(kinds bool) int {
	if kinds {
		return ballot.BallotVersionKinds
	}
	return ballot.BallotVersion
}

// auditRoom rejects an audit once the board holds MaxAudits of them.
func auditRoom(st *ElectionState) error {
	if st.Audited >= MaxAudits(st.Credentials) {
		return reject(ErrAuditLimit, "the board holds %d audits, the most this election takes (its %d credentials + 64)", st.Audited, st.Credentials)
	}
	return nil
}

// burnTracker rejects a tracker already on the board (an audited tracker
// refuses a cast ballot with ErrAudited: the replay of an opened ballot)
// and otherwise records it in eff.
func burnTracker(idx Index, eff *Effects, tr [32]byte, kind TrackerKind) error {
	rec, found, err := idx.Tracker(tr)
	if err != nil {
		return fmt.Errorf("bulletin: index: %v", err)
	}
	if found {
		if rec.Kind == TrackerAudited && kind == TrackerCast {
			return reject(ErrAudited, "tracker %x was audited at entry %d: its choices are public", tr[:8], rec.Seq)
		}
		return reject(ErrDuplicate, "tracker %x already on the board at entry %d", tr[:8], rec.Seq)
	}
	eff.Tracker = &TrackerRecord{Tracker: tr, Kind: kind, Seq: eff.Seq}
	return nil
}

func malformedBody(t EntryType, err error) error {
	return fmt.Errorf("%w: %s body: %v", ErrMalformed, t, err)
}

// decodeIn rejects e unless st is in one of the phases, then decodes its
// body with decode; a body that does not decode is ErrMalformed.
func decodeIn[T any](st *ElectionState, e *Header, decode func(body []byte) (T, error), ok ...Phase) (T, error) {
	var zero T
	if err := phaseIs(st, e, ok...); err != nil {
		return zero, err
	}
	v, err := decode(e.Body)
	if err != nil {
		return zero, malformedBody(e.Type, err)
	}
	return v, nil
}

func (r *Rules) applyTyped(st *ElectionState, idx Index, e *Header, trustee int, author [32]byte, eff *Effects) error {
	n := len(st.Trustees)
	inRange := func(i int) bool { return i >= 1 && i <= n }
	switch e.Type {
	case TypeManifest:
		return reject(ErrWrongPhase, "manifest already posted")

	case TypeCredentials:
		f, err := decodeIn(st, e, r.credentials(e.Type), PhaseSetup)
		if err != nil {
			return err
		}
		sorted := slices.Clone(f.Credentials)
		slices.SortFunc(sorted, func(a, b [32]byte) int { return compare32(a, b) })
		for i := 1; i < len(sorted); i++ {
			if sorted[i] == sorted[i-1] {
				return reject(ErrInvalidBody, "credential listed twice")
			}
		}
		if err := mixedWeights(st, f); err != nil {
			return err
		}
		eff.Credentials, eff.Weights = f.Credentials, f.Weights
		st.Credentials = uint64(len(f.Credentials))
		st.Phase = PhaseKeyCeremony

	case TypeLateCredentials:
		// Late voters (SPEC.md §3.9): more credentials, each new, before
		// the close; the list's encoding has no credential twice.
		f, err := decodeIn(st, e, r.credentials(e.Type), PhaseKeyCeremony, PhaseOpen)
		if err != nil {
			return err
		}
		if err := mixedWeights(st, f); err != nil {
			return err
		}
		if st.Credentials+uint64(len(f.Credentials)) > ballot.MaxCredentials {
			return reject(ErrInvalidBody, "%d credentials registered and %d more: at most %d in all", st.Credentials, len(f.Credentials), ballot.MaxCredentials)
		}
		for i := range f.Credentials {
			if i > 0 && compare32(f.Credentials[i-1], f.Credentials[i]) >= 0 {
				return reject(ErrInvalidBody, "late credentials not strictly sorted")
			}
			ok, err := idx.HasCredential(f.Credentials[i])
			if err != nil {
				return fmt.Errorf("bulletin: index: %v", err)
			}
			if ok {
				return reject(ErrDuplicate, "credential %x… is already registered", f.Credentials[i][:6])
			}
		}
		eff.Credentials, eff.Weights = f.Credentials, f.Weights
		st.Credentials += uint64(len(f.Credentials))

	case TypeDKGDeal:
		d, err := decodeIn(st, e, r.Bodies.Deal, PhaseKeyCeremony)
		if err != nil {
			return err
		}
		if d.Dealer != trustee {
			return reject(ErrNotAuthorized, "trustee %d posted dealer %d's deal", trustee, d.Dealer)
		}
		t := &st.Trustees[trustee-1]
		if t.Dealt {
			return reject(ErrDuplicate, "trustee %d already dealt", trustee)
		}
		t.Dealt, t.ConstantTerm = true, d.ConstantTerm

	case TypeDKGConfirmation:
		c, err := decodeIn(st, e, r.Bodies.Confirmation, PhaseKeyCeremony)
		if err != nil {
			return err
		}
		if c.Trustee != trustee {
			return reject(ErrNotAuthorized, "trustee %d posted trustee %d's confirmation", trustee, c.Trustee)
		}
		for _, d := range c.Dealers {
			if !inRange(d) || d == trustee || !st.Trustees[d-1].Dealt {
				return reject(ErrInvalidBody, "confirmation of dealer %d, who has not dealt", d)
			}
		}
		t := &st.Trustees[trustee-1]
		if t.Confirmed {
			return reject(ErrDuplicate, "trustee %d already confirmed", trustee)
		}
		t.Confirmed = true

	case TypeDKGComplaint:
		c, err := decodeIn(st, e, r.Bodies.Complaint, PhaseKeyCeremony)
		if err != nil {
			return err
		}
		if c.Complainer != trustee {
			return reject(ErrNotAuthorized, "trustee %d posted trustee %d's complaint", trustee, c.Complainer)
		}
		if !inRange(c.Dealer) || c.Dealer == trustee || !st.Trustees[c.Dealer-1].Dealt {
			return reject(ErrInvalidBody, "complaint against dealer %d, who has not dealt", c.Dealer)
		}
		d := &st.Trustees[c.Dealer-1]
		if containsU16(d.Complainers, uint16(trustee)) {
			return reject(ErrDuplicate, "trustee %d already complained against %d", trustee, c.Dealer)
		}
		d.Complainers = insertU16(d.Complainers, uint16(trustee))

	case TypeDKGReveal:
		rv, err := decodeIn(st, e, r.Bodies.Reveal, PhaseKeyCeremony)
		if err != nil {
			return err
		}
		if rv.Dealer != trustee {
			return reject(ErrNotAuthorized, "trustee %d posted dealer %d's reveal", trustee, rv.Dealer)
		}
		d := &st.Trustees[trustee-1]
		if !inRange(rv.Complainer) || !containsU16(d.Complainers, uint16(rv.Complainer)) {
			return reject(ErrInvalidBody, "reveal for trustee %d, who did not complain", rv.Complainer)
		}
		if containsU16(d.Answered, uint16(rv.Complainer)) {
			return reject(ErrDuplicate, "complaint of trustee %d already answered", rv.Complainer)
		}
		d.Answered = insertU16(d.Answered, uint16(rv.Complainer))

	case TypeOpen:
		if err := phaseIs(st, e, PhaseKeyCeremony); err != nil {
			return err
		}
		o, err := ParseOpenBody(e.Body)
		if err != nil {
			return err
		}
		qual, key := st.qualified()
		if len(qual) < int(st.Threshold) {
			return reject(ErrWrongPhase, "|QUAL| = %d below threshold %d", len(qual), st.Threshold)
		}
		if !slices.Equal(qual, o.Qualified) {
			return reject(ErrInvalidBody, "qualified set %v, board says %v", o.Qualified, qual)
		}
		if !key.Equal(o.JointKey) {
			return reject(ErrInvalidBody, "joint key is not the sum of the qualified constant terms")
		}
		st.JointKey, st.Qualified, st.Phase = [32]byte(key.Bytes()), qual, PhaseOpen

	case TypeBallot, TypeAuditedBallot:
		if err := inWindow(st, e); err != nil {
			return err
		}
		decode := r.Bodies.Ballot
		if e.Type == TypeAuditedBallot {
			if err := phaseIs(st, e, PhaseOpen); err != nil {
				return err
			}
			if err := auditRoom(st); err != nil {
				return err
			}
			decode = r.Bodies.AuditedBallot
		}
		b, err := decodeIn(st, e, decode, PhaseOpen)
		if err != nil {
			return err
		}
		if b.Credential != author {
			return reject(ErrNotAuthorized, "%s names another credential than its author", e.Type)
		}
		kind := TrackerCast
		if e.Type == TypeAuditedBallot {
			kind = TrackerAudited
		}
		if err := burnTracker(idx, eff, b.Tracker, kind); err != nil {
			return err
		}
		if kind == TrackerCast {
			eff.LastBallot = &CredentialBallot{Credential: author, Seq: eff.Seq}
			st.Ballots++
		} else {
			st.Audited++
		}

	case TypeAudit:
		if err := inWindow(st, e); err != nil {
			return err
		}
		if err := auditRoom(st); err != nil {
			return err
		}
		// The one-time key must be nobody's: an audit signed by a credential
		// (or a party's key) would say whose ballot it opened.
		cred, err := idx.HasCredential(author)
		if err != nil {
			return fmt.Errorf("bulletin: index: %v", err)
		}
		if cred || st.partyKey(author) {
			return reject(ErrNotAuthorized, "audit signed by a credential or a party's key (it must be a one-time key)")
		}
		a, err := r.Bodies.Audit(e.Body)
		if err != nil {
			return malformedBody(e.Type, err)
		}
		if a.Election != st.Election {
			return reject(ErrWrongElection, "audit names another election")
		}
		// The manifest fixes the layout (SPEC.md §12.10, Which layout): a
		// version-3 manifest (the one with mixed questions) takes audit2.
		if kinds := len(st.Mixes) > 0; a.Kinds != kinds {
			return reject(ErrInvalidBody, "audit of the layout of version-%d ballots in an election whose ballots are version %d", auditVersion(a.Kinds), auditVersion(kinds))
		}
		if err := burnTracker(idx, eff, a.Tracker, TrackerAudited); err != nil {
			return err
		}
		st.Audited++

	case TypeClose:
		if err := phaseIs(st, e, PhaseOpen); err != nil {
			return err
		}
		if w := st.Window(); !w.Manual && w.At(e.Time) != ballot.WindowClosed {
			return &WindowError{Type: e.Type, At: e.Time, Window: w, sentinel: ErrNotAuthorized,
				detail: fmt.Sprintf("the manifest closes the election at %s and allows no manual close", ballot.FormatTime(w.ClosesAt))}
		}
		if _, err := ParseCloseBody(e.Body); err != nil {
			return err
		}
		st.Phase = PhaseClosed

	case TypePartialDecryption:
		p, err := decodeIn(st, e, r.Bodies.PartialDecryption, PhaseClosed, PhaseTally)
		if err != nil {
			return err
		}
		if p.Trustee != trustee {
			return reject(ErrNotAuthorized, "trustee %d posted trustee %d's partial decryption", trustee, p.Trustee)
		}
		t := &st.Trustees[trustee-1]
		if t.Partial {
			return reject(ErrDuplicate, "trustee %d already posted a partial decryption", trustee)
		}
		t.Partial = true
		st.Partials++
		st.Phase = PhaseTally

	case TypeResult:
		if err := phaseIs(st, e, PhaseTally); err != nil {
			return err
		}
		if st.Partials < st.Threshold {
			return reject(ErrWrongPhase, "%d partial decryptions, threshold %d", st.Partials, st.Threshold)
		}
		for _, mx := range st.Mixes {
			if len(mx.Decrypters) < int(st.Threshold) {
				return reject(ErrWrongPhase, "question %d has %d mix decryptions, threshold %d", mx.Question, len(mx.Decrypters), st.Threshold)
			}
		}
		if err := r.Bodies.Result(e.Body); err != nil {
			return malformedBody(e.Type, err)
		}
		st.Phase = PhaseResult

	case TypeShuffle:
		f, err := decodeIn(st, e, r.Bodies.Shuffle, PhaseClosed, PhaseTally)
		if err != nil {
			return err
		}
		return applyShuffle(st, trustee, f)

	case TypeMixDecryption:
		f, err := decodeIn(st, e, r.Bodies.MixDecryption, PhaseClosed, PhaseTally)
		if err != nil {
			return err
		}
		return applyMixDecryption(st, trustee, f)

	default:
		return reject(ErrMalformed, "entry type %d", e.Type)
	}
	return nil
}

// qualified returns QUAL as the rules define it (SPEC.md §3.9.2, matching
// V7.4–V7.6): the dealers that dealt, have fewer than T complainers and
// whose every complaint was answered; and K = Σ_{i∈QUAL} C_i0.
func (st *ElectionState) qualified() ([]uint16, *group.Element) {
	var qual []uint16
	key := group.NewElement()
	for i, t := range st.Trustees {
		if !t.Dealt || len(t.Complainers) >= int(st.Threshold) || len(t.Answered) != len(t.Complainers) {
			continue
		}
		c, err := group.DecodeNonIdentity(t.ConstantTerm[:])
		if err != nil {
			continue // a Bodies implementation returned a bad commitment; never qualify it
		}
		qual = append(qual, uint16(i+1))
		key.Add(key, c)
	}
	return qual, key
}

func compare32(a, b [32]byte) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// ProofChecker verifies the proofs carried inside entry bodies (ballot
// well-formedness and signature, DKG proofs of knowledge and reveals,
// partial-decryption proofs) for PreCheck. It returns one error per entry
// (nil when valid). Implementations SHOULD batch (ballot.VerifyBatch) and
// MAY also fold body equations and the entries' envelope signatures
// (Entry.AddToBatch) into one batch of their own.
type ProofChecker interface {
	CheckProofs(rand io.Reader, st *ElectionState, entries []*Entry) []error
}

// PreCheck runs the expensive checks on a batch of incoming entries before
// the receiving node proposes them (SPEC.md §3.9.1): election fingerprint
// and role, every envelope signature (one batched multi-scalar
// multiplication, bisected on failure), then the body proofs through pc
// (which may be nil). It returns one error per entry, nil for entries that
// may be proposed. It is not deterministic (random batch weights from rand)
// and MUST NOT be relied on by Apply's determinism.
func PreCheck(rand io.Reader, st *ElectionState, entries []*Entry, pc ProofChecker) []error {
	errs := make([]error, len(entries))
	v := batch.New()
	for i, e := range entries {
		switch {
		case e == nil || e.Sig == nil:
			errs[i] = ErrInvalidSignature
			continue
		case st.Phase != PhaseEmpty && e.Election != st.Election:
			errs[i] = reject(ErrWrongElection, "entry for election %x", e.Election[:8])
			continue
		case e.Role != e.Type.Role():
			errs[i] = reject(ErrNotAuthorized, "%s posted as %s", e.Type, e.Role)
			continue
		}
		e.AddToBatch(v, i)
	}
	if v.Len() > 0 {
		ok, err := v.Verify(rand)
		if err != nil {
			return fillErr(errs, err)
		}
		if !ok {
			bad, err := v.Failed(rand)
			if err != nil {
				return fillErr(errs, err)
			}
			for _, i := range bad {
				errs[i] = ErrInvalidSignature
			}
		}
	}
	if pc == nil {
		return errs
	}
	var sub []*Entry
	var pos []int
	for i, e := range entries {
		if errs[i] == nil {
			sub, pos = append(sub, e), append(pos, i)
		}
	}
	if len(sub) == 0 {
		return errs
	}
	perr := pc.CheckProofs(rand, st, sub)
	if len(perr) != len(sub) {
		return fillErr(errs, fmt.Errorf("bulletin: proof checker returned %d results for %d entries", len(perr), len(sub)))
	}
	for k, err := range perr {
		errs[pos[k]] = err
	}
	return errs
}

func fillErr(errs []error, err error) []error {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

// partyKey reports whether k is the key of the election authority, the
// credential authority or a trustee.
func (st *ElectionState) partyKey(k [32]byte) bool {
	if k == st.Authority || k == st.CredentialAuthority {
		return true
	}
	for _, t := range st.Trustees {
		if t.Key == k {
			return true
		}
	}
	return false
}
