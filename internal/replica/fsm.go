package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"

	"github.com/hashicorp/raft"
)

// FSM is the deterministic state machine replicated by Raft (the board).
// The replica calls ApplyBatch, Snapshot and Restore from one goroutine,
// never concurrently with each other; FSMSnapshot.Persist runs concurrently
// with ApplyBatch.
type FSM interface {
	// ApplyBatch applies the commands carried by one committed Raft log entry
	// at raftIndex, in order, and returns exactly one Result per command (a
	// domain rejection is a Result with Err set, not a panic; a wrong number
	// of results panics the replica).
	//
	// It MUST be deterministic: no clocks, randomness or map iteration order.
	// It MUST store raftIndex atomically with its effects, and MUST treat
	// raftIndex <= AppliedIndex() as already applied (return the results
	// again or a marker; replay must be harmless). It MUST NOT retain cmds
	// after returning: they alias the log entry.
	ApplyBatch(raftIndex uint64, cmds [][]byte) []Result
	// Snapshot captures a point-in-time handle cheaply; Persist streams it
	// later, concurrently with ApplyBatch.
	Snapshot() (raft.FSMSnapshot, error)
	// Restore replaces all state, including the applied index, with the
	// stream written by a snapshot's Persist. It MUST discard previous state.
	Restore(r io.ReadCloser) error
	// AppliedIndex is the last Raft index stored durably by ApplyBatch or
	// Restore. The replica reads it at startup to decide whether restoring
	// the latest snapshot is needed.
	AppliedIndex() uint64
}

// Entry is one committed Raft log entry carrying FSM commands.
type Entry struct {
	// Index is the entry's Raft log index.
	Index uint64
	// Cmds are the entry's commands, in order. They alias the log entry:
	// the FSM MUST NOT retain them after returning.
	Cmds [][]byte
}

// EntriesFSM is an [FSM] that can apply several committed entries at once,
// e.g. in one storage transaction, so that a group costs one disk sync
// instead of one per entry. The replica uses it when the FSM implements it
// and hands it every run of consecutive command entries that raft delivers
// together (split at membership entries); other FSMs get one ApplyBatch call
// per entry.
//
// How raft groups committed entries depends on timing and differs between
// replicas and across restarts, so the grouping MUST NOT be observable:
//
//   - ApplyEntries(es) MUST leave exactly the state that ApplyBatch(e.Index,
//     e.Cmds) for each e in es, in order, would leave, and return the same
//     results. Anything the FSM derives per entry (e.g. a block per entry)
//     stays per entry.
//   - Entries arrive in log order with increasing, not necessarily
//     consecutive, indexes (raft's own entries and membership entries are
//     not passed). An entry with Index <= AppliedIndex() is a replay and
//     MUST be treated as ApplyBatch treats it; the entries after it in the
//     same group are applied. After a crash raft may deliver a group that
//     straddles the applied index.
//   - The effects of the whole group and the last applied index MUST be
//     stored atomically (or at least in log order, each with its index), so
//     that a crash leaves either none or a prefix of the group applied.
//   - It MUST return one []Result per entry, each with one Result per
//     command; a wrong shape panics the replica.
type EntriesFSM interface {
	FSM
	ApplyEntries(entries []Entry) [][]Result
}

// Result is the outcome of one command.
type Result struct {
	// Index is the Raft log index of the entry that carried the command. It
	// is set by the replica; the FSM need not fill it.
	Index uint64
	// Seq is FSM-defined, e.g. the board's sequence number of an accepted
	// entry.
	Seq uint64
	// Value is an FSM-defined output (e.g. an encoded receipt).
	Value []byte
	// Err is a deterministic domain rejection (e.g. an invalid ballot); the
	// command was committed and applied, and rejected by the FSM. It is nil
	// on success. Replication failures are never reported here but as the
	// error return of Submit.
	Err error
}

// fsmAdapter is the raft.FSM: it decodes our framing, hands command entries
// to the user FSM and applies membership entries itself.
type fsmAdapter struct {
	fsm   FSM
	store *boltStore
	log   *slog.Logger

	mu           sync.RWMutex
	members      map[string]string // server ID -> API address
	membersIndex uint64
}

var _ raft.BatchingFSM = (*fsmAdapter)(nil)

// Apply applies one committed entry; see ApplyBatch. raft calls ApplyBatch
// instead, because fsmAdapter is a raft.BatchingFSM.
func (a *fsmAdapter) Apply(l *raft.Log) any {
	return a.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch decodes a run of committed entries (raft.BatchingFSM; raft
// passes up to MaxAppendEntries at once). Consecutive command entries go to
// the FSM together when it is an [EntriesFSM]; a membership entry is applied
// after the command entries before it and before those after it, so every
// store sees the log in order. The response of a command entry is its
// []Result; of a membership entry, nil or an error; of raft's own
// configuration entries, nil.
//
// An entry that does not decode, or an FSM that returns the wrong number of
// results, panics (after the entries before it were applied): continuing
// would let replicas diverge, and the log cannot be skipped without
// breaking the deterministic-replay guarantee.
func (a *fsmAdapter) ApplyBatch(logs []*raft.Log) []any {
	resp := make([]any, len(logs))
	var group []Entry
	var at []int // resp position of group[i]
	flush := func() {
		if len(group) == 0 {
			return
		}
		for i, res := range a.applyEntries(group) {
			resp[at[i]] = res
		}
		group, at = group[:0], at[:0]
	}
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue // raft's configuration entries: raft keeps them itself
		}
		e, err := decodeEntry(l.Data)
		if err != nil {
			flush()
			panic(fmt.Sprintf("replica: committed log entry %d does not decode: %v", l.Index, err))
		}
		switch e.kind {
		case kindCommands:
			group = append(group, Entry{Index: l.Index, Cmds: e.cmds})
			at = append(at, i)
		case kindMembership:
			flush()
			ops := make([]memberOp, len(e.cmds))
			for k, c := range e.cmds {
				if ops[k], err = decodeMemberOp(c); err != nil {
					panic(fmt.Sprintf("replica: committed membership entry %d does not decode: %v", l.Index, err))
				}
			}
			resp[i] = a.applyMembers(l.Index, ops)
		}
	}
	flush()
	return resp
}

// applyEntries hands a run of command entries to the FSM and checks the
// shape of its answer.
func (a *fsmAdapter) applyEntries(group []Entry) [][]Result {
	var out [][]Result
	if bf, ok := a.fsm.(EntriesFSM); ok {
		out = bf.ApplyEntries(group)
		if len(out) != len(group) {
			panic(fmt.Sprintf("replica: FSM returned %d result lists for %d entries at indexes %d..%d", len(out), len(group), group[0].Index, group[len(group)-1].Index))
		}
	} else {
		out = make([][]Result, len(group))
		for i, e := range group {
			out[i] = a.fsm.ApplyBatch(e.Index, e.Cmds)
		}
	}
	for i, e := range group {
		if len(out[i]) != len(e.Cmds) {
			panic(fmt.Sprintf("replica: FSM returned %d results for %d commands at index %d", len(out[i]), len(e.Cmds), e.Index))
		}
	}
	return out
}

func (a *fsmAdapter) applyMembers(index uint64, ops []memberOp) error {
	applied, err := a.store.applyMembers(index, ops)
	if err != nil {
		// The log store's disk failed: the same condition would fail raft's
		// own writes. Stop rather than let this replica's metadata diverge.
		panic(fmt.Sprintf("replica: membership entry %d: %v", index, err))
	}
	if !applied {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, op := range ops {
		switch op.op {
		case opSetAPI:
			a.members[op.id] = op.addr
		case opForget:
			delete(a.members, op.id)
		}
	}
	a.membersIndex = index
	return nil
}

func (a *fsmAdapter) apiAddr(id string) string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.members[id]
}

func (a *fsmAdapter) memberMap() map[string]string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return maps.Clone(a.members)
}

// Snapshot stream layout:
//
//	magic[8]="URNASNP1" fsmIndex:u64 membersIndex:u64 count:u32
//	count*(idLen:u16 id addrLen:u16 addr)      sorted by id
//	FSM stream (written by the FSM snapshot's Persist)
var snapMagic = [8]byte{'U', 'R', 'N', 'A', 'S', 'N', 'P', '1'}

type snapHeader struct {
	fsmIndex     uint64
	membersIndex uint64
	members      map[string]string
}

func (h *snapHeader) encode() []byte {
	b := append([]byte(nil), snapMagic[:]...)
	b = binary.BigEndian.AppendUint64(b, h.fsmIndex)
	b = binary.BigEndian.AppendUint64(b, h.membersIndex)
	b = binary.BigEndian.AppendUint32(b, uint32(len(h.members)))
	for _, id := range sortedKeys(h.members) {
		b = appendString16(b, id)
		b = appendString16(b, h.members[id])
	}
	return b
}

// readSnapHeader reads exactly the header, leaving r at the FSM stream.
func readSnapHeader(r io.Reader) (snapHeader, error) {
	var fixed [8 + 8 + 8 + 4]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return snapHeader{}, fmt.Errorf("replica: snapshot header: %w", err)
	}
	if [8]byte(fixed[:8]) != snapMagic {
		return snapHeader{}, errors.New("replica: snapshot header: bad magic")
	}
	h := snapHeader{
		fsmIndex:     binary.BigEndian.Uint64(fixed[8:]),
		membersIndex: binary.BigEndian.Uint64(fixed[16:]),
		members:      make(map[string]string),
	}
	n := binary.BigEndian.Uint32(fixed[24:])
	for range n {
		id, err := readString16From(r)
		if err != nil {
			return snapHeader{}, err
		}
		addr, err := readString16From(r)
		if err != nil {
			return snapHeader{}, err
		}
		h.members[id] = addr
	}
	return h, nil
}

func readString16From(r io.Reader) (string, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return "", fmt.Errorf("replica: snapshot header: %w", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("replica: snapshot header: %w", err)
	}
	return string(b), nil
}

// Snapshot captures the FSM's handle and a copy of the membership metadata.
// It runs on the FSM goroutine, so both are at the same log index.
func (a *fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	inner, err := a.fsm.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("replica: FSM snapshot: %w", err)
	}
	a.mu.RLock()
	h := snapHeader{fsmIndex: a.fsm.AppliedIndex(), membersIndex: a.membersIndex, members: maps.Clone(a.members)}
	a.mu.RUnlock()
	return &snapshot{inner: inner, header: h.encode()}, nil
}

// Restore installs the membership metadata, then the FSM state.
func (a *fsmAdapter) Restore(rc io.ReadCloser) error {
	h, err := readSnapHeader(rc)
	if err != nil {
		return err
	}
	if err := a.store.replaceMembers(h.members, h.membersIndex); err != nil {
		return err
	}
	a.mu.Lock()
	a.members, a.membersIndex = h.members, h.membersIndex
	a.mu.Unlock()
	if err := a.fsm.Restore(rc); err != nil {
		return fmt.Errorf("replica: FSM restore: %w", err)
	}
	a.log.Info("replica: restored snapshot", "fsm_index", h.fsmIndex, "members", len(h.members))
	return nil
}

type snapshot struct {
	inner  raft.FSMSnapshot
	header []byte
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.header); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("replica: write snapshot header: %w", err)
	}
	return s.inner.Persist(sink)
}

func (s *snapshot) Release() { s.inner.Release() }
