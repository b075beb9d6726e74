package replica

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestLargeCommands: commands larger than MaxBatchBytes, up to
// MaxCommandBytes, are committed on every node, each alone in its log
// entry, while small commands go on being grouped; several submitted at
// once take turns. A batch of several commands beyond MaxBatchBytes, and
// a command beyond MaxCommandBytes, are still refused with ErrTooLarge.
func TestLargeCommands(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.MaxBatchBytes, cfg.MaxCommandBytes = 64<<10, 1<<20 })
	l := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type acked struct {
		cmd []byte
		res Result
	}
	var mu sync.Mutex
	var got []acked
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			size := 10
			if i%2 == 0 {
				size = 1<<20 - 100*i // large, each a different size
			}
			cmd := bytes.Repeat([]byte{byte('a' + i)}, size)
			res, err := l.Submit(ctx, cmd)
			if err != nil || res.Err != nil {
				t.Errorf("command %d (%d bytes): %v, %v", i, size, err, res.Err)
				return
			}
			mu.Lock()
			got = append(got, acked{cmd, res})
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.SortFunc(got, func(a, b acked) int { return int(a.res.Seq) - int(b.res.Seq) })
	var want [][]byte
	perIndex := map[uint64]int{}
	for _, a := range got {
		want = append(want, a.cmd)
		perIndex[a.res.Index]++
	}
	for _, a := range got {
		if len(a.cmd) > 64<<10 && perIndex[a.res.Index] != 1 {
			t.Fatalf("a large command shares its log entry %d with %d others", a.res.Index, perIndex[a.res.Index]-1)
		}
	}
	c.waitAgree(want)

	two := [][]byte{make([]byte, 40<<10), make([]byte, 40<<10)}
	if _, err := l.SubmitBatch(ctx, two); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a batch of two beyond MaxBatchBytes: %v, want ErrTooLarge", err)
	}
	if _, err := l.Submit(ctx, make([]byte, 1<<20+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a command beyond MaxCommandBytes: %v, want ErrTooLarge", err)
	}
}

// TestLargeCommandsOff: with MaxCommandBytes 0, no command larger than a
// batch is accepted (the behaviour before large commands).
func TestLargeCommandsOff(t *testing.T) {
	c := newCluster(t, 1, func(cfg *Config) { cfg.MaxBatchBytes, cfg.MaxCommandBytes = 64<<10, 0 })
	if _, err := c.leader().Submit(context.Background(), make([]byte, 64<<10)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a command beyond MaxBatchBytes: %v, want ErrTooLarge", err)
	}
}

// countingStore counts GetLog calls that reach the store.
type countingStore struct {
	raft.LogStore
	gets int
}

func (s *countingStore) GetLog(i uint64, l *raft.Log) error { s.gets++; return s.LogStore.GetLog(i, l) }

// TestSizedLogCache: small entries are served from the cache; large ones
// never enter its slots: the newest large entry alone is served from
// memory until keepLarge entries follow it (raft reads it before every
// AppendEntries while followers catch up), then from the store. All read
// back exactly, and a deleted range drops the kept one.
func TestSizedLogCache(t *testing.T) {
	st := &countingStore{LogStore: raft.NewInmemStore()}
	c, err := newSizedLogCache(st, 16, 100)
	if err != nil {
		t.Fatal(err)
	}
	small := &raft.Log{Index: 1, Term: 1, Data: []byte("small")}
	large := &raft.Log{Index: 2, Term: 1, Data: bytes.Repeat([]byte("L"), 101)}
	if err := c.StoreLogs([]*raft.Log{small}); err != nil {
		t.Fatal(err)
	}
	if err := c.StoreLog(large); err != nil {
		t.Fatal(err)
	}
	read := func(want *raft.Log, fromStore bool) {
		t.Helper()
		var l raft.Log
		before := st.gets
		if err := c.GetLog(want.Index, &l); err != nil || !bytes.Equal(l.Data, want.Data) || l.Term != want.Term {
			t.Fatalf("log %d: %v, %q", want.Index, err, l.Data)
		}
		if got := st.gets > before; got != fromStore {
			t.Fatalf("log %d of %d bytes read from the store: %v, want %v", want.Index, len(want.Data), got, fromStore)
		}
	}
	read(small, false)
	read(large, false) // the newest large entry, kept
	for i := uint64(3); i <= 2+keepLarge; i++ {
		if err := c.StoreLog(&raft.Log{Index: i, Term: 1, Data: []byte("s")}); err != nil {
			t.Fatal(err)
		}
	}
	read(large, false)
	if err := c.StoreLog(&raft.Log{Index: 3 + keepLarge, Term: 1, Data: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	read(large, true) // keepLarge entries after it: no longer kept

	// A newer large entry replaces it; a deleted range drops it.
	newer := &raft.Log{Index: 4 + keepLarge, Term: 2, Data: bytes.Repeat([]byte("N"), 200)}
	if err := c.StoreLog(newer); err != nil {
		t.Fatal(err)
	}
	read(newer, false)
	read(large, true)
	if err := c.DeleteRange(newer.Index, newer.Index); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := c.GetLog(newer.Index, &l); err == nil {
		t.Fatalf("a deleted large entry is still served: %d bytes", len(l.Data))
	}
}
