package board

import (
	"context"
	"fmt"
	"sync"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/store"
)

// TypeSpan is what an election's log holds of one entry type: the
// sequence number of the first entry of the type and how many there are.
type TypeSpan struct {
	First, Count uint64
}

// ElectionStatus is the election (Election) with the facts of its timeline: the
// number of its blocks, and the span of each entry type among its
// Election.Entries entries (a type absent from the log is absent).
type ElectionStatus struct {
	*Election
	Blocks uint64
	Types  map[bulletin.EntryType]TypeSpan
}

// timelineChunk is how many entries one read transaction of the count of
// entry types reads (a few MB of ballots): no read transaction lasts long
// even on the first count of a large election's log. Tests lower it.
var timelineChunk uint64 = 4096

// timelines are the board's counts of entry types (timeline), one per
// election's partition, shared by every Reader of the board: the default
// election read through the board's own Reader and through its Scope is
// counted once and held once.
type timelines struct {
	st     store.Store // the whole store; a timeline reads its partition
	mu     sync.Mutex
	byPart map[store.Partition]*timeline
}

func newTimelines(st store.Store) *timelines {
	return &timelines{st: st, byPart: map[store.Partition]*timeline{}}
}

// of returns partition p's timeline, made on first use.
func (ts *timelines) of(p store.Partition) *timeline {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.byPart[p]
	if t == nil {
		t = &timeline{lock: make(chan struct{}, 1), st: partStore{st: ts.st, part: p}}
		ts.byPart[p] = t
	}
	return t
}

// warm counts the entry types of each election of the board (board()'s
// elections when it starts) up to its log's size then, as ElectionStatus
// does, so that the first status after the node starts finds them
// counted; the entries applied meanwhile are left to the next status. It
// holds an election's lock for one chunk of timelineChunk entries at a
// time: a status asked meanwhile waits for that chunk at most, then
// counts the rest itself, and the warm-up moves on. It returns when
// every election is counted, or with the first error (ctx's when it
// ends).
func (ts *timelines) warm(ctx context.Context, board func() *boardState) error {
	for _, e := range board().elections {
		t := ts.of(e.part)
		for done := false; !done; {
			if err := t.acquire(ctx); err != nil {
				return err
			}
			v := board().at(e.part) // with the lock held, as in ElectionStatus
			err := t.advance(ctx, v, timelineChunk)
			done = t.size >= min(e.entries, v.entries)
			<-t.lock
			if err != nil {
				return fmt.Errorf("board: counting the entry types of election %q: %w", e.manifest.m.ElectionID, err)
			}
		}
	}
	return nil
}

// timeline counts an election's entries by type, from where it stopped
// to the log's size at each ElectionStatus: an entry never changes once it is in
// the log, so only the new entries are read. The first count of a
// 1,000,000-entry election (the board's warm-up at start, or the first
// ElectionStatus) reads every entry once, in chunks of timelineChunk
// entries, each in its own read transaction.
type timeline struct {
	// lock is held by the one ElectionStatus (or warm-up chunk) counting;
	// a channel so that those waiting give up with their request.
	lock  chan struct{}
	st    store.Store                     // the election's partition
	size  uint64                          // the entries counted: the log's [0, size)
	types map[bulletin.EntryType]TypeSpan // nil: nothing counted yet
}

// ElectionStatus returns the election (store.ErrNotFound before the manifest)
// with its blocks and entry types counted in the same state of the board
// (SPEC.md §3.2 names the types). Concurrent calls wait for each other;
// the entries counted stay counted when ctx ends during a count.
func (r *Reader) ElectionStatus(ctx context.Context) (*ElectionStatus, error) {
	v := r.src.current()
	for {
		t := r.tl.of(v.part)
		if err := t.acquire(ctx); err != nil {
			return nil, fmt.Errorf("board: status: %w", err)
		}
		// The state is read with the lock held, so its log is at least as
		// long as the one counted (a log only grows).
		p := v.part
		v = r.src.current()
		if v.part == p {
			st, err := r.statusAt(ctx, t, v)
			<-t.lock
			return st, err
		}
		// A scope's election was created in another partition than the one
		// it would have had a moment ago: count that one.
		<-t.lock
	}
}

// statusAt is ElectionStatus of state v, with the lock of v's timeline t held.
func (r *Reader) statusAt(ctx context.Context, t *timeline, v *state) (*ElectionStatus, error) {
	el, err := r.electionAt(ctx, v)
	if err != nil {
		return nil, err
	}
	if err := t.advance(ctx, v, v.entries); err != nil {
		return nil, fmt.Errorf("board: status: %w", err)
	}
	out := &ElectionStatus{Election: el, Blocks: v.blocks, Types: make(map[bulletin.EntryType]TypeSpan, len(t.types))}
	for k, s := range t.types {
		out.Types[k] = s
	}
	return out, nil
}

// acquire takes t's lock, or fails when ctx ends first.
func (t *timeline) acquire(ctx context.Context) error {
	select {
	case t.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// advance counts, with t's lock held, up to n more entries of v's log (v
// read with the lock held), in chunks of timelineChunk entries.
func (t *timeline) advance(ctx context.Context, v *state, n uint64) error {
	if t.types == nil || v.entries < t.size {
		// First count, or a restore that replaced the log.
		t.size, t.types = 0, map[bulletin.EntryType]TypeSpan{}
	}
	to := v.entries
	if to-t.size > n {
		to = t.size + n
	}
	for t.size < to {
		if err := t.count(ctx, min(t.size+timelineChunk, to)); err != nil {
			return err
		}
	}
	return nil
}

// count adds the types of the entries [t.size, to) of the log, read in one
// read transaction, and moves t.size to to. On an error t is unchanged.
func (t *timeline) count(ctx context.Context, to uint64) error {
	add := map[bulletin.EntryType]TypeSpan{}
	next := t.size
	err := t.st.View(ctx, func(tx store.ReadTx) error {
		clear(add)
		next = t.size
		return tx.Entries(t.size, to, func(seq uint64, data []byte) error {
			if seq != next {
				return fmt.Errorf("entry %d read where entry %d was expected", seq, next)
			}
			h, err := bulletin.ReadHeader(data)
			if err != nil {
				return fmt.Errorf("stored entry %d: %w", seq, err)
			}
			s, ok := add[h.Type]
			if !ok {
				s.First = seq
			}
			s.Count++
			add[h.Type] = s
			next++
			return nil
		})
	})
	if err != nil {
		return err
	}
	if next != to {
		return fmt.Errorf("entries %d to %d: %w", next, to, store.ErrNotFound)
	}
	for k, a := range add {
		s, ok := t.types[k]
		if !ok {
			s.First = a.First
		}
		s.Count += a.Count
		t.types[k] = s
	}
	t.size = to
	return nil
}
