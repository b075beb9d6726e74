package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// Incremental verification. A party contacts the board many times (a
// trustee deals, checks, answers and decrypts; the authority opens,
// closes and tallies). Verifying the whole record on each contact costs
// the whole election every time; instead Follow hands back, with the
// verified state, everything the record-order pass of V1–V13 needs to go
// on where it stopped (Verified.MarshalState), and a later Follow given it
// (FollowOptions.State) verifies only the entries after it:
//
//   - the checkpoint that covered the verified record, and the last block
//     header (V2: the chain goes on from it, V2.4 from its time; V3.5: the
//     next blocks' log sizes and roots);
//   - the Merkle log's stored hashes (V3: the log goes on from them; the
//     party can still prove any older checkpoint consistent from its own
//     tree, as after a full verification);
//   - the election-rules state, with the voting window of a version-4
//     manifest (V5.7), and every index fact committed so far (V5:
//     phases, seen entry ids, registered credentials and their weights,
//     trackers, each credential's last ballot), replayed into a fresh
//     bulletin.MemIndex;
//   - the counting rule's input so far with each counted credential's
//     weight (V10; maxCount, V10.6, is the sum of those weights),
//     replayed into a fresh ballot.Counter, and each credential's counted
//     ballot with its ciphertexts (a revote takes them out of the
//     aggregate again);
//   - in an election with mixed questions, each counted ballot's K.5 rows
//     of every mixed question (V10.4, the cascades' first input); the
//     cascades so far are rebuilt from the kept shuffle and mix-decryption
//     entries (mixstate.go);
//   - the running weighted aggregate (V11): for each weight, the plain
//     sum of the counted ballots of that weight, by question and option;
//   - the report's counters and opened audits (V9.4), and the record's
//     entries other than ballots
//     (manifest, credential list, late credentials, key ceremony, open,
//     close, partial decryptions, shuffles, mix decryptions, result), from
//     which V4, V6 (the weighted electorate), V7, V12, V13 and the
//     cascades of V14–V16 are re-derived exactly as the first pass derived
//     them.
//
// Only a state with no failure is saved (Follow refuses otherwise), so
// going on from it finds exactly the failures that a full pass finds. On
// the next contact Follow takes the node's newest checkpoint, proves it
// consistent with the saved one (V3.8) with the node's proof before
// reading anything, and reads only the blocks after the saved one
// (SuffixSource). A node that rewrote an entry before the saved point
// fails that proof; Follow then reads the node's whole record, whose own
// tree yields evidence that proves the fork by itself (SPEC.md §10.8 E3).

// ErrState: a saved state does not decode or does not fit the election;
// the party verifies the whole record instead.
var ErrState = errors.New("client: the saved verification state is unusable")

// SuffixSource is a Source that also serves part of its record: a party
// holding a saved state (FollowOptions.State) reads only what follows it.
// internal/roles builds it over /blocks and /entries. Nothing it returns
// is trusted.
type SuffixSource interface {
	Source
	// RecordSince returns a record (SPEC.md §3.11 framing) of the blocks
	// from height from on, up to the block that ends at log size size,
	// followed by note (the checkpoint of that size) as its checkpoint.
	RecordSince(ctx context.Context, from, size uint64, note []byte) (io.ReadCloser, error)
}

// stateVersion is the version byte of a saved state: 2 since credentials
// have weights, 3 since the counted ballots carry their mix rows, 4 since
// the report lists the opened audits (an older state is unusable, and the
// party verifies the whole record once).
const stateVersion = 4

// stateMagic starts a saved state, so that no other file is taken for one.
const stateMagic = "urna-verified-state"

// stateLog records, during a pass, the index facts and the counting rule's
// inputs in the order they happened, already encoded.
type stateLog struct {
	effs, counts *wire.Writer
	nEff, nCount int
}

func newStateLog() *stateLog {
	return &stateLog{effs: wire.NewWriter(1 << 12), counts: wire.NewWriter(1 << 12)}
}

const (
	effTracker = 1 << iota
	effLast
	effWeights
)

// effects records the Effects the rules committed for one entry.
func (l *stateLog) effects(eff *bulletin.Effects) {
	if l == nil {
		return
	}
	l.nEff++
	w := l.effs
	flags := uint8(0)
	if eff.Tracker != nil {
		flags |= effTracker
	}
	if eff.LastBallot != nil {
		flags |= effLast
	}
	if eff.Weights != nil {
		flags |= effWeights
	}
	w.Fixed(eff.ID[:]).U8(uint8(eff.Phase)).U8(flags).Count(len(eff.Credentials))
	for _, c := range eff.Credentials {
		w.Fixed(c[:])
	}
	if eff.Weights != nil {
		w.Count(len(eff.Weights))
		for _, x := range eff.Weights {
			w.U32(x)
		}
	}
	if eff.Tracker != nil {
		w.Fixed(eff.Tracker.Tracker[:]).U8(uint8(eff.Tracker.Kind)).U64(eff.Tracker.Seq)
	}
	if eff.LastBallot != nil {
		w.Fixed(eff.LastBallot.Credential[:]).U64(eff.LastBallot.Seq)
	}
}

// countAdd applies the counting rule (V10) to e, recording it.
func (v *verifier) countAdd(e ballot.CountEntry) (ballot.CountStatus, int) {
	if l := v.saved; l != nil {
		l.nCount++
		flags := uint8(0)
		if e.Audited {
			flags |= 1
		}
		if e.Valid {
			flags |= 2
		}
		l.counts.Fixed(e.Credential[:]).Fixed(e.Tracker[:]).U8(flags).U32(e.Weight)
	}
	return v.counter.Add(e)
}

// keySnap is the manifest and key the pipeline's workers check ballots
// under from the start (a resumed verifier's), or nil.
func (v *verifier) keySnap() *keySnapshot {
	if v.joint == nil {
		return nil
	}
	return &keySnapshot{m: v.m, joint: v.joint}
}

// MarshalState returns the state to continue verifying from (FollowOptions.State):
// see the comment at the top of state.go. It is as large as the board's
// sets (about 770 bytes per voter for a 1-of-5 ballot) and trusted by the
// party that saved it: keep it beside the party's memory, owner-only.
// WriteState writes the same bytes without holding them.
func (s *Verified) MarshalState() ([]byte, error) {
	var b bytes.Buffer
	if err := s.WriteState(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// stateWriter streams a state: it encodes into a small buffer and writes
// it out, with the running checksum, whenever it fills.
type stateWriter struct {
	dst io.Writer
	sum hash.Hash
	w   *wire.Writer
	err error
}

// stateFlush is the buffer size of a stateWriter.
const stateFlush = 1 << 16

func (sw *stateWriter) flush(force bool) {
	if out := sw.w.Out(); len(out) > 0 && (force || len(out) >= stateFlush) {
		sw.write(out)
		sw.w = wire.NewWriter(2 * stateFlush)
	}
}

func (sw *stateWriter) write(b []byte) {
	if sw.err == nil {
		sw.sum.Write(b)
		_, sw.err = sw.dst.Write(b)
	}
}

// blob writes b length-prefixed (wire.Writer.Bytes) without copying it.
func (sw *stateWriter) blob(b []byte) {
	sw.w.U32(uint32(len(b)))
	sw.flush(true)
	sw.write(b)
}

// WriteState writes MarshalState's bytes to dst as it encodes them, so
// that saving the state of a large board costs a 64 KiB buffer rather than
// a copy of the state (770 MB at 1,000,000 voters).
func (s *Verified) WriteState(dst io.Writer) error {
	v := s.v
	if v == nil || v.saved == nil {
		return errors.New("client: this verified state cannot be saved (not made by Follow, or made with FollowOptions.Lean)")
	}
	if v.prev == nil || len(v.pending) > 0 {
		return errors.New("client: this verified state cannot be saved (no block verified, or ballots pending)")
	}
	sw := &stateWriter{dst: dst, sum: sha256.New(), w: wire.NewWriter(2 * stateFlush)}
	w := func() *wire.Writer { sw.flush(false); return sw.w }
	w().Fixed([]byte(stateMagic)).U8(stateVersion)
	w().Bytes(s.Note).Bytes(v.prev.Bytes())
	w().Count(len(s.Entries))
	for _, e := range s.Entries {
		w().U64(e.Seq).Bytes(e.Entry.Bytes())
	}
	w().Bytes(v.st.Bytes())
	w().Count(v.saved.nEff)
	sw.blob(v.saved.effs.Out())
	w().Count(v.saved.nCount)
	sw.blob(v.saved.counts.Out())
	w().Count(v.last.n)
	nct := v.optionCount()
	for _, cred := range v.sortedCounted() {
		c, _ := v.lastOf(cred)
		w().Fixed(cred[:]).U64(uint64(c.seq)).Fixed(v.cts.get(c.cts, nct*ballot.CiphertextSize))
		if err := v.putMixRows(sw.w, cred); err != nil {
			return err
		}
	}
	var weights []uint32
	var sums [][][]*ballot.Ciphertext
	if v.sums != nil {
		weights, sums = v.sums.Sums()
	}
	w().Count(len(weights))
	for i, x := range weights {
		w().U32(x)
		for q := range sums[i] {
			for _, ct := range sums[i][q] {
				w().Element(ct.Alpha).Element(ct.Beta)
			}
		}
	}
	hs := v.log.StoredHashes()
	w().U64(v.log.Size()).Count(len(hs))
	for _, h := range hs {
		w().Fixed(h[:])
	}
	w().Count(NumSteps)
	for _, st := range v.rep.Steps {
		w().U64(uint64(st.Checked))
	}
	r := v.rep
	w().U64(uint64(r.Entries)).U64(uint64(r.Blocks)).U64(uint64(r.Ballots)).U64(uint64(r.Audited)).U64(uint64(r.Checkpoints))
	w().Count(len(r.Audits))
	for _, a := range r.Audits {
		t, err := hex.DecodeString(a.Tracker)
		if err != nil || len(t) != 32 {
			return fmt.Errorf("client: opened audit %d: tracker %q", a.Seq, a.Tracker)
		}
		w().U64(uint64(a.Seq)).Fixed(t).Count(len(a.Answers))
		for _, ans := range a.Answers {
			w().Count(len(ans))
			for _, s := range ans {
				w().String(s)
			}
		}
	}
	sw.flush(true)
	if sw.err == nil {
		_, sw.err = dst.Write(sw.sum.Sum(nil))
	}
	return sw.err
}

// optionCount is the number of options of the manifest, over all questions.
func (v *verifier) optionCount() int {
	n := 0
	if v.m != nil {
		for _, o := range tally.SelectOptions(v.m) {
			n += o
		}
	}
	return n
}

// sortedCounted returns the credentials with a counted ballot, in
// increasing order of their bytes.
func (v *verifier) sortedCounted() [][32]byte {
	out := make([][32]byte, 0, v.last.n)
	for k, c := range v.last.at {
		if c.seq >= 0 {
			out = append(out, v.counter.CountedCredential(k))
		}
	}
	// a fixed order, so that equal states save equal bytes
	slices.SortFunc(out, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// restore rebuilds, from a saved state, the verifier that saved it (up to
// the failures, of which a saved state has none), ready to read the blocks
// after it. It returns the saved checkpoint note. It reads src twice, as
// a stream: once for its checksum, then to decode it (stateReader).
func restore(src io.ReadSeeker, opts VerifyOptions) (*verifier, []byte, []SeqEntry, error) {
	bad := func(format string, args ...any) (*verifier, []byte, []SeqEntry, error) {
		return nil, nil, nil, fmt.Errorf("%w: %s", ErrState, fmt.Sprintf(format, args...))
	}
	size, err := src.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = src.Seek(0, io.SeekStart)
	}
	if err != nil {
		return bad("%v", err)
	}
	if err := checkStateSum(src, size); err != nil {
		return bad("%v", err)
	}
	r := newStateReader(src, size)
	if magic := r.fixed("magic", len(stateMagic)); string(magic) != stateMagic {
		return bad("not a saved state")
	}
	if ver := r.u8("version"); r.err == nil && ver != stateVersion {
		return bad("version %d, want %d", ver, stateVersion)
	}
	v := newVerifier(opts)
	v.saved = newStateLog()
	note := r.bytes("checkpoint", bulletin.MaxNoteSize)
	prev, err := bulletin.ParseBlockHeader(r.bytes("block header", bulletin.BlockHeaderSize))
	if r.err != nil || err != nil {
		return bad("header: %v", errors.Join(r.err, err))
	}
	n := r.count("entries", 1<<20)
	var kept []SeqEntry
	for i := 0; i < n && r.err == nil; i++ {
		seq := r.u64("seq")
		e, err := bulletin.ParseEntry(r.bytes("entry", bulletin.MaxEntrySize))
		if r.err == nil && err != nil {
			return bad("entry %d: %v", seq, err)
		}
		kept = append(kept, SeqEntry{seq, e})
	}
	st, err := bulletin.ParseElectionState(r.bytes("election state", 1<<20))
	if r.err != nil || err != nil {
		return bad("election state: %v", errors.Join(r.err, err))
	}
	v.st = st
	// V5's index, by committing the recorded facts again (and recording
	// them), read from the stream: the two logs are the state's largest
	// parts after the counted ballots (220 MB at 1,000,000 voters).
	nEff := r.bigCount("effects", 32+1+1+4)
	end := r.sub("effects")
	v.saved.effs = wire.NewWriter(int(r.left - end))
	for i := 0; i < nEff && r.err == nil; i++ {
		eff := &bulletin.Effects{}
		r.read(eff.ID[:], "id")
		eff.Phase = bulletin.Phase(r.u8("phase"))
		flags := r.u8("flags")
		nc := r.bigCount("credentials", 32)
		if nc > ballot.MaxCredentials {
			r.fail("credentials: count %d exceeds %d", nc, ballot.MaxCredentials)
		}
		if nc > 0 && r.err == nil {
			eff.Credentials = make([][32]byte, nc)
			for k := range eff.Credentials {
				r.read(eff.Credentials[k][:], "credential")
			}
		}
		if flags&effWeights != 0 {
			nw := r.bigCount("weights", 4)
			if nw > ballot.MaxCredentials {
				r.fail("weights: count %d exceeds %d", nw, ballot.MaxCredentials)
			}
			eff.Weights = make([]uint32, 0, min(nw, 1<<16))
			for k := 0; k < nw && r.err == nil; k++ {
				eff.Weights = append(eff.Weights, r.u32("weight"))
			}
		}
		if flags&effTracker != 0 {
			t := &bulletin.TrackerRecord{}
			r.read(t.Tracker[:], "tracker")
			t.Kind, t.Seq = bulletin.TrackerKind(r.u8("kind")), r.u64("seq")
			eff.Tracker = t
		}
		if flags&effLast != 0 {
			l := &bulletin.CredentialBallot{}
			r.read(l.Credential[:], "credential")
			l.Seq = r.u64("seq")
			eff.LastBallot = l
		}
		if r.err == nil {
			v.idx.Commit(eff)
			v.saved.effects(eff)
		}
	}
	if err := r.endSub("effects", end); err != nil {
		return bad("%v", err)
	}
	// V10's counter, by adding the recorded entries again.
	nCount := r.bigCount("count entries", 32+32+1+4)
	end = r.sub("count entries")
	v.saved.counts = wire.NewWriter(int(r.left - end))
	for i := 0; i < nCount && r.err == nil; i++ {
		var e ballot.CountEntry
		r.read(e.Credential[:], "credential")
		r.read(e.Tracker[:], "tracker")
		flags := r.u8("flags")
		e.Audited, e.Valid = flags&1 != 0, flags&2 != 0
		e.Weight = r.u32("weight")
		if r.err == nil {
			v.countAdd(e)
		}
	}
	if err := r.endSub("count entries", end); err != nil {
		return bad("%v", err)
	}
	// V4 first: the manifest fixes the width of the ciphertexts below.
	if len(kept) == 0 || kept[0].Seq != 0 {
		return bad("no manifest entry")
	}
	v.manifestEntry(kept[0].Entry)
	if v.m == nil || v.params == nil {
		return bad("the manifest does not decode")
	}
	width := v.optionCount() * ballot.CiphertextSize
	rec := 32 + 8 + width + v.mixRowsSize()
	nLast := r.bigCount("counted ballots", rec)
	for i := 0; i < nLast && r.err == nil; i++ {
		br := r.section("counted ballot", rec)
		if r.err != nil {
			break
		}
		cred := [32]byte(br.Fixed("credential", 32))
		seq := int64(br.U64("seq"))
		cts := br.Fixed("ciphertexts", width)
		if br.Err() == nil && !v.setLast(cred, counted{seq: seq, cts: v.cts.put(cts)}) {
			return bad("a counted ballot of credential %x…, which the counting rule's entries do not count", cred[:6])
		}
		v.getMixRows(br, cred, seq)
		if err := br.Done(); err != nil {
			return bad("counted ballot %d: %v", i, err)
		}
	}
	// The aggregate's plain sum of each weight, of the manifest's shape.
	nw := r.count("weights", ballot.MaxWeight)
	weights := make([]uint32, 0, nw)
	sums := make([][][]*ballot.Ciphertext, 0, nw)
	for i := 0; i < nw && r.err == nil; i++ {
		sr := r.section("aggregate", 4+width)
		if r.err != nil {
			break
		}
		weights = append(weights, sr.U32("weight"))
		rows := make([][]*ballot.Ciphertext, len(v.m.Questions))
		for q, o := range tally.SelectOptions(v.m) {
			rows[q] = make([]*ballot.Ciphertext, o)
			for o := range rows[q] {
				rows[q][o] = &ballot.Ciphertext{Alpha: sr.Element("alpha"), Beta: sr.Element("beta")}
			}
		}
		if err := sr.Done(); err != nil {
			return bad("aggregate: %v", err)
		}
		sums = append(sums, rows)
	}
	logSize := r.u64("log size")
	nh := r.bigCount("hashes", 32)
	hs := make([]tlog.Hash, 0, min(nh, 1<<24))
	var hb [32 * 1024]byte
	for i := 0; i < nh && r.err == nil; {
		k := min(nh-i, len(hb)/32)
		if !r.read(hb[:32*k], "hashes") {
			break
		}
		for j := range k {
			hs = append(hs, tlog.Hash(hb[32*j:32*j+32]))
		}
		i += k
	}
	if r.err == nil {
		log, err := bulletin.RestoreMemoryLog(logSize, hs)
		if err != nil {
			return bad("%v", err)
		}
		v.log = *log
	}
	if r.count("steps", NumSteps) != NumSteps && r.err == nil {
		return bad("step count")
	}
	checked := make([]int, NumSteps)
	for i := range checked {
		checked[i] = int(r.u64("checked"))
	}
	rep := []*int{&v.rep.Entries, &v.rep.Blocks, &v.rep.Ballots, &v.rep.Audited, &v.rep.Checkpoints}
	counts := make([]int, len(rep))
	for i := range counts {
		counts[i] = int(r.u64("count"))
	}
	var opened []OpenedAudit
	for i, n := 0, r.bigCount("opened audits", 8+32+4); i < n && r.err == nil; i++ {
		a := OpenedAudit{Seq: int64(r.u64("audit seq"))}
		var t ballot.Tracker
		r.read(t[:], "audit tracker")
		a.Tracker, a.Short = t.Hex(), t.Short()
		for q := r.count("audit questions", ballot.MaxQuestions); q > 0 && r.err == nil; q-- {
			var ans []string
			for k := r.count("audit answers", ballot.MaxOptions); k > 0 && r.err == nil; k-- {
				ans = append(ans, string(r.bytes("audit answer", 1<<12)))
			}
			a.Answers = append(a.Answers, ans)
		}
		opened = append(opened, a)
	}
	if err := r.done(); err != nil {
		return bad("%v", err)
	}
	// The record-order pass over the kept entries re-derives V6, V7, V12
	// and V13 as the first pass derived them.
	for _, k := range kept[1:] {
		obj, err := bulletin.DecodeBody(k.Entry.Type, k.Entry.Body)
		if err != nil {
			return bad("entry %d: %v", k.Seq, err)
		}
		switch k.Entry.Type {
		case bulletin.TypeCredentials, bulletin.TypeLateCredentials:
			v.register(int64(k.Seq), k.Entry.Type, obj.(*ballot.CredentialList))
		case bulletin.TypeDKGDeal, bulletin.TypeDKGConfirmation, bulletin.TypeDKGComplaint, bulletin.TypeDKGReveal:
			v.keyCeremony(int64(k.Seq), obj)
		case bulletin.TypeOpen:
			v.open(int64(k.Seq), obj.(*bulletin.OpenBody), true)
			if v.joint == nil {
				return bad("the key ceremony does not open")
			}
			for i, w := range weights {
				if err := v.sums.Add(w, sums[i]); err != nil {
					return bad("aggregate of weight %d: %v", w, err)
				}
			}
			weights = nil
			v.lastOpen = int64(k.Seq)
		case bulletin.TypeClose:
			v.closeBallots()
		case bulletin.TypePartialDecryption:
			v.partial(int64(k.Seq), obj.(*tally.PartialDecryption))
		case bulletin.TypeShuffle, bulletin.TypeMixDecryption:
			if err := v.replayMix(int64(k.Seq), k.Entry.Type, obj); err != nil {
				return bad("%v", err)
			}
		case bulletin.TypeResult:
			v.result, v.resultSeq = obj.(*tally.Result), int64(k.Seq)
		}
	}
	v.unfinish(checked)
	for i := range v.rep.Steps {
		v.rep.Steps[i].Checked = checked[i]
	}
	for i, p := range rep {
		*p = counts[i]
	}
	v.rep.Audits = opened
	for _, st := range v.rep.Steps {
		if len(st.Failures) > 0 || st.Dropped > 0 {
			return bad("the saved state does not verify (%s: %v)", st.ID, st.Failures)
		}
	}
	if len(weights) > 0 {
		return bad("an aggregate before the open entry")
	}
	// The chain and the log go on from the last block, which the saved
	// checkpoint covers.
	board := boardOf(v.m)
	c, err := board.Open(note)
	if err != nil {
		return bad("its checkpoint: %v", err)
	}
	root, err := v.log.Root(v.log.Size())
	if err != nil || c.Size != v.log.Size() || c.Root != root || prev.LogSize != c.Size || prev.LogRoot != root ||
		c.Height != prev.Height || c.BlockHash != prev.Hash() || st.Entries != c.Size {
		return bad("its checkpoint, its last block and its log do not agree")
	}
	v.prev, v.seq, v.height, v.time = prev, int64(prev.LogSize), int64(prev.Height), prev.Time
	v.blockAt[prev.LogSize] = blockRef{prev.Height, prev.Hash(), root}
	return v, note, kept, nil
}
