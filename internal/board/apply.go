package board

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
)

// Cosign rejections (domain outcomes of a cosign command).
var (
	// ErrCosignRejected: a cosign command names an unknown node, a size
	// with no block, or carries a signature that does not verify.
	ErrCosignRejected = errors.New("board: cosignature rejected")
	// ErrCosignDiverged: a node signed a root different from this
	// replica's root at the same size — evidence that the replicas
	// diverged (or the signer is faulty).
	ErrCosignDiverged = errors.New("board: cosignature over a different root")
)

// ApplyBatch implements replica.FSM (SPEC.md §3.9) for one committed Raft
// entry: it is ApplyEntries of that entry alone.
func (f *FSM) ApplyBatch(raftIndex uint64, cmds [][]byte) []replica.Result {
	return f.ApplyEntries([]replica.Entry{{Index: raftIndex, Cmds: cmds}})[0]
}

// ApplyEntries implements replica.EntriesFSM (SPEC.md §3.9): it applies a
// run of committed Raft entries in log order, in ONE store transaction
// holding, for each entry, its accepted entries, their Merkle hashes, the
// rules' index effects, at most one block, and its cosignatures; then the
// rules' state and the last entry's Raft index. Each Raft entry yields
// exactly the block it would yield alone (block boundaries never depend on
// how raft grouped the entries, which is timing-dependent), so every
// replica's state is bit-identical whatever its grouping. It is
// deterministic: block times come from the commands, never a clock. An entry
// at or below the applied index is a replay: nothing is applied and every
// Result carries ErrReplayed. A command that does not decode panics. An
// accepted entry command's Result.Seq is the entry's sequence number.
func (f *FSM) ApplyEntries(entries []replica.Entry) [][]replica.Result {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	out := make([][]replica.Result, len(entries))
	decoded := make([][]command, len(entries))
	applied := f.applied.Load()
	fresh := false
	for k, e := range entries {
		out[k] = make([]replica.Result, len(e.Cmds))
		if e.Index <= applied {
			for i := range out[k] {
				out[k][i].Err = ErrReplayed
			}
			continue
		}
		applied, fresh = e.Index, true
		decoded[k] = make([]command, len(e.Cmds))
		for i, c := range e.Cmds {
			d, err := decodeCommand(c)
			if err != nil {
				// Committed garbage: skipping it could let replicas diverge.
				panic(fmt.Sprintf("board: committed command %d at raft index %d does not decode: %v", i, e.Index, err))
			}
			decoded[k][i] = d
		}
	}
	if !fresh {
		return out
	}
	old := f.board()
	var nb *boardState
	var blocks []committedBlock
	err := f.st.Update(context.Background(), func(tx store.WriteTx) error {
		// Update may retry fn (PostgreSQL serialization failures): start
		// from the published view every time.
		nb = old
		blocks = blocks[:0]
		work := map[store.Partition]*state{}  // the elections changed in this transaction
		start := map[store.Partition]uint64{} // their block counts before it
		for k := range entries {
			if decoded[k] == nil {
				continue // replayed
			}
			res := out[k]
			for i := range res {
				res[i] = replica.Result{}
			}
			var err error
			nb, blocks, err = f.applyRaftEntry(tx, nb, work, start, decoded[k], res, blocks)
			if err != nil {
				return err
			}
		}
		nb = &boardState{applied: applied, elections: nb.elections, byFP: nb.byFP, byID: nb.byID, versions: nb.versions}
		for p := range nb.elections {
			v := work[store.Partition(p)]
			if v == nil || v.blocks == start[v.part] {
				continue
			}
			// The rules' state changes only with accepted entries, hence
			// only with a new block; the store keeps the group's final state.
			if err := saveRules(tx.WriteIn(v.part), v); err != nil {
				return err
			}
		}
		return tx.SetAppliedIndex(nb.applied)
	})
	if err != nil {
		// The disk failed: this replica cannot apply the entries and must
		// not go on as if it had (the state would diverge from its peers).
		panic(fmt.Sprintf("board: applying raft indexes %d..%d: %v", entries[0].Index, entries[len(entries)-1].Index, err))
	}
	f.publish(nb)
	for _, cb := range blocks {
		f.hooks.block(cb.v, cb.blk)
	}
	f.hooks.applied()
	return out
}

// committedBlock is a block of election v built by an apply.
type committedBlock struct {
	v   *state
	blk Block
}

// entryElection is the election fingerprint of a canonical entry: the
// envelope's field 3 (SPEC.md §3.1), after version and type. ok is false
// for bytes too short to hold it (the rules refuse them as malformed).
func entryElection(raw []byte) (fp [32]byte, ok bool) {
	if len(raw) < 2+32 {
		return fp, false
	}
	return [32]byte(raw[2:34]), true
}

// applyRaftEntry applies the decoded commands of one Raft entry
// (SPEC.md §3.14.1): each command goes to the election its
// entry's election field (or its cosignature's fingerprint) names, in log
// order; an entry naming no election of the board is a candidate for a new
// one, which its manifest creates in the next partition. Each election the
// Raft entry accepted entries for gets exactly one block, as a
// one-election board would build it from that election's commands alone;
// blocks are finished in the order the elections first appear in the Raft
// entry. work holds the elections' working copies for the transaction
// (cloned on first touch) and start their block counts before it.
func (f *FSM) applyRaftEntry(tx store.WriteTx, nb *boardState, work map[store.Partition]*state, start map[store.Partition]uint64,
	cmds []command, res []replica.Result, blocks []committedBlock) (*boardState, []committedBlock, error) {
	// Under a version-4 window the block time is fixed before any command
	// applies (applyCommands): the latest stamp of the election's entry
	// commands in this Raft entry.
	// counts: the election's entry commands, the most its block can take.
	stamps := map[[32]byte]uint64{}
	counts := map[[32]byte]int{}
	for _, c := range cmds {
		if c, ok := c.(*entryCmd); ok {
			fp, _ := entryElection(c.entry)
			stamps[fp] = max(stamps[fp], c.timeMillis)
			counts[fp]++
		}
	}
	var order []*blockBuilder
	builders := map[store.Partition]*blockBuilder{}
	touch := func(p store.Partition) *state {
		v := work[p]
		if v == nil {
			v = nb.elections[p].clone()
			work[p], start[p] = v, v.blocks
		}
		return v
	}
	// builder is election v's block builder (v exists: it has a manifest).
	// Its stamp is that of the entries naming v, whichever command made
	// the builder: bytes too short to name an election also go to the
	// default election's rules, and they must not set its block time.
	builder := func(v *state) (*blockBuilder, error) {
		if b := builders[v.part]; b != nil {
			return b, nil
		}
		b, err := f.newBlockBuilder(tx.WriteIn(v.part), v, stamps[v.manifest.fingerprint], counts[v.manifest.fingerprint])
		if err != nil {
			return nil, err
		}
		builders[v.part] = b
		order = append(order, b)
		return b, nil
	}
	for i, c := range cmds {
		switch c := c.(type) {
		case *entryCmd:
			if isAnnounce(c.entry) {
				var err error
				if nb, err = applyAnnounce(tx, nb, c); err != nil && !isDomain(err) {
					return nil, nil, err
				} else if err != nil {
					res[i].Err = err
				}
				continue
			}
			fp, ok := entryElection(c.entry)
			p, known := nb.byFP[fp]
			if !known && !ok && len(nb.elections) > 0 {
				// Too short to name an election: the default election's
				// rules refuse it, as a one-election board's did.
				p, known = 0, true
			}
			if known {
				cur := nb.elections[p]
				if w := work[store.Partition(p)]; w != nil {
					cur = w // archived earlier in this transaction?
				}
				if cur.archived > 0 {
					res[i].Err = fmt.Errorf("%w: election %q", ErrArchived, cur.manifest.m.ElectionID)
					continue
				}
				b, err := builder(touch(store.Partition(p)))
				if err != nil {
					return nil, nil, err
				}
				if err := b.entry(c, &res[i]); err != nil {
					return nil, nil, err
				}
				continue
			}
			// An entry naming no election of the board: only a manifest
			// creating one can be accepted (§3.14.2), into the next partition.
			if len(nb.elections) >= MaxElections {
				res[i].Err = fmt.Errorf("%w (%d)", ErrBoardFull, MaxElections)
				continue
			}
			if err := checkNewElection(nb, c.entry); err != nil {
				res[i].Err = err
				continue
			}
			v := emptyElection(store.Partition(len(nb.elections)))
			b, err := f.newBlockBuilder(tx.WriteIn(v.part), v, stamps[fp], 1)
			if err != nil {
				return nil, nil, err
			}
			if err := b.entry(c, &res[i]); err != nil {
				return nil, nil, err
			}
			if res[i].Err != nil {
				continue // nothing was written: the candidate is dropped
			}
			// The manifest created the election: later commands of this
			// Raft entry route to it, and its block is built with the rest.
			nb = nb.withElection(v)
			work[v.part], start[v.part] = v, 0
			builders[v.part] = b
			order = append(order, b)
		case *archiveCmd:
			p, known := nb.byFP[c.election]
			if !known {
				res[i].Err = fmt.Errorf("%w: no election %x on the board", ErrUnknownElection, c.election[:8])
				continue
			}
			if err := archive(tx.WriteIn(store.Partition(p)), touch(store.Partition(p))); err != nil {
				return nil, nil, err
			}
		case *cosignCmd, *witnessCmd:
			var cc *cosignCmd
			switch c := c.(type) {
			case *cosignCmd:
				cc = c
			case *witnessCmd:
				cc = &c.cosignCmd
			}
			fp := cc.election
			p := 0
			if fp != nil {
				var known bool
				if p, known = nb.byFP[*fp]; !known {
					res[i].Err = fmt.Errorf("%w: no election %x on the board", ErrCosignRejected, fp[:8])
					continue
				}
			} else if len(nb.elections) == 0 {
				res[i].Err = fmt.Errorf("%w: no manifest yet", ErrCosignRejected)
				continue
			}
			v := touch(store.Partition(p))
			ptx := tx.WriteIn(v.part)
			if _, ok := c.(*witnessCmd); ok {
				res[i].Err = applyWitness(ptx, v, &witnessCmd{*cc})
				if res[i].Err != nil && !errors.Is(res[i].Err, ErrCosignRejected) {
					return nil, nil, res[i].Err
				}
				continue
			}
			res[i].Err = applyCosign(ptx, v, cc)
			if res[i].Err != nil && !errors.Is(res[i].Err, ErrCosignRejected) && !errors.Is(res[i].Err, ErrCosignDiverged) {
				return nil, nil, res[i].Err
			}
		}
	}
	for _, b := range order {
		blk, err := b.finish()
		if err != nil {
			return nil, nil, err
		}
		if blk != nil {
			blocks = append(blocks, committedBlock{b.v, *blk})
		}
	}
	for p := range nb.elections {
		if v := work[store.Partition(p)]; v != nil && nb.elections[p] != v {
			nb = nb.withElection(v)
		}
	}
	return nb, blocks, nil
}

// archive marks election v archived at its current log size (§3.14.3); an
// election archived already stays as it was.
func archive(tx store.WriteTx, v *state) error {
	if v.archived > 0 {
		return nil
	}
	v.archived = v.entries + 1
	return tx.Put(store.NSMeta, keyArchived, u64(v.entries))
}

// checkNewElection is the board's part of rule 1 for a manifest that
// would create an election (SPEC.md §3.14.2): its election id
// MUST NOT name an election of the board. Other entries and malformed
// manifests are left to the rules.
func checkNewElection(nb *boardState, raw []byte) error {
	if len(nb.elections) == 0 {
		return nil
	}
	e, err := bulletin.ReadHeader(raw)
	if err != nil || e.Type != bulletin.TypeManifest {
		return fmt.Errorf("%w: the entry names no election of the board", bulletin.ErrWrongElection)
	}
	m, err := ballot.ParseManifest(e.Body)
	if err != nil {
		return nil // the rules refuse it as malformed
	}
	if _, taken := nb.byID[m.ElectionID]; taken {
		return fmt.Errorf("%w: election id %q is taken on this board", bulletin.ErrDuplicate, m.ElectionID)
	}
	return nil
}

// blockBuilder collects one Raft entry's accepted entries of one election
// and builds their block (SPEC.md §3.6) in the election's partition.
type blockBuilder struct {
	f         *FSM
	tx        store.WriteTx // the election's partition
	v         *state        // the election's working state
	hashStart int64
	hashes    *overlayHashes
	batch     [][]byte
	blockTime uint64
	values    []byte // the accepted commands' Result.Value, one allocation
}

// newBlockBuilder starts election v's block of a Raft entry holding n
// entry commands of v (its lists are sized once for them).
func (f *FSM) newBlockBuilder(tx store.WriteTx, v *state, stamp uint64, n int) (*blockBuilder, error) {
	hashStart, err := tx.HashCount()
	if err != nil {
		return nil, err
	}
	// An entry adds one leaf hash and, on average, one interior hash.
	b := &blockBuilder{f: f, tx: tx, v: v, hashStart: hashStart, batch: make([][]byte, 0, n), values: make([]byte, 0, 64*n),
		hashes: &overlayHashes{tx: tx, start: hashStart, pend: make([]tlog.Hash, 0, 2*n+64)}}
	if v.last != nil {
		b.blockTime = v.last.Time
	}
	// A version-4 manifest's voting window (SPEC.md §3.9) is judged on
	// the time of the block holding the entry, so under a window that time
	// is fixed before any command applies: the latest of the previous
	// block's and of every entry command's stamp of the election in this
	// Raft entry. The rules of every replica thus read the time the block
	// will carry. Without a window the time grows as commands apply, as it
	// always has (block times are part of the replicated state).
	if v.rules.Window().Scheduled() {
		b.blockTime = max(b.blockTime, stamp)
	}
	return b, nil
}

// entry applies one entry command, filling r.
func (b *blockBuilder) entry(c *entryCmd, r *replica.Result) error {
	seq := b.v.entries
	var eff *bulletin.Effects
	err := b.checkBytes(len(c.entry))
	if err == nil {
		eff, err = b.f.applyEntry(b.tx, b.v, seq, c.entry, b.blockTime)
	}
	if err != nil {
		if !isDomain(err) {
			return err
		}
		r.Err = err
	} else {
		hs, err := bulletin.StoredHashes(seq, c.entry, b.hashes)
		if err != nil {
			return err
		}
		b.hashes.pend = append(b.hashes.pend, hs...)
		b.batch = append(b.batch, c.entry)
		b.v.entries++
		b.v.bytes += uint64(len(c.entry))
		r.Seq, r.Value = seq, b.acceptedValue(eff)
	}
	// Once the Raft entry has a block, every later command's time
	// counts, rejected or not (as it always has: block times are part of
	// the replicated state).
	if len(b.batch) > 0 && c.timeMillis > b.blockTime {
		b.blockTime = c.timeMillis
	}
	return nil
}

// acceptedValue is the Result.Value of an accepted entry command: the
// entry's ID, then its tracker if it has one (a ballot, an audited
// ballot). The leader's Submitter answers the post with them
// (postedValue) instead of hashing the entry again. The values of a Raft
// entry's commands share the builder's one allocation (every replica
// makes them; only the leader's are read).
func (b *blockBuilder) acceptedValue(eff *bulletin.Effects) []byte {
	at := len(b.values)
	b.values = append(b.values, eff.ID[:]...)
	if eff.Tracker != nil {
		b.values = append(b.values, eff.Tracker.Tracker[:]...)
	}
	return b.values[at:len(b.values):len(b.values)]
}

// postedValue reads acceptedValue's v: the entry's ID, and its tracker or
// nil. ok is false for any other value.
func postedValue(v []byte) (id [32]byte, tracker []byte, ok bool) {
	switch len(v) {
	case 32:
		return [32]byte(v), nil, true
	case 64:
		return [32]byte(v), v[32:64:64], true
	}
	return id, nil, false
}

// checkBytes is the rule of SPEC.md §3.14.5: an entry of n bytes is
// refused when it would take the election's byte count past the cap.
func (b *blockBuilder) checkBytes(n int) error {
	if uint64(n) > maxElectionBytes || b.v.bytes > maxElectionBytes-uint64(n) {
		return fmt.Errorf("%w: election %q holds %d bytes of entries, and an entry of %d bytes would pass the board's cap of %d bytes per election",
			ErrQuota, b.v.electionID(), b.v.bytes, n, maxElectionBytes)
	}
	return nil
}

// finish appends the entries, their hashes and the block, if any entry
// was accepted.
func (b *blockBuilder) finish() (*Block, error) {
	if len(b.batch) == 0 {
		return nil, nil
	}
	nv, tx := b.v, b.tx
	first := nv.entries - uint64(len(b.batch))
	if err := tx.AppendEntries(first, b.batch); err != nil {
		return nil, err
	}
	if err := tx.Put(store.NSMeta, keyBytes, u64(nv.bytes)); err != nil {
		return nil, err
	}
	if err := tx.AppendHashes(b.hashStart, b.hashes.pend); err != nil {
		return nil, err
	}
	root, err := bulletin.TreeRoot(nv.entries, b.hashes)
	if err != nil {
		return nil, err
	}
	h, err := bulletin.NextBlock(nv.last, b.blockTime, uint32(len(b.batch)), root)
	if err != nil {
		return nil, err
	}
	raw := h.Bytes()
	if err := tx.AppendBlock(h.Height, raw); err != nil {
		return nil, err
	}
	nv.last, nv.blocks = h, nv.blocks+1
	return &Block{Header: h, Raw: raw}, nil
}

// applyEntry runs the election rules on the entry with sequence number seq
// against the state in tx and v, writes the rules' effects (SPEC.md §3.9)
// to tx and updates v, and returns them. at is the time of the block that
// will hold the entry, for a version-4 window. A rejection leaves tx and v
// unchanged.
//
// It reads the entry with bulletin.ReadHeader, which checks the layout but
// does not decode the author key and signature: the proposing node decoded
// them strictly and verified the signature before proposing (Submitter,
// SPEC.md §3.9.1), and the two square roots of a strict decode per entry
// and replica were the largest cost of Apply. The manifest and a deal are
// decoded once, by the rules (applyBodies keeps the object).
func (f *FSM) applyEntry(tx store.WriteTx, v *state, seq uint64, raw []byte, at uint64) (*bulletin.Effects, error) {
	e, err := bulletin.ReadHeader(raw)
	if err != nil {
		return nil, err
	}
	e.Time = at
	if v.rules.Entries != seq {
		return nil, fmt.Errorf("board: rules state at entry %d, log at %d", v.rules.Entries, seq)
	}
	f.bodies.decoded = nil
	ix := &txIndex{tx: tx}
	eff, err := f.rules.ApplyHeader(v.rules, ix, e)
	if err != nil {
		return nil, err
	}
	switch e.Type {
	case bulletin.TypeManifest:
		m, ok := f.bodies.decoded.(*ballot.Manifest)
		if !ok {
			return nil, fmt.Errorf("board: the rules accepted a manifest they did not decode (%T)", f.bodies.decoded)
		}
		if err := tx.Put(store.NSMeta, keyManifest, e.Body); err != nil {
			return nil, err
		}
		v.manifest = newElection(m, bytes.Clone(e.Body)) // e.Body aliases the command
	case bulletin.TypeDKGDeal:
		// Index the deal by dealer so the pre-check can find it for reveals
		// and verification keys (the rules accepted one deal per trustee,
		// whose dealer index is the author's trustee index).
		d, ok := f.bodies.decoded.(*tally.DealerPost)
		if !ok {
			return nil, fmt.Errorf("board: the rules accepted a deal they did not decode (%T)", f.bodies.decoded)
		}
		if err := tx.Put(store.NSTally, dealKey(d.Dealer), u64(eff.Seq)); err != nil {
			return nil, err
		}
	case bulletin.TypeResult:
		if err := tx.Put(store.NSMeta, keyResult, u64(eff.Seq)); err != nil {
			return nil, err
		}
	}
	if err := tx.Put(store.NSEntryHash, eff.ID[:], u64(eff.Seq)); err != nil {
		return nil, err
	}
	for i, c := range eff.Credentials {
		if err := tx.Put(store.NSCredential, c[:], u64(noBallot)); err != nil {
			return nil, err
		}
		if i < len(eff.Weights) && eff.Weights[i] != 1 {
			if err := tx.Put(store.NSTally, weightKey(c), binary.BigEndian.AppendUint32(nil, eff.Weights[i])); err != nil {
				return nil, err
			}
		}
	}
	if eff.Tracker != nil {
		if err := tx.Put(store.NSTracker, eff.Tracker.Tracker[:], encodeTrackerRecord(eff.Tracker)); err != nil {
			return nil, err
		}
	}
	if lb := eff.LastBallot; lb != nil {
		// A credential's first ballot counts one more voter (revotes do
		// not): voters_voted of the API, kept in the same transaction.
		prev, err := ix.credentialRow(lb.Credential)
		if err != nil {
			return nil, err
		}
		if len(prev) == 8 && binary.BigEndian.Uint64(prev) == noBallot {
			if err := addCount(tx, keyVoted, 1); err != nil {
				return nil, err
			}
		}
		if err := tx.Put(store.NSCredential, lb.Credential[:], u64(lb.Seq)); err != nil {
			return nil, err
		}
	}
	return eff, nil
}

// addCount adds n to the u64 counter at key in NSMeta (absent: 0).
func addCount(tx store.WriteTx, key []byte, n uint64) error {
	v, err := loadU64(tx, key, string(key))
	if err != nil {
		return err
	}
	return tx.Put(store.NSMeta, key, u64(v+n))
}

// cosignKey is the NSCheckpoint key of node's signature on size.
func cosignKey(size uint64, node string) []byte {
	return append(u64(size), node...)
}

// applyCosign verifies and stores one node's checkpoint signature. It is
// deterministic: Ed25519 verification against the manifest's node keys and
// the stored log.
func applyCosign(tx store.WriteTx, nv *state, c *cosignCmd) error {
	if nv.manifest == nil {
		return fmt.Errorf("%w: no manifest yet", ErrCosignRejected)
	}
	nk, ok := nv.manifest.node(c.node)
	if !ok {
		return fmt.Errorf("%w: %q is not a board node", ErrCosignRejected, c.node)
	}
	if c.size == 0 || nv.last == nil || c.size > nv.last.LogSize {
		return fmt.Errorf("%w: no checkpoint of size %d", ErrCosignRejected, c.size)
	}
	cp, err := checkpointToCosign(tx, nv, c.size)
	if err != nil {
		return err
	}
	if cp.Root != tlog.Hash(c.root) {
		return fmt.Errorf("%w: node %q at size %d", ErrCosignDiverged, c.node, c.size)
	}
	msg := noteWithSigs(cp.Text(), []sigLine{{c.node, c.sig}})
	if _, err := bulletin.OpenCheckpoint(msg, nv.manifest.origin, []bulletin.NodeKey{nk}, 1); err != nil {
		return fmt.Errorf("%w: node %q: %v", ErrCosignRejected, c.node, err)
	}
	key := cosignKey(c.size, c.node)
	if old, err := tx.Get(store.NSCheckpoint, key); err == nil && bytes.Equal(old, c.sig) {
		return nil
	}
	if err := tx.Put(store.NSCheckpoint, key, c.sig); err != nil {
		return err
	}
	return advanceOnQuorum(tx, store.NSCheckpoint, u64(c.size), c.size, nv.manifest.quorum, &nv.quorumCP, keyCheckpoint)
}

// checkpointToCosign is checkpointAt for a node's or a witness's
// cosignature of size: a size where no block ends rejects the cosignature.
func checkpointToCosign(tx store.ReadTx, v *state, size uint64) (*bulletin.Checkpoint, error) {
	cp, err := checkpointAt(tx, v, size)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no block ends at size %d", ErrCosignRejected, size)
	}
	return cp, err
}

// checkpointAt rebuilds the unsigned checkpoint of log size size from the
// block ending there.
func checkpointAt(tx store.ReadTx, v *state, size uint64) (*bulletin.Checkpoint, error) {
	var h *bulletin.BlockHeader
	if v.last != nil && v.last.LogSize == size {
		h = v.last
	} else {
		var err error
		if h, err = blockEndingAt(tx, v.blocks, size); err != nil {
			return nil, err
		}
	}
	return &bulletin.Checkpoint{Origin: v.manifest.origin, Size: size, Root: tlog.Hash(h.LogRoot), Height: h.Height, BlockHash: h.Hash()}, nil
}

type sigLine struct {
	node string
	sig  []byte
}

// noteWithSigs formats a signed note: the text, a blank line, and one
// signature line per signer (sumdb/note format).
func noteWithSigs(text []byte, sigs []sigLine) []byte {
	var b bytes.Buffer
	b.Write(text)
	b.WriteByte('\n')
	for _, s := range sigs {
		b.WriteString("— ")
		b.WriteString(s.node)
		b.WriteByte(' ')
		b.WriteString(base64.StdEncoding.EncodeToString(s.sig))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
