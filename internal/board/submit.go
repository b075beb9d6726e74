package board

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// Submitter is the submit pipeline of the leader: it decodes posted
// entries, runs the expensive checks on them (batched, bounded by the
// number of CPUs), proposes the valid ones and waits for their commit.
type Submitter struct {
	cfg *Config
	st  store.Store
	src stateSource
	rep *replicaRef
	// checks bounds concurrent pre-checks to the number of CPUs, so that
	// proof verification under load cannot starve Raft's heartbeats, and
	// hands them out in turn across elections (slots.go).
	checks *slots
	// tally caches the closed election's aggregate for pre-checks.
	tally tallyCache
	mix   mixCache // the mixed questions' cascade tips for pre-checks
	// route is the election id the posts are addressed to (Board.Scope),
	// "" for the default election (SPEC.md §3.14.6).
	route string
	// shares divides the node's pipeline between elections (§3.14.5.1).
	shares *shares
	// fsm is the whole board, for the caps on it (§3.14.5.5).
	fsm *FSM
}

func newSubmitter(cfg *Config, st store.Store, src stateSource, rep *replicaRef) *Submitter {
	return &Submitter{cfg: cfg, st: st, src: src, rep: rep, checks: newSlots(runtime.GOMAXPROCS(0))}
}

// Posted is the outcome of one submitted entry: where it was committed,
// or Err, its rejection (a bulletin rule sentinel, wrapped).
type Posted struct {
	Seq     uint64
	ID      [32]byte // the entry id (set even when rejected)
	Block   uint64   // height of the block holding the entry
	Tracker []byte   // a ballot's or audited ballot's tracker, else nil
	Err     error
}

// Submit decodes the canonical entries, pre-checks them (batched), proposes
// the valid ones (one command each, in as few Raft entries as carry them,
// Replica.FitEntry, one after the other) and waits for the commit. It
// returns one Posted per entry, in order. On a follower it fails with a
// *replica.NotLeaderError.
func (s *Submitter) Submit(ctx context.Context, entries [][]byte) ([]Posted, error) {
	r, err := s.rep.get()
	if err != nil {
		return nil, err
	}
	if !r.IsLeader() {
		id, api := r.Leader()
		return nil, &replica.NotLeaderError{LeaderID: id, LeaderAPI: api}
	}
	out := make([]Posted, len(entries))
	parsed := make([]*bulletin.Entry, 0, len(entries))
	pos := make([]int, 0, len(entries))
	for i, raw := range entries {
		// The parsed entries live until Submit returns, and raw with them.
		e, err := bulletin.ParseEntryShared(raw)
		if err != nil {
			out[i].Err = fmt.Errorf("entry %d: %w", i, err)
			continue
		}
		parsed = append(parsed, e)
		pos = append(pos, i)
	}
	v := s.src.current()
	for k, e := range parsed {
		if err := s.checkRoute(ctx, v, e); err != nil {
			out[pos[k]].Err = fmt.Errorf("entry %d: %w", pos[k], err)
			parsed[k] = nil
		}
	}
	parsed, pos = dropNil(parsed, pos)
	if v.manifest != nil && v.entries+uint64(len(parsed)) > s.cfg.MaxElectionEntries {
		return nil, fmt.Errorf("%w: election %q holds %d entries, and this node lets an election hold %d", ErrQuota,
			v.manifest.m.ElectionID, v.entries, s.cfg.MaxElectionEntries)
	}
	if v.manifest != nil {
		n := uint64(0)
		for _, i := range pos {
			n += uint64(len(entries[i]))
		}
		if v.bytes+n > s.cfg.MaxElectionBytes {
			return nil, fmt.Errorf("%w: election %q holds %d bytes of entries, and this node lets an election hold %d; the post has %d more",
				ErrQuota, v.manifest.m.ElectionID, v.bytes, s.cfg.MaxElectionBytes, n)
		}
	}
	key := s.route
	if key == "" && v.manifest != nil {
		key = v.manifest.m.ElectionID
	}
	if v.manifest != nil { // buckets only for elections that exist
		if err := s.shares.take(key, len(parsed), s.cfg.Now()); err != nil {
			return nil, err
		}
	}
	release, err := s.shares.acquire(key, len(parsed))
	if err != nil {
		return nil, err
	}
	defer release()
	// Proof checks use every core; a request that cannot start its
	// checks within MaxCheckWait is refused as overload (503 with
	// Retry-After) instead of queueing until its own timeout.
	if err := s.checks.acquire(ctx, key, s.cfg.MaxCheckWait); err != nil {
		return nil, err
	}
	// The time stamped into the commands never goes back, even on a
	// leader whose clock is behind its predecessor's (SPEC.md §3.6); the
	// FSM takes the latest stamp anyway.
	now := uint64(max(s.cfg.Now().UnixMilli(), 0))
	if v.last != nil {
		now = max(now, v.last.Time)
	}
	// A voting entry outside the manifest's window at this stamp is
	// refused before its proofs are checked (SPEC.md §3.9.1): after
	// closes_at the rules would refuse it in any block, and before
	// opens_at this node's clock says it is early.
	var errs []error
	if w := v.rules.Window(); w.Scheduled() {
		var inside []*bulletin.Entry
		var at []int
		for k, e := range parsed {
			if err := bulletin.CheckWindow(w, e.Type, now); err != nil {
				out[pos[k]].Err = fmt.Errorf("entry %d: %w", pos[k], err)
				continue
			}
			inside, at = append(inside, e), append(at, pos[k])
		}
		parsed, pos = inside, at
	}
	errs = s.preCheck(v, parsed)
	s.checks.release()
	cmds := make([]replica.Command, 0, len(parsed))
	var cmdPos []int
	var cmdEntries []*bulletin.Entry
	// The heads share one allocation, made to size: appends never move it.
	heads := make([]byte, 0, entryCmdHeadLen*len(parsed))
	for k, e := range parsed {
		i := pos[k]
		if errs[k] != nil {
			out[i].Err = fmt.Errorf("entry %d: %w", i, errs[k])
			continue
		}
		at := len(heads)
		heads = appendEntryCmdHead(heads, now, len(entries[i]))
		cmds = append(cmds, replica.Command{Head: heads[at:len(heads):len(heads)], Body: entries[i]})
		cmdPos, cmdEntries = append(cmdPos, i), append(cmdEntries, e)
	}
	// The IDs (and trackers) of the accepted entries come with the
	// FSM's results (acceptedValue); every other post's ID is hashed here.
	hasID := make([]bool, len(entries))
	var committed []int
	for len(cmds) > 0 {
		n := r.FitEntry(cmds)
		res, err := r.SubmitCommands(ctx, cmds[:n])
		if err != nil {
			return nil, err
		}
		for k, rr := range res {
			i, e := cmdPos[k], cmdEntries[k]
			if rr.Err == nil {
				id, tr, ok := postedValue(rr.Value)
				if !ok {
					id, tr = bulletin.EntryID(entries[i]), trackerOf(e)
				} else if tr == nil {
					tr = trackerOf(e) // an audit names a tracker the rules do not burn
				}
				out[i].Seq, out[i].ID, out[i].Tracker, hasID[i] = rr.Seq, id, tr, true
				committed = append(committed, i)
				continue
			}
			out[i].ID, hasID[i] = bulletin.EntryID(entries[i]), true
			if seq, ok := s.alreadyPosted(ctx, rr.Err, out[i].ID); ok {
				out[i].Seq, out[i].Tracker = seq, trackerOf(e)
				committed = append(committed, i)
				continue
			}
			out[i].Err = fmt.Errorf("entry %d: %w", i, rr.Err)
		}
		cmds, cmdPos, cmdEntries = cmds[n:], cmdPos[n:], cmdEntries[n:]
	}
	for i := range out {
		if !hasID[i] {
			out[i].ID = bulletin.EntryID(entries[i])
		}
	}
	if err := s.locate(ctx, out, committed); err != nil {
		return nil, err
	}
	return out, nil
}

// checkRoute refuses an entry that does not belong to the election the
// post is addressed to (SPEC.md §3.14.6): the route is the
// client's statement, which the node checks; where the entry goes is its
// own election field's business (§3.14.1.3). Once the election exists its
// fingerprint decides; before, only its manifest belongs to it: on a new
// id, a manifest naming that id; on the default route, a manifest on an
// empty board (the board's first election).
func (s *Submitter) checkRoute(ctx context.Context, v *state, e *bulletin.Entry) error {
	if v.archived > 0 && e.Election == v.manifest.fingerprint {
		return fmt.Errorf("%w: election %q", ErrArchived, v.manifest.m.ElectionID)
	}
	if v.manifest != nil {
		if e.Election != v.manifest.fingerprint {
			return fmt.Errorf("%w: the entry names election %x, the route election %q", bulletin.ErrWrongElection, e.Election[:8], v.manifest.m.ElectionID)
		}
		return nil
	}
	if e.Type != bulletin.TypeManifest {
		return nil // the rules decide, as on a one-election board
	}
	m, err := ballot.ParseManifest(e.Body)
	if err != nil {
		return fmt.Errorf("%w: manifest: %v", bulletin.ErrMalformed, err)
	}
	if s.route != "" && m.ElectionID != s.route {
		return fmt.Errorf("%w: the manifest is election %q, the route election %q", bulletin.ErrWrongElection, m.ElectionID, s.route)
	}
	return s.admitElection(ctx, m)
}

// admitElection is the node's admission of a manifest that creates an
// election, on an election route or, on an empty board, the default one
// (SPEC.md §3.14.2): its
// authority is one of Config.Creators (when the operator lists any), and a
// manifest that names this node names it with this node's key (else the
// node could never sign the new election's checkpoints). Neither is a
// rule: a node that skipped them could only create an election its
// operator did not want, or one that never gets a quorum checkpoint. Nor
// is the board version (SPEC.md §3.14.8), which the node checks first.
func (s *Submitter) admitElection(ctx context.Context, m *ballot.Manifest) error {
	if err := s.checkVersionFor(ctx, s.cfg.VersionWait); err != nil {
		return err
	}
	active := 0
	for _, v := range s.fsm.board().elections {
		if v.archived == 0 {
			active++
		}
	}
	if active >= s.cfg.MaxActiveElections {
		return fmt.Errorf("%w: the board holds %d elections not archived, this node's cap; archive one first", ErrQuota, active)
	}
	if len(s.cfg.Creators) > 0 {
		ak := [32]byte(m.Authority.Bytes())
		if !slices.Contains(s.cfg.Creators, ak) {
			return fmt.Errorf("%w: this board's operator lets only its listed authorities create elections, and %x is not one", bulletin.ErrNotAuthorized, ak[:8])
		}
	}
	if s.cfg.Key == nil {
		return nil
	}
	pub := s.cfg.Key.Public().(ed25519.PublicKey)
	for _, n := range m.BoardNodes {
		if n.ID == s.cfg.NodeID {
			if !bytes.Equal(n.Key, pub) {
				return fmt.Errorf("%w: the manifest names board node %q with another key than this node's", bulletin.ErrInvalidBody, n.ID)
			}
			return nil
		}
	}
	return nil
}

// dropNil removes the nil entries of parsed and their positions.
func dropNil(parsed []*bulletin.Entry, pos []int) ([]*bulletin.Entry, []int) {
	var p2 []*bulletin.Entry
	var pos2 []int
	for k, e := range parsed {
		if e != nil {
			p2, pos2 = append(p2, e), append(pos2, pos[k])
		}
	}
	return p2, pos2
}

// trackerOf returns the tracker of a ballot or audited ballot (the one the
// rules index), else nil. The pre-check decoded the body strictly.
func trackerOf(e *bulletin.Entry) []byte {
	var f *bulletin.BallotFacts
	var err error
	switch e.Type {
	case bulletin.TypeBallot:
		f, err = peekBallot(e.Body)
	case bulletin.TypeAuditedBallot:
		f, err = bulletin.StandardBodies{}.AuditedBallot(e.Body)
	case bulletin.TypeAudit:
		a, aerr := bulletin.StandardBodies{}.Audit(e.Body)
		if aerr != nil {
			return nil
		}
		return a.Tracker[:]
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return f.Tracker[:]
}

// alreadyPosted reports the position of an entry whose very bytes the
// rules refused as a duplicate: posting an entry is idempotent (docs/API.md).
// A post whose answer was lost (a leader that lost leadership after the
// commit, a forwarder that retried with the new leader, a client that
// resent after a timeout) is thereby answered with the position its first
// attempt took, as a transparency log answers a resubmitted leaf, instead
// of a "duplicate" that would read as a failed vote. Other duplicates (a
// second deal of a trustee, a tracker taken by another ballot) are
// different bytes and stay refused.
func (s *Submitter) alreadyPosted(ctx context.Context, err error, id [32]byte) (uint64, bool) {
	if !errors.Is(err, bulletin.ErrDuplicate) {
		return 0, false
	}
	var seq uint64
	found := false
	_ = s.st.View(ctx, func(tx store.ReadTx) error {
		v, err := tx.Get(store.NSEntryHash, id[:])
		if err == nil && len(v) == 8 {
			seq, found = binary.BigEndian.Uint64(v), true
		}
		return nil
	})
	return seq, found
}

// locate fills the block heights of the committed entries out[i], i in
// committed (in increasing seq order), from one read of the block headers.
func (s *Submitter) locate(ctx context.Context, out []Posted, committed []int) error {
	if len(committed) == 0 {
		return nil
	}
	v := s.src.current()
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		blk, err := findBlock(tx, v.blocks, out[committed[0]].Seq)
		if err != nil {
			return err
		}
		for _, i := range committed {
			for out[i].Seq >= blk.LogSize {
				if blk, err = readBlock(tx, blk.Height+1); err != nil {
					return err
				}
			}
			out[i].Block = blk.Height
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("board: locating committed entries: %w", err)
	}
	return nil
}

// preCheck runs the expensive checks of SPEC.md §3.9.1 on entries before
// they are proposed: envelope signatures in one batch and every body proof
// through bulletin.StandardProofs — cast ballots in one ballot.VerifyBatch,
// audited ballots' openings, dealers' proofs of knowledge, reveals against
// the dealer's commitments, and partial decryptions against the aggregate of
// the counted ballots. The board therefore never proposes an entry whose
// proofs fail, and its rules' view of the key ceremony (a complaint answered
// by a reveal) agrees with V7's.
func (s *Submitter) preCheck(v *state, entries []*bulletin.Entry) []error {
	if s.cfg.SkipChecks {
		return make([]error, len(entries))
	}
	st := v.rules
	var pc bulletin.ProofChecker
	if v.manifest != nil {
		sp := &bulletin.StandardProofs{
			Manifest:   v.manifest.m,
			DealerPost: s.dealerPost,
		}
		if st.Phase >= bulletin.PhaseOpen {
			if k, err := group.DecodeNonIdentity(st.JointKey[:]); err == nil {
				sp.JointKey = k
			}
		}
		if st.Phase >= bulletin.PhaseClosed {
			sp.Tally = func() ([][]*ballot.Ciphertext, []*group.Element, error) { return s.tallyInputs(v) }
			sp.MixRows = func(q int) ([]shuffle.Row, error) { return s.mixRows(v, q) }
		}
		pc = sp
	}
	var errs []error
	if sp, ok := pc.(*bulletin.StandardProofs); ok && sp.JointKey != nil {
		errs = preCheckBallots(v, sp, entries)
	} else {
		errs = bulletin.PreCheck(rand.Reader, st, entries, pc)
	}
	for k, e := range entries {
		if errs[k] == nil && e.Type == bulletin.TypeResult && v.manifest != nil {
			errs[k] = s.checkResult(v, e)
		}
		if errs[k] == nil && (e.Type == bulletin.TypeCredentials || e.Type == bulletin.TypeLateCredentials) {
			// The strict decoding of the list (canonical, non-identity
			// elements, SPEC.md V6.2), which Apply leaves out
			// (applyBodies.Credentials): the error is the rules' own.
			_, errs[k] = bulletin.StandardBodies{}.Credentials(e.Type, e.Body)
		}
	}
	return errs
}

// preCheckBallots is preCheck once the election is open: the cast ballots
// whose header is in order are checked in one ballot.VerifyBatch with their
// envelope signatures folded into the same multi-scalar multiplication (the
// client's verifier does the same, client/pipeline.go); every other entry,
// and a ballot whose body does not parse, goes through bulletin.PreCheck.
// The errors are those bulletin.PreCheck would return: a ballot that fails
// the joint batch (found by bisection) is checked again alone, and its
// signature decides between ErrInvalidSignature (checked first, as
// PreCheck does) and ErrInvalidProof.
func preCheckBallots(v *state, sp *bulletin.StandardProofs, entries []*bulletin.Entry) []error {
	st := v.rules
	errs := make([]error, len(entries))
	var rest, cast []*bulletin.Entry
	var restPos, castPos []int
	var ballots []*ballot.Ballot
	for i, e := range entries {
		if e != nil && e.Type == bulletin.TypeBallot && e.Sig != nil && e.Election == st.Election && e.Role == e.Type.Role() {
			if b, err := ballot.ParseBallot(e.Body); err == nil {
				cast, castPos, ballots = append(cast, e), append(castPos, i), append(ballots, b)
				continue
			}
		}
		rest, restPos = append(rest, e), append(restPos, i)
	}
	if len(rest) > 0 {
		for k, err := range bulletin.PreCheck(rand.Reader, st, rest, sp) {
			errs[restPos[k]] = err
		}
	}
	if len(cast) == 0 {
		return errs
	}
	bad, err := ballot.VerifyBatch(rand.Reader, sp.Manifest, sp.JointKey, ballots, func(bv *batch.Verifier, k int) {
		cast[k].AddToBatch(bv, k)
	})
	if err != nil {
		for _, i := range castPos {
			errs[i] = err
		}
		return errs
	}
	for _, k := range bad {
		if cast[k].VerifySignature() != nil {
			errs[castPos[k]] = bulletin.ErrInvalidSignature
		} else {
			errs[castPos[k]] = fmt.Errorf("%w: ballot proofs", bulletin.ErrInvalidProof)
		}
	}
	return errs
}

// checkResult is the node's V13 on a result entry before it proposes it
// (SPEC.md §9.3–§9.4): the result MUST be the combination of the T smallest
// valid partial decryptions on the board, with counts that are the
// discrete logs of B − Σ λ_j·D_j, each at most the number of counted
// ballots. A result on any other aggregate (a party shown a forged view)
// is refused before anyone can sign it into the record for ever.
func (s *Submitter) checkResult(v *state, e *bulletin.Entry) error {
	res, err := tally.ParseResult(e.Body)
	if err != nil {
		return fmt.Errorf("%w: result: %v", bulletin.ErrMalformed, err)
	}
	if v.rules.Phase != bulletin.PhaseTally {
		return nil // the rules refuse it (wrong phase)
	}
	agg, vk, err := s.tallyInputs(v)
	if err != nil {
		return err
	}
	partials := map[int]*tally.PartialDecryption{}
	err = s.st.View(context.Background(), func(tx store.ReadTx) error {
		// The partial decryptions follow the close.
		return tallyEntries(tx, v.rules.Entries, bulletin.TypePartialDecryption, tally.ParsePartialDecryption, func(pd *tally.PartialDecryption) {
			partials[pd.Trustee] = pd
		})
	})
	if err != nil {
		return fmt.Errorf("board: reading the partial decryptions: %w", err)
	}
	s.tally.mu.Lock()
	maxCount := s.tally.counted
	s.tally.mu.Unlock()
	if err := tally.VerifyResult(tally.ManifestParams(v.manifest.m), vk, agg, partials, maxCount, res); err != nil {
		return fmt.Errorf("%w: the result is not the combination of the partial decryptions on the board: %v", bulletin.ErrInvalidProof, err)
	}
	return s.checkMixedResult(v, vk, res)
}

// dealerPost returns dealer i's post from the board, or nil if it has not dealt.
func (s *Submitter) dealerPost(i int) (*tally.DealerPost, error) {
	var d *tally.DealerPost
	err := s.st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		d, err = dealerPostTx(tx, i)
		return err
	})
	return d, err
}

func dealerPostTx(tx store.ReadTx, i int) (*tally.DealerPost, error) {
	raw, err := tx.Get(store.NSTally, dealKey(i))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(raw) != 8 {
		return nil, fmt.Errorf("board: stored deal index of %d bytes", len(raw))
	}
	e, err := storedEntry(tx, binary.BigEndian.Uint64(raw))
	if err != nil {
		return nil, err
	}
	return tally.ParseDealerPost(e.Body)
}
