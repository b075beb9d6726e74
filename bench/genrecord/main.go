// Command genrecord writes a valid election record of the benchmark shape
// (one question, choose 1 of 5; 3 trustees, threshold 2; 3 board nodes),
// built in process by internal/testonly with deterministic keys, for
// timing `urna verify FILE` and the client benchmarks on large elections:
//
//	go run ./bench/genrecord -ballots 100000 -o /tmp/urna-1of5-100000.rec
//
// Every voter casts one ballot. The record is built in memory (about 2 KB
// per ballot twice over), so a million ballots needs several GB.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/urna-vote/urna/internal/testonly"
)

func main() {
	n := flag.Int("ballots", 1000, "number of voters, each casting one ballot")
	out := flag.String("o", "", "output record file")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genrecord: error: -o FILE is required")
		os.Exit(2)
	}
	start := time.Now()
	// A nil testing.TB makes the fixture panic on failure.
	e := testonly.Build(nil, fmt.Sprintf("bench-1of5-%d", *n), testonly.OneOfFive(*n))
	if err := os.WriteFile(*out, e.Record(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genrecord: error:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genrecord: %d ballots in %s, built in %.1f s\n", *n, *out, time.Since(start).Seconds())
}
