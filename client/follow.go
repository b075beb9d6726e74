package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/tally"
)

// Errors of Follow. A *ForkError carries the evidence of a board that
// showed two histories.
var (
	// ErrNotVerified: the board's record fails a V-step; the party MUST
	// NOT act on it (SPEC.md §10.7).
	ErrNotVerified = errors.New("client: the board's record does not verify")
	// ErrStale: the node shows an older board than a checkpoint the party
	// already saw, and cannot prove it extends it: a lagging or rolled-back
	// node. Ask another node.
	ErrStale = errors.New("client: the node shows an older board than the party already saw")
)

// Source is a board as a party reads it: one node's election record and
// its newest signed checkpoint, and the consistency proofs between its
// checkpoints. internal/apiclient satisfies it over HTTP; package client
// itself does no I/O. Nothing a Source returns is trusted.
type Source interface {
	// Record returns the complete election record (SPEC.md §3.11).
	Record(ctx context.Context) (io.ReadCloser, error)
	// CheckpointNote returns the newest signed checkpoint note.
	CheckpointNote(ctx context.Context) ([]byte, error)
	// Consistency returns the consistency proof from size from to size to.
	Consistency(ctx context.Context, from, to uint64) (*bulletin.ConsistencyProof, error)
}

// FollowOptions configure Follow and FollowRecord.
type FollowOptions struct {
	// Fingerprint, if not all zero, is the election fingerprint the party
	// pinned (V4.6): the record's manifest MUST have it.
	Fingerprint [32]byte
	// Known are signed checkpoint notes of this election the party saw
	// before (its state, receipts' checkpoints): the record MUST extend
	// every one of them (V3.8).
	Known [][]byte
	// Others are further nodes whose newest checkpoints MUST be consistent
	// with the record (SPEC.md §10.7: ask more than one node).
	Others []Source
	// State, if set, is a state saved by Verified.MarshalState after an
	// earlier Follow of this election: Follow then verifies only the
	// entries after it when the source can serve them (SuffixSource), and
	// the whole record when the state is unusable (ErrState). The result
	// is the same as verifying the whole record with the state's
	// checkpoint among Known (state.go).
	State []byte
	// StateReader, if set, is the saved state as a file (or any
	// io.ReadSeeker), used as State is: Follow reads it as a stream, twice
	// (its checksum, then its contents), and never holds it whole. A
	// state is as large as the board's sets (770 MB at 1,000,000 voters).
	// State, if also set, wins.
	StateReader io.ReadSeeker
	// Rand supplies batch-verification weights; crypto/rand.Reader if nil.
	Rand io.Reader
	// ChunkSize, Progress and TotalEntries are VerifyOptions'.
	ChunkSize    int
	Progress     func(step string, done, total int)
	TotalEntries int
	// Lean: the caller will neither save the verified state (MarshalState)
	// nor prove an earlier checkpoint against the record (Extends of a
	// checkpoint smaller than the record): FollowRecord then keeps neither
	// the state's log of the rules' effects nor every hash of the Merkle
	// log, about 500 bytes a ballot (`urna verify` of a file or URL with
	// no checkpoint or receipt seen before). Follow with State ignores it.
	Lean bool
}

// Verified is the board state a party may act on: everything in it was
// recomputed from a record that passed V1–V13 as far as it reaches, and
// that a quorum checkpoint covers (SPEC.md §10.7).
type Verified struct {
	Report      *Report
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	// Note is the signed checkpoint covering the whole record (V3.6), and
	// Checkpoint its decoded form.
	Note       []byte
	Checkpoint *bulletin.Checkpoint
	// Newest is the newest signed checkpoint seen (the record's, a node's
	// or a known one), consistent with the record: the one to remember.
	Newest []byte
	// Credentials is the number N of registered credentials (V6.3).
	Credentials int
	// JointKey is the election key recomputed by V7 (nil before open);
	// VerificationKeys are X_j for j = 1..N (V7.8).
	JointKey         *group.Element
	VerificationKeys []*group.Element
	// Closed reports that the close entry is in the record: Aggregate is
	// then final (V11), Counted the number of counted ballots and
	// MaxCount the sum of their credentials' weights, maxCount (V10.6).
	Closed    bool
	Aggregate [][]*ballot.Ciphertext
	Counted   int
	MaxCount  uint64
	// Partials are the valid partial decryptions (V12.4), by trustee.
	Partials map[int]*tally.PartialDecryption
	// Result is the verified result (V13), nil before it.
	Result *tally.Result
	// Mixed are the verified outcomes of the ranked, score and write-in
	// questions (V16, SPEC.md §11.8), in question order; nil before the
	// result or when V14–V16 failed.
	Mixed []*MixedOutcome
	// Cascades are the mixed questions' cascades once the election is
	// closed (V14, V15), in question order; nil before or without mixed
	// questions.
	Cascades []*MixCascade

	// Entries are the record's entries other than cast and audited
	// ballots (manifest, credentials, key ceremony, open, close, partial
	// decryptions, result), in order.
	Entries []SeqEntry
	// Invalid are the trustees whose partial decryption failed V12.
	Invalid []int

	// StateUnused, when FollowOptions.State or StateReader was given, says why it was not
	// used (ErrState, a node that did not serve or frame the blocks after
	// it, a proof that does not link the node's checkpoint to it): the
	// whole record was verified instead, with the same verdict. Nil when
	// the state was used or none was given.
	StateUnused error

	log bulletin.MemoryLog
	v   *verifier // what MarshalState saves
}

// SeqEntry is a verified board entry and its sequence number.
type SeqEntry struct {
	Seq   uint64
	Entry *bulletin.Entry
}

// CountedSeq returns the sequence number of the ballot that counts for the
// credential cred (V10), and false if none does.
func (s *Verified) CountedSeq(cred [32]byte) (uint64, bool) {
	if s.v == nil {
		return 0, false
	}
	c, ok := s.v.lastOf(cred)
	return uint64(c.seq), ok
}

// Follow is the one way every party reads the board (SPEC.md §10.7): it
// downloads src's election record, verifies it with the steps of
// VerifyElectionRecord, finds the quorum checkpoint covering it (V3.6), proves
// it consistent with every checkpoint the party saw before (opts.Known)
// and with the newest checkpoint of src and of every other source, and
// returns the verified state.
//
// It fails with ErrNotVerified (and the state, for its Report) when a step
// fails, ErrStale when a node shows an older board than a known checkpoint
// without proving it extends it, and a *ForkError carrying self-contained
// Evidence when two quorum-signed checkpoints contradict each other.
func Follow(ctx context.Context, src Source, opts FollowOptions) (*Verified, error) {
	s, err := followFrom(ctx, src, opts)
	if err != nil {
		return s, err
	}
	for _, o := range append([]Source{src}, opts.Others...) {
		note, err := o.CheckpointNote(ctx)
		if err != nil {
			return s, fmt.Errorf("client: fetching a node's checkpoint: %w", err)
		}
		if err := s.Extends(ctx, note, o); err != nil {
			return s, err
		}
	}
	return s, nil
}

// followFrom verifies src's record: only the blocks after opts.State when
// src can serve them (state.go), the whole record otherwise.
func followFrom(ctx context.Context, src Source, opts FollowOptions) (*Verified, error) {
	var unused error
	if ss, ok := src.(SuffixSource); ok && opts.hasState() {
		s, err := resume(ctx, ss, opts)
		unused = err
		var rw *rewriteError
		var fe *ForkError
		switch {
		case err == nil, errors.As(err, &fe), errors.Is(err, errBehindSaved):
			return s, err
		case errors.As(err, &rw):
			// The node's proof does not link its checkpoint to the saved
			// one. Its whole record decides: the record's own tree either
			// extends the saved checkpoint (the proof alone was wrong) or
			// yields evidence of the fork that E3 proves by itself.
			opts.Known = append(slices.Clone(opts.Known), rw.saved)
		}
		// Otherwise (an unusable state, a node that cannot serve or
		// frame the new blocks, new entries that fail a step) the whole
		// record decides, exactly as without a state: a node that
		// withholds its pages costs the party time, never a verdict.
	}
	if opts.hasState() && unused == nil {
		unused = errors.New("client: the node serves no part of its record (not a SuffixSource)")
	}
	rc, err := src.Record(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: fetching the election record: %w", err)
	}
	defer rc.Close()
	s, err := followRecord(rc, opts)
	if s != nil {
		s.StateUnused = unused
	}
	return s, err
}

// FollowRecord is Follow over a record already at hand (e.g. a file given
// to `urna verify`), with opts.Others ignored: it verifies the record and
// proves it consistent with opts.Known (V3.8).
func FollowRecord(r io.Reader, opts FollowOptions) (*Verified, error) {
	return followRecord(r, opts)
}

func (o *FollowOptions) hasState() bool { return o.State != nil || o.StateReader != nil }

// stateReader returns the saved state to restore.
func (o *FollowOptions) stateReader() io.ReadSeeker {
	if o.State != nil {
		return bytes.NewReader(o.State)
	}
	return o.StateReader
}

func (o *FollowOptions) verifyOptions() VerifyOptions {
	return VerifyOptions{Fingerprint: o.Fingerprint, Rand: o.Rand, ChunkSize: o.ChunkSize,
		Progress: o.Progress, TotalEntries: o.TotalEntries}
}

func followRecord(r io.Reader, opts FollowOptions) (*Verified, error) {
	v := newVerifier(opts.verifyOptions())
	if opts.Lean {
		v.front = &frontier{}
	} else {
		v.saved = newStateLog()
	}
	return v.follow(r, nil, nil, opts)
}

// errBehindSaved: the node's newest checkpoint is older than the saved
// state's (and consistent with it).
var errBehindSaved = fmt.Errorf("%w (behind the saved state)", ErrStale)

// rewriteError: a node's checkpoint does not extend the saved state's
// according to the node's own consistency proof.
type rewriteError struct {
	saved []byte
	err   error
}

func (e *rewriteError) Error() string { return e.err.Error() }

// resume restores opts.State and verifies only what src's newest
// checkpoint adds to it (state.go).
func resume(ctx context.Context, src SuffixSource, opts FollowOptions) (*Verified, error) {
	v, saved, kept, err := restore(opts.stateReader(), opts.verifyOptions())
	if err != nil {
		return nil, err
	}
	board := boardOf(v.m)
	note, err := src.CheckpointNote(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: fetching a node's checkpoint: %w", err)
	}
	c, err := board.Open(note)
	if err != nil {
		return nil, fmt.Errorf("client: the node's checkpoint of election %q: %w", v.m.ElectionID, err)
	}
	size := v.log.Size()
	switch {
	case c.Size < size:
		// A lagging or rolled-back node: prove its checkpoint against the
		// party's own tree (a fork is proven evidence), then refuse it.
		s, err := v.follow(nil, kept, [][]byte{saved}, opts)
		if err != nil {
			return s, err
		}
		if err := s.Extends(ctx, note, nil); err != nil {
			return s, err
		}
		return s, fmt.Errorf("%w: the node's newest checkpoint has log size %d, the party verified %d", errBehindSaved, c.Size, size)
	case c.Size == size:
		return v.follow(nil, kept, [][]byte{saved}, opts)
	}
	p, err := src.Consistency(ctx, size, c.Size)
	if err != nil {
		return nil, fmt.Errorf("client: the consistency proof from log size %d to %d: %w", size, c.Size, err)
	}
	if err := board.CheckConsistency(saved, note, p); err != nil {
		var inc *bulletin.InconsistencyError
		if errors.As(err, &inc) {
			return nil, &rewriteError{saved: saved, err: err}
		}
		return nil, fmt.Errorf("client: %w", err)
	}
	rc, err := src.RecordSince(ctx, v.prev.Height+1, c.Size, note)
	if err != nil {
		return nil, fmt.Errorf("client: fetching the record after log size %d: %w", size, err)
	}
	defer rc.Close()
	return v.follow(rc, kept, nil, opts)
}

// follow runs v over r (a whole record, or the blocks after the state v
// was restored from, whose non-ballot entries are kept) and returns the
// verified state. r nil: nothing to read, notes are the checkpoints.
func (v *verifier) follow(r io.Reader, kept []SeqEntry, notes [][]byte, opts FollowOptions) (*Verified, error) {
	kept = slices.Clone(kept)
	if r != nil {
		var err error
		notes, err = v.runKeepingCheckpoints(r, func(seq uint64, e *bulletin.Entry) {
			if e.Type != bulletin.TypeBallot && e.Type != bulletin.TypeAuditedBallot && e.Type != bulletin.TypeAudit {
				kept = append(kept, SeqEntry{seq, e})
			}
		})
		if err != nil {
			v.finish()
			return nil, err
		}
	}
	v.finish()
	s := &Verified{Report: v.rep, Manifest: v.m, Fingerprint: v.rep.Fingerprint, Entries: kept, log: v.log, v: v}
	if v.electorate != nil {
		s.Credentials = v.electorate.Len()
		v.rep.Credentials, v.rep.Weight = s.Credentials, v.electorate.TotalWeight() // V6.3
		v.rep.MaxCount = v.counter.MaxCount()
	}
	if v.rep.Counts != nil && v.result != nil {
		d := v.result.Digest(v.rep.Fingerprint) // V13.5
		v.rep.ResultDigest = &d
	}
	if step, f, bad := v.rep.FirstFailure(); bad && (len(v.rep.Step(step).Failures) > 0 || v.v1Failed) {
		return s, fmt.Errorf("%w: %s (%s): %s", ErrNotVerified, step, step.Title(), f)
	}
	if v.m == nil {
		return s, fmt.Errorf("%w: the record holds no manifest", ErrNotVerified)
	}
	board := boardOf(v.m)
	for _, n := range notes {
		if c, err := board.Open(n); err == nil && c.Size == v.logSize() {
			s.Note, s.Checkpoint, s.Newest = n, c, n
			break
		}
	}
	if s.Checkpoint == nil { // V3.6 passed, so this cannot happen
		return s, fmt.Errorf("%w: no quorum checkpoint covers the record", ErrNotVerified)
	}
	s.JointKey, s.VerificationKeys = v.joint, v.vk
	s.Closed, s.Counted, s.MaxCount = v.aggDone, v.counter.Counted(), v.counter.MaxCount()
	if v.aggDone {
		s.Aggregate = v.agg
	}
	s.Partials = map[int]*tally.PartialDecryption{}
	for j, pd := range v.partials {
		if v.validPD[j] {
			s.Partials[j] = pd
		} else {
			s.Invalid = append(s.Invalid, j)
		}
	}
	slices.Sort(s.Invalid)
	if v.rep.Counts != nil {
		s.Result = v.result
		s.Mixed = v.mixedOutcomes()
	}
	s.Cascades = v.cascades()
	for _, k := range opts.Known {
		if err := s.Extends(context.Background(), k, nil); err != nil {
			return s, err
		}
	}
	return s, nil
}

// runKeepingCheckpoints is run, returning the record's checkpoint notes.
// keep is called with every entry of the record.
func (v *verifier) runKeepingCheckpoints(r io.Reader, keep func(uint64, *bulletin.Entry)) ([][]byte, error) {
	v.keep = keep
	if err := v.run(r); err != nil {
		return nil, err
	}
	return v.notes, nil
}

// Extends proves the signed checkpoint note consistent with the verified
// record (V3.8), and fails like Follow otherwise. A note no larger than the record is checked against the record's
// own Merkle tree, so any contradiction yields strong evidence; a larger
// one needs src's consistency proof (src nil: a known note the record
// does not reach, ErrStale).
func (s *Verified) Extends(ctx context.Context, note []byte, src Source) error {
	board := boardOf(s.Manifest)
	c, err := board.Open(note)
	if err != nil {
		return fmt.Errorf("client: a checkpoint of election %q: %w", s.Manifest.ElectionID, err)
	}
	size := s.log.Size()
	if s.v != nil && s.v.front != nil {
		size = s.v.front.Size()
		if c.Size < size {
			return fmt.Errorf("client: a checkpoint of log size %d, before the record's end (%d): FollowOptions.Lean keeps no proof of it", c.Size, size)
		}
	}
	if c.Size <= size {
		root, err := s.v.logRootAt(c.Size, &s.log)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		var p *bulletin.ConsistencyProof
		if c.Size < size {
			if p, err = bulletin.ProveConsistency(c.Size, size, &s.log); err != nil {
				return fmt.Errorf("client: %w", err)
			}
		}
		if err := board.CheckConsistency(note, s.Note, p); err != nil {
			r32 := [32]byte(root)
			return s.fork(err, &r32)
		}
		return nil
	}
	if src == nil {
		return fmt.Errorf("%w: the record ends at log size %d, a checkpoint the party saw has size %d", ErrStale, size, c.Size)
	}
	p, err := src.Consistency(ctx, size, c.Size)
	if err != nil {
		return fmt.Errorf("client: the consistency proof from log size %d to %d: %w", size, c.Size, err)
	}
	if err := board.CheckConsistency(s.Note, note, p); err != nil {
		return s.fork(err, nil)
	}
	s.Newest = note
	return nil
}

// fork turns an *bulletin.InconsistencyError into a *ForkError with the
// evidence; oldRoot, when known, is the root the record's own tree has at
// the smaller checkpoint's size.
func (s *Verified) fork(err error, oldRoot *[32]byte) error {
	var inc *bulletin.InconsistencyError
	if !errors.As(err, &inc) {
		return fmt.Errorf("client: %w", err)
	}
	ev := &Evidence{Manifest: s.Manifest.Bytes(), Old: inc.Old, New: inc.New, Proof: inc.Proof, Reason: inc.Reason}
	if oldRoot != nil {
		r := *oldRoot
		ev.ImpliedOldRoot = &r
	}
	return &ForkError{Evidence: ev}
}
