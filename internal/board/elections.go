package board

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
)

// Many elections per board (SPEC.md §3.14). Each election owns a
// store partition, numbered in creation order from 0; its state is exactly
// the one-election board's *state, read and written through its partition,
// so every per-election rule, read and checkpoint is the code a board with
// one election runs. The FSM routes an entry by its envelope's election
// fingerprint (§3.14.1.3), never by the route it was posted to.

// MaxElections bounds the elections of one board (§3.14.2): a manifest that
// would create one more is refused with ErrBoardFull by every replica.
const MaxElections = 4096

// MaxElectionBytes is the rule's cap on one election's entries, in bytes
// (SPEC.md §3.14.5): an entry that would take an election's byte count
// past it is refused with ErrQuota by every replica.
const MaxElectionBytes = 1 << 34

// maxElectionBytes is MaxElectionBytes; tests of the cap lower it, on
// every replica of the test alike.
var maxElectionBytes uint64 = MaxElectionBytes

var (
	// ErrBoardFull: a manifest would create election MaxElections+1.
	ErrBoardFull = errors.New("board: the board holds the maximum number of elections")
	// ErrUnknownElection: no election of the board has this id.
	ErrUnknownElection = errors.New("board: no such election")
	// ErrArchived: the election is archived (§3.14.3): it accepts no entry.
	ErrArchived = errors.New("board: the election is archived")
	// ErrQuota: the post would take an election or the board past this
	// node's caps (§3.14.5.3, §3.14.5.5); retrying does not help.
	ErrQuota = errors.New("board: quota reached")
)

// boardState is the published state of the whole board: the applied Raft
// index and every election's state, indexed by partition. Like state, a
// boardState is never modified once published.
type boardState struct {
	applied   uint64
	elections []*state         // elections[p].part == p
	byFP      map[[32]byte]int // fingerprint → partition
	byID      map[string]int   // election id → partition
	// versions are the board versions the nodes announced (SPEC.md
	// §3.14.8), by node id; never modified once published.
	versions map[string]uint16
}

// emptyElection is the state of an election not created yet, in partition p.
func emptyElection(p store.Partition) *state {
	return &state{part: p, rules: &bulletin.ElectionState{}}
}

// dflt is the default election (§3.14.1.4): the first created, or an empty
// election in partition 0 on an empty board (today's empty board).
func (b *boardState) dflt() *state { return b.at(0) }

// at is the election in partition p, or an empty election in p when
// there is none.
func (b *boardState) at(p store.Partition) *state {
	if int(p) < len(b.elections) {
		return b.elections[p]
	}
	return emptyElection(p)
}

// byIDOrNext returns the election named id, or an empty election in the
// next free partition when there is none (a manifest posted to a new id
// creates it there, §3.14.2).
func (b *boardState) byIDOrNext(id string) *state {
	if p, ok := b.byID[id]; ok {
		return b.elections[p]
	}
	return emptyElection(store.Partition(len(b.elections)))
}

// withElection returns a copy of b in which election v (new or changed) is
// at v.part. The maps are copied only when an election is added.
func (b *boardState) withElection(v *state) *boardState {
	c := *b
	p := int(v.part)
	c.elections = append(make([]*state, 0, max(len(b.elections), p+1)), b.elections...)
	if p == len(c.elections) {
		c.elections = append(c.elections, v)
		c.byFP = make(map[[32]byte]int, len(b.byFP)+1)
		c.byID = make(map[string]int, len(b.byID)+1)
		for k, x := range b.byFP {
			c.byFP[k] = x
		}
		for k, x := range b.byID {
			c.byID[k] = x
		}
		c.byFP[v.manifest.fingerprint] = p
		c.byID[v.manifest.m.ElectionID] = p
	} else {
		c.elections[p] = v
	}
	return &c
}

// loadBoard reads every election's state from its partition.
func loadBoard(ctx context.Context, st store.Store) (*boardState, error) {
	b := &boardState{byFP: map[[32]byte]int{}, byID: map[string]int{}}
	var parts []store.Partition
	err := st.View(ctx, func(tx store.ReadTx) error {
		var err error
		if b.applied, err = tx.AppliedIndex(); err != nil {
			return err
		}
		if parts, err = tx.Partitions(); err != nil {
			return err
		}
		b.versions, err = loadVersions(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("board: load state: %w", err)
	}
	for i, p := range parts {
		if p != store.Partition(i) {
			return nil, fmt.Errorf("board: load state: partitions %v are not numbered 0, 1, 2, ...", parts)
		}
		v, err := loadState(ctx, partStore{st: st, part: p})
		if err != nil {
			return nil, err
		}
		v.part = p
		if v.manifest == nil {
			if p == 0 && len(parts) == 1 {
				break // an empty board
			}
			return nil, fmt.Errorf("board: load state: partition %d holds no manifest", p)
		}
		if _, dup := b.byID[v.manifest.m.ElectionID]; dup {
			return nil, fmt.Errorf("board: load state: election id %q in two partitions", v.manifest.m.ElectionID)
		}
		b = b.withElection(v)
	}
	return b, nil
}

// partStore is a read view of one partition of a store: View hands fn the
// partition's transaction. It is how the board's per-election parts (the
// Reader, the Submitter's reads, the Cosigner) read an election with the
// one-election code. It cannot write, snapshot or restore.
type partStore struct {
	readOnly
	st   store.Store
	part store.Partition
}

// readOnly is the rest of store.Store for an election's read view.
type readOnly struct{}

var errPartitionView = errors.New("board: an election's view of the store is read-only")

func (readOnly) Update(context.Context, func(store.WriteTx) error) error { return errPartitionView }
func (readOnly) Snapshot(context.Context) (store.Snapshot, error)        { return nil, errPartitionView }
func (readOnly) Restore(context.Context, io.Reader) error                { return errPartitionView }
func (readOnly) Close() error                                            { return nil }

func (p partStore) View(ctx context.Context, fn func(store.ReadTx) error) error {
	return p.st.View(ctx, func(tx store.ReadTx) error { return fn(tx.In(p.part)) })
}

// scope is one election of the board as a stateSource and a store: the
// election named id (the default election when id is ""), resolved at
// every call, so a scope made before its election is created sees it once
// the manifest commits.
type scope struct {
	readOnly
	f  *FSM
	id string
}

func (s scope) current() *state {
	b := s.f.board()
	if s.id == "" {
		return b.dflt()
	}
	return b.byIDOrNext(s.id)
}

func (s scope) appliedIndex() uint64 { return s.f.appliedIndex() }

func (s scope) View(ctx context.Context, fn func(store.ReadTx) error) error {
	return partStore{st: s.f.st, part: s.current().part}.View(ctx, fn)
}

// Scoped is one election of the board with the services of a one-election
// board: reads, posts (checked against the election, §3.14.6.2) and committed
// blocks (Subscribe). Get it from Board.Scope.
type Scoped struct {
	*Reader
	*Submitter
	hub *Hub
	id  string
}

// ID is the election id the scope names.
func (s *Scoped) ID() string { return s.id }

// Subscribe delivers the election's blocks as they are committed (Hub).
func (s *Scoped) Subscribe(ctx context.Context) (<-chan Block, func()) { return s.hub.Subscribe(ctx) }

// scopes caches the board's Scoped values (a Submitter keeps its tally
// cache), each with its election's Hub.
type scopes struct {
	mu   sync.Mutex
	byID map[string]*Scoped
}

// publish hands a committed block of election v to the subscribers of its
// scope, and to the board's Hub for the default election (the un-prefixed
// routes, §3.14.6.3).
func (b *Board) publish(v *state, blk Block) {
	if v.part == 0 {
		b.Hub.publish(blk)
	}
	b.scopes.mu.Lock()
	s := b.scopes.byID[v.manifest.m.ElectionID]
	b.scopes.mu.Unlock()
	if s != nil {
		s.hub.publish(blk)
	}
}

// Scope returns election id of the board, for reads and posts; the
// election need not exist yet: a manifest for id posted through the scope
// creates it (§3.14.2), and reads of it fail with store.ErrNotFound until then
// (Elections lists those that exist). An id that is not a valid election
// id (SPEC.md §4.1) is refused with ErrUnknownElection.
func (b *Board) Scope(id string) (*Scoped, error) {
	if !ballot.ValidElectionID(id) {
		return nil, fmt.Errorf("%w: %q is not a valid election id", ErrUnknownElection, id)
	}
	b.scopes.mu.Lock()
	defer b.scopes.mu.Unlock()
	if s := b.scopes.byID[id]; s != nil {
		return s, nil
	}
	sc := scope{f: b.FSM, id: id}
	sub := newSubmitter(&b.cfg, sc, sc, &b.rep)
	sub.checks = b.Submitter.checks // one pool of proof checkers per node
	sub.shares = b.Submitter.shares // and one pipeline, shared fairly
	sub.route = id
	sub.fsm = b.FSM
	s := &Scoped{Reader: &Reader{cfg: &b.cfg, st: sc, src: sc, applied: b.Reader.applied, tl: b.Reader.tl}, Submitter: sub, hub: newHub(), id: id}
	// Only an election of the board is kept: anyone may post to any id
	// (its manifest may create it), and a cache of every id ever named
	// would grow without bound. A scope made before its election exists
	// works all the same (it resolves the id at every call); only its Hub
	// gets no blocks, and the API serves no events of an unknown id.
	if b.HasElection(id) {
		b.scopes.byID[id] = s
	}
	return s, nil
}

// ElectionInfo is one election of the board's list (§3.14.6).
type ElectionInfo struct {
	ID          string
	Fingerprint [32]byte
	Origin      string
	Phase       bulletin.Phase
	Entries     uint64
	// Attested is the size of the newest checkpoint parties accept
	// (node quorum, and witness quorum where the manifest names witnesses).
	Attested uint64
	Default  bool
	// Archived: the operator archived the election (§3.14.3) when its log
	// held ArchivedAt entries.
	Archived   bool
	ArchivedAt uint64
}

// Elections lists the board's elections in creation order.
func (b *Board) Elections() []ElectionInfo {
	bs := b.FSM.board()
	out := make([]ElectionInfo, 0, len(bs.elections))
	for _, v := range bs.elections {
		out = append(out, ElectionInfo{
			ID: v.manifest.m.ElectionID, Fingerprint: v.manifest.fingerprint, Origin: v.manifest.origin,
			Phase: v.rules.Phase, Entries: v.entries, Attested: v.attestedCP(), Default: v.part == 0,
			Archived: v.archived > 0, ArchivedAt: max(v.archived, 1) - 1,
		})
	}
	return out
}

// HasElection reports whether an election of the board has id.
func (b *Board) HasElection(id string) bool {
	_, ok := b.FSM.board().byID[id]
	return ok
}

// Archive archives election id (SPEC.md §3.14.3): from the
// commit on, the board accepts no entry for it; its log, checkpoints and
// record stay. Archiving an archived election changes nothing. It MUST be
// called on the leader (else an error wrapping replica.ErrNotLeader).
func (b *Board) Archive(ctx context.Context, id string) error {
	p, ok := b.FSM.board().byID[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownElection, id)
	}
	r, err := b.rep.get()
	if err != nil {
		return err
	}
	if !r.IsLeader() {
		lid, api := r.Leader()
		return &replica.NotLeaderError{LeaderID: lid, LeaderAPI: api}
	}
	res, err := r.Submit(ctx, encodeArchiveCmd(b.FSM.board().elections[p].manifest.fingerprint))
	if err != nil {
		return err
	}
	return res.Err
}
