package replica

import (
	"sync"

	"github.com/hashicorp/raft"
)

// sizedLogCache is raft's LogCache for log entries of at most maxCached
// bytes. A store of logs holding a larger one (a command of up to
// Config.MaxCommandBytes) goes straight to the store: the cache's slots
// would otherwise pin the last 1024 entries in memory whatever their size,
// a few large commands among them. GetLog falls back to the store for an
// index its slot does not hold, and raft deletes a conflicting suffix
// (DeleteRange, which empties the cache) before it stores a new one, so a
// slot never holds an older entry at the same index.
//
// The newest large entry alone is kept (large) until keepLarge entries
// follow it. Why: raft reads the entry before each AppendEntries it sends
// (setPreviousLog, for its term), and while a follower catches up after a
// 32 MiB credential list every such read from the store copied 32 MiB: a
// 2²⁰-voter list cost the leader 9.6 GB of allocations in one post.
type sizedLogCache struct {
	*raft.LogCache
	store     raft.LogStore
	maxCached int

	mu    sync.Mutex
	large *raft.Log
}

// keepLarge is how many entries after the newest large one it stays
// cached: the followers' next AppendEntries name it as their previous
// entry until they have caught up past it.
const keepLarge = 64

func newSizedLogCache(store raft.LogStore, slots, maxCached int) (*sizedLogCache, error) {
	c, err := raft.NewLogCache(slots, store)
	if err != nil {
		return nil, err
	}
	return &sizedLogCache{LogCache: c, store: store, maxCached: maxCached}, nil
}

// GetLog implements raft.LogStore.
func (c *sizedLogCache) GetLog(idx uint64, l *raft.Log) error {
	c.mu.Lock()
	large := c.large
	c.mu.Unlock()
	if large != nil && large.Index == idx {
		*l = *large // raft's LogCache shares Data the same way: raft never writes it
		return nil
	}
	return c.LogCache.GetLog(idx, l)
}

// StoreLog implements raft.LogStore.
func (c *sizedLogCache) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

// StoreLogs implements raft.LogStore.
func (c *sizedLogCache) StoreLogs(logs []*raft.Log) error {
	var large *raft.Log
	for _, l := range logs {
		if len(l.Data) > c.maxCached {
			large = l
		}
	}
	if large != nil {
		if err := c.store.StoreLogs(logs); err != nil {
			return err
		}
		c.mu.Lock()
		c.large = large
		c.mu.Unlock()
		return nil
	}
	if err := c.LogCache.StoreLogs(logs); err != nil {
		return err
	}
	if len(logs) > 0 {
		c.mu.Lock()
		if c.large != nil && logs[len(logs)-1].Index > c.large.Index+keepLarge {
			c.large = nil
		}
		c.mu.Unlock()
	}
	return nil
}

// DeleteRange implements raft.LogStore.
func (c *sizedLogCache) DeleteRange(lo, hi uint64) error {
	c.mu.Lock()
	c.large = nil
	c.mu.Unlock()
	return c.LogCache.DeleteRange(lo, hi)
}
