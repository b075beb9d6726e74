// Command verifyheap verifies a record file with client.VerifyElectionRecord
// and writes the heap profile taken when the live heap was largest
// (sampled every 200 ms after a GC), for bench/README.md's memory figures:
//
//	go run ./bench/verifyheap -o heap.prof FILE
//	go tool pprof -sample_index=inuse_space -top heap.prof
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/urna-vote/urna/client"
)

func main() {
	out := flag.String("o", "heap.prof", "heap profile output (FILE.end: the heap at the end of the verification)")
	every := flag.Duration("every", 200*time.Millisecond, "sampling period of the largest heap (0: only the end)")
	flag.Parse()
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifyheap: error:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var best bytes.Buffer
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if *every <= 0 {
			<-stop
			return
		}
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				mu.Lock()
				peak = ms.HeapAlloc
				best.Reset()
				pprof.Lookup("heap").WriteTo(&best, 0)
				mu.Unlock()
			}
		}
	}()
	start := time.Now()
	// The last progress call comes from the end of the verification, with
	// all of the verifier's state still live: profile it there too.
	var final bytes.Buffer
	var finalHeap uint64
	progress := func(step string, done, total int) {
		if done != total || total == 0 || final.Len() > 0 {
			return
		}
		runtime.GC()
		runtime.GC() // the profile describes the heap as of the previous cycle
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		finalHeap = ms.HeapAlloc
		pprof.Lookup("heap").WriteTo(&final, 0)
	}
	rep, err := client.VerifyElectionRecord(bufio.NewReaderSize(f, 1<<20), client.VerifyOptions{Progress: progress})
	close(stop)
	<-done
	fmt.Fprintf(os.Stderr, "verifyheap: %v in %.1f s, ok %v, live heap: largest sampled %d MB, at the end %d MB\n",
		err, time.Since(start).Seconds(), rep != nil && rep.OK(), peak>>20, finalHeap>>20)
	os.WriteFile(*out, best.Bytes(), 0o644)
	os.WriteFile(*out+".end", final.Bytes(), 0o644)
}
