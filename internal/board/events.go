package board

import (
	"context"
	"sync"
)

// Hub hands committed blocks to subscribers (the API's /events). Publishing
// never blocks the applier: a subscriber more than 256 blocks behind misses
// blocks (it can re-read them with Reader.Blocks).
type Hub struct {
	mu     sync.Mutex
	subs   map[int]chan Block
	next   int
	closed bool
}

func newHub() *Hub { return &Hub{subs: map[int]chan Block{}} }

// Subscribe delivers blocks as they are committed until cancel is called,
// ctx is done or the hub closes (the channel is then closed).
func (h *Hub) Subscribe(ctx context.Context) (<-chan Block, func()) {
	out := make(chan Block, 256)
	in := make(chan Block, 256)
	h.mu.Lock()
	id := h.next
	h.next++
	if h.closed {
		close(in)
	} else {
		h.subs[id] = in
	}
	h.mu.Unlock()
	done := make(chan struct{})
	unsubscribe := func() {
		h.mu.Lock()
		if ch, ok := h.subs[id]; ok {
			delete(h.subs, id)
			close(ch)
		}
		h.mu.Unlock()
	}
	go func() {
		defer close(done)
		defer close(out)
		for {
			select {
			case blk, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- blk:
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
	return out, func() { unsubscribe(); <-done }
}

// publish hands a committed block to every subscriber that has room.
func (h *Hub) publish(blk Block) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- blk:
		default:
		}
	}
}

// close ends every subscription; later ones end at once.
func (h *Hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for id, ch := range h.subs {
		close(ch)
		delete(h.subs, id)
	}
}
