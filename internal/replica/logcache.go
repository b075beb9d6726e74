package replica

import "github.com/hashicorp/raft"

// sizedLogCache is raft's LogCache for log entries of at most maxCached
// bytes. A store of logs holding a larger one (a command of up to
// Config.MaxCommandBytes) goes straight to the store: the cache's slots
// would otherwise pin the last 1024 entries in memory whatever their size,
// a few large commands among them. GetLog falls back to the store for an
// index its slot does not hold, and raft deletes a conflicting suffix
// (DeleteRange, which empties the cache) before it stores a new one, so a
// slot never holds an older entry at the same index.
type sizedLogCache struct {
	*raft.LogCache
	store     raft.LogStore
	maxCached int
}

func newSizedLogCache(store raft.LogStore, slots, maxCached int) (*sizedLogCache, error) {
	c, err := raft.NewLogCache(slots, store)
	if err != nil {
		return nil, err
	}
	return &sizedLogCache{LogCache: c, store: store, maxCached: maxCached}, nil
}

// StoreLog implements raft.LogStore.
func (c *sizedLogCache) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

// StoreLogs implements raft.LogStore.
func (c *sizedLogCache) StoreLogs(logs []*raft.Log) error {
	for _, l := range logs {
		if len(l.Data) > c.maxCached {
			return c.store.StoreLogs(logs)
		}
	}
	return c.LogCache.StoreLogs(logs)
}
