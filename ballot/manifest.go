package ballot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// Manifest versions (SPEC.md §4.1). A manifest without witnesses is
// version 1 and encodes exactly as before witnesses existed; a manifest
// naming witnesses is version 2, whose encoding appends the witnesses and
// the witness quorum. Each content has exactly one encoding: version 2
// MUST name at least one witness. A manifest with a question of a mixed
// kind (ranked, score, write-in: docs/spec/kinds.md) is version 3, whose
// encoding carries each question's kind and always carries the witness
// fields (possibly none); version 3 MUST have a question of a mixed kind.
const (
	ManifestVersion          = 1
	ManifestVersionWitnessed = 2
	ManifestVersionKinds     = 3
)

// Size limits of a manifest (SPEC.md §4.1). Lengths are in bytes of UTF-8.
const (
	MaxElectionID   = 64
	MaxTitle        = 1024
	MaxQuestions    = 64
	MaxQuestionText = 4096
	MinOptions      = 2
	MaxOptions      = 64
	MaxOptionText   = 1024
	MaxTrustees     = 32
	MaxBoardNodes   = 32
	MaxName         = 64 // trustee names and board node ids
	MaxWitnesses    = 32
	MaxWitnessName  = 128
	ShareKeySize    = 32 // HPKE X25519 public key
	NodeKeySize     = 32 // Ed25519 public key
)

// Manifest describes one election (SPEC.md §4). Its canonical encoding is
// Bytes and its identity is Fingerprint. A Manifest obtained from
// NewManifest, ParseManifest or ParseManifestJSON is valid; one built by hand
// MUST pass Validate before Bytes or Fingerprint is called.
type Manifest struct {
	Version             uint8
	ElectionID          string
	Title               string
	Questions           []Question
	Authority           *group.Element // election authority's Schnorr key
	CredentialAuthority *group.Element // credential authority's Schnorr key
	Trustees            []Trustee      // trustee i = 1..n in this order (the Shamir x-coordinate)
	Threshold           uint32
	BoardNodes          []BoardNode
	BoardQuorum         uint32
	Witnesses           []Witness // versions 2–4
	WitnessQuorum       uint32    // versions 2–4: cosignatures a checkpoint needs
	// Version 4 only (manifest4.go): the languages, Languages[0] being the
	// language of Title and Questions; one translation per later language,
	// in order; and the voting window.
	Languages    []string
	Translations []Texts
	Schedule     Schedule
}

// Question is one question. For KindSelect (the zero Kind) the voter
// selects between Min and Max distinct options; for the other kinds Min and
// Max mean what docs/spec/kinds.md §K.1 says (options ranked, score range,
// write-in length).
type Question struct {
	Text     string
	Options  []string
	Min, Max uint32
	Kind     QuestionKind
	// Seats is the number of seats a ranked question elects (SPEC.md
	// §12.1): 1..#options−1 for KindRanked, 0 for every other kind.
	// NewManifest and the authoring form put DefaultSeats in place of 0 on
	// a ranked question; a decoded manifest carries it explicitly.
	Seats uint32
}

// DefaultSeats is the seat count of a ranked question of n options whose
// authoring form names none (SPEC.md §12.1): 2, or 1 with two options.
func DefaultSeats(n int) uint32 {
	if n <= 2 {
		return 1
	}
	return 2
}

// withDefaultSeats returns q with DefaultSeats in place of a ranked
// question's Seats of 0.
func withDefaultSeats(q Question) Question {
	if q.Kind == KindRanked && q.Seats == 0 {
		q.Seats = DefaultSeats(len(q.Options))
	}
	return q
}

// checkSeats is the seat rule of SPEC.md §12.1: a ranked question elects
// 1..#options−1 seats (electing every option is no election); no other
// kind has seats.
func checkSeats(qi int, q *Question) error {
	switch {
	case q.Kind != KindRanked && q.Seats != 0:
		return fmt.Errorf("%w: question %d is not ranked and has %d seats; only a ranked question elects seats", ErrInvalidManifest, qi, q.Seats)
	case q.Kind == KindRanked && (q.Seats < 1 || q.Seats >= uint32(len(q.Options))):
		return fmt.Errorf("%w: question %d elects %d seats, want 1..%d (fewer than its %d options)", ErrInvalidManifest, qi, q.Seats, len(q.Options)-1, len(q.Options))
	}
	return nil
}

// hasMixedKind reports whether any question is of a mixed kind.
func hasMixedKind(qs []Question) bool {
	for _, q := range qs {
		if q.Kind.Mixed() {
			return true
		}
	}
	return false
}

// Trustee is a tally trustee.
type Trustee struct {
	Name       string
	SigningKey *group.Element // Schnorr key signing the trustee's board entries
	ShareKey   []byte         // HPKE X25519 public key (32 bytes) for DKG share transport
}

// BoardNode is one bulletin-board node.
type BoardNode struct {
	ID  string
	Key []byte // Ed25519 public key (32 bytes) signing checkpoints
}

// Witness is one checkpoint witness (SPEC.md §3.13): an independent
// process that cosigns the board's checkpoints after checking that they
// extend what it saw before.
type Witness struct {
	Name string // the note key name of its cosignatures (ValidWitnessName)
	Key  []byte // Ed25519 public key (32 bytes)
}

// ValidWitnessName reports whether name is a witness name (SPEC.md §4.1):
// 1..MaxWitnessName bytes, each in A–Z a–z 0–9 . _ - / :, as a schema-less
// URL ("witness.example.org/urna") is.
func ValidWitnessName(name string) bool {
	if len(name) == 0 || len(name) > MaxWitnessName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-/:", c) >= 0) {
			return false
		}
	}
	return true
}

// WithWitnesses returns a validated version-2 copy of m naming witnesses,
// of which quorum must cosign every checkpoint (SPEC.md §3.13, §4.1).
func (m *Manifest) WithWitnesses(witnesses []Witness, quorum uint32) (*Manifest, error) {
	c, err := NewManifest(m.ElectionID, m.Title, m.Questions, m.Authority, m.CredentialAuthority, m.Trustees, m.Threshold, m.BoardNodes, m.BoardQuorum)
	if err != nil {
		return nil, err
	}
	c.Version, c.WitnessQuorum = ManifestVersionWitnessed, quorum
	if c.Version == ManifestVersionKinds || hasMixedKind(c.Questions) {
		c.Version = ManifestVersionKinds
	}
	if m.Version == ManifestVersionExtended {
		c.Version, c.Schedule = ManifestVersionExtended, m.Schedule
		c.Languages = append([]string(nil), m.Languages...)
		for i := range m.Translations {
			c.Translations = append(c.Translations, *m.Translations[i].clone())
		}
	}
	for _, w := range witnesses {
		c.Witnesses = append(c.Witnesses, Witness{Name: w.Name, Key: bytes.Clone(w.Key)})
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// NewManifest builds a manifest from copies of its arguments and validates
// it (SPEC.md §4.1): version 1, or version 3 if a question is of a mixed
// kind (SPEC.md §12.1). A ranked question with Seats 0 gets DefaultSeats.
func NewManifest(electionID, title string, questions []Question, authority, credentialAuthority *group.Element,
	trustees []Trustee, threshold uint32, nodes []BoardNode, quorum uint32) (*Manifest, error) {
	m := &Manifest{
		Version: ManifestVersion, ElectionID: electionID, Title: title,
		Authority: authority, CredentialAuthority: credentialAuthority,
		Threshold: threshold, BoardQuorum: quorum,
	}
	for _, q := range questions {
		m.Questions = append(m.Questions, withDefaultSeats(Question{Text: q.Text, Options: append([]string(nil), q.Options...), Min: q.Min, Max: q.Max, Kind: q.Kind, Seats: q.Seats}))
	}
	if hasMixedKind(m.Questions) {
		m.Version = ManifestVersionKinds
	}
	for _, t := range trustees {
		m.Trustees = append(m.Trustees, Trustee{Name: t.Name, SigningKey: cloneElement(t.SigningKey), ShareKey: bytes.Clone(t.ShareKey)})
	}
	for _, n := range nodes {
		m.BoardNodes = append(m.BoardNodes, BoardNode{ID: n.ID, Key: bytes.Clone(n.Key)})
	}
	m.Authority, m.CredentialAuthority = cloneElement(authority), cloneElement(credentialAuthority)
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func cloneElement(e *group.Element) *group.Element {
	if e == nil {
		return nil
	}
	return e.Clone()
}

// BallotSize returns the exact encoded size of every ballot for m (SPEC.md
// §6.1, docs/spec/kinds.md §K.2). m's questions MUST be valid.
func (m *Manifest) BallotSize() int {
	n := ballotHeader
	for i := range m.Questions {
		n += questionBallotSize(&m.Questions[i])
		if m.Version == ManifestVersionKinds {
			n++ // the kind byte
		}
	}
	return n
}

func checkText(what, s string, max int) error {
	if len(s) == 0 || len(s) > max || !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s must be 1..%d bytes of UTF-8", ErrInvalidManifest, what, max)
	}
	return nil
}

// Validate checks every rule of SPEC.md §4.1 (V4.2): version 1; an election
// id of 1..64 characters [a-z0-9-]; bounded non-empty texts; 1..64
// questions, each with 2..64 distinct options and 0 ≤ Min ≤ Max ≤ #options,
// Max ≥ 1; non-identity authority keys; 1 ≤ Threshold ≤ #trustees ≤ 32;
// 1 ≤ BoardQuorum ≤ #nodes ≤ 32; distinct trustee names, node ids and keys;
// and no Ristretto255 key used twice (authority, credential authority,
// trustees); node and witness keys that are canonical encodings of
// prime-order Ed25519 points (CheckEd25519Key), pairwise distinct; and, in
// version 2 only, 1..32 witnesses with distinct names (not node ids) and
// 1 ≤ WitnessQuorum ≤ #witnesses.
//
// Version 3 (docs/spec/kinds.md §K.1) has at least one question of a mixed
// kind, each question follows the rules of its kind, and its witnesses
// follow version 2's rules but may be none (then the quorum is 0).
//
// Version 4 (manifest4.go) has select questions only, witnesses as
// version 3, and languages or a schedule following SPEC.md §4.1.
func (m *Manifest) Validate() error {
	if m.Version != ManifestVersionExtended && m.hasExtensions() {
		return fmt.Errorf("%w: languages and schedules need manifest version %d", ErrInvalidManifest, ManifestVersionExtended)
	}
	switch {
	case m.Version == ManifestVersionExtended && hasMixedKind(m.Questions):
		return fmt.Errorf("%w: ranked, score and write-in questions need manifest version %d, which has no languages or schedule", ErrInvalidManifest, ManifestVersionKinds)
	case m.Version == ManifestVersionExtended:
		if err := m.validateExtended(); err != nil {
			return err
		}
	case m.Version == ManifestVersionKinds && !hasMixedKind(m.Questions):
		return fmt.Errorf("%w: a version-3 manifest has a ranked, score or write-in question (use version %d or %d)", ErrInvalidManifest, ManifestVersion, ManifestVersionWitnessed)
	case m.Version != ManifestVersionKinds && hasMixedKind(m.Questions):
		return fmt.Errorf("%w: ranked, score and write-in questions need manifest version %d", ErrInvalidManifest, ManifestVersionKinds)
	case m.Version == ManifestVersionKinds:
		// 0..32 witnesses, checked below with version 2's rules.
	case m.Version == ManifestVersion && (len(m.Witnesses) != 0 || m.WitnessQuorum != 0):
		return fmt.Errorf("%w: a version-1 manifest names no witnesses (use version %d)", ErrInvalidManifest, ManifestVersionWitnessed)
	case m.Version == ManifestVersionWitnessed && len(m.Witnesses) == 0:
		return fmt.Errorf("%w: a version-2 manifest names at least one witness (use version %d)", ErrInvalidManifest, ManifestVersion)
	case m.Version != ManifestVersion && m.Version != ManifestVersionWitnessed:
		return fmt.Errorf("%w: version %d, want %d, %d, %d or %d", ErrInvalidManifest, m.Version, ManifestVersion, ManifestVersionWitnessed, ManifestVersionKinds, ManifestVersionExtended)
	}
	if !ValidElectionID(m.ElectionID) {
		return fmt.Errorf("%w: election id must be 1..%d characters of [a-z0-9-]", ErrInvalidManifest, MaxElectionID)
	}
	if err := checkText("title", m.Title, MaxTitle); err != nil {
		return err
	}
	if len(m.Questions) < 1 || len(m.Questions) > MaxQuestions {
		return fmt.Errorf("%w: %d questions, want 1..%d", ErrInvalidManifest, len(m.Questions), MaxQuestions)
	}
	for qi := range m.Questions {
		if err := checkQuestion(qi, &m.Questions[qi]); err != nil {
			return err
		}
		if err := checkSeats(qi, &m.Questions[qi]); err != nil {
			return err
		}
	}
	keys := map[string]string{}
	useKey := func(what string, e *group.Element) error {
		if e == nil || e.IsIdentity() {
			return fmt.Errorf("%w: %s is missing or the identity", ErrInvalidManifest, what)
		}
		k := string(e.Bytes())
		if prev, ok := keys[k]; ok {
			return fmt.Errorf("%w: %s reuses the key of %s", ErrInvalidManifest, what, prev)
		}
		keys[k] = what
		return nil
	}
	if err := useKey("authority", m.Authority); err != nil {
		return err
	}
	if err := useKey("credential authority", m.CredentialAuthority); err != nil {
		return err
	}
	if err := checkQuorum("trustees", len(m.Trustees), MaxTrustees, "threshold", m.Threshold); err != nil {
		return err
	}
	names, shareKeys := map[string]bool{}, map[string]bool{}
	for i, t := range m.Trustees {
		if err := checkText(fmt.Sprintf("trustee %d name", i+1), t.Name, MaxName); err != nil {
			return err
		}
		if names[t.Name] {
			return fmt.Errorf("%w: trustee name %q repeated", ErrInvalidManifest, t.Name)
		}
		names[t.Name] = true
		if err := useKey(fmt.Sprintf("trustee %d", i+1), t.SigningKey); err != nil {
			return err
		}
		if len(t.ShareKey) != ShareKeySize {
			return fmt.Errorf("%w: trustee %d share key has %d bytes, want %d", ErrInvalidManifest, i+1, len(t.ShareKey), ShareKeySize)
		}
		if shareKeys[string(t.ShareKey)] {
			return fmt.Errorf("%w: trustee %d share key repeated", ErrInvalidManifest, i+1)
		}
		shareKeys[string(t.ShareKey)] = true
	}
	if err := checkQuorum("board nodes", len(m.BoardNodes), MaxBoardNodes, "board quorum", m.BoardQuorum); err != nil {
		return err
	}
	ids, nodeKeys := map[string]bool{}, map[string]bool{}
	for i, n := range m.BoardNodes {
		if !ValidNodeID(n.ID) {
			return fmt.Errorf("%w: board node %d id %q must be 1..%d characters of [A-Za-z0-9._-] (it names checkpoint signatures)", ErrInvalidManifest, i, n.ID, MaxName)
		}
		if err := signer(fmt.Sprintf("board node %q", n.ID), n.ID, n.Key, ids, nodeKeys, "board node id %q repeated"); err != nil {
			return err
		}
	}
	if len(m.Witnesses) > MaxWitnesses {
		return fmt.Errorf("%w: %d witnesses, want at most %d", ErrInvalidManifest, len(m.Witnesses), MaxWitnesses)
	}
	if m.WitnessQuorum > uint32(len(m.Witnesses)) || (len(m.Witnesses) > 0 && m.WitnessQuorum < 1) {
		return fmt.Errorf("%w: witness quorum %d, want 1..%d", ErrInvalidManifest, m.WitnessQuorum, len(m.Witnesses))
	}
	for i, w := range m.Witnesses {
		if !ValidWitnessName(w.Name) {
			return fmt.Errorf("%w: witness %d name %q must be 1..%d characters of [A-Za-z0-9._/:-]", ErrInvalidManifest, i, w.Name, MaxWitnessName)
		}
		if err := signer(fmt.Sprintf("witness %q", w.Name), w.Name, w.Key, ids, nodeKeys, "witness name %q repeats a node id or witness name"); err != nil {
			return err
		}
	}
	if n := m.BallotSize(); n > MaxBallotBytes {
		return fmt.Errorf("%w: ballots for these questions would take %d bytes, more than the board's limit of %d; use fewer questions or options", ErrInvalidManifest, n, MaxBallotBytes)
	}
	if n := m.MaxAuditSize(); m.Version == ManifestVersionKinds && n > MaxAuditBytes {
		return fmt.Errorf("%w: the audit of a ballot for these questions could take %d bytes, more than the board's limit of %d (SPEC.md §12.10): use fewer or shorter write-in questions", ErrInvalidManifest, n, MaxAuditBytes)
	}
	if m.Version == ManifestVersionExtended {
		if n := len(m.Bytes()); n > MaxManifestBytes {
			return fmt.Errorf("%w: the manifest takes %d bytes with its translations, more than the board's limit of %d", ErrInvalidManifest, n, MaxManifestBytes)
		}
	}
	return nil
}

// checkQuorum checks a set of n members (1..max of them) of which a quorum
// of k is needed (1..n): the trustees and their threshold, the board nodes
// and their quorum.
func checkQuorum(members string, n, max int, quorum string, k uint32) error {
	if n < 1 || n > max {
		return fmt.Errorf("%w: %d %s, want 1..%d", ErrInvalidManifest, n, members, max)
	}
	if k < 1 || k > uint32(n) {
		return fmt.Errorf("%w: %s %d, want 1..%d", ErrInvalidManifest, quorum, k, n)
	}
	return nil
}

// signer checks a board node or witness (who) whose signatures are named
// name: no other node or witness in ids has that name (else the error
// repeated, with the name), and its key passes signerKey. It adds the
// name to ids and the key to keys.
func signer(who, name string, key []byte, ids, keys map[string]bool, repeated string) error {
	if ids[name] {
		return fmt.Errorf("%w: "+repeated, ErrInvalidManifest, name)
	}
	ids[name] = true
	return signerKey(who, key, keys)
}

// signerKey checks the key of a board node or witness (who): an Ed25519
// key of NodeKeySize bytes that no other node or witness in seen has. It
// adds the key to seen.
func signerKey(who string, key []byte, seen map[string]bool) error {
	if len(key) != NodeKeySize {
		return fmt.Errorf("%w: %s key has %d bytes, want %d", ErrInvalidManifest, who, len(key), NodeKeySize)
	}
	if err := CheckEd25519Key(key); err != nil {
		return fmt.Errorf("%w: %s key %v", ErrInvalidManifest, who, err)
	}
	if seen[string(key)] {
		return fmt.Errorf("%w: %s key repeats a node or witness key", ErrInvalidManifest, who)
	}
	seen[string(key)] = true
	return nil
}

// Bytes returns the canonical encoding of m (SPEC.md §4.2). m MUST be valid.
func (m *Manifest) Bytes() []byte {
	w := wire.NewWriter(1024)
	w.U8(m.Version).String(m.ElectionID).String(m.Title).Count(len(m.Questions))
	for _, q := range m.Questions {
		w.String(q.Text)
		if m.Version == ManifestVersionKinds {
			w.U8(uint8(q.Kind))
		}
		w.Count(len(q.Options))
		for _, o := range q.Options {
			w.String(o)
		}
		w.U32(q.Min).U32(q.Max)
		if q.Kind == KindRanked {
			w.U32(q.Seats) // version 3 only: no other version has a ranked question
		}
	}
	w.Element(m.Authority).Element(m.CredentialAuthority).Count(len(m.Trustees))
	for _, t := range m.Trustees {
		w.String(t.Name).Element(t.SigningKey).Fixed(t.ShareKey)
	}
	w.U32(m.Threshold).Count(len(m.BoardNodes))
	for _, n := range m.BoardNodes {
		w.String(n.ID).Fixed(n.Key)
	}
	w.U32(m.BoardQuorum)
	if m.Version != ManifestVersion {
		w.Count(len(m.Witnesses))
		for _, x := range m.Witnesses {
			w.String(x.Name).Fixed(x.Key)
		}
		w.U32(m.WitnessQuorum)
	}
	if m.Version == ManifestVersionExtended {
		m.writeExtended(w)
	}
	return w.Out()
}

// ParseManifest decodes and validates a canonical manifest (SPEC.md §4.2, V4.1–V4.2).
// It returns nil on any error.
func ParseManifest(b []byte) (*Manifest, error) {
	r := wire.NewReader(b)
	m := &Manifest{Version: r.U8("version")}
	if r.Err() == nil && (m.Version < ManifestVersion || m.Version > ManifestVersionExtended) {
		return nil, fmt.Errorf("%w: version %d", ErrInvalidManifest, m.Version)
	}
	m.ElectionID = r.String("election id", MaxElectionID)
	m.Title = r.String("title", MaxTitle)
	nq := r.Count("questions", MaxQuestions)
	for i := 0; i < nq && r.Err() == nil; i++ {
		q := Question{Text: r.String("question text", MaxQuestionText)}
		if m.Version == ManifestVersionKinds {
			q.Kind = QuestionKind(r.U8("question kind"))
		}
		no := r.Count("options", MaxOptions)
		for j := 0; j < no && r.Err() == nil; j++ {
			q.Options = append(q.Options, r.String("option", MaxOptionText))
		}
		q.Min, q.Max = r.U32("min"), r.U32("max")
		if q.Kind == KindRanked {
			q.Seats = r.U32("seats") // checked by Validate: 1..#options−1
		}
		m.Questions = append(m.Questions, q)
	}
	m.Authority = r.NonIdentity("authority")
	m.CredentialAuthority = r.NonIdentity("credential authority")
	nt := r.Count("trustees", MaxTrustees)
	for i := 0; i < nt && r.Err() == nil; i++ {
		m.Trustees = append(m.Trustees, Trustee{
			Name: r.String("trustee name", MaxName), SigningKey: r.NonIdentity("trustee key"),
			ShareKey: r.Fixed("trustee share key", ShareKeySize)})
	}
	m.Threshold = r.U32("threshold")
	nn := r.Count("board nodes", MaxBoardNodes)
	for i := 0; i < nn && r.Err() == nil; i++ {
		m.BoardNodes = append(m.BoardNodes, BoardNode{ID: r.String("node id", MaxName), Key: r.Fixed("node key", NodeKeySize)})
	}
	m.BoardQuorum = r.U32("board quorum")
	if m.Version != ManifestVersion {
		nw := r.Count("witnesses", MaxWitnesses)
		for i := 0; i < nw && r.Err() == nil; i++ {
			m.Witnesses = append(m.Witnesses, Witness{Name: r.String("witness name", MaxWitnessName), Key: r.Fixed("witness key", NodeKeySize)})
		}
		m.WitnessQuorum = r.U32("witness quorum")
	}
	if m.Version == ManifestVersionExtended && r.Err() == nil {
		m.readExtended(r)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Fingerprint returns the election fingerprint
// Digest("manifest-fingerprint"; Bytes()) (SPEC.md §4.3). m MUST be valid.
func (m *Manifest) Fingerprint() [32]byte {
	return transcript.New(transcript.ManifestFingerprint).Bytes(m.Bytes()).Digest()
}

// TrusteeIndex returns the index i (1..n) of the trustee with signing key
// pk, or 0 if there is none. The index is the trustee's Shamir x-coordinate.
func (m *Manifest) TrusteeIndex(pk *group.Element) int {
	for i, t := range m.Trustees {
		if t.SigningKey.Equal(pk) {
			return i + 1
		}
	}
	return 0
}

// ManifestJSON is the authoring form of a manifest (SPEC.md §4.4): what
// humans write and `urna` reads. Keys are unpadded base64url. It is never
// hashed or signed; the canonical form is Manifest.Bytes.
type ManifestJSON struct {
	Version             uint8           `json:"version"`
	ElectionID          string          `json:"election_id"`
	Title               string          `json:"title"`
	Questions           []QuestionJSON  `json:"questions"`
	Authority           string          `json:"authority"`
	CredentialAuthority string          `json:"credential_authority"`
	Trustees            []TrusteeJSON   `json:"trustees"`
	Threshold           uint32          `json:"threshold"`
	BoardNodes          []BoardNodeJSON `json:"board_nodes"`
	BoardQuorum         uint32          `json:"board_quorum"`
	Witnesses           []WitnessJSON   `json:"witnesses,omitempty"`
	WitnessQuorum       uint32          `json:"witness_quorum,omitempty"`
	// Version 4 (SPEC.md §4.4): the languages (the first is the texts'
	// own), a translation for each later one keyed by its tag, and the
	// schedule: RFC 3339 UTC times and whether the authority may close
	// the election by hand (true when omitted).
	Languages    []string                   `json:"languages,omitempty"`
	Translations map[string]TranslationJSON `json:"translations,omitempty"`
	OpensAt      string                     `json:"opens_at,omitempty"`
	ClosesAt     string                     `json:"closes_at,omitempty"`
	Manual       *bool                      `json:"manual,omitempty"`
}

// WitnessJSON is a witness in ManifestJSON.
type WitnessJSON struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// QuestionJSON is a question in ManifestJSON. Kind is "select" (or
// omitted), "ranked", "score" or "write-in" (SPEC.md §12.1); a write-in
// has no options. Seats is a ranked question's seat count (1..#options−1,
// DefaultSeats when omitted); no other kind may carry it.
type QuestionJSON struct {
	Text    string   `json:"text"`
	Kind    string   `json:"kind,omitempty"`
	Options []string `json:"options"`
	Min     uint32   `json:"min"`
	Max     uint32   `json:"max"`
	Seats   *uint32  `json:"seats,omitempty"`
}

// TrusteeJSON is a trustee in ManifestJSON.
type TrusteeJSON struct {
	Name       string `json:"name"`
	SigningKey string `json:"signing_key"`
	ShareKey   string `json:"share_key"`
}

// BoardNodeJSON is a board node in ManifestJSON.
type BoardNodeJSON struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// JSON returns the authoring form of m.
func (m *Manifest) JSON() *ManifestJSON {
	j := &ManifestJSON{Version: m.Version, ElectionID: m.ElectionID, Title: m.Title,
		Authority: wire.EncodeB64(m.Authority.Bytes()), CredentialAuthority: wire.EncodeB64(m.CredentialAuthority.Bytes()),
		Threshold: m.Threshold, BoardQuorum: m.BoardQuorum,
		Questions: []QuestionJSON{}, Trustees: []TrusteeJSON{}, BoardNodes: []BoardNodeJSON{}}
	for _, q := range m.Questions {
		qj := QuestionJSON{Text: q.Text, Options: append([]string{}, q.Options...), Min: q.Min, Max: q.Max}
		if q.Kind != KindSelect {
			qj.Kind = q.Kind.String()
		}
		if q.Kind == KindRanked {
			seats := q.Seats
			qj.Seats = &seats
		}
		j.Questions = append(j.Questions, qj)
	}
	for _, t := range m.Trustees {
		j.Trustees = append(j.Trustees, TrusteeJSON{Name: t.Name, SigningKey: wire.EncodeB64(t.SigningKey.Bytes()), ShareKey: wire.EncodeB64(t.ShareKey)})
	}
	for _, n := range m.BoardNodes {
		j.BoardNodes = append(j.BoardNodes, BoardNodeJSON{ID: n.ID, Key: wire.EncodeB64(n.Key)})
	}
	for _, w := range m.Witnesses {
		j.Witnesses = append(j.Witnesses, WitnessJSON{Name: w.Name, Key: wire.EncodeB64(w.Key)})
	}
	j.WitnessQuorum = m.WitnessQuorum
	m.extendedJSON(j)
	return j
}

// MarshalManifestJSON returns the indented authoring JSON of m.
func MarshalManifestJSON(m *Manifest) ([]byte, error) {
	return json.MarshalIndent(m.JSON(), "", "  ")
}

// Manifest converts the authoring form to a validated Manifest.
func (j *ManifestJSON) Manifest() (*Manifest, error) {
	key := func(what, s string) (*group.Element, error) {
		b, err := wire.DecodeB64(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidManifest, what, err)
		}
		e, err := group.DecodeNonIdentity(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidManifest, what, err)
		}
		return e, nil
	}
	raw := func(what, s string) ([]byte, error) {
		b, err := wire.DecodeB64(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidManifest, what, err)
		}
		return b, nil
	}
	m := &Manifest{Version: j.Version, ElectionID: j.ElectionID, Title: j.Title, Threshold: j.Threshold, BoardQuorum: j.BoardQuorum, WitnessQuorum: j.WitnessQuorum}
	var err error
	if m.Authority, err = key("authority", j.Authority); err != nil {
		return nil, err
	}
	if m.CredentialAuthority, err = key("credential_authority", j.CredentialAuthority); err != nil {
		return nil, err
	}
	for i, q := range j.Questions {
		kind, err := parseKind(q.Kind)
		if err != nil {
			return nil, fmt.Errorf("%w (question %d)", err, i)
		}
		mq := Question{Text: q.Text, Options: append([]string(nil), q.Options...), Min: q.Min, Max: q.Max, Kind: kind}
		switch {
		case q.Seats == nil:
			mq = withDefaultSeats(mq)
		case kind != KindRanked:
			return nil, fmt.Errorf("%w: question %d: \"seats\" is for ranked questions only, this one is %q", ErrInvalidManifest, i, kind.String())
		default:
			mq.Seats = *q.Seats // 0 is refused by Validate
		}
		m.Questions = append(m.Questions, mq)
	}
	for i, t := range j.Trustees {
		tr := Trustee{Name: t.Name}
		if tr.SigningKey, err = key(fmt.Sprintf("trustee %d signing_key", i+1), t.SigningKey); err != nil {
			return nil, err
		}
		if tr.ShareKey, err = raw(fmt.Sprintf("trustee %d share_key", i+1), t.ShareKey); err != nil {
			return nil, err
		}
		m.Trustees = append(m.Trustees, tr)
	}
	for i, n := range j.BoardNodes {
		bn := BoardNode{ID: n.ID}
		if bn.Key, err = raw(fmt.Sprintf("board node %d key", i), n.Key); err != nil {
			return nil, err
		}
		m.BoardNodes = append(m.BoardNodes, bn)
	}
	for i, w := range j.Witnesses {
		wn := Witness{Name: w.Name}
		if wn.Key, err = raw(fmt.Sprintf("witness %d key", i), w.Key); err != nil {
			return nil, err
		}
		m.Witnesses = append(m.Witnesses, wn)
	}
	if err := j.extendedManifest(m); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseManifestJSON decodes the authoring form strictly: unknown fields,
// trailing data and invalid keys are errors (SPEC.md §4.4).
func ParseManifestJSON(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j ManifestJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: json: %v", ErrInvalidManifest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: json: trailing data", ErrInvalidManifest)
	}
	return j.Manifest()
}
