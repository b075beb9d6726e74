package client

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
)

// KeyOptions configure VerifyElectionKey. The zero value is usable.
type KeyOptions struct {
	// Fingerprint, if not all zero, is the election fingerprint the voter
	// obtained out of band (SPEC.md V4.6): the manifest MUST have it.
	Fingerprint [32]byte
	// Checkpoint, if set, is a signed checkpoint note of the board. The
	// entries MUST then be the first entries of its log: Proof is the
	// board's consistency proof (RFC 9162 §2.1.4) from the tree of the
	// given entries to the checkpoint's tree, empty when the sizes are equal.
	Checkpoint []byte
	Proof      []tlog.Hash
}

// ElectionKey is the election key established from the board's own
// entries (SPEC.md §10.6), never from what a node says about them.
type ElectionKey struct {
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	// JointKey is K = Σ C_i0 over QUAL, recomputed from the key ceremony;
	// the open entry states exactly this key.
	JointKey *group.Element
	// Qualified is QUAL, recomputed and equal to the open entry's list.
	Qualified []int
	// OpenSeq is the sequence number of the open entry (the last entry given).
	OpenSeq uint64
	// Credentials is the credential list of the entries (V6), for the
	// voter's device to check its credential against.
	Credentials *ballot.CredentialList
	// Checkpoint is KeyOptions.Checkpoint, verified; nil without one.
	Checkpoint *bulletin.Checkpoint
}

// VerifyElectionKey establishes the election key a voter's device MUST
// encrypt under (SPEC.md §10.6). entries are the canonical board entries
// 0 … s, where s is the open entry: the caller fetches entries until the
// first one of type open and MUST NOT pass any entry after it.
//
// It runs VerifyElectionRecord's own per-entry steps over these entries, as VerifyElectionRecord runs
// them over a record's blocks: V1 (every entry decodes), V4 (entry 0 is a
// manifest signed by the authority it names; every entry carries its
// fingerprint; the fingerprint is KeyOptions.Fingerprint if given), V5
// (the election rules replayed from the empty board, every envelope
// signature), V6 (the credential list) and V7 (every dealer's proof of
// knowledge, complaints and reveals, QUAL, K = Σ C_i0 over QUAL, and the
// open entry stating exactly this QUAL and K). With a checkpoint it also
// runs V3: the note carries a quorum of signatures of the manifest's board
// nodes and its log extends the Merkle tree of the entries. V2 (blocks) and
// V8–V13 are reported as not run.
//
// The report is returned whenever the entries could be examined, with err
// == nil and the key if every step passed, or ErrFailed (and no key) if
// some step failed: the report says which step and entry. Any other error
// is the caller's: an entry after the open entry.
func VerifyElectionKey(entries [][]byte, opts KeyOptions) (*ElectionKey, *Report, error) {
	v := newVerifier(VerifyOptions{Fingerprint: opts.Fingerprint})
	v.keyOnly, v.keyCheckpoint = true, opts.Checkpoint != nil
	var open *bulletin.Entry
	for i, raw := range entries {
		if open != nil {
			return nil, nil, fmt.Errorf("client: entry %d follows the open entry %d: pass the entries up to open only", i, i-1)
		}
		e, err := bulletin.ParseEntry(raw)
		if err != nil {
			v.v1Failed = true
			v.failAt(StepV1, int64(i), "V1.3 entry", "%v", err)
			break
		}
		v.leaf(raw, e)
		if e.Type == bulletin.TypeOpen {
			open = e
		}
	}
	if !v.v1Failed && open == nil {
		v.failAt(StepV7, NoEntry, "V7.7 open", "the %d entries end before any open entry: the board has published no election key", len(entries))
	}
	var c *bulletin.Checkpoint
	if opts.Checkpoint != nil && !v.v1Failed && v.m != nil {
		c = v.prefixCheckpoint(opts.Checkpoint, opts.Proof)
	}
	v.finish()
	if !v.rep.OK() || open == nil || v.joint == nil {
		return nil, v.rep, ErrFailed
	}
	ob, err := bulletin.ParseOpenBody(open.Body)
	if err != nil || !ob.JointKey.Equal(v.joint) { // cannot happen: V7.7 passed
		return nil, v.rep, ErrFailed
	}
	k := &ElectionKey{Manifest: v.m, Fingerprint: v.rep.Fingerprint, JointKey: ob.JointKey,
		OpenSeq: uint64(len(entries) - 1), Credentials: v.creds, Checkpoint: c}
	for _, q := range ob.Qualified {
		k.Qualified = append(k.Qualified, int(q))
	}
	return k, v.rep, nil
}

// prefixCheckpoint runs V3 for VerifyElectionKey: the note is signed by a
// quorum of the manifest's board nodes (V3.1–V3.4) and its log begins with
// exactly the entries seen (V3.5, by the consistency proof from their
// recomputed Merkle root to the checkpoint's root).
func (v *verifier) prefixCheckpoint(note []byte, proof []tlog.Hash) *bulletin.Checkpoint {
	v.checked(StepV3)
	c, err := boardOf(v.m).Open(note)
	if err != nil {
		v.failAt(StepV3, NoEntry, "V3.1–V3.4 checkpoint", "%v", err)
		return nil
	}
	v.rep.Checkpoints++
	size := v.log.Size()
	root, err := v.log.Root(size)
	if err != nil {
		v.failAt(StepV3, NoEntry, "V3.5 log_root", "%v", err)
		return nil
	}
	switch {
	case c.Size < size:
		v.failAt(StepV3, NoEntry, "V3.5 checkpoint size", "checkpoint of size %d does not cover the %d entries up to open", c.Size, size)
		return nil
	case c.Size == size && (root != c.Root || len(proof) != 0):
		v.failAt(StepV3, NoEntry, "V3.5 checkpoint root", "checkpoint root for size %d is not the Merkle root of the entries", size)
		return nil
	case c.Size > size:
		p := &bulletin.ConsistencyProof{OldSize: size, NewSize: c.Size, Hashes: proof}
		if p.Check(root, c.Root) != nil {
			v.failAt(StepV3, NoEntry, "V3.5 consistency", "the entries are not the first %d entries of the checkpoint's log of size %d (consistency proof fails)", size, c.Size)
			return nil
		}
	}
	return c
}
