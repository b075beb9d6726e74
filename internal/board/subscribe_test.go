package board

import (
	"context"
	"testing"
	"time"
)

func TestSubscribeDeliversBlocks(t *testing.T) {
	e, c := newLoneNode(t)
	ctx, cancelCtx := context.WithCancel(context.Background())
	defer cancelCtx()
	blocks, cancel := c.leader().board.Subscribe(ctx)
	res := c.mustAccept("manifest", e.ManifestEntry())
	select {
	case bi := <-blocks:
		if bi.Header.Height != res[0].Block || bi.Header.FirstSeq != 0 || bi.Header.Count != 1 || bi.Header.LogSize != 1 {
			t.Fatalf("block event %+v for result %+v", bi, res[0])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no block event")
	}
	cancel()
	if _, ok := <-blocks; ok {
		t.Fatal("channel open after cancel")
	}
	cancel() // idempotent
}
