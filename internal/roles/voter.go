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
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Election is what a voter needs from the board: the manifest and the
// election key.
type Election struct {
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	JointKey    *group.Element
}

// Board returns the checkpoint-verification keys of the election (SPEC.md §3.8).
func (e *Election) Board() *bulletin.Board { return BoardKeys(e.Manifest) }

// BoardKeys returns the checkpoint origin, node keys and quorum of a manifest.
func BoardKeys(m *ballot.Manifest) *bulletin.Board {
	b := &bulletin.Board{Origin: bulletin.Origin(m.ElectionID, m.Fingerprint()), Quorum: int(m.BoardQuorum)}
	for _, n := range m.BoardNodes {
		b.Nodes = append(b.Nodes, bulletin.NodeKey{ID: n.ID, PublicKey: bytes.Clone(n.Key)})
	}
	return b
}

// FetchElection reads the manifest and the joint key from the node's
// status. It fails with ErrNotReady before the election is open.
func FetchElection(ctx context.Context, c *apiclient.Client) (*Election, error) {
	st, err := c.Election(ctx)
	if apiclient.IsCode(err, "not_found") {
		return nil, fmt.Errorf("%w: the board has no election yet", ErrNotReady)
	}
	if err != nil {
		return nil, err
	}
	m, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		return nil, fmt.Errorf("roles: the node's manifest: %w", err)
	}
	fp := m.Fingerprint()
	if st.Fingerprint != "" && st.Fingerprint != hex.EncodeToString(fp[:]) {
		return nil, errors.New("roles: the node's fingerprint is not its manifest's")
	}
	e := &Election{Manifest: m, Fingerprint: fp}
	if st.JointKey == "" {
		return e, fmt.Errorf("%w: the election is not open (phase %s)", ErrNotReady, st.Phase)
	}
	kb, err := hex.DecodeString(st.JointKey)
	if err != nil {
		return nil, fmt.Errorf("roles: the node's joint key: %w", err)
	}
	if e.JointKey, err = group.DecodeNonIdentity(kb); err != nil {
		return nil, fmt.Errorf("roles: the node's joint key: %w", err)
	}
	return e, nil
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
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	raw, err := signEntry(rand, e.Fingerprint, bulletin.TypeBallot, bulletin.RoleVoter, key.PrivateKey(), b.Bytes())
	if err != nil {
		return nil, err
	}
	return &Prepared{Entry: raw, Tracker: b.Tracker(), Ballot: b, secrets: sec}, nil
}

// AuditEntry opens a prepared ballot (SPEC.md §7.2) and returns the signed
// audited-ballot entry and the opening. The ballot MUST NOT be cast afterwards.
func (p *Prepared) AuditEntry(rand io.Reader, e *Election, key *ballot.CredentialKey) ([]byte, *ballot.Opening, error) {
	o, err := p.Ballot.Open(p.secrets)
	if err != nil {
		return nil, nil, fmt.Errorf("roles: %w", err)
	}
	a := &ballot.AuditedBallot{Ballot: p.Ballot, Opening: o}
	raw, err := signEntry(rand, e.Fingerprint, bulletin.TypeAuditedBallot, bulletin.RoleVoter, key.PrivateKey(), a.Bytes())
	if err != nil {
		return nil, nil, err
	}
	return raw, o, nil
}

// Audit is the outcome of a challenged ballot.
type Audit struct {
	Seq        uint64
	Tracker    ballot.Tracker
	Selections [][]string // what the challenged ballot contained
	Verified   bool       // the opening re-encrypts to the ballot (SPEC.md V9)
}

// Vote is the outcome of casting a ballot.
type Vote struct {
	Seq     uint64
	Tracker ballot.Tracker
	Receipt *bulletin.Receipt
	Audit   *Audit // non-nil when the voter challenged a ballot first
}

// CastOptions configure Cast.
type CastOptions struct {
	Credential ballot.Credential
	Choices    [][]uint32 // 0-based option indexes per question
	// Challenge first encrypts a ballot, posts it opened as an audited
	// ballot (SPEC.md §7), checks the opening, and only then encrypts and
	// casts a fresh ballot.
	Challenge bool
	// ReceiptWait bounds the wait for a checkpoint covering the ballot
	// (default 30s).
	ReceiptWait time.Duration
}

// Cast encrypts and casts a ballot (SPEC.md §6), optionally after a
// challenge, and returns its tracker and a verified receipt (entry,
// checkpoint, inclusion proof; SPEC.md §3.10). The last ballot cast with a
// credential is the one that counts: a later ballot replaces this one.
func Cast(ctx context.Context, rand io.Reader, c *apiclient.Client, opts CastOptions) (*Vote, error) {
	e, err := FetchElection(ctx, c)
	if err != nil {
		return nil, err
	}
	key, err := opts.Credential.Key(e.Manifest.ElectionID)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	v := &Vote{}
	if opts.Challenge {
		p, err := PrepareBallot(rand, e, key, opts.Choices)
		if err != nil {
			return nil, err
		}
		raw, o, err := p.AuditEntry(rand, e, key)
		if err != nil {
			return nil, err
		}
		res, err := c.SubmitOne(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("roles: posting the challenged ballot: %w", err)
		}
		// Check the opening as anyone would, from the posted bytes.
		ent, err := bulletin.ParseEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("roles: %w", err)
		}
		a, err := ballot.ParseAuditedBallot(ent.Body)
		if err != nil {
			return nil, fmt.Errorf("roles: %w", err)
		}
		ok := ballot.VerifyOpening(e.Manifest, e.JointKey, a.Ballot, a.Opening) == nil
		v.Audit = &Audit{Seq: res.Seq, Tracker: p.Tracker, Selections: o.Selections(e.Manifest), Verified: ok}
		if !ok {
			return v, errors.New("roles: the challenged ballot does not open to the choices: do not use this device to vote")
		}
	}
	p, err := PrepareBallot(rand, e, key, opts.Choices)
	if err != nil {
		return nil, err
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
	return v, nil
}

// FetchReceipt asks the node for the receipt of entry seq, waiting up to
// wait for a checkpoint that covers it, and verifies it (SPEC.md §3.10):
// the checkpoint is signed by a quorum of the manifest's board nodes and
// the entry (which MUST equal entry when given) is leaf seq of its log.
func FetchReceipt(ctx context.Context, c *apiclient.Client, e *Election, seq uint64, entry []byte, wait time.Duration) (*bulletin.Receipt, error) {
	deadline := time.Now().Add(wait)
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		info, err := c.Receipt(ctx, seq)
		if err == nil {
			rc, err := bulletin.ParseReceipt(info.Receipt)
			if err != nil {
				return nil, fmt.Errorf("roles: the node's receipt: %w", err)
			}
			if rc.Seq != seq || (entry != nil && !bytes.Equal(rc.Entry, entry)) {
				return nil, fmt.Errorf("roles: the node's receipt is for another entry")
			}
			if _, _, err := e.Board().VerifyReceipt(rc); err != nil {
				return nil, fmt.Errorf("roles: the node's receipt does not verify: %w", err)
			}
			return rc, nil
		}
		if !apiclient.IsCode(err, "not_found") && !apiclient.IsCode(err, "wrong_phase") || time.Now().After(deadline) {
			return nil, fmt.Errorf("roles: fetching the receipt of entry %d: %w", seq, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
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

// ReceiptStatus is what CheckReceipt found.
type ReceiptStatus struct {
	Seq          uint64
	Tracker      string
	ReceiptSize  uint64 // log size of the receipt's checkpoint
	CurrentSize  uint64 // log size of the node's current checkpoint
	Counts       bool   // the ballot is the one that counts for its credential
	SupersededBy *uint64
	Audited      bool
}

// CheckReceipt checks a saved receipt against a node (SPEC.md §3.10,
// V3.6–V3.7): the receipt's checkpoint is signed by a quorum of the
// election's board nodes and includes the ballot; the node's current
// checkpoint is signed too and extends it (consistency proof), so the board
// has not dropped or rewritten the ballot since; and the node's view of the
// tracker (counted, superseded by a later ballot, or audited). An
// *bulletin.InconsistencyError is the evidence of a board that forked.
func CheckReceipt(ctx context.Context, c *apiclient.Client, path string) (*ReceiptStatus, error) {
	var f ReceiptFile
	if err := readFile(path, kindReceipt, false, &f); err != nil {
		return nil, err
	}
	rc, err := decodeField(path, "receipt", f.Receipt, bulletin.ParseReceipt)
	if err != nil {
		return nil, err
	}
	st, err := c.Election(ctx)
	if err != nil {
		return nil, err
	}
	m, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		return nil, fmt.Errorf("roles: the node's manifest: %w", err)
	}
	board := BoardKeys(m)
	ent, old, err := board.VerifyReceipt(rc)
	if err != nil {
		return nil, fmt.Errorf("roles: the receipt does not verify for election %q: %w", m.ElectionID, err)
	}
	fp := m.Fingerprint()
	if ent.Election != fp {
		return nil, fmt.Errorf("roles: the receipt is for another election than the node's %q", m.ElectionID)
	}
	out := &ReceiptStatus{Seq: rc.Seq, Tracker: f.Tracker, ReceiptSize: old.Size}
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := board.Open([]byte(cp.Note))
	if err != nil {
		return nil, fmt.Errorf("roles: the node's current checkpoint: %w", err)
	}
	out.CurrentSize = cur.Size
	var proof *bulletin.ConsistencyProof
	if cur.Size > old.Size {
		ci, err := c.ConsistencyProof(ctx, old.Size, cur.Size)
		if err != nil {
			return nil, err
		}
		proof = &bulletin.ConsistencyProof{OldSize: ci.From, NewSize: ci.To}
		for _, h := range ci.Proof {
			hb, err := hex.DecodeString(h)
			if err != nil || len(hb) != len(tlog.Hash{}) {
				return nil, fmt.Errorf("roles: the node's consistency proof is malformed")
			}
			proof.Hashes = append(proof.Hashes, tlog.Hash(hb))
		}
	}
	if err := board.CheckConsistency(rc.Checkpoint, []byte(cp.Note), proof); err != nil {
		return out, fmt.Errorf("roles: the board's history does not extend the receipt's checkpoint: %w", err)
	}
	if ent.Type == bulletin.TypeBallot {
		b, err := ballot.ParseBallot(ent.Body)
		if err != nil {
			return nil, fmt.Errorf("roles: %w", err)
		}
		ti, err := c.Tracker(ctx, b.Tracker().Hex())
		if err != nil {
			return out, err
		}
		out.Tracker = b.Tracker().Short()
		out.Counts, out.SupersededBy, out.Audited = ti.Counts, ti.SupersededBy, ti.Audited
	}
	return out, nil
}
