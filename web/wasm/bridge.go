package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
)

// This file is the bridge's logic, free of syscall/js so that it builds and
// is tested on the host. main.go (js && wasm) only converts values between
// JavaScript and these functions.

// bridgeError is an error with a stable code for the page: the JavaScript
// wrapper throws it as an UrnaError whose code selects a translated message.
type bridgeError struct {
	Code string
	Err  error
}

func (e *bridgeError) Error() string { return e.Err.Error() }
func (e *bridgeError) Unwrap() error { return e.Err }

func fail(code string, format string, args ...any) error {
	return &bridgeError{Code: code, Err: fmt.Errorf("urna: "+format, args...)}
}

// followFailure says why client.Follow would not hand a page a verified
// board, the one rule the console and the trustee page share: "fork" (fe
// holds the evidence), "stale" (a checkpoint shown or remembered is newer
// than the record), "lagging" (only V3.6 failed: no quorum checkpoint
// covers the record yet, so it is read again), "not_verified" (any other
// failing step, V3 ones included: the board lies), "" (the record could not
// be read).
func followFailure(s *client.Verified, err error) (kind string, fe *client.ForkError) {
	switch {
	case errors.As(err, &fe):
		return "fork", fe
	case errors.Is(err, client.ErrStale):
		return "stale", nil
	case errors.Is(err, client.ErrNotVerified):
		if s != nil && s.Report != nil {
			if step, f, _ := s.Report.FirstFailure(); step == client.StepV3 && strings.HasPrefix(f.Field, "V3.6") {
				return "lagging", nil
			}
		}
		return "not_verified", nil
	}
	return "", nil
}

// codeOf returns the code of err for the page, and the values its
// translated sentence names (a bad character and its position, a count).
func codeOf(err error) (string, map[string]any) {
	var be *bridgeError
	var inc *bulletin.InconsistencyError
	var sym *ballot.SymbolError
	var length *ballot.LengthError
	what := "credential"
	if errors.Is(err, ballot.ErrInvalidTracker) {
		what = "tracker"
	}
	switch {
	case errors.As(err, &inc):
		return "inconsistent", nil
	case errors.As(err, &be):
		return be.Code, nil
	case errors.As(err, &sym):
		return what + "_char", map[string]any{"char": string(sym.Char), "pos": sym.Pos}
	case errors.As(err, &length):
		return what + "_length", map[string]any{"n": length.Got, "want": length.Want}
	case errors.Is(err, ballot.ErrCredentialChecksum):
		return "credential_checksum", nil
	case errors.Is(err, ballot.ErrInvalidCredential):
		return "credential_invalid", nil
	case errors.Is(err, ballot.ErrInvalidTracker):
		return "tracker_invalid", nil
	case errors.Is(err, ballot.ErrInvalidChoice):
		return "invalid_choice", nil
	case errors.Is(err, bulletin.ErrCheckpoint):
		return "bad_checkpoint", nil
	case errors.Is(err, bulletin.ErrInvalidProof), errors.Is(err, ballot.ErrInvalidProof), errors.Is(err, ballot.ErrOpeningMismatch):
		return "invalid_proof", nil
	case errors.Is(err, bulletin.ErrInvalidSignature):
		return "invalid_signature", nil
	case errors.Is(err, bulletin.ErrMalformed), errors.Is(err, wire.ErrMalformed):
		return "malformed", nil
	}
	return "error", nil
}

// election is a parsed manifest with what the page's checks need.
type election struct {
	m     *ballot.Manifest
	fp    [32]byte
	board *bulletin.Board
}

// manifests caches parsed manifests by their base64url text: every page
// call passes the manifest, and parsing validates it each time otherwise.
var manifests = map[string]*election{}

func loadElection(manifestB64 string) (*election, error) {
	if e, ok := manifests[manifestB64]; ok {
		return e, nil
	}
	raw, err := wire.DecodeB64(manifestB64)
	if err != nil {
		return nil, fail("malformed", "manifest is not base64url: %w", err)
	}
	m, err := ballot.ParseManifest(raw)
	if err != nil {
		return nil, fail("malformed", "manifest: %w", err)
	}
	e := &election{m: m, fp: m.Fingerprint()}
	e.board = bulletin.BoardFor(m)
	if len(manifests) > 8 {
		clear(manifests)
	}
	manifests[manifestB64] = e
	return e, nil
}

// ManifestView is the manifest as the page shows it.
type ManifestView struct {
	ElectionID  string                `json:"electionId"`
	Title       string                `json:"title"`
	Fingerprint string                `json:"fingerprint"`
	Origin      string                `json:"origin"`
	Questions   []ballot.QuestionJSON `json:"questions"`
	Trustees    []string              `json:"trustees"`
	Threshold   uint32                `json:"threshold"`
	Nodes       []string              `json:"nodes"`
	Quorum      uint32                `json:"quorum"`
	// Languages are the manifest's languages, the primary first (SPEC.md
	// §4.1; none before version 4), and Texts its title, questions and
	// options in each of them, in the same order (ballot.Manifest.Text).
	Languages []string     `json:"languages"`
	Texts     []TextsView  `json:"texts"`
	Schedule  ScheduleView `json:"schedule"`
	// BallotSize is the exact size of every ballot's body under this
	// manifest (ballot.Manifest.BallotSize, SPEC.md §6.1): the results page
	// estimates the record's size from it before downloading the record.
	BallotSize int `json:"ballotSize"`
}

// TextsView is the manifest's texts in one language.
type TextsView struct {
	Lang      string              `json:"lang"`
	Title     string              `json:"title"`
	Questions []QuestionTextsView `json:"questions"`
}

// QuestionTextsView is one question's text and its options' texts.
type QuestionTextsView struct {
	Text    string   `json:"text"`
	Options []string `json:"options"`
}

// ScheduleView is the voting window (SPEC.md §3.9, ballot.Manifest.Window):
// the times in Unix milliseconds (0: none) and in RFC 3339 UTC ("": none),
// and whether the authority may close by hand.
type ScheduleView struct {
	OpensAt     uint64 `json:"opensAt"`
	ClosesAt    uint64 `json:"closesAt"`
	OpensAtUTC  string `json:"opensAtUTC"`
	ClosesAtUTC string `json:"closesAtUTC"`
	Manual      bool   `json:"manual"`
}

func scheduleView(s ballot.Schedule) ScheduleView {
	v := ScheduleView{OpensAt: s.OpensAt, ClosesAt: s.ClosesAt, Manual: s.Manual}
	if s.OpensAt != 0 {
		v.OpensAtUTC = ballot.FormatTime(s.OpensAt)
	}
	if s.ClosesAt != 0 {
		v.ClosesAtUTC = ballot.FormatTime(s.ClosesAt)
	}
	return v
}

func parseManifest(manifestB64 string) (*ManifestView, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, err
	}
	v := &ManifestView{ElectionID: e.m.ElectionID, Title: e.m.Title, Fingerprint: hex.EncodeToString(e.fp[:]),
		Origin: e.board.Origin, Threshold: e.m.Threshold, Quorum: e.m.BoardQuorum,
		Questions: e.m.JSON().Questions, Trustees: []string{}, Nodes: []string{},
		Languages: append([]string{}, e.m.Languages...), Texts: []TextsView{}, Schedule: scheduleView(e.m.Window()),
		BallotSize: e.m.BallotSize()}
	for _, lang := range e.m.Languages {
		t, err := e.m.Text(lang)
		if err != nil {
			return nil, fail("malformed", "manifest: %w", err) // cannot happen: a parsed manifest has every translation
		}
		tv := TextsView{Lang: lang, Title: t.Title, Questions: []QuestionTextsView{}}
		for _, q := range t.Questions {
			tv.Questions = append(tv.Questions, QuestionTextsView{Text: q.Text, Options: q.Options})
		}
		v.Texts = append(v.Texts, tv)
	}
	for _, t := range e.m.Trustees {
		v.Trustees = append(v.Trustees, t.Name)
	}
	for _, n := range e.m.BoardNodes {
		v.Nodes = append(v.Nodes, n.ID)
	}
	return v, nil
}

// booth holds one voter's credential key and at most one encrypted ballot
// awaiting the voter's decision (cast or challenge). The key and the
// secrets stay in Go memory: the page only ever sees public values, signed
// entries and, after a challenge, the opening the voter asked to publish.
type booth struct {
	e       *election
	pk      *group.Element
	key     *ballot.CredentialKey
	rand    io.Reader
	pending *ballot.Ballot
	secrets *ballot.Secrets
}

// checkCredential parses a typed credential (SPEC.md §5.1) without deriving
// its key: the page calls it as the voter types, to flag typos early.
func checkCredential(text string) error {
	_, err := ballot.ParseCredential(text)
	return err
}

func newBooth(rand io.Reader, manifestB64, jointKeyHex, credential string) (*booth, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, err
	}
	kb, err := hex.DecodeString(jointKeyHex)
	if err != nil || len(kb) != group.Size {
		return nil, fail("no_key", "the election key is not published yet (voting has not opened)")
	}
	pk, err := group.DecodeNonIdentity(kb)
	if err != nil {
		return nil, fail("no_key", "the election key is invalid: %w", err)
	}
	cred, err := ballot.ParseCredential(credential)
	if err != nil {
		return nil, err
	}
	key, err := cred.Key(e.m.ElectionID)
	if err != nil {
		return nil, err
	}
	return &booth{e: e, pk: pk, key: key, rand: rand}, nil
}

// PublicCredential is the voter's public credential in hex.
func (b *booth) PublicCredential() string {
	return hex.EncodeToString(b.key.Public().Bytes())
}

// Registration says whether, and with which weight, the voter's public
// credential is registered (SPEC.md §5.3, §3.9 "Late voters").
type Registration struct {
	Registered bool   `json:"registered"`
	Weight     uint32 `json:"weight"` // 0 when not registered
	Late       bool   `json:"late"`   // registered by a late-credentials entry
}

// Registered looks for the public credential among the credentials that
// entries register: the credential list (entries[0], of type credentials)
// and every late-credentials entry after it, in board order. Each entry
// MUST be of this election, signed by the manifest's credential authority
// with its role (SPEC.md §3.9 step 3), and their credentials are
// registered as the rules register them (ballot.Electorate, V6.4), so a
// node can neither add a voter nor change a weight. A node that leaves out
// a late-credentials entry only makes the booth refuse a late voter, whom
// the board would accept.
func (b *booth) Registered(entries [][]byte) (*Registration, error) {
	r := &Registration{}
	pk := [32]byte(b.key.Public().Bytes())
	_, err := electorateOf(b.e, entries, func(i int, el *ballot.Electorate) {
		if w, ok := el.Weight(pk); ok && !r.Registered {
			r.Registered, r.Weight, r.Late = true, w, i > 0
		}
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// electorateOf registers the credentials of entries, the credential list
// (entries[0]) and the late-credentials entries after it in board order,
// as the rules do (SPEC.md §3.9, V6.4), calling after(i, electorate) once
// entry i is registered. Each entry MUST be of election e and signed by
// its credential authority in that role (§3.9 step 3).
func electorateOf(e *election, entries [][]byte, after func(i int, el *ballot.Electorate)) (*ballot.Electorate, error) {
	if len(entries) == 0 {
		return nil, fail("malformed", "no credential list entry")
	}
	el := ballot.NewElectorate()
	for i, raw := range entries {
		want := bulletin.TypeLateCredentials
		if i == 0 {
			want = bulletin.TypeCredentials
		}
		en, err := bulletin.ParseEntry(raw)
		if err != nil {
			return nil, fail("malformed", "%s entry: %w", want, err)
		}
		switch {
		case en.Type != want:
			return nil, fail("malformed", "entry %d is a %s, not a %s entry", i, en.Type, want)
		case en.Election != e.fp:
			return nil, fail("wrong_election", "%s entry is for another election", want)
		case en.Role != bulletin.RoleCredentialAuthority || !en.Author.Equal(e.m.CredentialAuthority):
			return nil, fail("invalid_signature", "%s entry is not by the election's credential authority", want)
		}
		if err := en.VerifySignature(); err != nil {
			return nil, err
		}
		l, err := ballot.ParseCredentialList(en.Body)
		if err != nil {
			return nil, fail("malformed", "%s entry: %w", want, err)
		}
		if err := el.Add(l); err != nil {
			return nil, fail("malformed", "%s entry: %w", want, err)
		}
		if after != nil {
			after(i, el)
		}
	}
	return el, nil
}

// ElectorateView is what the results page says about the registered
// credentials: how many, their total weight, and whether any weighs more
// than 1 (then every count is a sum of weights, SPEC.md §9.3).
type ElectorateView struct {
	Credentials int    `json:"credentials"`
	Weight      uint64 `json:"weight"`
	Weighted    bool   `json:"weighted"`
	Late        int    `json:"late"` // late-credentials entries
}

// electorate registers the credentials of entries (electorateOf) for the
// election of manifestB64.
func electorate(manifestB64 string, entries [][]byte) (*ElectorateView, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, err
	}
	el, err := electorateOf(e, entries, nil)
	if err != nil {
		return nil, err
	}
	return &ElectorateView{Credentials: el.Len(), Weight: el.TotalWeight(), Weighted: el.TotalWeight() != uint64(el.Len()), Late: len(entries) - 1}, nil
}

// votingWindow says where the time nowMs (Unix milliseconds, the voter's
// clock) lies in the manifest's voting window (SPEC.md §3.9,
// ballot.Schedule.At): "open", "not_open_yet" or "closed", the board's
// error codes for a post before and after it.
func votingWindow(manifestB64 string, nowMs uint64) (string, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return "", err
	}
	switch e.m.Window().At(nowMs) {
	case ballot.WindowNotOpen:
		return "not_open_yet", nil
	case ballot.WindowClosed:
		return "closed", nil
	}
	return "open", nil
}

// Sealed is an encrypted, signed ballot ready to cast.
type Sealed struct {
	Tracker    string `json:"tracker"`    // short form
	TrackerHex string `json:"trackerHex"` // full hash
	Entry      string `json:"entry"`      // base64url signed board entry
}

// Encrypt encrypts choices (per question, the selected option indexes):
// EncryptAnswers with the choices as answers (SPEC.md §6.2, §3.3).
func (b *booth) Encrypt(choices [][]uint32) (*Sealed, error) {
	as := make([]AnswerJSON, len(choices))
	for q, c := range choices {
		as[q].Choices = c
	}
	return b.EncryptAnswers(as)
}

func (b *booth) sign(t bulletin.EntryType, body []byte) ([]byte, error) {
	return b.signAs(t, bulletin.RoleVoter, b.key.PrivateKey(), body)
}

func (b *booth) signAs(t bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) ([]byte, error) {
	en, err := bulletin.NewEntry(t, b.e.fp, role, key.Public(), body)
	if err != nil {
		return nil, err
	}
	if err := en.Sign(b.rand, key); err != nil {
		return nil, err
	}
	return en.Bytes(), nil
}

// Challenged is an opened ballot: what it contained, checked, and the
// audit entry to post.
type Challenged struct {
	Tracker    string         `json:"tracker"`
	TrackerHex string         `json:"trackerHex"`
	Choices    [][]uint32     `json:"choices"` // selection questions only (nil for a version-2 ballot)
	Answers    []OpenedAnswer `json:"answers"` // every question's answer, of any kind
	Selections [][]string     `json:"selections"`
	Verified   bool           `json:"verified"`
	Entry      string         `json:"entry"` // base64url audit entry, signed by a one-time key
}

// OpenedAnswer is one question's opened answer as the page lists it
// (booth.js selectionList): the options of a selection (choices, never
// null for one), the ranking (most preferred first, option indexes from
// 0), the scores per option, or the write-in text. The fields of the other
// kinds are null or empty.
type OpenedAnswer struct {
	Choices []uint32 `json:"choices"`
	Ranking []uint32 `json:"ranking"`
	Scores  []uint32 `json:"scores"`
	Text    string   `json:"text"`
}

// openedAnswers returns the answers of an opening that Fits m (SPEC.md
// §7.2, §12.9): a version-1 opening's choices, a version-2 opening's
// answers of every kind.
func openedAnswers(m *ballot.Manifest, op *ballot.Opening) []OpenedAnswer {
	out := make([]OpenedAnswer, len(m.Questions))
	for q, mq := range m.Questions {
		var a ballot.Answer
		switch {
		case op.Answers != nil:
			a = op.Answers[q]
		case q < len(op.Choices):
			a.Choices = op.Choices[q]
		}
		o := OpenedAnswer{Ranking: a.Ranking, Scores: a.Scores, Text: a.Text}
		switch mq.Kind {
		case ballot.KindSelect:
			o.Choices = append([]uint32{}, a.Choices...)
		case ballot.KindRanked:
			o.Ranking = append([]uint32{}, a.Ranking...)
		case ballot.KindScore:
			o.Scores = append([]uint32{}, a.Scores...)
		}
		out[q] = o
	}
	return out
}

// Challenge opens the pending ballot (SPEC.md §7.2), checks the opening as
// any observer would (V9) and signs the audit entry (§7.3; §12.10 for the
// version-2 ballot of ranked, score and write-in questions) with a fresh
// one-time key, never the credential's: nothing on the board links the
// challenged ballot to the voter. The ballot can never be cast afterwards:
// the booth forgets it.
func (b *booth) Challenge() (*Challenged, error) {
	if b.pending == nil {
		return nil, fail("no_ballot", "there is no encrypted ballot to challenge")
	}
	bl, sec := b.pending, b.secrets
	b.Forget()
	a, err := bl.Audit(sec)
	if err != nil {
		return nil, err
	}
	if err := ballot.VerifyAudit(b.e.m, b.pk, a); err != nil {
		return nil, err
	}
	oneTime, err := schnorr.GenerateKey(b.rand)
	if err != nil {
		return nil, err
	}
	raw, err := b.signAs(bulletin.TypeAudit, bulletin.RoleAuditor, oneTime, a.Bytes())
	if err != nil {
		return nil, err
	}
	op := a.Opening
	t := a.Tracker()
	return &Challenged{Tracker: t.Short(), TrackerHex: t.Hex(), Choices: op.Choices, Answers: openedAnswers(b.e.m, op),
		Selections: op.Selections(b.e.m), Verified: true, Entry: wire.EncodeB64(raw)}, nil
}

// Forget drops the pending ballot and its secrets (after a cast, the
// secrets are what would let anyone prove how the voter voted).
func (b *booth) Forget() { b.pending, b.secrets = nil, nil }

// Close drops everything, the credential key included.
func (b *booth) Close() { b.Forget(); b.key = nil }

// EntryFacts is what the page shows about a ballot-bearing entry it checked.
type EntryFacts struct {
	Seq        uint64          `json:"seq"`
	Type       string          `json:"type"`
	Tracker    string          `json:"tracker,omitempty"`
	TrackerHex string          `json:"trackerHex,omitempty"`
	Author     string          `json:"author"`
	Checkpoint *CheckpointView `json:"checkpoint,omitempty"`
}

// CheckpointView is a verified checkpoint with each board node's signature.
type CheckpointView struct {
	Origin    string       `json:"origin"`
	Size      uint64       `json:"size"`
	Root      string       `json:"root"`
	Height    uint64       `json:"height"`
	BlockHash string       `json:"blockHash"`
	Quorum    int          `json:"quorum"`
	Signers   []SignerView `json:"signers"`
	Valid     int          `json:"valid"` // distinct known nodes whose signature verifies
	OK        bool         `json:"ok"`    // a quorum signed
	Note      string       `json:"note"`
}

// SignerView says whether one board node signed the checkpoint.
type SignerView struct {
	ID    string `json:"id"`
	Valid bool   `json:"valid"`
}

// openCheckpoint checks a signed checkpoint note node by node (SPEC.md
// V3.1–V3.4) for display; OK says whether a quorum signed it.
func openCheckpoint(manifestB64, note string) (*CheckpointView, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, err
	}
	text, _, _ := strings.Cut(note, "\n\n")
	c, err := bulletin.ParseCheckpointText([]byte(text + "\n"))
	if err != nil {
		return nil, err
	}
	if c.Origin != e.board.Origin {
		return nil, fail("wrong_election", "checkpoint is for %q, not this election", c.Origin)
	}
	v := checkpointView(c, e, note)
	for _, n := range e.board.Nodes {
		_, err := bulletin.OpenCheckpoint([]byte(note), e.board.Origin, []bulletin.NodeKey{n}, 1)
		ok := err == nil
		v.Signers = append(v.Signers, SignerView{ID: n.ID, Valid: ok})
		if ok {
			v.Valid++
		}
	}
	if _, err := e.board.Open([]byte(note)); err == nil {
		v.OK = true
	}
	return v, nil
}

func checkpointView(c *bulletin.Checkpoint, e *election, note string) *CheckpointView {
	return &CheckpointView{Origin: c.Origin, Size: c.Size, Root: hex.EncodeToString(c.Root[:]), Height: c.Height,
		BlockHash: hex.EncodeToString(c.BlockHash[:]), Quorum: e.board.Quorum, Signers: []SignerView{}, Note: note}
}

// facts describes a checked entry.
func facts(seq uint64, en *bulletin.Entry) *EntryFacts {
	f := &EntryFacts{Seq: seq, Type: en.Type.String(), Author: hex.EncodeToString(en.Author.Bytes())}
	var t ballot.Tracker
	switch en.Type {
	case bulletin.TypeBallot:
		if b, err := ballot.ParseBallot(en.Body); err == nil {
			t = b.Tracker()
		}
	case bulletin.TypeAuditedBallot:
		if a, err := ballot.ParseAuditedBallot(en.Body); err == nil {
			t = a.Ballot.Tracker()
		}
	case bulletin.TypeAudit:
		if a, err := ballot.ParseAudit(en.Body); err == nil {
			t = a.Tracker()
		}
	}
	if t != (ballot.Tracker{}) {
		f.Tracker, f.TrackerHex = t.Short(), t.Hex()
	}
	return f
}

// verifyReceipt checks a receipt (SPEC.md §3.10): the entry's signature,
// the checkpoint's quorum and the inclusion proof.
func verifyReceipt(manifestB64 string, receipt []byte) (*EntryFacts, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, err
	}
	r, err := bulletin.ParseReceipt(receipt)
	if err != nil {
		return nil, fail("malformed", "this is not an Urna receipt: %w", err)
	}
	en, c, err := e.board.VerifyReceipt(r)
	if err != nil {
		return nil, err
	}
	if en.Election != e.fp {
		return nil, fail("wrong_election", "the receipt is for another election")
	}
	f := facts(r.Seq, en)
	f.Checkpoint = checkpointView(c, e, string(r.Checkpoint))
	return f, nil
}

func parseHashes(hexes []string) ([]tlog.Hash, error) {
	if len(hexes) > bulletin.MaxProofHashes {
		return nil, fail("malformed", "proof of %d hashes", len(hexes))
	}
	out := make([]tlog.Hash, len(hexes))
	for i, s := range hexes {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(out[i]) {
			return nil, fail("malformed", "proof hash %d is not 64 hex digits", i)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// electionEntry loads the election of manifestB64 and decodes entry (named
// name in errors), which MUST belong to that election.
func electionEntry(manifestB64 string, entry []byte, name string) (*election, *bulletin.Entry, error) {
	e, err := loadElection(manifestB64)
	if err != nil {
		return nil, nil, err
	}
	en, err := bulletin.ParseEntry(entry)
	if err != nil {
		return nil, nil, fail("malformed", "%s: %w", name, err)
	}
	if en.Election != e.fp {
		return nil, nil, fail("wrong_election", "%s is for another election", name)
	}
	return e, en, nil
}

// verifyInclusion checks that entry is leaf seq of the log of a signed
// checkpoint note (SPEC.md V3.6) and returns what it is.
func verifyInclusion(manifestB64, note string, entry []byte, seq, size uint64, proof []string) (*EntryFacts, error) {
	e, en, err := electionEntry(manifestB64, entry, fmt.Sprintf("entry %d", seq))
	if err != nil {
		return nil, err
	}
	if err := en.VerifySignature(); err != nil {
		return nil, err
	}
	hs, err := parseHashes(proof)
	if err != nil {
		return nil, err
	}
	c, err := e.board.VerifyInclusion([]byte(note), entry, &bulletin.InclusionProof{Seq: seq, Size: size, Hashes: hs})
	if err != nil {
		return nil, err
	}
	f := facts(seq, en)
	f.Checkpoint = checkpointView(c, e, note)
	return f, nil
}

// checkConsistency checks that the log of oldNote is a prefix of that of
// newNote (SPEC.md V3.7). On an *InconsistencyError the page keeps both
// notes as evidence.
func checkConsistency(manifestB64, oldNote, newNote string, from, to uint64, proof []string) error {
	e, err := loadElection(manifestB64)
	if err != nil {
		return err
	}
	var p *bulletin.ConsistencyProof
	if proof != nil {
		hs, err := parseHashes(proof)
		if err != nil {
			return err
		}
		p = &bulletin.ConsistencyProof{OldSize: from, NewSize: to, Hashes: hs}
	}
	return e.board.CheckConsistency([]byte(oldNote), []byte(newNote), p)
}

// entryFacts decodes an entry for the explorer: its type and tracker.
func entryFacts(entry []byte) (*EntryFacts, error) {
	en, err := bulletin.ParseEntry(entry)
	if err != nil {
		return nil, fail("malformed", "entry: %w", err)
	}
	return facts(0, en), nil
}

// VerifyView is the verifier's report as the page shows it.
type VerifyView struct {
	OK          bool                `json:"ok"`
	Complete    bool                `json:"complete"`
	ElectionID  string              `json:"electionId"`
	Title       string              `json:"title"`
	Fingerprint string              `json:"fingerprint"`
	Steps       []client.StepResult `json:"steps"`
	Counts      [][]uint64          `json:"counts"`
	Trustees    []int               `json:"trustees"`
	Entries     int                 `json:"entries"`
	Blocks      int                 `json:"blocks"`
	Ballots     int                 `json:"ballots"`
	Counted     int                 `json:"counted"`
	Audited     int                 `json:"audited"`
	Voters      int                 `json:"voters"`
	Checkpoints int                 `json:"checkpoints"`
	Failure     string              `json:"failure,omitempty"`
	// Mixed are the verified outcomes of the ranked, score and write-in
	// questions (V16.4), when the record verifies and has a result.
	Mixed []*MixedView `json:"mixed,omitempty"`
}

// verifyElectionRecord runs the full verifier (V1–V16) on a record, in one
// pass: client.FollowRecord gives the report client.VerifyElectionRecord
// gives and the verified outcomes of the mixed questions with it. A record
// that cannot be read at all has no report from FollowRecord; the page
// then gets VerifyElectionRecord's (its V1 failure).
func verifyElectionRecord(rand io.Reader, record []byte, progress func(step string, done, total int)) (*VerifyView, error) {
	s, err := client.FollowRecord(bytes.NewReader(record), client.FollowOptions{Rand: rand, Progress: progress, Lean: true})
	if s == nil || s.Report == nil {
		return unreadableRecord(rand, record, progress)
	}
	rep := s.Report
	v := reportView(rep)
	v.OK = err == nil && rep.OK()
	v.Failure = failureOf(rep, err)
	if v.OK && rep.Counts != nil && hasMixed(rep.Questions) {
		v.Mixed = mixedViews(s.Manifest, s.Mixed)
	}
	return v, nil
}

// unreadableRecord is the view of a record FollowRecord could not read:
// client.VerifyElectionRecord's report of it.
func unreadableRecord(rand io.Reader, record []byte, progress func(step string, done, total int)) (*VerifyView, error) {
	rep, err := client.VerifyElectionRecord(bytes.NewReader(record), client.VerifyOptions{Rand: rand, Progress: progress})
	if rep == nil {
		if err == nil {
			err = errors.New("no report")
		}
		return nil, fail("malformed", "the election record could not be read: %w", err)
	}
	v := reportView(rep)
	v.OK = err == nil
	v.Failure = failureOf(rep, err)
	return v, nil
}

// failureOf is the failure the page shows: the report's first, else the
// verifier's error, else none.
func failureOf(rep *client.Report, err error) string {
	if step, f, ok := rep.FirstFailure(); ok {
		return step.String() + ": " + f.String()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// reportView is the page's view of a verifier's report (OK, Failure and
// Mixed are the caller's).
func reportView(rep *client.Report) *VerifyView {
	return &VerifyView{Complete: rep.Complete, ElectionID: rep.ElectionID, Title: rep.Title,
		Fingerprint: hex.EncodeToString(rep.Fingerprint[:]), Steps: rep.Steps, Counts: rep.Counts, Trustees: rep.Trustees,
		Entries: rep.Entries, Blocks: rep.Blocks, Ballots: rep.Ballots, Counted: rep.Counted, Audited: rep.Audited,
		Voters: rep.Voters, Checkpoints: rep.Checkpoints}
}

// ElectionKeyView is the election key the booth established from the
// board's entries (SPEC.md §10.6), with what the page shows and needs.
type ElectionKeyView struct {
	Manifest    string          `json:"manifest"` // base64url: entry 0's body, the verified manifest
	ElectionID  string          `json:"electionId"`
	Title       string          `json:"title"`
	Fingerprint string          `json:"fingerprint"` // hex
	JointKey    string          `json:"jointKey"`    // hex: K, the key to encrypt under
	Qualified   []int           `json:"qualified"`
	OpenSeq     uint64          `json:"openSeq"`
	Checkpoint  *CheckpointView `json:"checkpoint,omitempty"`
}

// verifyElectionKey checks the board's entries 0 … open (base64url, in
// order) with client.VerifyElectionKey — manifest, signatures, rules and
// key ceremony, and, given a checkpoint note, that the entries are the
// first of its log (proof: the consistency proof's hex hashes from
// len(entries) to the checkpoint's size). It returns the key to encrypt
// under, or an error of code key_unverified that names the failing step.
func verifyElectionKey(entriesB64 []string, note string, proof []string) (*ElectionKeyView, error) {
	entries := make([][]byte, len(entriesB64))
	for i, s := range entriesB64 {
		raw, err := wire.DecodeB64(s)
		if err != nil {
			return nil, fail("malformed", "entry %d is not base64url", i)
		}
		entries[i] = raw
	}
	var opts client.KeyOptions
	if note != "" {
		hs, err := parseHashes(proof)
		if err != nil {
			return nil, err
		}
		opts.Checkpoint, opts.Proof = []byte(note), hs
	}
	k, rep, err := client.VerifyElectionKey(entries, opts)
	if err != nil {
		if rep == nil {
			return nil, fail("usage", "%w", err)
		}
		step, f, _ := rep.FirstFailure()
		return nil, fail("key_unverified", "%s: %s", step, f)
	}
	mb64 := wire.EncodeB64(k.Manifest.Bytes())
	v := &ElectionKeyView{Manifest: mb64, ElectionID: k.Manifest.ElectionID, Title: k.Manifest.Title,
		Fingerprint: hex.EncodeToString(k.Fingerprint[:]), JointKey: hex.EncodeToString(k.JointKey.Bytes()),
		Qualified: k.Qualified, OpenSeq: k.OpenSeq}
	if k.Checkpoint != nil {
		// Verified by VerifyElectionKey; opened again node by node for display.
		if v.Checkpoint, err = openCheckpoint(mb64, note); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// CheckInput is what a person pasted into "check my ballot": a tracker (its
// short form and, when given, the full tracker in hex) or a receipt.
type CheckInput struct {
	Kind       string `json:"kind"`                 // "tracker" or "receipt"
	Tracker    string `json:"tracker,omitempty"`    // the short form, normalized
	TrackerHex string `json:"trackerHex,omitempty"` // the full tracker, when given
	Receipt    string `json:"receipt,omitempty"`    // base64url, as the API serves it
}

// readCheckInput reads a tracker in any form ballot.ParseTrackerQuery
// accepts (look-alikes, spaces, dashes of any kind), a receipt as the booth
// downloads it (base64url, line breaks allowed) or the JSON receipt file
// that `urna vote` saves (its "receipt" field).
func readCheckInput(text string) (*CheckInput, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "{") {
		var f struct {
			Receipt string `json:"receipt"`
		}
		if err := json.Unmarshal([]byte(text), &f); err != nil || f.Receipt == "" {
			return nil, fail("not_receipt", "this looks like JSON but not like a receipt file of urna vote (no \"receipt\" field)")
		}
		text = f.Receipt
	} else {
		q, err := ballot.ParseTrackerQuery(text)
		if err == nil {
			in := &CheckInput{Kind: "tracker", Tracker: q.Short}
			if q.Full != nil {
				in.TrackerHex = q.Full.Hex()
			}
			return in, nil
		}
		if len(strings.Join(strings.Fields(text), "")) <= 64 {
			return nil, err // short: a tracker with a typo
		}
	}
	b64 := strings.Join(strings.Fields(text), "")
	b64 = strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(b64), "=")
	raw, err := wire.DecodeB64(b64)
	if err != nil {
		return nil, fail("not_receipt", "this is neither a tracker nor a receipt: %w", err)
	}
	if _, err := bulletin.ParseReceipt(raw); err != nil {
		return nil, fail("not_receipt", "this is not an Urna receipt: %w", err)
	}
	return &CheckInput{Kind: "receipt", Receipt: b64}, nil
}

// Opened is an audited ballot's published opening: what the ballot
// contained, and whether the opening re-encrypts to it under the election
// key (SPEC.md V9), so a voter can confirm a challenge from any device.
type Opened struct {
	Tracker    string         `json:"tracker"`
	Choices    [][]uint32     `json:"choices"`    // the option indexes, per question (selection questions; nil for a version-2 ballot)
	Answers    []OpenedAnswer `json:"answers"`    // every question's answer, of any kind (nil if it does not fit the manifest)
	Selections [][]string     `json:"selections"` // their texts in the primary language
	Verified   bool           `json:"verified"`
	Problem    string         `json:"problem,omitempty"` // why it does not verify
}

// openAudited reads the opening of an audit (or of a protocol-1.1
// audited-ballot entry) and checks it under the joint key jointKeyHex.
func openAudited(manifestB64, jointKeyHex string, entry []byte) (*Opened, error) {
	e, en, err := electionEntry(manifestB64, entry, "entry")
	if err != nil {
		return nil, err
	}
	var a *ballot.Audit
	var legacy *ballot.AuditedBallot
	switch en.Type {
	case bulletin.TypeAudit:
		a, err = ballot.ParseAudit(en.Body)
	case bulletin.TypeAuditedBallot:
		legacy, err = ballot.ParseAuditedBallot(en.Body)
	default:
		return nil, fail("malformed", "entry is a %s, not an audit", en.Type)
	}
	if err != nil {
		return nil, fail("malformed", "%s: %w", en.Type, err)
	}
	o := &Opened{}
	var op *ballot.Opening
	if a != nil {
		o.Tracker, op = a.Tracker().Short(), a.Opening
	} else {
		o.Tracker, op = legacy.Ballot.Tracker().Short(), legacy.Opening
	}
	if !op.Fits(e.m) {
		o.Problem = "the opening does not have the election's questions and options"
		return o, nil
	}
	o.Choices, o.Answers, o.Selections = op.Choices, openedAnswers(e.m, op), op.Selections(e.m)
	kb, err := hex.DecodeString(jointKeyHex)
	var pk *group.Element
	if err == nil {
		pk, err = group.DecodeNonIdentity(kb)
	}
	if err != nil {
		o.Problem = "the election key is not known"
		return o, nil
	}
	if a != nil {
		err = ballot.VerifyAudit(e.m, pk, a)
	} else {
		err = ballot.VerifyOpening(e.m, pk, legacy.Ballot, legacy.Opening)
	}
	if err != nil {
		o.Problem = err.Error()
		return o, nil
	}
	o.Verified = true
	return o, nil
}
