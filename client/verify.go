package client

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/tally"
)

// Errors of VerifyElectionRecord. A record that fails verification is not a Go error of
// the caller's making, but VerifyElectionRecord returns ErrFailed so that it cannot be
// ignored by accident; the report says what failed and where.
var (
	// ErrFailed: at least one V-step failed (see the Report).
	ErrFailed = errors.New("client: election record does not verify")
	// ErrRead: the record could not be read (I/O error of the reader).
	ErrRead = errors.New("client: reading the election record")
)

// DefaultChunkSize is the number of ballots verified in one batch.
const DefaultChunkSize = 256

// VerifyOptions configure VerifyElectionRecord. The zero value is usable.
type VerifyOptions struct {
	// Progress, if set, is called as work advances: step is the V-step doing
	// the work, done the number of entries (or partial decryptions) handled
	// and total the expected number, or 0 when unknown.
	Progress func(step string, done, total int)
	// TotalEntries is the number of entries the caller expects (e.g. from
	// the board's status), only used for Progress.
	TotalEntries int
	// Rand supplies batch-verification weights; crypto/rand.Reader if nil.
	Rand io.Reader
	// ChunkSize is the number of ballots per batch; DefaultChunkSize if ≤ 0.
	ChunkSize int
	// Fingerprint, if not all zero, is the election fingerprint the caller
	// obtained out of band (SPEC.md V4.5): the record's manifest MUST have it.
	Fingerprint [32]byte
	// Workers is the number of goroutines that decode entries and check
	// ballots ahead of the record-order pass (pipeline.go);
	// runtime.GOMAXPROCS(0) if ≤ 0. The report does not depend on it.
	Workers int
}

// VerifyElectionRecord reads a complete election record (SPEC.md §3.11) from r and runs
// the verification steps V1–V13 of SPEC.md §10, trusting nothing in the
// record. It returns the report whenever the record could be read, with
// err == nil if every step passed, ErrFailed if some step failed, and an
// error wrapping ErrRead if the reader failed.
//
// A record that ends before the result (an election in progress) verifies
// if everything it contains is valid; Report.Complete is then false and the
// steps it did not reach have Ran == false.
func VerifyElectionRecord(r io.Reader, opts VerifyOptions) (*Report, error) {
	v := newVerifier(opts)
	v.front = &frontier{}
	err := v.run(r)
	v.finish()
	if err != nil {
		return v.rep, err
	}
	if !v.rep.OK() {
		return v.rep, ErrFailed
	}
	return v.rep, nil
}

// pendingBallot is a cast ballot waiting for its chunk's batch verification.
type pendingBallot struct {
	seq   int64
	entry *bulletin.Entry
	b     *ballot.Ballot
	cred  [32]byte
	pre   *predecoded // the pipeline's work on it, or nil
}

// counted is the ballot that currently counts for a credential (V10).
type counted struct {
	seq int64
	cts ctRef // the ballot's option ciphertexts, alpha||beta, question-major, in verifier.cts
}

// countedBallots are the counted ballots by the counting rule's number of
// their credential (ballot.Counter.CredentialNumber): 16 bytes a voter,
// where a map keyed by the credential would store its 32 bytes again.
type countedBallots struct {
	at []counted // at[k].seq < 0: none
	n  int       // entries of at with a ballot
}

// lastOf returns the counted ballot of credential cred, if any.
func (v *verifier) lastOf(cred [32]byte) (counted, bool) {
	k, ok := v.counter.CredentialNumber(cred)
	if !ok || k >= len(v.last.at) || v.last.at[k].seq < 0 {
		return counted{}, false
	}
	return v.last.at[k], true
}

// setLast makes c the counted ballot of credential cred, which MUST have
// a counted entry in v.counter; it reports whether it has.
func (v *verifier) setLast(cred [32]byte, c counted) bool {
	k, ok := v.counter.CredentialNumber(cred)
	if !ok {
		return false
	}
	for len(v.last.at) <= k {
		v.last.at = append(v.last.at, counted{seq: -1})
	}
	if v.last.at[k].seq < 0 {
		v.last.n++
	}
	v.last.at[k] = c
	return true
}

type postAt struct {
	seq  int64
	post *tally.DealerPost
}

type verifier struct {
	opts  VerifyOptions
	rand  io.Reader
	rep   *Report
	rules *bulletin.Rules
	bod   *bodies
	st    *bulletin.ElectionState
	idx   *bulletin.MemIndex

	log      bulletin.MemoryLog
	front    *frontier // if set, the log instead of log: VerifyElectionRecord keeps only its right edge
	prev     *bulletin.BlockHeader
	time     uint64              // the time of the current block: the rules' window reads it (V5.7)
	blockAt  map[uint64]blockRef // log size → block
	seq      int64
	height   int64
	v1Failed bool

	manifest *bulletin.Entry
	m        *ballot.Manifest
	params   *tally.Params
	// credsSeen: the credential list entry was accepted (V6.1–V6.2);
	// creds is that list, kept only for VerifyElectionKey (keyOnly): a
	// decoded list costs about 300 bytes a voter, and the electorate
	// holds what the later steps need.
	credsSeen bool
	creds     *ballot.CredentialList
	// electorate is every registered credential with its weight: the list
	// and the late-credentials entries accepted so far (V6.4).
	electorate *ballot.Electorate

	deals      []postAt
	complaints []*tally.Complaint
	reveals    []*tally.Reveal
	revealSeq  []int64
	joint      *group.Element
	vk         []*group.Element
	v7Blocked  bool

	// keyOnly: the verifier runs for VerifyElectionKey over the entries up
	// to open, without blocks; keyCheckpoint: it was given a checkpoint.
	keyOnly, keyCheckpoint bool

	pending       []pendingBallot
	layoutChecked bool
	layoutOK      bool
	counter       *ballot.Counter // the counting rule (V10)
	last          countedBallots  // the counted ballot of each credential
	cts           ctStore         // their ciphertexts
	ctScratch     []byte
	sums          *tally.Aggregator      // the running weighted aggregate (V11)
	agg           [][]*ballot.Ciphertext // the aggregate, from sums once the ballots are closed
	aggDone       bool

	keys *keyBoard   // the pipeline's view of the election key (nil without pipeline)
	pre  *predecoded // the pipeline's work on the current entry (nil: none)

	mix *mixVerifier // V14–V16 (mix.go); nil without mixed questions

	partials   map[int]*tally.PartialDecryption
	partialSeq map[int]int64
	validPD    map[int]bool
	result     *tally.Result
	resultSeq  int64

	// keep, if set, is called with every entry of the record after its
	// block was checked; notes are the record's checkpoint notes once run
	// returns (Follow uses both).
	keep  func(seq uint64, e *bulletin.Entry)
	notes [][]byte

	// lastOpen is the sequence number of the open entry (NoEntry before
	// it); saved, if not nil, records what a resumable state needs
	// (state.go).
	lastOpen int64
	saved    *stateLog
}

type blockRef struct {
	height uint64
	hash   [32]byte
	root   tlog.Hash
}

func newVerifier(opts VerifyOptions) *verifier {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	b := &bodies{}
	return &verifier{
		opts: opts, rand: rnd, rep: newReport(), rules: bulletin.NewRules(b.rulesBodies()), bod: b,
		st: &bulletin.ElectionState{}, idx: bulletin.NewMemIndex(), blockAt: map[uint64]blockRef{},
		height: NoEntry, counter: ballot.NewCounter(), partials: map[int]*tally.PartialDecryption{},
		partialSeq: map[int]int64{}, validPD: map[int]bool{}, resultSeq: NoEntry, lastOpen: NoEntry,
	}
}

// failAt records a failure of step n at entry seq (NoEntry for none).
func (v *verifier) failAt(n Step, seq int64, field, format string, args ...any) {
	v.rep.step(n).fail(Failure{Entry: seq, Block: NoEntry, Field: field, Detail: fmt.Sprintf(format, args...)})
}

// failBlock records a failure of step n at a block.
func (v *verifier) failBlock(n Step, height int64, field, format string, args ...any) {
	v.rep.step(n).fail(Failure{Entry: NoEntry, Block: height, Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (v *verifier) checked(n Step) { v.rep.step(n).Checked++ }

func (v *verifier) progress(step Step) {
	if v.opts.Progress != nil && (v.seq%64 == 0) {
		v.opts.Progress(step.String(), int(v.seq), v.opts.TotalEntries)
	}
}

// run is the single pass over the record.
func (v *verifier) run(r io.Reader) error {
	cr := &countingReader{r: r}
	rr, err := bulletin.NewRecordReader(cr)
	if err != nil {
		if cr.err != nil {
			return fmt.Errorf("%w: %w", ErrRead, cr.err)
		}
		v.v1Failed = true
		v.failAt(StepV1, NoEntry, "V1.1 record header", "%v", err)
		return nil
	}
	rr.StartAt(uint64(v.seq))
	p := startPipeline(rr, v.opts.Workers, v.rand, v.seq, v.lastOpen, v.keySnap())
	defer p.stop()
	v.keys = p.keys
	for j := range p.order {
		<-j.decoded
		pre := j.pre
		for _, b := range j.blocks {
			first := uint64(v.seq)
			v.block(b, pre[:len(b.Entries)])
			pre = pre[len(b.Entries):]
			if v.keep != nil {
				for k, e := range b.Entries {
					v.keep(first+uint64(k), e)
				}
			}
		}
		if j.err == io.EOF {
			break
		}
		if j.err != nil {
			if cr.err != nil {
				return fmt.Errorf("%w: %w", ErrRead, cr.err)
			}
			// The reader cannot resynchronize after a malformed frame: the
			// rest of the record is unverifiable.
			v.v1Failed = true
			v.failAt(StepV1, v.seq, "V1 record", "%v", j.err)
			return nil
		}
	}
	v.flush()
	v.notes = rr.Checkpoints()
	v.checkpoints(v.notes)
	return nil
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// block runs V1–V3 on one block and dispatches its entries; pre is the
// pipeline's work on them.
func (v *verifier) block(b *bulletin.RecordBlock, pre []predecoded) {
	h := b.Header
	v.rep.Blocks++
	v.height = int64(h.Height)
	v.checked(StepV1)
	// V2: the chain.
	v.checked(StepV2)
	if err := bulletin.CheckLink(v.prev, h); err != nil {
		v.failBlock(StepV2, int64(h.Height), "V2 header", "%v", err)
	}
	if h.FirstSeq != uint64(v.seq) {
		v.failBlock(StepV2, int64(h.Height), "V2.3 first_seq", "block starts at entry %d, but %d entries precede it in the record", h.FirstSeq, v.seq)
	}
	v.time = h.Time
	for k, e := range b.Entries {
		v.pre = &pre[k]
		v.bod.set(e.Type, e.Body, pre[k].obj, pre[k].err)
		v.leaf(b.Raw[k], e)
	}
	v.pre = nil
	// V3: the block's log root against the Merkle log recomputed from the entries.
	v.checked(StepV3)
	size := v.logSize()
	root, err := v.logRoot()
	switch {
	case err != nil:
		v.failBlock(StepV3, int64(h.Height), "V3.5 log_root", "%v", err)
	case h.LogSize != size:
		v.failBlock(StepV3, int64(h.Height), "V3.5 log_size", "block claims log size %d, the record has %d entries up to it", h.LogSize, size)
	case root != h.LogRoot:
		v.failBlock(StepV3, int64(h.Height), "V3.5 log_root", "block log root is not the Merkle root of the %d entries up to it", size)
	default:
		v.blockAt[size] = blockRef{h.Height, h.Hash(), root}
	}
	v.prev = h
}

// logSize is the number of entries in the Merkle log (V3).
func (v *verifier) logSize() uint64 {
	if v.front != nil {
		return v.front.Size()
	}
	return v.log.Size()
}

// logRoot is the root of the whole Merkle log (V3).
func (v *verifier) logRoot() (tlog.Hash, error) {
	if v.front != nil {
		return v.front.Root(v.front.Size())
	}
	return v.log.Root(v.log.Size())
}

// logRootAt is the root of the first size entries of log, or of the
// frontier's log (size MUST then be its size) when v keeps only that.
func (v *verifier) logRootAt(size uint64, log *bulletin.MemoryLog) (tlog.Hash, error) {
	if v != nil && v.front != nil {
		return v.front.Root(size)
	}
	return log.Root(size)
}

// leaf appends one decoded entry to the Merkle log (V3) and runs the
// per-entry steps on it; raw is its canonical encoding. VerifyElectionRecord calls it for
// every entry of every block, VerifyElectionKey for the entries up to open.
func (v *verifier) leaf(raw []byte, e *bulletin.Entry) {
	if v.front != nil {
		v.front.Append(raw)
	} else if err := v.log.Append(raw); err != nil {
		v.failAt(StepV3, v.seq, "V3 log", "%v", err)
	}
	v.entry(e)
	if e.Type == bulletin.TypeOpen {
		v.lastOpen = v.seq
	}
	v.seq++
	if e.Type == bulletin.TypeOpen && v.keys != nil {
		v.keys.publish(v.seq, &keySnapshot{m: v.m, joint: v.joint})
	}
}

// stepOfRule maps a rules rejection of an entry to the V-step that owns it.
func stepOfRule(e *bulletin.Entry, err error) (Step, string) {
	var we *bulletin.WindowError
	switch {
	case errors.As(err, &we):
		return StepV5, "V5.7 window"
	case errors.Is(err, bulletin.ErrMalformed):
		return StepV1, "V1.6 body"
	case errors.Is(err, bulletin.ErrWrongElection):
		return StepV4, "V4.5 election"
	case errors.Is(err, bulletin.ErrInvalidBody) && (e.Type == bulletin.TypeOpen || e.Type >= bulletin.TypeDKGDeal && e.Type <= bulletin.TypeDKGReveal):
		return StepV7, "V7 " + e.Type.String()
	case errors.Is(err, bulletin.ErrInvalidBody) && e.Type == bulletin.TypeCredentials:
		return StepV6, "V6.2 credentials"
	case (errors.Is(err, bulletin.ErrInvalidBody) || errors.Is(err, bulletin.ErrDuplicate)) && e.Type == bulletin.TypeLateCredentials:
		return StepV6, "V6.4 late credentials"
	}
	return StepV5, "V5 " + e.Type.String()
}

// entry runs the per-entry checks in record order.
func (v *verifier) entry(e *bulletin.Entry) {
	v.rep.Entries++
	v.checked(StepV1)
	v.checked(StepV5)
	seq := v.seq
	// The close entry ends the ballots: settle the pending chunk first, so
	// that the aggregate is final when partial decryptions arrive.
	if e.Type != bulletin.TypeBallot {
		v.flush()
	}
	wrongElection := false
	if seq == 0 {
		v.manifestEntry(e)
	} else if v.m != nil {
		v.checked(StepV4)
		if e.Election != v.rep.Fingerprint {
			wrongElection = true
			v.failAt(StepV4, seq, "V4.5 election", "entry carries election fingerprint %x…, the manifest's is %x…", e.Election[:6], v.rep.Fingerprint[:6])
		}
	}
	phase := v.st.Phase
	hd := e.Header()
	hd.Time = v.time
	eff, rerr := v.rules.ApplyHeader(v.st, v.idx, hd)
	var deferred func() // a rules rejection of open, reported unless V7 says more
	if rerr != nil {
		n, field := stepOfRule(e, rerr)
		switch {
		case n == StepV4 && (wrongElection || seq == 0):
			// already reported by V4.4
		case n == StepV7 && e.Type == bulletin.TypeOpen:
			deferred = func() { v.failAt(n, seq, field, "%v", rerr) }
		default:
			v.failAt(n, seq, field, "%v", rerr)
		}
	} else {
		v.idx.Commit(eff)
		v.saved.effects(eff)
	}
	if seq == 0 {
		return
	}
	obj, derr := v.bod.decodeBody(e)
	if derr != nil {
		if rerr == nil || !errors.Is(rerr, bulletin.ErrMalformed) {
			v.failAt(StepV1, seq, "V1.6 body", "%v", derr)
		}
		return
	}
	accepted := rerr == nil
	switch e.Type {
	case bulletin.TypeManifest:
		// a second manifest: the rules rejected it (V5)
	case bulletin.TypeCredentials:
		v.progress(StepV6)
		v.checked(StepV6)
		if !v.signed(e, StepV5, seq) {
			return
		}
		if accepted {
			v.register(seq, e.Type, obj.(*ballot.CredentialList))
		}
	case bulletin.TypeLateCredentials:
		if v.signedAccepted(StepV6, e, seq, accepted) {
			v.register(seq, e.Type, obj.(*ballot.CredentialList))
		}
	case bulletin.TypeDKGDeal, bulletin.TypeDKGConfirmation, bulletin.TypeDKGComplaint, bulletin.TypeDKGReveal:
		if v.signedAccepted(StepV7, e, seq, accepted) {
			v.keyCeremony(seq, obj)
		}
	case bulletin.TypeOpen:
		v.checked(StepV7)
		before := len(v.rep.step(StepV7).Failures)
		if v.signed(e, StepV5, seq) {
			v.open(seq, obj.(*bulletin.OpenBody), accepted)
		}
		if deferred != nil && len(v.rep.step(StepV7).Failures) == before {
			deferred()
		}
	case bulletin.TypeBallot:
		v.rep.Ballots++
		v.progress(StepV8)
		b := obj.(*ballot.Ballot)
		cred := [32]byte(b.Credential().Bytes())
		if cred != e.AuthorKey() {
			v.checked(StepV8)
			v.failAt(StepV8, seq, "V8.4 credential", "ballot is bound to credential %x… but signed by %x…", cred[:6], short(e.AuthorKey()))
			return
		}
		if !accepted || phase != bulletin.PhaseOpen || v.joint == nil {
			// Rejected by the rules (V5 says why): never counts. Its
			// signature and proofs are still checked when possible.
			v.checked(StepV8)
			if v.joint != nil && v.m != nil && v.pre.verdictUnder(v.m, v.joint) != valid {
				if err := e.VerifySignature(); err != nil {
					v.failAt(StepV8, seq, "V8.5 signature", "envelope signature does not verify")
				} else if f := b.Diagnose(v.m, v.joint); f != nil {
					v.failAt(StepV8, seq, f.Step+f.Where(), "%s", f.Reason)
				}
			}
			return
		}
		v.pending = append(v.pending, pendingBallot{seq: seq, entry: e, b: b, cred: cred, pre: v.pre})
		if len(v.pending) >= v.opts.ChunkSize {
			v.flush()
		}
	case bulletin.TypeAuditedBallot:
		v.rep.Audited++
		v.checked(StepV9)
		v.audited(seq, e, obj.(*ballot.AuditedBallot), accepted)
	case bulletin.TypeAudit:
		v.rep.Audited++
		v.checked(StepV9)
		v.audit(seq, e, obj.(*ballot.Audit), accepted)
	case bulletin.TypeClose:
		v.signed(e, StepV5, seq)
		if accepted {
			v.closeBallots()
		}
	case bulletin.TypePartialDecryption:
		if v.signedAccepted(StepV12, e, seq, accepted) {
			v.partial(seq, obj.(*tally.PartialDecryption))
		}
	case bulletin.TypeShuffle:
		if v.signedAccepted(StepV14, e, seq, accepted) {
			v.mixShuffle(seq, obj.(*tally.MixShuffle))
		}
	case bulletin.TypeMixDecryption:
		if v.signedAccepted(StepV15, e, seq, accepted) {
			v.mixDecryption(seq, obj.(*tally.MixDecryption))
		}
	case bulletin.TypeResult:
		if v.signedAccepted(StepV13, e, seq, accepted) {
			v.result, v.resultSeq = obj.(*tally.Result), seq
		}
	}
}

// signed checks e's envelope signature (V1.4), reporting a failure under
// step n. Few entries take this path (not cast ballots, which are batched).
func (v *verifier) signed(e *bulletin.Entry, n Step, seq int64) bool {
	if err := e.VerifySignature(); err != nil {
		v.failAt(n, seq, "V1.4 signature", "envelope signature of the %s by %s %x… does not verify", e.Type, e.Role, short(e.AuthorKey()))
		return false
	}
	return true
}

// signedAccepted counts a check of step n on e and reports whether e's
// envelope signature verifies (signed, under V5) and the rules accepted it.
func (v *verifier) signedAccepted(n Step, e *bulletin.Entry, seq int64, accepted bool) bool {
	v.checked(n)
	return v.signed(e, StepV5, seq) && accepted
}

// manifestEntry runs V4 on the first entry.
func (v *verifier) manifestEntry(e *bulletin.Entry) {
	v.checked(StepV4)
	if e.Type != bulletin.TypeManifest {
		v.failAt(StepV4, 0, "V4.4 first entry", "first entry is a %s, not the manifest", e.Type)
		return
	}
	m, err := ballot.ParseManifest(e.Body)
	if err != nil {
		v.failAt(StepV4, 0, "V4.1–V4.2 manifest", "%v", err)
		return
	}
	fp := m.Fingerprint()
	v.rep.setManifest(m, fp)
	if e.Role != bulletin.RoleAuthority || !e.Author.Equal(m.Authority) {
		v.failAt(StepV4, 0, "V4.4 author", "manifest is not posted by the authority it names")
	} else if schnorr.Verify(m.Authority, e.SigningMessage(), e.Sig) != nil {
		v.failAt(StepV4, 0, "V4.4 signature", "authority signature on the manifest does not verify")
	}
	if v.opts.Fingerprint != ([32]byte{}) && v.opts.Fingerprint != fp {
		v.failAt(StepV4, 0, "V4.6 fingerprint", "manifest fingerprint %x… is not the expected %x…", fp[:6], v.opts.Fingerprint[:6])
	}
	if e.Election != fp {
		v.failAt(StepV4, 0, "V4.5 election", "envelope fingerprint %x… is not the manifest's fingerprint %x…", e.Election[:6], fp[:6])
	}
	v.manifest, v.m = e, m
	p := tally.ManifestParams(m)
	if err := p.Validate(); err != nil {
		v.failAt(StepV4, 0, "V4.2 trustees", "%v", err)
		return
	}
	v.params = p
}

// keyCeremony collects the key-ceremony posts and checks each as it comes (V7.1–V7.5).
func (v *verifier) keyCeremony(seq int64, obj any) {
	if v.params == nil {
		v.v7Blocked = true
		return
	}
	switch x := obj.(type) {
	case *tally.DealerPost:
		if err := tally.CheckDealerPost(v.params, x); err != nil {
			v.failAt(StepV7, seq, fmt.Sprintf("V7.2–V7.3 dealer %d", x.Dealer), "%v", err)
		}
		v.deals = append(v.deals, postAt{seq, x})
	case *tally.Complaint:
		v.complaints = append(v.complaints, x)
	case *tally.Reveal:
		for _, d := range v.deals {
			if d.post.Dealer == x.Dealer && !tally.CheckReveal(d.post, x) {
				v.failAt(StepV7, seq, fmt.Sprintf("V7.5 reveal dealer %d complainer %d", x.Dealer, x.Complainer),
					"revealed share does not match dealer %d's commitments (dealer posted at entry %d)", x.Dealer, d.seq)
			}
		}
		v.reveals = append(v.reveals, x)
		v.revealSeq = append(v.revealSeq, seq)
	}
}

// open recomputes QUAL, the joint key and the verification keys and checks
// the open entry's claims (V7.6–V7.9).
func (v *verifier) open(seq int64, o *bulletin.OpenBody, accepted bool) {
	if v.params == nil || v.v7Blocked {
		v.failAt(StepV7, seq, "V7", "key ceremony cannot be checked without a valid manifest")
		return
	}
	posts := make([]*tally.DealerPost, len(v.deals))
	for i, d := range v.deals {
		posts[i] = d.post
	}
	qual, err := tally.Qualified(v.params, posts, v.complaints, v.reveals)
	if err != nil {
		v.failAt(StepV7, seq, "V7.6 qualified", "%v", err)
		return
	}
	claimed := make([]int, len(o.Qualified))
	for i, q := range o.Qualified {
		claimed[i] = int(q)
	}
	if !slices.Equal(qual, claimed) {
		dq, _ := tally.Disqualifications(v.params, posts, v.complaints, v.reveals)
		v.failAt(StepV7, seq, "V7.6 qualified", "open claims QUAL %v, the key ceremony gives %v (disqualified: %v)", claimed, qual, dq)
	}
	k, err := tally.JointKey(v.params, posts, qual)
	if err != nil {
		v.failAt(StepV7, seq, "V7.7 joint key", "%v", err)
		return
	}
	if !k.Equal(o.JointKey) {
		v.failAt(StepV7, seq, "V7.7 joint key", "open's joint key is not Σ C_i0 over QUAL %v", qual)
	}
	vk, err := tally.VerificationKeys(v.params, posts, qual)
	if err != nil {
		v.failAt(StepV7, seq, "V7.8 verification keys", "%v", err)
		return
	}
	if accepted {
		v.joint, v.vk = k, vk
		v.sums = tally.ManifestAggregator(v.m)
		v.agg = v.sums.Aggregate()
	}
	v.deals, v.complaints, v.reveals = nil, nil, nil // no longer needed
}

// flush batch-verifies the pending ballots (V8) and counts the valid ones (V10, V11).
func (v *verifier) flush() {
	if len(v.pending) == 0 {
		return
	}
	p := v.pending
	v.pending = v.pending[:0:0]
	bad, err := v.badBallots(p)
	if err != nil {
		for _, pb := range p {
			v.failAt(StepV8, pb.seq, "V8", "cannot verify: %v", err)
		}
		return
	}
	isBad := map[int]bool{}
	for _, i := range bad {
		isBad[i] = true
		pb := p[i]
		if ok := pb.entry.VerifySignature(); ok != nil {
			v.failAt(StepV8, pb.seq, "V8.5 signature", "envelope signature by credential %x… does not verify", pb.cred[:6])
		} else if f := pb.b.Diagnose(v.m, v.joint); f != nil {
			v.failAt(StepV8, pb.seq, f.Step+f.Where(), "%s", f.Reason)
		} else {
			v.failAt(StepV8, pb.seq, "V8", "ballot fails the batch but no single check (re-run the verifier)")
		}
	}
	for i, pb := range p {
		v.checked(StepV8)
		if v.electorate == nil || !v.electorate.Contains(pb.b.Credential()) {
			v.failAt(StepV8, pb.seq, "V8.4 credential list", "credential %x… is not in the credential list", pb.cred[:6])
			continue
		}
		if isBad[i] {
			continue
		}
		v.count(pb)
	}
}

// badBallots returns the indexes of the invalid ballots of p in increasing
// order: the pipeline's verdicts where there are, and one batch
// verification (signatures and proofs in one MSM) of the others.
func (v *verifier) badBallots(p []pendingBallot) ([]int, error) {
	var bad, rest []int
	for i := range p {
		switch p[i].pre.verdictUnder(v.m, v.joint) {
		case invalid:
			bad = append(bad, i)
		case unchecked:
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return bad, nil
	}
	bs := make([]*ballot.Ballot, len(rest))
	for k, i := range rest {
		bs[k] = p[i].b
	}
	rb, err := ballot.VerifyBatch(v.rand, v.m, v.joint, bs, func(bv *batch.Verifier, k int) {
		p[rest[k]].entry.AddToBatch(bv, k)
	})
	if err != nil {
		return nil, err
	}
	for _, k := range rb {
		bad = append(bad, rest[k])
	}
	slices.Sort(bad)
	return bad, nil
}

// count applies the counting rule (V10) to pb, a valid cast ballot: when it
// counts, it becomes its credential's counted ballot and the running
// aggregate (V11) takes it in and the ballot it supersedes out.
func (v *verifier) count(pb pendingBallot) {
	v.checked(StepV10)
	w, _ := v.electorate.Weight(pb.cred) // registered: flush checked V8.4
	status, superseded := v.countAdd(ballot.WeightedCastEntry(pb.b, true, w))
	if status != ballot.Counted {
		// The rules refuse a burnt tracker (V5), so this needs a faulty rules replay.
		v.failAt(StepV10, pb.seq, "V10.3 tracker", "ballot is %s under the counting rule although the rules accepted it", status)
		return
	}
	if err := v.sums.AddBallot(w, pb.b); err != nil { // cannot happen: V8.3 checked the shape
		v.failAt(StepV11, pb.seq, "V11.2 aggregate", "%v", err)
		return
	}
	cts := v.ciphertextBytes(pb)
	old, revote := v.lastOf(pb.cred)
	revote = revote && superseded >= 0
	if revote {
		// The superseded ballot's elements are decoded again: keeping
		// them decoded for every voter would cost 128 bytes per element.
		oldCts := v.cts.get(old.cts, len(cts))
		rows := make([][]*ballot.Ciphertext, pb.b.NumQuestions())
		k := 0
		for q := range rows {
			rows[q] = make([]*ballot.Ciphertext, pb.b.NumOptions(q))
			for o := range rows[q] {
				ct, err := ballot.ParseCiphertext(oldCts[k*ballot.CiphertextSize : (k+1)*ballot.CiphertextSize])
				if err != nil { // cannot happen: we encoded it
					v.failAt(StepV10, old.seq, "V10", "%v", err)
					return
				}
				rows[q][o] = ct
				k++
			}
		}
		// Same credential, same weight (V11.2: the aggregate holds each
		// credential's counted ballot once, times its weight).
		if err := v.sums.Sub(w, rows); err != nil {
			v.failAt(StepV11, old.seq, "V11.2 aggregate", "%v", err)
			return
		}
	}
	// A revote's ciphertexts take the superseded ballot's place (same
	// manifest, same size): revotes cost no memory.
	ref := old.cts
	if revote {
		copy(v.cts.get(ref, len(cts)), cts)
	} else {
		ref = v.cts.put(cts)
	}
	v.setLast(pb.cred, counted{seq: pb.seq, cts: ref})
	v.mixCount(pb)
}

// register adds the credentials of an accepted credential list (t
// TypeCredentials, which starts the electorate) or late-credentials entry
// to the electorate (V6.4). The rules refused any credential already
// registered, so a failure here means the replay of the rules is faulty.
func (v *verifier) register(seq int64, t bulletin.EntryType, l *ballot.CredentialList) {
	if t == bulletin.TypeCredentials {
		v.credsSeen, v.electorate = true, ballot.NewElectorate()
		if v.keyOnly {
			v.creds = l
		}
	}
	if v.electorate == nil {
		return
	}
	if err := v.electorate.Add(l); err != nil {
		v.failAt(StepV6, seq, "V6.4 late credentials", "%v", err)
	}
}

// audited runs V9 on an audited ballot; a valid one that the rules
// accepted burns its tracker (V10.2).
func (v *verifier) audited(seq int64, e *bulletin.Entry, a *ballot.AuditedBallot, accepted bool) {
	if err := e.VerifySignature(); err != nil {
		v.failAt(StepV9, seq, "V9.1 signature", "envelope signature does not verify")
		return
	}
	if v.m == nil || v.joint == nil {
		return // the rules rejected it (V5): there is no election key yet
	}
	cred := [32]byte(a.Ballot.Credential().Bytes())
	if cred != e.AuthorKey() {
		v.failAt(StepV9, seq, "V9.1 credential", "audited ballot is bound to another credential than its author")
		return
	}
	if err := ballot.VerifyOpening(v.m, v.joint, a.Ballot, a.Opening); err != nil {
		field := "V9.2–V9.3 opening"
		if f := a.Ballot.Diagnose(v.m, v.joint); f != nil {
			field = "V9.1 " + f.Step + f.Where()
		}
		v.failAt(StepV9, seq, field, "%v", err)
		return
	}
	if accepted {
		v.countAdd(ballot.AuditEntry(a, true))
		v.opened(seq, a.Ballot.Tracker(), a.Opening)
	}
}

// opened reports what a valid audit opened (V9.4).
func (v *verifier) opened(seq int64, t ballot.Tracker, o *ballot.Opening) {
	v.rep.Audits = append(v.rep.Audits, OpenedAudit{Seq: seq, Tracker: t.Hex(), Short: t.Short(), Answers: o.Selections(v.m)})
}

// audit runs V9 on an audit (protocol 1.2): the envelope signature under
// its one-time key (V9.1), the shape and the opening (V9.1–V9.3, by
// re-encryption: an audit carries no proofs); for an election with a
// version-3 manifest, the audit2 of SPEC.md §12.10 (rankings, scores and
// write-in chunks). A valid one that the rules accepted burns its tracker
// (V10.2) and is reported with what it opened (V9.4).
func (v *verifier) audit(seq int64, e *bulletin.Entry, a *ballot.Audit, accepted bool) {
	if !v.signed(e, StepV9, seq) {
		return
	}
	if v.m == nil || v.joint == nil {
		return // the rules rejected it (V5): there is no election key yet
	}
	if err := ballot.VerifyAudit(v.m, v.joint, a); err != nil {
		field := "V9.2–V9.3 opening"
		if errors.Is(err, ballot.ErrShape) {
			field = "V9.1 shape"
		}
		v.failAt(StepV9, seq, field, "%v", err)
		return
	}
	if accepted {
		v.countAdd(ballot.OpenedEntry(a, true))
		v.opened(seq, a.Tracker(), a.Opening)
	}
}

// closeBallots finalizes the counted ballots (V10) and the aggregate (V11).
func (v *verifier) closeBallots() {
	v.flush()
	if v.agg == nil {
		return
	}
	v.agg = v.sums.Aggregate()
	v.aggDone = true
	v.checked(StepV11)
}

// partial runs V12 on one partial decryption.
func (v *verifier) partial(seq int64, pd *tally.PartialDecryption) {
	if !v.aggDone || v.vk == nil {
		v.failAt(StepV12, seq, "V12", "no aggregate to check against")
		return
	}
	v.partials[pd.Trustee] = pd
	v.partialSeq[pd.Trustee] = seq
	if pd.Trustee < 1 || pd.Trustee > len(v.vk) {
		v.failAt(StepV12, seq, "V12.1 trustee", "trustee index %d", pd.Trustee)
		return
	}
	X := v.vk[pd.Trustee-1]
	if err := tally.VerifyPartialBatch(v.rand, v.params, X, v.agg, pd); err != nil {
		if errors.Is(err, tally.ErrMalformed) {
			v.failAt(StepV12, seq, "V12.1 shape", "%v", err)
			return
		}
		bad, ferr := tally.FailedFactors(v.rand, v.params, X, v.agg, pd)
		if ferr != nil || len(bad) == 0 {
			v.failAt(StepV12, seq, "V12.3", "trustee %d: %v", pd.Trustee, err)
			return
		}
		for _, b := range bad {
			v.failAt(StepV12, seq, fmt.Sprintf("V12.3 question %d option %d", b.Question, b.Option),
				"trustee %d: Chaum–Pedersen proof of the partial decryption does not verify", pd.Trustee)
		}
		return
	}
	v.validPD[pd.Trustee] = true
}

// finish runs the end-of-record steps (V13) and settles the report.
func (v *verifier) finish() {
	rep := v.rep
	skip := func(n Step, why string) {
		s := rep.step(n)
		if s.Ran {
			return
		}
		s.Skipped = why
	}
	reached := map[Step]bool{StepV1: true}
	if !v.v1Failed {
		for n := StepV2; n <= StepV5; n++ {
			reached[n] = rep.Entries > 0
		}
		reached[StepV6] = v.credsSeen
		reached[StepV7] = v.joint != nil || len(rep.step(StepV7).Failures) > 0
		reached[StepV8] = v.joint != nil
		reached[StepV9] = v.joint != nil
		reached[StepV10] = v.aggDone
		reached[StepV11] = v.aggDone
		reached[StepV12] = len(v.partials) > 0
		reached[StepV13] = v.result != nil
		reached[StepV14], reached[StepV15], reached[StepV16] = v.mixReached()
	}
	if v.keyOnly {
		reached[StepV2], reached[StepV3] = false, v.keyCheckpoint
		for n := StepV8; n <= StepLast; n++ {
			reached[n] = false
		}
	}
	if v.result != nil && v.aggDone && v.vk != nil {
		v.verifyResult()
		v.verifyMixed()
	}
	if v.opts.Progress != nil {
		v.opts.Progress(StepLast.String(), int(v.seq), int(v.seq))
	}
	rep.Complete = v.result != nil
	rep.Counted, rep.Voters = v.counter.Counted(), v.last.n
	for n := StepV1; n <= StepLast; n++ {
		s := rep.step(n)
		s.Ran = reached[n] || len(s.Failures) > 0
		applies := true
		if !s.Ran {
			switch {
			case v.v1Failed:
				skip(n, "the record does not decode (V1)")
			case v.keyOnly && (n == StepV2 || n == StepV3 || n >= StepV8):
				skip(n, "not part of the election-key check (SPEC.md §10.6)")
				applies = false
			case n >= StepV14 && v.m != nil && v.mixer() == nil:
				skip(n, "the manifest has no ranked, score or write-in question")
				applies = false
			default:
				skip(n, "the record ends before this step")
			}
		}
		s.settle(applies)
	}
}

// verifyResult is V13.
func (v *verifier) verifyResult() {
	seq := v.resultSeq
	maxCount := v.counter.MaxCount() // V10.6: Σ weights of the counted credentials
	res, rejected, err := tally.Combine(v.params, v.vk, v.agg, v.partials, maxCount)
	_ = rejected
	if err != nil {
		v.failAt(StepV13, seq, "V13.1 combination", "%v", err)
		return
	}
	if !slices.Equal(res.Trustees, v.result.Trustees) {
		v.failAt(StepV13, seq, "V13.2 trustees", "result names trustees %v, the T smallest valid partial decryptions are %v", v.result.Trustees, res.Trustees)
	}
	if len(v.result.Counts) != len(res.Counts) {
		v.failAt(StepV13, seq, "V13.3 counts", "result has %d questions, the manifest %d", len(v.result.Counts), len(res.Counts))
		return
	}
	for q := range res.Counts {
		if len(v.result.Counts[q]) != len(res.Counts[q]) {
			v.failAt(StepV13, seq, fmt.Sprintf("V13.3 question %d", q), "result has %d options, the manifest %d", len(v.result.Counts[q]), len(res.Counts[q]))
			continue
		}
		for o, c := range res.Counts[q] {
			if v.result.Counts[q][o] != c {
				v.failAt(StepV13, seq, fmt.Sprintf("V13.4 question %d option %d", q, o), "result says %d, the record decrypts to %d", v.result.Counts[q][o], c)
			}
		}
	}
	// The package's own check, which must agree.
	if err := tally.VerifyResult(v.params, v.vk, v.agg, v.partials, maxCount, v.result); err != nil && len(v.rep.step(StepV13).Failures) == 0 {
		v.failAt(StepV13, seq, "V13", "%v", err)
	}
	if len(v.rep.step(StepV13).Failures) == 0 {
		v.rep.Counts, v.rep.Trustees = res.Counts, res.Trustees
	}
}

// checkpoints runs V3.1–V3.6 on the record's checkpoint notes.
func (v *verifier) checkpoints(notes [][]byte) {
	if v.v1Failed || v.m == nil {
		return
	}
	board := boardOf(v.m)
	full := false
	for i, n := range notes {
		v.checked(StepV3)
		c, err := board.Open(n)
		if err != nil {
			v.failAt(StepV3, NoEntry, fmt.Sprintf("V3.1–V3.4 checkpoint %d", i), "%v", err)
			continue
		}
		v.rep.Checkpoints++
		at, ok := v.blockAt[c.Size]
		switch {
		case !ok:
			v.failBlock(StepV3, int64(c.Height), fmt.Sprintf("V3.5 checkpoint %d", i), "checkpoint of size %d ends at no block of the record", c.Size)
		case at.root != c.Root:
			v.failBlock(StepV3, int64(c.Height), fmt.Sprintf("V3.5 checkpoint %d root", i), "checkpoint root for size %d is not the record's Merkle root", c.Size)
		case at.height != c.Height || at.hash != c.BlockHash:
			v.failBlock(StepV3, int64(c.Height), fmt.Sprintf("V3.5 checkpoint %d block", i), "checkpoint names block %d with another hash than the record's block %d", c.Height, at.height)
		}
		if c.Size == v.logSize() {
			full = true
		}
	}
	if !full {
		v.failAt(StepV3, NoEntry, "V3.6 checkpoint", "no valid checkpoint covers the whole record (%d entries)", v.logSize())
	}
}

func short(k [32]byte) []byte { return k[:6] }

// ciphertextBytes returns the option ciphertexts of pb, alpha||beta in
// question-major order, cut from the ballot's canonical bytes (SPEC.md
// §6.1) rather than re-encoded: encoding an element costs an inversion.
// The layout is checked against the decoded ballot for the first ballot of
// every run, and the function falls back to encoding if it ever disagrees.
func (v *verifier) ciphertextBytes(pb pendingBallot) []byte {
	n := 0
	for q := 0; q < pb.b.NumQuestions(); q++ {
		n += pb.b.NumOptions(q)
	}
	out := slices.Grow(v.ctScratch[:0], n*ballot.CiphertextSize)
	defer func() { v.ctScratch = out[:0] }()
	body := pb.entry.Body
	const header = 1 + 32 + 32 + 4 // version, fingerprint, credential, question count
	const branch = 4 * 32          // a || b || c || s
	off, ok := header, true
	for q := 0; q < pb.b.NumQuestions() && ok; q++ {
		off += 4 // option count
		for o := 0; o < pb.b.NumOptions(q); o++ {
			if off+ballot.CiphertextSize > len(body) {
				ok = false
				break
			}
			out = append(out, body[off:off+ballot.CiphertextSize]...)
			off += ballot.CiphertextSize + 2*branch
		}
		if !ok || off+4 > len(body) {
			ok = false
			break
		}
		nb := int(binary.BigEndian.Uint32(body[off:]))
		off += 4 + nb*branch
	}
	if ok && off == len(body) && !v.layoutChecked {
		v.layoutChecked = true
		ok = bytes.Equal(out[:ballot.CiphertextSize], pb.b.Ciphertext(0, 0).Bytes())
		v.layoutOK = ok
	}
	if !ok || off != len(body) || !v.layoutOK {
		out = out[:0]
		for q := 0; q < pb.b.NumQuestions(); q++ {
			for o := 0; o < pb.b.NumOptions(q); o++ {
				out = append(out, pb.b.Ciphertext(q, o).Bytes()...)
			}
		}
	}
	return out
}
