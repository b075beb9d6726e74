package board

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
)

var _ httpapi.Backend = (*Board)(nil)

// maxSubmitBytes bounds the framed commands of one SubmitBatch call; larger
// submissions are split into several Raft entries, in order.
const maxSubmitBytes = 512 << 10

// Submit implements httpapi.Backend: decode, pre-check (batched), propose
// the valid entries in one Raft entry (one block) and wait for the commit.
func (b *Board) Submit(ctx context.Context, entries [][]byte) ([]httpapi.SubmitResult, error) {
	r, err := b.replica()
	if err != nil {
		return nil, err
	}
	if !r.IsLeader() {
		id, api := r.Leader()
		return nil, &replica.NotLeaderError{LeaderID: id, LeaderAPI: api}
	}
	out := make([]httpapi.SubmitResult, len(entries))
	parsed := make([]*bulletin.Entry, 0, len(entries))
	pos := make([]int, 0, len(entries))
	for i, raw := range entries {
		id := bulletin.EntryID(raw)
		out[i].ID = hex.EncodeToString(id[:])
		e, err := bulletin.ParseEntry(raw)
		if err != nil {
			out[i].Err = fmt.Errorf("entry %d: %w", i, err)
			continue
		}
		parsed = append(parsed, e)
		pos = append(pos, i)
	}
	v := b.currentView()
	// Proof checks use every core; a request that cannot start its
	// checks within MaxCheckWait is refused as overload (503 with
	// Retry-After) instead of queueing until its own timeout.
	wait := time.NewTimer(b.cfg.MaxCheckWait)
	defer wait.Stop()
	select {
	case b.checks <- struct{}{}:
	case <-wait.C:
		return nil, fmt.Errorf("board: the node's %d proof checkers stayed busy for %v: %w", cap(b.checks), b.cfg.MaxCheckWait, replica.ErrOverloaded)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	errs := b.preCheck(v, parsed)
	<-b.checks
	now := uint64(b.cfg.Now().UnixMilli())
	var cmds [][]byte
	var cmdPos []int
	for k := range parsed {
		i := pos[k]
		if errs[k] != nil {
			out[i].Err = fmt.Errorf("entry %d: %w", i, errs[k])
			continue
		}
		cmds = append(cmds, encodeEntriesCmd(now, [][]byte{entries[i]}))
		cmdPos = append(cmdPos, i)
	}
	for len(cmds) > 0 {
		n, size := 0, 0
		for n < len(cmds) && (n == 0 || size+len(cmds[n]) <= maxSubmitBytes) {
			size += len(cmds[n]) + 4
			n++
		}
		res, err := r.SubmitBatch(ctx, cmds[:n])
		if err != nil {
			return nil, err
		}
		for k, rr := range res {
			i := cmdPos[k]
			if rr.Err != nil {
				out[i].Err = fmt.Errorf("entry %d: %w", i, rr.Err)
				continue
			}
			out[i].Seq = rr.Seq
			out[i].Block, out[i].Tracker = decodeValue(rr.Value)
		}
		cmds, cmdPos = cmds[n:], cmdPos[n:]
	}
	return out, nil
}

// decodeValue reads the first entry's block height and tracker from an
// entries command's Result.Value.
func decodeValue(v []byte) (height uint64, tracker string) {
	if len(v) < 9 {
		return 0, ""
	}
	height = binary.BigEndian.Uint64(v)
	n := int(v[8])
	if n > 0 && len(v) >= 9+n {
		tracker = hex.EncodeToString(v[9 : 9+n])
	}
	return height, tracker
}

// LeaderAPI implements httpapi.Backend.
func (b *Board) LeaderAPI() string {
	r, err := b.replica()
	if err != nil {
		return ""
	}
	_, api := r.Leader()
	return api
}

// Health implements httpapi.Backend.
func (b *Board) Health(context.Context) (*httpapi.Health, error) {
	h := &httpapi.Health{Status: "ok", Node: b.cfg.NodeID, Applied: b.AppliedIndex(), Role: "detached"}
	if r, err := b.replica(); err == nil {
		s := r.Stats()
		h.Leader = s.LeaderID
		h.Role = strings.ToLower(s.State)
		h.Applied = b.AppliedIndex()
	}
	return h, nil
}

// Election implements httpapi.Backend.
func (b *Board) Election(context.Context) (*httpapi.ElectionStatus, error) {
	v := b.currentView()
	if v.manifest == nil {
		return nil, fmt.Errorf("board: no manifest yet: %w", store.ErrNotFound)
	}
	m := v.manifest.m
	es := &httpapi.ElectionStatus{
		ElectionID:  m.ElectionID,
		Title:       m.Title,
		Fingerprint: hex.EncodeToString(v.manifest.fingerprint[:]),
		Manifest:    v.manifest.raw,
		Counts:      httpapi.Counts{Entries: v.entries},
		Phase:       bulletin.PhaseSetup.String(),
		Trustees:    []httpapi.TrusteeStatus{},
		Nodes:       []string{},
	}
	for _, n := range m.BoardNodes {
		es.Nodes = append(es.Nodes, n.ID)
	}
	st := v.rules.st
	if st != nil && st.Phase != bulletin.PhaseEmpty {
		es.Phase = st.Phase.String()
		es.Counts.Ballots, es.Counts.Audited, es.Counts.Credentials = st.Ballots, st.Audited, st.Credentials
		if st.JointKey != [32]byte{} {
			es.JointKey = hex.EncodeToString(st.JointKey[:])
		}
	}
	qualified := map[int]bool{}
	if st != nil {
		for _, q := range st.Qualified {
			qualified[int(q)] = true
		}
	}
	for i, t := range m.Trustees {
		ts := httpapi.TrusteeStatus{Index: i + 1, Name: t.Name, Qualified: qualified[i+1]}
		if st != nil && i < len(st.Trustees) {
			ts.Dealt, ts.Decrypted = st.Trustees[i].Dealt, st.Trustees[i].Partial
		}
		es.Trustees = append(es.Trustees, ts)
	}
	if j, err := json.Marshal(m.JSON()); err == nil {
		es.View = j
	}
	return es, nil
}

// Entries implements httpapi.Backend.
func (b *Board) Entries(ctx context.Context, from uint64, limit int) ([]httpapi.EntryInfo, error) {
	v := b.currentView()
	if limit <= 0 || from >= v.entries {
		return []httpapi.EntryInfo{}, nil
	}
	to := min(from+uint64(limit), v.entries)
	out := make([]httpapi.EntryInfo, 0, to-from)
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		blk, err := findBlock(tx, v.blocks, from)
		if err != nil {
			return err
		}
		return tx.Entries(from, to, func(seq uint64, data []byte) error {
			for seq >= blk.LogSize {
				if blk, err = readBlock(tx, blk.Height+1); err != nil {
					return err
				}
			}
			info, err := entryInfo(seq, data, blk.Height)
			if err != nil {
				return err
			}
			out = append(out, *info)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("board: entries: %w", err)
	}
	return out, nil
}

func entryInfo(seq uint64, data []byte, height uint64) (*httpapi.EntryInfo, error) {
	e, err := bulletin.ParseEntry(data)
	if err != nil {
		return nil, fmt.Errorf("stored entry %d: %w", seq, err)
	}
	id := bulletin.EntryID(data)
	ak := e.AuthorKey()
	info := &httpapi.EntryInfo{
		Seq: seq, ID: hex.EncodeToString(id[:]), Type: e.Type.String(),
		Author: hex.EncodeToString(ak[:]), Block: height, Entry: data,
	}
	s := seq
	if j, err := json.Marshal(e.View(&s, bodyViewer)); err == nil {
		info.View = j
	}
	return info, nil
}

// Blocks implements httpapi.Backend.
func (b *Board) Blocks(ctx context.Context, from uint64, limit int) ([]httpapi.BlockInfo, error) {
	v := b.currentView()
	if limit <= 0 || from >= v.blocks {
		return []httpapi.BlockInfo{}, nil
	}
	to := min(from+uint64(limit), v.blocks)
	out := make([]httpapi.BlockInfo, 0, to-from)
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		for h := from; h < to; h++ {
			raw, err := tx.Block(h)
			if err != nil {
				return err
			}
			hd, err := bulletin.ParseBlockHeader(raw)
			if err != nil {
				return err
			}
			out = append(out, blockInfo(hd, raw))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: blocks: %w", err)
	}
	return out, nil
}

func blockInfo(h *bulletin.BlockHeader, raw []byte) httpapi.BlockInfo {
	hash := h.Hash()
	return httpapi.BlockInfo{
		Height: h.Height, Hash: hex.EncodeToString(hash[:]), Prev: hex.EncodeToString(h.Prev[:]),
		Time: int64(h.Time), FirstSeq: h.FirstSeq, Count: h.Count, LogSize: h.LogSize,
		LogRoot: hex.EncodeToString(h.LogRoot[:]), Header: raw,
	}
}

// Checkpoint implements httpapi.Backend: the newest checkpoint with a quorum
// of cosignatures, or, before there is one, the newest block's checkpoint
// with the signatures collected so far (this node's own at least).
func (b *Board) Checkpoint(ctx context.Context) (*httpapi.CheckpointInfo, error) {
	v := b.currentView()
	if v.manifest == nil || v.last == nil {
		return nil, fmt.Errorf("board: no checkpoint yet: %w", store.ErrNotFound)
	}
	size := v.quorumCP
	if size == 0 {
		size = v.last.LogSize
	}
	var note []byte
	var signers []string
	var cp *bulletin.Checkpoint
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		if note, signers, err = signedCheckpoint(tx, v, size); err != nil {
			return err
		}
		cp, err = checkpointAt(tx, v, size)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("board: checkpoint: %w", err)
	}
	if len(signers) == 0 && b.cfg.Key != nil {
		signer, err := bulletin.NodeSigner(b.cfg.NodeID, b.cfg.Key)
		if err != nil {
			return nil, err
		}
		if note, err = bulletin.SignCheckpoint(cp, signer); err != nil {
			return nil, err
		}
		signers = []string{b.cfg.NodeID}
	}
	return &httpapi.CheckpointInfo{Size: size, Root: hex.EncodeToString(cp.Root[:]), Note: string(note), Signers: signers}, nil
}

// InclusionProof implements httpapi.Backend.
func (b *Board) InclusionProof(ctx context.Context, seq, size uint64) (*httpapi.InclusionInfo, error) {
	v := b.currentView()
	if size == 0 || size > v.entries || seq >= size {
		return nil, fmt.Errorf("board: no inclusion proof of %d in size %d (log size %d): %w", seq, size, v.entries, store.ErrNotFound)
	}
	var info *httpapi.InclusionInfo
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		data, err := tx.Entry(seq)
		if err != nil {
			return err
		}
		p, err := bulletin.ProveInclusion(seq, size, hashReader{tx})
		if err != nil {
			return err
		}
		leaf := bulletin.LeafHash(data)
		info = &httpapi.InclusionInfo{Seq: seq, Size: size, LeafHash: hex.EncodeToString(leaf[:]), Proof: hexHashes(p.Hashes)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: inclusion proof: %w", err)
	}
	return info, nil
}

// ConsistencyProof implements httpapi.Backend.
func (b *Board) ConsistencyProof(ctx context.Context, from, to uint64) (*httpapi.ConsistencyInfo, error) {
	v := b.currentView()
	if from == 0 || from > to || to > v.entries {
		return nil, fmt.Errorf("board: no consistency proof from %d to %d (log size %d): %w", from, to, v.entries, store.ErrNotFound)
	}
	var info *httpapi.ConsistencyInfo
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		p, err := bulletin.ProveConsistency(from, to, hashReader{tx})
		if err != nil {
			return err
		}
		info = &httpapi.ConsistencyInfo{From: from, To: to, Proof: hexHashes(p.Hashes)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: consistency proof: %w", err)
	}
	return info, nil
}

// Receipt implements httpapi.Backend (SPEC.md §3.10): the entry, the newest
// checkpoint signed by a quorum, which covers the entry, and the inclusion
// proof. ErrNoCheckpoint (wrapping store.ErrNotFound) until the quorum
// checkpoint covers seq.
func (b *Board) Receipt(ctx context.Context, seq uint64) (*httpapi.ReceiptInfo, error) {
	v := b.currentView()
	if seq >= v.entries {
		return nil, fmt.Errorf("board: entry %d: %w", seq, store.ErrNotFound)
	}
	if v.quorumCP <= seq {
		return nil, fmt.Errorf("%w covering entry %d: %w", ErrNoCheckpoint, seq, store.ErrNotFound)
	}
	var info *httpapi.ReceiptInfo
	err := b.st.View(ctx, func(tx store.ReadTx) error {
		data, err := tx.Entry(seq)
		if err != nil {
			return err
		}
		note, _, err := signedCheckpoint(tx, v, v.quorumCP)
		if err != nil {
			return err
		}
		p, err := bulletin.ProveInclusion(seq, v.quorumCP, hashReader{tx})
		if err != nil {
			return err
		}
		rc := &bulletin.Receipt{Entry: data, Seq: seq, Checkpoint: note, Proof: p.Hashes}
		info = &httpapi.ReceiptInfo{Receipt: rc.Bytes(), Checkpoint: string(note)}
		if e, err := bulletin.ParseEntry(data); err == nil {
			if tr, _, err := bodyViewer(e.Type, e.Body); err == nil && tr != nil {
				info.Tracker = hex.EncodeToString(tr)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("board: receipt: %w", err)
	}
	return info, nil
}

// Subscribe implements httpapi.Backend. A subscriber that falls more than
// 256 blocks behind misses blocks (it can re-read them with Blocks).
func (b *Board) Subscribe(ctx context.Context) (<-chan httpapi.BlockInfo, func()) {
	out := make(chan httpapi.BlockInfo, 256)
	in := make(chan blockEvent, 256)
	b.subMu.Lock()
	id := b.subID
	b.subID++
	select {
	case <-b.stop:
		close(in)
	default:
		b.subs[id] = in
	}
	b.subMu.Unlock()
	done := make(chan struct{})
	unsubscribe := func() {
		b.subMu.Lock()
		if ch, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(ch)
		}
		b.subMu.Unlock()
	}
	cancel := func() {
		unsubscribe()
		<-done
	}
	go func() {
		defer close(done)
		defer close(out)
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- blockInfo(ev.header, ev.raw):
				case <-ctx.Done():
					unsubscribe()
					return
				}
			case <-ctx.Done():
				unsubscribe()
				return
			}
		}
	}()
	return out, cancel
}

// publish hands a committed block to the subscribers without blocking the
// applier: a full subscriber misses it.
func (b *Board) publish(ev blockEvent) {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// Cluster implements httpapi.Backend.
func (b *Board) Cluster(context.Context) (*httpapi.ClusterInfo, error) {
	r, err := b.replica()
	if err != nil {
		return nil, err
	}
	servers, err := r.Servers()
	if err != nil {
		return nil, err
	}
	id, _ := r.Leader()
	ci := &httpapi.ClusterInfo{Leader: id, Servers: []httpapi.ServerInfo{}}
	for _, s := range servers {
		ci.Servers = append(ci.Servers, httpapi.ServerInfo{ID: s.ID, RaftAddr: s.RaftAddr, APIAddr: s.APIAddr, Suffrage: s.Suffrage, Leader: s.Leader})
	}
	return ci, nil
}

// Join implements httpapi.Backend.
func (b *Board) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	r, err := b.replica()
	if err != nil {
		return err
	}
	return r.Join(ctx, id, raftAddr, apiAddr)
}

// Remove implements httpapi.Backend.
func (b *Board) Remove(ctx context.Context, id string) error {
	r, err := b.replica()
	if err != nil {
		return err
	}
	return r.Remove(ctx, id)
}

func hexHashes[H ~[32]byte](hs []H) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}
