package cover

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		size, seq uint64
		want      bool
	}{{0, 0, false}, {1, 0, true}, {1, 1, false}, {10, 9, true}, {10, 10, false}, {^uint64(0), ^uint64(0) - 1, true}} {
		if got := Covers(c.size, c.seq); got != c.want {
			t.Errorf("Covers(%d, %d) = %v, want %v", c.size, c.seq, got, c.want)
		}
	}
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	n := uint64(0)
	size, err := Wait(ctx, 3, 5*time.Second, func(context.Context) (uint64, error) { n++; return n, nil })
	if err != nil || size != 4 {
		t.Fatalf("Wait = %d, %v; want 4, nil", size, err)
	}
	boom := errors.New("boom")
	if _, err := Wait(ctx, 3, time.Second, func(context.Context) (uint64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("probe error: got %v", err)
	}
	start := time.Now()
	size, err = Wait(ctx, 3, 60*time.Millisecond, func(context.Context) (uint64, error) { return 2, nil })
	if !errors.Is(err, ErrTimeout) || size != 2 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("timeout: got %d, %v after %v", size, err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Wait(cctx, 3, time.Minute, func(context.Context) (uint64, error) { return 0, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
}
