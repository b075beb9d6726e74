package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
)

// observe is how every party reads the board before it signs or decrypts
// anything (SPEC.md §10.7): client.Follow over nodes[0]'s record (only
// the part after the party's saved state, StateFile, when it has one), with the
// newest checkpoints of every node compared, and the party's memory: the
// record MUST extend every checkpoint remembered. On success the newest
// checkpoint is remembered; on a fork the evidence is kept beside the
// memory and the error is an *EvidenceError. fp, if not zero, pins the
// election fingerprint (V4.6). The record may end before a newer
// checkpoint a node showed (a board that grows while it is read): see
// observeCurrent for a party that must act on the whole board.
func observe(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, mem *Memory, fp [32]byte) (*client.Verified, error) {
	return follow(ctx, rand, nodes, mem, fp, false)
}

// observeCurrent is observe for a party whose step depends on everything
// on the board (a trustee's complaint answers, the authority's QUAL, the
// aggregate): the verified record MUST also reach the newest checkpoint
// any node showed. A record behind it is read again, and after three
// tries is refused as a stale view (client.ErrStale): a node serving an
// old record beside its own newer checkpoint, or a lagging node.
func observeCurrent(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, mem *Memory) (*client.Verified, error) {
	return follow(ctx, rand, nodes, mem, [32]byte{}, true)
}

func follow(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, mem *Memory, fp [32]byte, current bool) (*client.Verified, error) {
	var others []client.Source
	for _, o := range nodes[1:] {
		others = append(others, o)
	}
	var s *client.Verified
	var err error
	for attempt := 0; ; attempt++ {
		// The board signs checkpoints a little after it commits entries: a
		// record whose newest entries no checkpoint covers yet fails V3.6.
		if err := WaitCheckpoint(ctx, nodes[0], 15*time.Second); err != nil {
			return nil, err
		}
		// The saved state is read as a stream from its file, never held
		// whole (770 MB at 1,000,000 voters).
		state, serr := mem.OpenState()
		if serr != nil {
			return nil, serr
		}
		opts := client.FollowOptions{Fingerprint: fp, Others: others, Rand: rand}
		if state != nil {
			opts.StateReader = state
		}
		s, err = client.Follow(ctx, nodes[0], opts)
		if state != nil {
			state.Close()
		}
		if s != nil && errors.Is(err, client.ErrNotVerified) && attempt < 2 {
			if step, _, _ := s.Report.FirstFailure(); step == client.StepV3 {
				continue
			}
		}
		if err == nil && current {
			if err = behind(s); err != nil && attempt < 2 {
				continue
			}
		}
		break
	}
	if err == nil && mem != nil {
		for _, k := range mem.Known(s.Fingerprint) {
			if err = s.Extends(ctx, k, nil); err != nil {
				break
			}
		}
	}
	if err != nil {
		return s, mem.keep(err)
	}
	if mem != nil {
		if err := mem.Remember(bulletin.BoardFor(s.Manifest), s.Fingerprint, s.Newest); err != nil {
			return s, err
		}
		if err := mem.SaveState(s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// behind fails with client.ErrStale when a node showed a checkpoint newer
// than the verified record's (Follow proved it consistent, so the record
// is an older state of the same board).
func behind(s *client.Verified) error {
	n, err := bulletin.BoardFor(s.Manifest).Open(s.Newest)
	if err != nil || n.Size <= s.Checkpoint.Size {
		return nil
	}
	return fmt.Errorf("%w: the record read ends at log size %d, but a node showed a checkpoint of size %d: the party acts only on the whole board", client.ErrStale, s.Checkpoint.Size, n.Size)
}

// keep writes the evidence of a *client.ForkError and returns an
// *EvidenceError naming the file; other errors are returned as they are.
func (m *Memory) keep(err error) error {
	var fe *client.ForkError
	if m == nil || !errors.As(err, &fe) {
		return err
	}
	path, kerr := m.KeepEvidence(fe.Evidence)
	if kerr != nil {
		return fmt.Errorf("%w (and keeping the evidence failed: %v)", err, kerr)
	}
	return &EvidenceError{Path: path, Err: fe}
}

// extendsKnown proves the signed checkpoint note consistent with every
// checkpoint remembered for the election, with c's consistency proofs
// (SPEC.md §10.7), for a party that does not hold the record (the voter's
// device before it encrypts). A contradiction is a *client.ForkError.
func extendsKnown(ctx context.Context, c *apiclient.Client, man *ballot.Manifest, m *Memory, note []byte) error {
	board, fp := bulletin.BoardFor(man), man.Fingerprint()
	nc, err := board.Open(note)
	if err != nil {
		return fmt.Errorf("roles: the node's checkpoint: %w", err)
	}
	for _, k := range m.Known(fp) {
		kc, err := board.Open(k)
		if err != nil {
			return fmt.Errorf("roles: the remembered checkpoint in %s: %w", m.path(), err)
		}
		older, newer, from, to := k, note, kc.Size, nc.Size
		if kc.Size > nc.Size {
			older, newer, from, to = note, k, nc.Size, kc.Size
		}
		var p *bulletin.ConsistencyProof
		if from < to {
			if p, err = c.Consistency(ctx, from, to); err != nil {
				return fmt.Errorf("roles: the consistency proof from log size %d to %d: %w", from, to, err)
			}
		}
		if err := board.CheckConsistency(older, newer, p); err != nil {
			var inc *bulletin.InconsistencyError
			if !errors.As(err, &inc) {
				return fmt.Errorf("roles: %w", err)
			}
			return &client.ForkError{Evidence: &client.Evidence{Manifest: man.Bytes(), Old: inc.Old, New: inc.New, Proof: inc.Proof, Reason: inc.Reason}}
		}
	}
	return nil
}

// verifiedBoard is the Board of the verified state's entries (no ballots).
func verifiedBoard(s *client.Verified) *Board {
	b := &Board{Manifest: s.Manifest, Fingerprint: s.Fingerprint}
	for _, e := range s.Entries {
		b.Entries = append(b.Entries, Entry{Seq: e.Seq, Entry: e.Entry})
	}
	return b
}

// refused wraps an error of observe for a party that will not act.
func refused(what string, err error) error {
	var ee *EvidenceError
	if errors.Is(err, client.ErrNotVerified) || errors.Is(err, client.ErrStale) || errors.As(err, &ee) {
		return fmt.Errorf("%w to %s: %w", ErrRefused, what, err)
	}
	return err
}

// Follow verifies the board as the party whose memory is mem would before
// acting (observe: only what the board added since its saved state), and
// saves the new state, without acting. A trustee or the authority that
// follows the board while voting runs keeps its check before decrypting or
// tallying to the last ballots (SPEC.md §10.7).
func Follow(ctx context.Context, rand io.Reader, mem *Memory, c *apiclient.Client, others ...*apiclient.Client) (*VerifyOutcome, error) {
	s, err := observe(ctx, rand, append([]*apiclient.Client{c}, others...), mem, [32]byte{})
	if s != nil && s.Report != nil {
		return outcomeOf(s), err
	}
	return nil, err
}
