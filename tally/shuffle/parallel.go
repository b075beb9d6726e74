package shuffle

import (
	"runtime"
	"sync"
)

// chunks returns how many pieces forChunks splits n items into: one per
// available CPU, and none smaller than minChunk items.
func chunks(n int) int {
	const minChunk = 16
	return max(1, min(runtime.GOMAXPROCS(0), n/minChunk))
}

// forChunks calls f(c, lo, hi) for the k pieces [lo, hi) of [0, n), in
// parallel, and returns when all have returned. Results must not depend on
// k: callers combine per-piece results in piece order with commutative
// operations (group additions).
func forChunks(n, k int, f func(c, lo, hi int)) {
	if k <= 1 {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for c := range k {
		wg.Go(func() { f(c, c*n/k, (c+1)*n/k) })
	}
	wg.Wait()
}
