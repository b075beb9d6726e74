package board

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
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

// EntryErrors is the Result.Err of an entries command carrying more than one
// entry when at least one was rejected: Errs[i] is entry i's rejection or nil.
type EntryErrors struct{ Errs []error }

func (e *EntryErrors) Error() string {
	n := 0
	for _, err := range e.Errs {
		if err != nil {
			n++
		}
	}
	return fmt.Sprintf("board: %d of %d entries rejected", n, len(e.Errs))
}

// Result.Value of an accepted entries command: for each entry
// u64(block height) u8(tracker length) tracker, block height 2^64-1 when the
// entry was rejected.
const rejectedMark = ^uint64(0)

// ApplyBatch implements replica.FSM (SPEC.md §3.9): it applies the commands
// of one committed Raft entry in order, in ONE store transaction holding the
// accepted entries, their Merkle hashes, the rules' index effects and state,
// at most one block, the cosignatures and the Raft index. It is
// deterministic: the block time comes from the commands, never a clock.
// An index at or below the applied index is a replay: nothing is applied and
// every Result carries ErrReplayed.
func (b *Board) ApplyBatch(raftIndex uint64, cmds [][]byte) []replica.Result {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	res := make([]replica.Result, len(cmds))
	if raftIndex <= b.applied.Load() {
		for i := range res {
			res[i].Err = ErrReplayed
		}
		return res
	}
	decoded := make([]command, len(cmds))
	for i, c := range cmds {
		d, err := decodeCommand(c)
		if err != nil {
			// Committed garbage: skipping it could let replicas diverge.
			panic(fmt.Sprintf("board: committed command %d at raft index %d does not decode: %v", i, raftIndex, err))
		}
		decoded[i] = d
	}
	old := b.currentView()
	var nv *view
	var event *blockEvent
	err := b.st.Update(context.Background(), func(tx store.WriteTx) error {
		// Update may retry fn (PostgreSQL serialization failures): start
		// from the published view every time.
		nv = old.clone()
		event = nil
		for i := range res {
			res[i] = replica.Result{}
		}
		var err error
		event, err = applyCommands(tx, nv, decoded, res)
		if err != nil {
			return err
		}
		nv.applied = raftIndex
		return tx.SetAppliedIndex(raftIndex)
	})
	if err != nil {
		// The disk failed: this replica cannot apply the entry and must not
		// go on as if it had (the state would diverge from its peers).
		panic(fmt.Sprintf("board: applying raft index %d: %v", raftIndex, err))
	}
	b.setView(nv)
	if event != nil {
		b.publish(*event)
	}
	b.wake()
	return res
}

// applyCommands applies decoded commands to tx and nv, filling res.
func applyCommands(tx store.WriteTx, nv *view, cmds []command, res []replica.Result) (*blockEvent, error) {
	hashStart, err := tx.HashCount()
	if err != nil {
		return nil, err
	}
	hashes := &overlayHashes{tx: tx, start: hashStart}
	var batch [][]byte
	var blockTime uint64
	if nv.last != nil {
		blockTime = nv.last.Time
	}
	height := nv.blocks
	for i, c := range cmds {
		switch c := c.(type) {
		case *entriesCmd:
			out := make([]byte, 0, 9*len(c.entries))
			errs := make([]error, len(c.entries))
			anyErr, first := false, true
			for k, raw := range c.entries {
				seq := nv.entries
				acc, err := applyEntry(tx, nv, seq, raw)
				if err != nil {
					if !isDomain(err) {
						return nil, err
					}
					errs[k], anyErr = err, true
					out = binary.BigEndian.AppendUint64(out, rejectedMark)
					out = append(out, 0)
					continue
				}
				hs, err := bulletin.StoredHashes(seq, raw, hashes)
				if err != nil {
					return nil, err
				}
				hashes.pend = append(hashes.pend, hs...)
				batch = append(batch, raw)
				nv.entries++
				if first {
					res[i].Seq, first = seq, false
				}
				out = binary.BigEndian.AppendUint64(out, height)
				out = append(out, byte(len(acc.tracker)))
				out = append(out, acc.tracker...)
			}
			if len(batch) > 0 && c.timeMillis > blockTime {
				blockTime = c.timeMillis
			}
			res[i].Value = out
			if anyErr {
				if len(errs) == 1 {
					res[i].Err = errs[0]
				} else {
					res[i].Err = &EntryErrors{Errs: errs}
				}
			}
		case *cosignCmd:
			res[i].Err = applyCosign(tx, nv, c)
			if res[i].Err != nil && !errors.Is(res[i].Err, ErrCosignRejected) && !errors.Is(res[i].Err, ErrCosignDiverged) {
				return nil, res[i].Err
			}
		}
	}
	if len(batch) == 0 {
		return nil, nil
	}
	first := nv.entries - uint64(len(batch))
	if err := tx.AppendEntries(first, batch); err != nil {
		return nil, err
	}
	if err := tx.AppendHashes(hashStart, hashes.pend); err != nil {
		return nil, err
	}
	root, err := bulletin.TreeRoot(nv.entries, hashes)
	if err != nil {
		return nil, err
	}
	h, err := bulletin.NextBlock(nv.last, blockTime, uint32(len(batch)), root)
	if err != nil {
		return nil, err
	}
	raw := h.Bytes()
	if err := tx.AppendBlock(h.Height, raw); err != nil {
		return nil, err
	}
	if err := saveRules(tx, nv); err != nil {
		return nil, err
	}
	nv.last, nv.blocks = h, nv.blocks+1
	return &blockEvent{header: h, raw: raw}, nil
}

// cosignKey is the NSCheckpoint key of node's signature on size.
func cosignKey(size uint64, node string) []byte {
	return append(u64(size), node...)
}

// applyCosign verifies and stores one node's checkpoint signature. It is
// deterministic: Ed25519 verification against the manifest's node keys and
// the stored log.
func applyCosign(tx store.WriteTx, nv *view, c *cosignCmd) error {
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
	cp, err := checkpointAt(tx, nv, c.size)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no block ends at size %d", ErrCosignRejected, c.size)
	}
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
	if c.size <= nv.quorumCP {
		return nil
	}
	n := 0
	if err := tx.Scan(store.NSCheckpoint, u64(c.size), func(_, _ []byte) error { n++; return nil }); err != nil {
		return err
	}
	if n >= nv.manifest.quorum {
		nv.quorumCP = c.size
		return tx.Put(store.NSMeta, keyCheckpoint, u64(c.size))
	}
	return nil
}

// checkpointAt rebuilds the unsigned checkpoint of log size size from the
// block ending there.
func checkpointAt(tx store.ReadTx, v *view, size uint64) (*bulletin.Checkpoint, error) {
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
