package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/web"
)

// webFS is the web client (booth, explorer, results) served at "/" by
// `urna node` and `urna demo --serve`, embedded in the binary.
var webFS fs.FS = web.FS()

// startNode runs a node until ctx is done (a seam for tests).
var startNode = server.Run

func init() {
	register(&command{
		name:    "node",
		summary: "run a board node (Raft replica, HTTP API, web client)",
		usage:   "--id ID --data DIR --key-file FILE (--bootstrap | --join URL) [flags]",
		help: `Runs one node of the replicated bulletin board until interrupted. The first
node of a new cluster starts with --bootstrap; the others join it with
--join http://FIRST-NODE:PORT. The node's Ed25519 checkpoint signing key is
read from --key-file (create one with 'urna node-key') or from the
environment variable named by --key-env.

Example (three nodes on one machine):
  urna node --id n1 --data n1 --key-file n1.key --bootstrap --raft 127.0.0.1:7001 --http 127.0.0.1:8001
  urna node --id n2 --data n2 --key-file n2.key --join http://127.0.0.1:8001 --raft 127.0.0.1:7002 --http 127.0.0.1:8002`,
		flags:   nodeFlags,
		actions: nodeActions(),
	})
	register(&command{
		name:    "node-key",
		summary: "create a board node's checkpoint signing key",
		usage:   "-o FILE",
		help: `Writes a new Ed25519 signing key (owner-only permissions; an existing file is
never replaced) and prints its public key, which the election manifest lists
among the board nodes.`,
		flags: nodeKeyFlags,
	})
}

type nodeOpts struct {
	cfg       server.Config
	keyFile   string
	tokenFile string
	logLevel  string
	logFormat string
	noWeb     bool
	// Raft snapshot tuning (0: the replica's defaults).
	snapThreshold uint64
	snapInterval  time.Duration
	trailingLogs  uint64
	// Raft timing (0: the replica's defaults).
	heartbeat, election, lease time.Duration
}

func nodeFlags(fs *flag.FlagSet) action {
	o := &nodeOpts{cfg: server.DefaultConfig()}
	fs.StringVar(&o.cfg.ID, "id", "", "node `ID` (stable; as listed in the manifest)")
	fs.StringVar(&o.cfg.DataDir, "data", "", "data `directory` (Raft log, snapshots, bolt store)")
	fs.StringVar(&o.cfg.RaftBind, "raft", o.cfg.RaftBind, "Raft listen `address`")
	fs.StringVar(&o.cfg.RaftAdvertise, "raft-advertise", "", "Raft `address` peers dial (default: --raft)")
	fs.StringVar(&o.cfg.HTTPListen, "http", o.cfg.HTTPListen, "HTTP API listen `address`")
	fs.StringVar(&o.cfg.HTTPAdvertise, "http-advertise", "", "API base `URL` peers and clients use (default: http://<--http>)")
	fs.BoolVar(&o.cfg.Bootstrap, "bootstrap", false, "form a new cluster with this node as its first member")
	fs.StringVar(&o.cfg.Join, "join", "", "join the cluster through the member whose API is at `URL`")
	fs.StringVar(&o.cfg.Store, "store", o.cfg.Store, "state store: \"bolt\" or a PostgreSQL `URL` (postgres://…)")
	fs.StringVar(&o.cfg.PostgresSchema, "pg-schema", "", "PostgreSQL `schema` for this node's tables")
	fs.StringVar(&o.keyFile, "key-file", "", "checkpoint signing key `file` (owner-only permissions)")
	fs.StringVar(&o.cfg.SigningKeyEnv, "key-env", "", "read the signing key from environment `variable` instead")
	fs.StringVar(&o.tokenFile, "cluster-token-file", "", "`file` holding the cluster token (owner-only permissions)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	fs.BoolVar(&o.noWeb, "no-web", false, "do not serve the web client")
	fs.Uint64Var(&o.snapThreshold, "snapshot-threshold", 0, "take a Raft snapshot after this many new log `entries` (0: default 4096)")
	fs.DurationVar(&o.snapInterval, "snapshot-interval", 0, "how often to consider a snapshot (0: default)")
	fs.Uint64Var(&o.trailingLogs, "trailing-logs", 0, "log `entries` kept after a snapshot for slow followers (0: default 2048)")
	fs.StringVar(&o.cfg.PeerListen, "peer-http", "", "listen `address` for node-to-node HTTP (forwarding, joins, cosignatures), apart from the public API")
	fs.StringVar(&o.cfg.PeerAdvertise, "peer-advertise", "", "base `URL` peers use for --peer-http (default: https://<--peer-http>)")
	fs.StringVar(&o.cfg.TLSCertFile, "tls-cert", "", "serve HTTPS with this PEM certificate `file` (reloaded on SIGHUP and on change)")
	fs.StringVar(&o.cfg.TLSKeyFile, "tls-key", "", "PEM key `file` of --tls-cert")
	fs.StringVar(&o.cfg.TLSCAFile, "tls-ca", "", "the cluster's CA `file`: mutual TLS between nodes (Raft and --peer-http)")
	fs.DurationVar(&o.heartbeat, "raft-heartbeat-timeout", 0, "Raft heartbeat timeout (0: default 1.5s)")
	fs.DurationVar(&o.election, "raft-election-timeout", 0, "Raft election timeout (0: default 1.5s)")
	fs.DurationVar(&o.lease, "raft-lease-timeout", 0, "Raft leader lease timeout (0: default 1s)")
	return func(ctx context.Context, e *env, _ []string) error { return runNode(ctx, e, o) }
}

func runNode(ctx context.Context, e *env, o *nodeOpts) error {
	switch {
	case o.cfg.ID == "":
		return usagef("--id is required")
	case o.cfg.DataDir == "":
		return usagef("--data is required")
	case o.keyFile == "" && o.cfg.SigningKeyEnv == "":
		return withHint(errors.New("urna node: no signing key: give --key-file or --key-env"),
			"create a key with 'urna node-key -o node.key'")
	case o.keyFile != "" && o.cfg.SigningKeyEnv != "":
		return usagef("give either --key-file or --key-env, not both")
	case !o.cfg.Bootstrap && o.cfg.Join == "":
		return usagef("give --bootstrap for the first node of a new cluster or --join URL for the others")
	}
	if o.keyFile != "" {
		// Read it here rather than in server so that the permission check
		// applies: a world-readable key may already be someone else's.
		text, err := keyfile.Read(o.keyFile)
		if err != nil {
			return fmt.Errorf("urna node: signing key: %w", err)
		}
		seed, err := server.ParseSeed(string(text))
		if err != nil {
			return withHint(fmt.Errorf("urna node: signing key %s: %w", o.keyFile, err),
				"create a key with 'urna node-key -o FILE'")
		}
		o.cfg.SigningKey = ed25519.NewKeyFromSeed(seed)
	}
	if o.tokenFile != "" {
		tok, err := keyfile.Read(o.tokenFile)
		if err != nil {
			return fmt.Errorf("urna node: cluster token: %w", err)
		}
		o.cfg.ClusterToken = strings.TrimSpace(string(tok))
		if o.cfg.ClusterToken == "" {
			return fmt.Errorf("urna node: cluster token file %s is empty", o.tokenFile)
		}
	}
	logger, err := newLogger(e, o.logLevel, o.logFormat)
	if err != nil {
		return usagef("%v", err)
	}
	o.cfg.Logger = logger
	if !o.noWeb {
		o.cfg.Static = webFS
	}
	if o.snapThreshold != 0 || o.snapInterval != 0 || o.trailingLogs != 0 || o.heartbeat != 0 || o.election != 0 || o.lease != 0 {
		o.cfg.Replica = func(rc *replica.Config) {
			for _, d := range []struct {
				set time.Duration
				to  *time.Duration
			}{{o.heartbeat, &rc.HeartbeatTimeout}, {o.election, &rc.ElectionTimeout}, {o.lease, &rc.LeaderLeaseTimeout}} {
				if d.set != 0 {
					*d.to = d.set
				}
			}
			if o.snapThreshold != 0 {
				rc.SnapshotThreshold = o.snapThreshold
			}
			if o.snapInterval != 0 {
				rc.SnapshotInterval = o.snapInterval
			}
			if o.trailingLogs != 0 {
				rc.TrailingLogs = o.trailingLogs
			}
		}
	}
	if err := o.cfg.Validate(); err != nil {
		return withHint(fmt.Errorf("urna node: %w", err), "run 'urna node --help' for usage")
	}
	if err := startNode(ctx, o.cfg); err != nil {
		return fmt.Errorf("urna node: %w", err)
	}
	return nil
}

func newLogger(e *env, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	hopts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, hopts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func nodeKeyFlags(fs *flag.FlagSet) action {
	out := fs.String("o", "", "write the key to `file` (must not exist)")
	return func(_ context.Context, e *env, _ []string) error { return runNodeKey(e, *out) }
}

func runNodeKey(e *env, out string) error {
	if out == "" {
		return usagef("give the key file with -o FILE")
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("urna node-key: %w", err)
	}
	if err := keyfile.Write(out, []byte(server.FormatSeed(seed))); err != nil {
		return fmt.Errorf("urna node-key: %w", err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	fmt.Fprintf(e.stdout, "%s\n", hex.EncodeToString(pub))
	return nil
}
