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

// timeline counts an election's entries by type, from where it stopped
// to the log's size at each ElectionStatus: an entry never changes once it is in
// the log, so only the new entries are read. The first ElectionStatus of a
// 1,000,000-entry election reads every entry once, in chunks of
// timelineChunk entries, each in its own read transaction.
type timeline struct {
	// lock is held by the one ElectionStatus counting; a channel so that those
	// waiting give up with their request (made once: the zero timeline
	// is ready to use).
	once  sync.Once
	lock  chan struct{}
	part  store.Partition
	size  uint64                          // the entries counted: the log's [0, size)
	types map[bulletin.EntryType]TypeSpan // nil: nothing counted yet
}

// ElectionStatus returns the election (store.ErrNotFound before the manifest)
// with its blocks and entry types counted in the same state of the board
// (SPEC.md §3.2 names the types). Concurrent calls wait for each other;
// the entries counted stay counted when ctx ends during a count.
func (r *Reader) ElectionStatus(ctx context.Context) (*ElectionStatus, error) {
	t := &r.tl
	if err := t.acquire(ctx); err != nil {
		return nil, fmt.Errorf("board: status: %w", err)
	}
	defer func() { <-t.lock }()
	// The state is read with the lock held, so its log is at least as
	// long as the one counted (a log only grows).
	v := r.src.current()
	el, err := r.electionAt(ctx, v)
	if err != nil {
		return nil, err
	}
	if t.types == nil || t.part != v.part || v.entries < t.size {
		// First count, or a restore that replaced the log.
		t.part, t.size, t.types = v.part, 0, map[bulletin.EntryType]TypeSpan{}
	}
	for t.size < v.entries {
		if err := t.count(ctx, r.st, min(t.size+timelineChunk, v.entries)); err != nil {
			return nil, fmt.Errorf("board: status: %w", err)
		}
	}
	out := &ElectionStatus{Election: el, Blocks: v.blocks, Types: make(map[bulletin.EntryType]TypeSpan, len(t.types))}
	for k, s := range t.types {
		out.Types[k] = s
	}
	return out, nil
}

// acquire takes t's lock, or fails when ctx ends first.
func (t *timeline) acquire(ctx context.Context) error {
	t.once.Do(func() { t.lock = make(chan struct{}, 1) })
	select {
	case t.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// count adds the types of the entries [t.size, to) of the log, read in one
// read transaction, and moves t.size to to. On an error t is unchanged.
func (t *timeline) count(ctx context.Context, st store.Store, to uint64) error {
	add := map[bulletin.EntryType]TypeSpan{}
	next := t.size
	err := st.View(ctx, func(tx store.ReadTx) error {
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
