// Command urna runs Urna board nodes and every party's part in an election.
// See `urna help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		reportError(os.Stderr, err)
		os.Exit(1)
	}
}
