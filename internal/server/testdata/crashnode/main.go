// Command crashnode runs one board node for the crash tests of
// internal/server, with snapshot settings small enough to exercise
// snapshot installs in seconds. It is test support, not a product binary.
package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/server"
)

func main() {
	cfg := server.DefaultConfig()
	var seed string
	var snapThreshold, trailing uint64
	flag.StringVar(&cfg.ID, "id", "", "node id")
	flag.StringVar(&cfg.DataDir, "data", "", "data dir")
	flag.StringVar(&cfg.RaftBind, "raft", "", "raft address")
	flag.StringVar(&cfg.HTTPListen, "http", "", "http address")
	flag.StringVar(&cfg.Join, "join", "", "join URL")
	flag.BoolVar(&cfg.Bootstrap, "bootstrap", false, "bootstrap")
	flag.StringVar(&seed, "key", "", "hex seed")
	flag.Uint64Var(&snapThreshold, "snapshot-threshold", 8192, "")
	flag.Uint64Var(&trailing, "trailing-logs", 4096, "")
	flag.Parse()
	s, err := server.ParseSeed(seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashnode:", err)
		os.Exit(2)
	}
	cfg.SigningKey = ed25519.NewKeyFromSeed(s)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.Replica = func(rc *replica.Config) {
		rc.SnapshotThreshold, rc.TrailingLogs, rc.SnapshotInterval = snapThreshold, trailing, 500*time.Millisecond
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 300*time.Millisecond, 300*time.Millisecond, 150*time.Millisecond
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "crashnode:", err)
		os.Exit(1)
	}
}
