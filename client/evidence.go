package client

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// EvidenceKind is the "kind" of an evidence file (SPEC.md §10.8).
const EvidenceKind = "urna-evidence"

// Evidence is what a party keeps when two checkpoints, each signed by a
// quorum of the board nodes, contradict each other (SPEC.md §10.8): the
// manifest (so that it is checked offline with nothing else), both signed
// notes, the consistency proof from the smaller to the larger, and, when
// the party built the proof from entries it holds, the root the larger
// checkpoint's tree has at the smaller size.
type Evidence struct {
	Manifest []byte // canonical manifest (§4.2)
	Old, New []byte // signed checkpoint notes, Old no larger than New
	Proof    *bulletin.ConsistencyProof
	// ImpliedOldRoot, if set, is the root of New's tree at Old's size:
	// Proof verifies from it to New's root, and it differs from Old's root.
	ImpliedOldRoot *[32]byte
	Reason         string
}

// ForkError is the error of a party that caught the board in two
// histories. Its Evidence MUST be kept (SPEC.md §10.5, §10.8).
type ForkError struct{ Evidence *Evidence }

func (e *ForkError) Error() string {
	return "client: the board showed two contradicting signed histories (" + e.Evidence.Reason + "): keep the evidence and publish it"
}

type evidenceFile struct {
	Kind           string `json:"kind"`
	Version        int    `json:"version"`
	Manifest       string `json:"manifest"` // base64url, no padding
	Old            string `json:"old"`      // signed note text
	New            string `json:"new"`
	Proof          string `json:"proof,omitempty"` // base64url consistency proof (§3.7)
	ImpliedOldRoot string `json:"implied_old_root,omitempty"`
	Reason         string `json:"reason"`
}

var b64 = base64.RawURLEncoding.Strict()

// Marshal returns the evidence file (JSON; SPEC.md §10.8).
func (ev *Evidence) Marshal() []byte {
	f := evidenceFile{Kind: EvidenceKind, Version: 1, Manifest: b64.EncodeToString(ev.Manifest),
		Old: string(ev.Old), New: string(ev.New), Reason: ev.Reason}
	if ev.Proof != nil {
		f.Proof = b64.EncodeToString(ev.Proof.Bytes())
	}
	if ev.ImpliedOldRoot != nil {
		f.ImpliedOldRoot = hex.EncodeToString(ev.ImpliedOldRoot[:])
	}
	out, _ := json.MarshalIndent(f, "", "  ")
	return append(out, '\n')
}

// ParseEvidence decodes an evidence file strictly.
func ParseEvidence(data []byte) (*Evidence, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f evidenceFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("client: evidence file: %w", err)
	}
	if f.Kind != EvidenceKind || f.Version != 1 {
		return nil, fmt.Errorf("client: evidence file: kind %q version %d, want %q version 1", f.Kind, f.Version, EvidenceKind)
	}
	ev := &Evidence{Old: []byte(f.Old), New: []byte(f.New), Reason: f.Reason}
	var err error
	if ev.Manifest, err = b64.DecodeString(f.Manifest); err != nil {
		return nil, fmt.Errorf("client: evidence file: manifest: %w", err)
	}
	if f.Proof != "" {
		raw, err := b64.DecodeString(f.Proof)
		if err == nil {
			ev.Proof, err = bulletin.ParseConsistencyProof(raw)
		}
		if err != nil {
			return nil, fmt.Errorf("client: evidence file: proof: %w", err)
		}
	}
	if f.ImpliedOldRoot != "" {
		raw, err := hex.DecodeString(f.ImpliedOldRoot)
		if err != nil || len(raw) != 32 {
			return nil, errors.New("client: evidence file: implied_old_root is not 32 bytes of hex")
		}
		r := [32]byte(raw)
		ev.ImpliedOldRoot = &r
	}
	return ev, nil
}

// EvidenceReport is what CheckEvidence established.
type EvidenceReport struct {
	ElectionID  string
	Fingerprint [32]byte
	Old, New    *bulletin.Checkpoint
	// Proven is true when the two checkpoints cannot both be honest: the
	// board forked or rewrote its history (SPEC.md §10.8, E3). When false,
	// the evidence only shows a node serving a proof that does not link
	// them, which any honest node refutes by serving one that does.
	Proven bool
	Why    string
}

// CheckEvidence checks an evidence file offline (SPEC.md §10.8, E1–E3),
// trusting nothing but the manifest's fingerprint, which the caller
// compares with the one published out of band: both notes MUST be
// checkpoints of the manifest's election signed by a quorum of its board
// nodes (E1–E2); the evidence is proven (E3) when they have equal sizes and
// different roots or blocks, when the larger has a lower or equal block
// height, or when the proof verifies from the implied old root to the
// larger checkpoint's root and that root differs from the smaller's.
func CheckEvidence(data []byte) (*EvidenceReport, error) {
	ev, err := ParseEvidence(data)
	if err != nil {
		return nil, err
	}
	m, err := ballot.ParseManifest(ev.Manifest)
	if err != nil {
		return nil, fmt.Errorf("client: evidence: manifest: %w", err)
	}
	board := boardOf(m)
	r := &EvidenceReport{ElectionID: m.ElectionID, Fingerprint: m.Fingerprint()}
	if r.Old, err = board.Open(ev.Old); err != nil {
		return nil, fmt.Errorf("client: evidence: E1 old checkpoint: %w", err)
	}
	if r.New, err = board.Open(ev.New); err != nil {
		return nil, fmt.Errorf("client: evidence: E2 new checkpoint: %w", err)
	}
	o, n := r.Old, r.New
	switch {
	case o.Size > n.Size:
		return nil, fmt.Errorf("client: evidence: old checkpoint size %d is larger than new %d", o.Size, n.Size)
	case o.Size == n.Size && o.Root != n.Root:
		r.Proven, r.Why = true, fmt.Sprintf("two roots for log size %d", o.Size)
	case o.Size == n.Size && (o.Height != n.Height || o.BlockHash != n.BlockHash):
		r.Proven, r.Why = true, fmt.Sprintf("two blocks for log size %d", o.Size)
	case o.Size == n.Size:
		r.Why = "the checkpoints agree"
	case o.Height >= n.Height:
		r.Proven, r.Why = true, fmt.Sprintf("log grew from %d to %d but block height did not (%d → %d)", o.Size, n.Size, o.Height, n.Height)
	case ev.Proof == nil || ev.Proof.OldSize != o.Size || ev.Proof.NewSize != n.Size:
		r.Why = "no consistency proof between the checkpoints' sizes"
	case ev.Proof.Check(o.Root, n.Root) == nil:
		r.Why = "the proof shows the checkpoints consistent"
	case ev.ImpliedOldRoot != nil && tlog.Hash(*ev.ImpliedOldRoot) != o.Root && ev.Proof.Check(*ev.ImpliedOldRoot, n.Root) == nil:
		r.Proven, r.Why = true, fmt.Sprintf("the log of size %d has root %x… in the new checkpoint's tree and %x… in the old checkpoint", o.Size, ev.ImpliedOldRoot[:6], o.Root[:6])
	default:
		r.Why = "the node's consistency proof does not link the checkpoints (not proof of a fork by itself)"
	}
	return r, nil
}
