package roles

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/cover"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
)

// Election is what a voter needs from the board: the manifest and the
// election key.
type Election struct {
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	JointKey    *group.Element
	// OpenSeq is the sequence number of the open entry: ballots follow it.
	OpenSeq uint64
}

// Board returns the checkpoint-verification keys and quorums of the
// election (SPEC.md §3.8, §3.13).
func (e *Election) Board() *bulletin.Board { return bulletin.BoardFor(e.Manifest) }

// FetchElection establishes the manifest and the election key from the
// board's own entries (SPEC.md §10.6), never from what the node says about
// them: the entries up to open, verified by client.VerifyElectionKey
// against a quorum checkpoint. It fails with ErrNotReady (and the
// unverified manifest, for showing the questions) before the election is
// open.
func FetchElection(ctx context.Context, c *apiclient.Client) (*Election, error) {
	return FetchVerifiedElection(ctx, c, ElectionOptions{})
}

// ElectionOptions configure FetchVerifiedElection.
type ElectionOptions struct {
	// Fingerprint, if not zero, is the fingerprint the voter holds from
	// the election authority (the credential letter): V4.6.
	Fingerprint [32]byte
	// Memory, if set, is the voter's memory of the board: the checkpoint
	// MUST extend the one remembered, and is remembered.
	Memory *Memory
}

// ErrKeyMismatch: the node's /election status states another election key
// or fingerprint than the verified board (a substituted key).
var ErrKeyMismatch = errors.New("roles: the node states another election key than its board")

// electionPrefix reads the board's entries from the first up to the open
// entry, and the manifest if the first is one; open says whether the open
// entry was reached. It reads them from the binary record (GET /record,
// SPEC.md §3.11) block by block and stops reading at the open entry: the
// credential list of a large electorate is one entry of tens of megabytes
// (36 MB for 1,000,000 voters), about four times that as /entries JSON
// (base64 twice and a view of every credential), more than a client takes
// in one answer. Nothing here is trusted: the caller verifies the entries
// against a signed checkpoint. A board with no attested entry yet (the
// node serves no record) is ErrNotReady.
func electionPrefix(ctx context.Context, c *apiclient.Client) (entries [][]byte, man *ballot.Manifest, open bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body, err := c.RecordSuffix(ctx, 0, 0)
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return nil, nil, false, fmt.Errorf("%w: the board has no election yet (%s)", ErrNotReady, ae.Message)
	}
	if err != nil {
		return nil, nil, false, err
	}
	defer body.Close()
	rr, err := bulletin.NewRecordReader(body)
	if err != nil {
		return nil, nil, false, fmt.Errorf("roles: the board's record: %w", err)
	}
	for {
		b, err := rr.Next()
		if err == io.EOF {
			return entries, man, false, nil
		}
		if err != nil {
			return nil, nil, false, fmt.Errorf("roles: the board's record: %w", err)
		}
		for k, e := range b.Entries {
			entries = append(entries, b.Raw[k])
			if len(entries) == 1 && e.Type == bulletin.TypeManifest {
				man, _ = ballot.ParseManifest(e.Body)
			}
			if e.Type == bulletin.TypeOpen {
				return entries, man, true, nil
			}
		}
	}
}

// FetchVerifiedElection is FetchElection with a pinned fingerprint and the
// voter's memory. It also compares the node's informative status with the
// verified key and refuses (ErrKeyMismatch) when they differ: a node that
// states another key is hostile.
func FetchVerifiedElection(ctx context.Context, c *apiclient.Client, opts ElectionOptions) (*Election, error) {
	entries, man, open, err := electionPrefix(ctx, c)
	if err != nil {
		return nil, err
	}
	if man == nil {
		return nil, fmt.Errorf("%w: the board has no election yet", ErrNotReady)
	}
	if !open {
		return &Election{Manifest: man, Fingerprint: man.Fingerprint()}, fmt.Errorf("%w: the election is not open yet", ErrNotReady)
	}
	board := bulletin.BoardFor(man) // only to wait for a covering checkpoint: V3 below decides
	var note []byte
	_, err = cover.Wait(ctx, uint64(len(entries)-1), 15*time.Second, func(ctx context.Context) (uint64, error) {
		n, err := c.CheckpointNote(ctx)
		if err != nil {
			return 0, nil
		}
		cp, err := board.Open(n)
		if err != nil {
			return 0, nil
		}
		note = n
		return cp.Size, nil
	})
	if err != nil {
		return nil, fmt.Errorf("roles: waiting for a checkpoint covering the open entry: %w", err)
	}
	cp, _ := board.Open(note)
	var proof []tlog.Hash
	if n := uint64(len(entries)); cp.Size > n {
		p, err := c.Consistency(ctx, n, cp.Size)
		if err != nil {
			return nil, err
		}
		proof = p.Hashes
	}
	k, rep, err := client.VerifyElectionKey(entries, client.KeyOptions{Fingerprint: opts.Fingerprint, Checkpoint: note, Proof: proof})
	if err != nil {
		if rep != nil {
			if step, f, bad := rep.FirstFailure(); bad {
				return nil, fmt.Errorf("%w to encrypt: the board's election key does not verify at %s (%s): %s", ErrRefused, step, step.Title(), f)
			}
		}
		return nil, fmt.Errorf("%w to encrypt: %w", ErrRefused, err)
	}
	if opts.Memory != nil {
		if err := extendsKnown(ctx, c, k.Manifest, opts.Memory, note); err != nil {
			return nil, fmt.Errorf("%w to encrypt: %w", ErrRefused, opts.Memory.keep(err))
		}
		if err := opts.Memory.Remember(bulletin.BoardFor(k.Manifest), k.Fingerprint, note); err != nil {
			return nil, err
		}
	}
	st, err := c.Election(ctx)
	if err != nil {
		return nil, err
	}
	if st.JointKey != hex.EncodeToString(k.JointKey.Bytes()) || (st.Fingerprint != "" && st.Fingerprint != hex.EncodeToString(k.Fingerprint[:])) {
		return nil, fmt.Errorf("%w to encrypt: %w: it says %.16s…, the key ceremony on the board gives %x…", ErrRefused, ErrKeyMismatch, st.JointKey, k.JointKey.Bytes()[:8])
	}
	return &Election{Manifest: k.Manifest, Fingerprint: k.Fingerprint, JointKey: k.JointKey, OpenSeq: uint64(len(entries) - 1)}, nil
}

// Earlier is a ballot a credential cast before.
type Earlier struct {
	Seq     uint64
	Tracker ballot.Tracker
}

// EarlierBallot returns the last ballot on the node's board signed by the
// public credential pub (SPEC.md §5.2), or nil. It is a courtesy to the
// voter (a new ballot replaces it, SPEC.md V10), read from the node's
// entries unverified: what counts is decided by the verified record.
func EarlierBallot(ctx context.Context, c *apiclient.Client, e *Election, pub *group.Element) (*Earlier, error) {
	var last *Earlier
	err := c.AllEntries(ctx, e.OpenSeq+1, func(info api.Entry) error {
		if info.Type != bulletin.TypeBallot.String() {
			return nil
		}
		ent, err := bulletin.ParseEntry(info.Entry)
		if err != nil {
			return fmt.Errorf("roles: board entry %d: %w", info.Seq, err)
		}
		if ent.Type == bulletin.TypeBallot && ent.Author.Equal(pub) {
			last = &Earlier{Seq: info.Seq, Tracker: ballot.TrackerOf(ent.Body)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return last, nil
}

// ParseChoices reads a voter's choices: questions separated by ';', the
// selected options of a question by ',', options numbered from 1 as the
// manifest lists them (so "1;2,4" picks option 1 of question 1 and options
// 2 and 4 of question 2). An empty question selects nothing.
func ParseChoices(m *ballot.Manifest, s string) ([][]uint32, error) {
	parts := strings.Split(s, ";")
	if len(parts) != len(m.Questions) {
		return nil, fmt.Errorf("roles: %d questions answered, the election has %d (separate questions with ';')", len(parts), len(m.Questions))
	}
	out := make([][]uint32, len(parts))
	for q, p := range parts {
		out[q] = []uint32{}
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		for _, f := range strings.Split(p, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 1 || v > len(m.Questions[q].Options) {
				return nil, fmt.Errorf("roles: question %d: %q is not an option number 1..%d", q+1, f, len(m.Questions[q].Options))
			}
			out[q] = append(out[q], uint32(v-1))
		}
		mq := m.Questions[q]
		if n := uint32(len(out[q])); n < mq.Min || n > mq.Max {
			return nil, fmt.Errorf("roles: question %d: %d options selected, choose %d to %d", q+1, n, mq.Min, mq.Max)
		}
	}
	return out, nil
}

// Prepared is an encrypted, signed ballot entry ready to post.
type Prepared struct {
	Entry   []byte
	Tracker ballot.Tracker
	Ballot  *ballot.Ballot
	secrets *ballot.Secrets
}

// PrepareBallot encrypts choices (0-based option indexes per question)
// under the election key, bound to the credential (SPEC.md §6.2), and signs
// the ballot entry with the credential's key.
func PrepareBallot(rand io.Reader, e *Election, key *ballot.CredentialKey, choices [][]uint32) (*Prepared, error) {
	b, sec, err := ballot.EncryptBallot(rand, e.Manifest, e.JointKey, key, choices)
	return prepared(rand, e, key, b, sec, err)
}

// prepared signs the ballot entry of b, just encrypted (err: the
// encryption's error), with the credential's key, keeping its secrets for
// a challenge.
func prepared(rand io.Reader, e *Election, key *ballot.CredentialKey, b *ballot.Ballot, sec *ballot.Secrets, err error) (*Prepared, error) {
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	raw, err := signEntry(rand, e.Fingerprint, bulletin.TypeBallot, bulletin.RoleVoter, key.PrivateKey(), b.Bytes())
	if err != nil {
		return nil, err
	}
	return &Prepared{Entry: raw, Tracker: b.Tracker(), Ballot: b, secrets: sec}, nil
}

// AuditEntry opens a prepared ballot (SPEC.md §7.2) and returns the audit
// entry (§7.3, §12.10 for a version-2 ballot: the ciphertexts and the
// opening, signed by a fresh one-time key, so that nothing on the board
// links it to the credential) and the opening. The ballot MUST NOT be cast
// afterwards.
func (p *Prepared) AuditEntry(rand io.Reader, e *Election) ([]byte, *ballot.Opening, error) {
	a, err := p.Ballot.Audit(p.secrets)
	if err != nil {
		return nil, nil, fmt.Errorf("roles: %w", err)
	}
	oneTime, err := schnorr.GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("roles: one-time audit key: %w", err)
	}
	raw, err := signEntry(rand, e.Fingerprint, bulletin.TypeAudit, bulletin.RoleAuditor, oneTime, a.Bytes())
	if err != nil {
		return nil, nil, err
	}
	return raw, a.Opening, nil
}

// CheckAudit checks the audit entry raw of p as anyone would, from its
// bytes (SPEC.md V9): it holds p's ballot (the same tracker) and its opening
// re-encrypts to that ballot. A voter trusts the device that made p only if
// it passes.
func (p *Prepared) CheckAudit(e *Election, raw []byte) error {
	ent, err := bulletin.ParseEntry(raw)
	if err != nil {
		return fmt.Errorf("roles: audit entry: %w", err)
	}
	a, err := ballot.ParseAudit(ent.Body)
	if err != nil {
		return fmt.Errorf("roles: audit entry: %w", err)
	}
	if a.Tracker() != p.Tracker {
		return errors.New("roles: the audit entry holds another ballot than the one prepared")
	}
	if err := ballot.VerifyAudit(e.Manifest, e.JointKey, a); err != nil {
		return fmt.Errorf("roles: audit entry: %w", err)
	}
	return nil
}

// Audit is the outcome of a challenged ballot.
type Audit struct {
	Seq        uint64
	Tracker    ballot.Tracker
	Selections [][]string // what the challenged ballot contained
	// Answers are the opened answers of a version-2 ballot (SPEC.md
	// §12.10): rankings, scores and texts, as the voter gave them; nil
	// for a version-1 ballot.
	Answers  []ballot.Answer
	Verified bool // the opening re-encrypts to the ballot (SPEC.md V9)
}

// Vote is the outcome of casting a ballot.
type Vote struct {
	Seq     uint64
	Tracker ballot.Tracker
	Receipt *bulletin.Receipt
	Audit   *Audit // non-nil when the voter challenged a ballot first
	// Replaces is the credential's earlier ballot, which this one
	// replaces (nil: none seen; see EarlierBallot).
	Replaces *Earlier
}

// CastOptions configure Cast.
type CastOptions struct {
	Credential ballot.Credential
	Choices    [][]uint32 // 0-based option indexes per question
	// Answers, when non-nil, replaces Choices: one answer per question
	// (ParseAnswers), cast as PrepareAnswers encrypts them (a version-2
	// ballot for a version-3 manifest, SPEC.md §12).
	Answers []ballot.Answer
	// Challenge first encrypts a ballot, posts it opened as an audit
	// (SPEC.md §7.3; §12.10 for a version-2 ballot), checks the opening,
	// and only then encrypts and casts a fresh ballot.
	Challenge bool
	// ReceiptWait bounds the wait for a checkpoint covering the ballot
	// (default 30s).
	ReceiptWait time.Duration
	// Fingerprint and Memory are ElectionOptions' (the pinned fingerprint
	// and the voter's memory of the board).
	Fingerprint [32]byte
	Memory      *Memory
}

// Cast encrypts and casts a ballot (SPEC.md §6), optionally after a
// challenge, and returns its tracker and a verified receipt (entry,
// checkpoint, inclusion proof; SPEC.md §3.10). The last ballot cast with a
// credential is the one that counts: a later ballot replaces this one.
func Cast(ctx context.Context, rand io.Reader, c *apiclient.Client, opts CastOptions) (*Vote, error) {
	e, err := FetchVerifiedElection(ctx, c, ElectionOptions{Fingerprint: opts.Fingerprint, Memory: opts.Memory})
	if err != nil {
		return nil, err
	}
	key, err := opts.Credential.Key(e.Manifest.ElectionID)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	v := &Vote{}
	// A courtesy like the booth's: failing to read it never stops the vote.
	v.Replaces, _ = EarlierBallot(ctx, c, e, key.Public())
	prepare := func() (*Prepared, error) {
		if opts.Answers != nil {
			return PrepareAnswers(rand, e, key, opts.Answers)
		}
		return PrepareBallot(rand, e, key, opts.Choices)
	}
	if opts.Challenge {
		p, err := prepare()
		if err != nil {
			return nil, err
		}
		raw, o, err := p.AuditEntry(rand, e)
		if err != nil {
			return nil, err
		}
		res, err := c.SubmitOne(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("roles: posting the challenged ballot: %w", err)
		}
		ok := p.CheckAudit(e, raw) == nil
		v.Audit = &Audit{Seq: res.Seq, Tracker: p.Tracker, Selections: o.Selections(e.Manifest), Answers: o.Answers, Verified: ok}
		if !ok {
			return v, errors.New("roles: the challenged ballot does not open to the choices: do not use this device to vote")
		}
	}
	p, err := prepare()
	if err != nil {
		return v, err
	}
	res, err := c.SubmitOne(ctx, p.Entry)
	if err != nil {
		return v, fmt.Errorf("roles: casting the ballot: %w", err)
	}
	v.Seq, v.Tracker = res.Seq, p.Tracker
	wait := opts.ReceiptWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	rc, err := FetchReceipt(ctx, c, e, res.Seq, p.Entry, wait)
	if err != nil {
		return v, err
	}
	v.Receipt = rc
	if m := opts.Memory; m != nil {
		if err := extendsKnown(ctx, c, e.Manifest, m, rc.Checkpoint); err != nil {
			return v, m.keep(err)
		}
		if err := m.Remember(e.Board(), e.Fingerprint, rc.Checkpoint); err != nil {
			return v, err
		}
	}
	return v, nil
}

// FetchReceipt asks the node for the receipt of entry seq, waiting up to
// wait for a checkpoint that covers it, and verifies it (SPEC.md §3.10):
// the checkpoint is signed by a quorum of the manifest's board nodes and
// the entry (which MUST equal entry when given) is leaf seq of its log.
func FetchReceipt(ctx context.Context, c *apiclient.Client, e *Election, seq uint64, entry []byte, wait time.Duration) (*bulletin.Receipt, error) {
	var rc *bulletin.Receipt
	var last error
	_, err := cover.Wait(ctx, seq, wait, func(ctx context.Context) (uint64, error) {
		info, err := c.Receipt(ctx, seq)
		if apiclient.IsCode(err, "not_found") || apiclient.IsCode(err, "wrong_phase") {
			last = err
			return 0, nil // no quorum checkpoint covers the entry yet
		}
		if err != nil {
			return 0, fmt.Errorf("roles: fetching the receipt of entry %d: %w", seq, err)
		}
		if rc, err = bulletin.ParseReceipt(info.Receipt); err != nil {
			return 0, fmt.Errorf("roles: the node's receipt: %w", err)
		}
		if rc.Seq != seq || (entry != nil && !bytes.Equal(rc.Entry, entry)) {
			return 0, fmt.Errorf("roles: the node's receipt is for another entry")
		}
		_, cp, err := e.Board().VerifyReceipt(rc)
		if err != nil {
			return 0, fmt.Errorf("roles: the node's receipt does not verify: %w", err)
		}
		return cp.Size, nil
	})
	if errors.Is(err, cover.ErrTimeout) && last != nil {
		return nil, fmt.Errorf("roles: fetching the receipt of entry %d: %w", seq, last)
	}
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// ReceiptFile is the voter's saved receipt (JSON, 0600).
type ReceiptFile struct {
	Kind       string `json:"kind"`
	ElectionID string `json:"election_id"`
	Tracker    string `json:"tracker"`     // short form
	TrackerHex string `json:"tracker_hex"` // full tracker
	Seq        uint64 `json:"seq"`
	Receipt    string `json:"receipt"` // base64url canonical receipt (SPEC.md §3.10)
}

func (f *ReceiptFile) fileKind() string { return f.Kind }

const kindReceipt = "urna-receipt"

// SaveReceipt writes the receipt of a cast ballot to dir as
// receipt-<tracker>.json (0600) and returns the path.
func SaveReceipt(dir string, electionID string, v *Vote) (string, error) {
	if v.Receipt == nil {
		return "", errors.New("roles: no receipt to save")
	}
	f := &ReceiptFile{Kind: kindReceipt, ElectionID: electionID, Tracker: v.Tracker.Short(), TrackerHex: v.Tracker.Hex(),
		Seq: v.Seq, Receipt: wire.EncodeB64(v.Receipt.Bytes())}
	path := filepath.Join(dir, "receipt-"+v.Tracker.Short()+".json")
	if err := writeSecret(path, marshalFile(f)); err != nil {
		return "", err
	}
	return path, nil
}

// LoadReceipt reads a saved receipt file (SaveReceipt) and returns it and
// the canonical receipt it holds (SPEC.md §3.10), not yet verified.
func LoadReceipt(path string) (*ReceiptFile, []byte, error) {
	var f ReceiptFile
	if err := readFile(path, kindReceipt, false, &f); err != nil {
		return nil, nil, err
	}
	raw, err := wire.DecodeB64(f.Receipt)
	if err != nil {
		return nil, nil, fmt.Errorf("roles: %s: receipt: %w", path, err)
	}
	return &f, raw, nil
}

// ReceiptStatus is what CheckReceipt found, all of it from verified data.
type ReceiptStatus struct {
	Seq          uint64
	Tracker      string
	ReceiptSize  uint64 // log size of the receipt's checkpoint
	CurrentSize  uint64 // log size of the verified record's checkpoint
	Nodes        int    // nodes whose newest checkpoint was proved consistent
	Counts       bool   // the ballot is the one that counts for its credential (V10)
	SupersededBy *uint64
	Audited      bool
	Verified     *client.Verified
}

// CheckReceipt checks a saved receipt (SPEC.md §10.5) against the board as
// read by observe through c and others: the receipt decodes, its entry is
// signed and is leaf seq of its quorum-signed checkpoint (client.CheckReceipt);
// the whole record, verified, is covered by a quorum checkpoint and extends
// the receipt's checkpoint, the checkpoints of every node asked and the
// one remembered beside the receipt (MemoryFile); and whether the ballot
// counts, was replaced or was audited is decided from the verified record
// (V10), never from a node's tracker status. A fork leaves an evidence
// file beside the receipt and returns an *EvidenceError; a node showing a
// board older than the receipt fails with client.ErrStale.
func CheckReceipt(ctx context.Context, c *apiclient.Client, path string, others ...*apiclient.Client) (*ReceiptStatus, error) {
	f, raw, err := LoadReceipt(path)
	if err != nil {
		return nil, err
	}
	rc, err := bulletin.ParseReceipt(raw)
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", path, err)
	}
	ent, err := bulletin.ParseEntry(rc.Entry)
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", path, err)
	}
	mem, err := OpenMemory(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	nodes := append([]*apiclient.Client{c}, others...)
	// The receipt's entry carries the fingerprint the voter's device
	// verified when it voted: it pins the election (V4.6).
	s, err := observe(ctx, nil, nodes, mem, ent.Election)
	if err != nil {
		return nil, err
	}
	st, err := client.CheckReceipt(raw, nil, s.Manifest)
	if err != nil {
		return nil, fmt.Errorf("roles: the receipt does not verify for election %q: %w", s.Manifest.ElectionID, err)
	}
	if err := s.Extends(ctx, rc.Checkpoint, nil); err != nil {
		return nil, mem.keep(err)
	}
	out := &ReceiptStatus{Seq: rc.Seq, Tracker: f.Tracker, ReceiptSize: st.Checkpoint.Size, CurrentSize: s.Checkpoint.Size, Nodes: len(nodes), Verified: s}
	if st.Tracker != nil {
		out.Tracker = st.Tracker.Short()
	}
	switch ent.Type {
	case bulletin.TypeAuditedBallot, bulletin.TypeAudit:
		out.Audited = true
	case bulletin.TypeBallot:
		at, ok := s.CountedSeq(ent.AuthorKey())
		switch {
		case ok && at == rc.Seq:
			out.Counts = true
		case ok && at > rc.Seq:
			out.SupersededBy = &at
		}
	}
	return out, nil
}
