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
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/store"
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
		name:    "node-remove",
		summary: "remove a node from the board cluster",
		usage:   "ID [--node URL] [--cluster-token-file FILE]",
		help: `Asks the cluster, through the node at --node (any member), to remove the
node ID from the Raft configuration. Stop the removed node's process
afterwards; its data directory is no longer needed. Cluster changes are
accepted from loopback, or with the cluster token the nodes were started
with (--cluster-token-file).`,
		args:  true,
		flags: nodeRemoveFlags,
	})
	register(&command{
		name:    "node-key",
		summary: "create a board node's checkpoint signing key, or show its public key",
		usage:   "-o FILE | --show FILE",
		help: `With -o, writes a new Ed25519 signing key (owner-only permissions; an
existing file is never replaced) and prints its public key, which the
election manifest lists among the board nodes (--board-node ID=KEY).

With --show, prints the public key of an existing key file again. A running
node also logs its public key when it starts.`,
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
	o.cfg.Version = versionString()
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
	o.cfg.Witnesses = map[string]string{}
	fs.Var(witnessURLs(o.cfg.Witnesses), "witness", "reach the manifest's witness `NAME=URL` at URL (repeatable; default https://NAME)")
	fs.Float64Var(&o.cfg.ElectionRate, "election-rate", 0, "admit at most `N` entries per second for one election on this node, in bursts of 2N (default: no limit)")
	fs.Var((*creatorKeys)(&o.cfg.Creators), "creator", "let only the election authority with this public `KEY` (the public value of its authority.pub, or hex) create elections through this node (repeatable; default: any)")
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
		// applies.
		key, err := readNodeKey(o.keyFile)
		if err != nil {
			return fmt.Errorf("urna node: %w", err)
		}
		o.cfg.SigningKey = key
	}
	if o.tokenFile != "" {
		tok, err := readClusterToken(o.tokenFile)
		if err != nil {
			return fmt.Errorf("urna node: %w", err)
		}
		o.cfg.ClusterToken = tok
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
	if o.cfg.SigningKeyEnv != "" {
		text := e.getenv(o.cfg.SigningKeyEnv)
		if text == "" {
			return withHint(fmt.Errorf("urna node: signing key: environment variable %s is not set", o.cfg.SigningKeyEnv),
				"set it to the contents of a key file that 'urna node-key -o FILE' wrote")
		}
		seed, err := server.ParseSeed(text)
		if err != nil {
			return fmt.Errorf("urna node: signing key in environment variable %s: %w", o.cfg.SigningKeyEnv, err)
		}
		o.cfg.SigningKey, o.cfg.SigningKeyEnv = ed25519.NewKeyFromSeed(seed), ""
	}
	if o.cfg.Join != "" {
		warnJoinNotReady(ctx, logger, o.cfg.Join)
	}
	// The manifest lists this key; logging it means it can always be found
	// again (also with 'urna node-key --show FILE').
	logger.Info("urna node: checkpoint signing key", "id", o.cfg.ID, "public_key", publicKeyHex(o.cfg.SigningKey))
	if err := startNode(ctx, o.cfg); err != nil {
		return nodeStartError(o.cfg, err)
	}
	return nil
}

// warnJoinNotReady says, before the node starts, when the member it joins
// through does not answer or has no leader yet: the node then keeps
// trying for a while, and would otherwise wait in silence.
func warnJoinNotReady(ctx context.Context, logger *slog.Logger, join string) {
	cl, err := apiclient.New(join, apiclient.Options{MaxRetries: -1, Timeout: 2 * time.Second})
	if err != nil {
		return // the join itself reports the bad URL
	}
	h, err := cl.Health(ctx)
	switch {
	case err != nil:
		logger.Warn("urna node: the node to join does not answer yet; waiting for it (start the first node, and let it become leader, before the others)", "join", join, "err", err)
	case h.Leader == "":
		logger.Warn("urna node: the cluster to join has no leader yet; waiting for one", "join", join)
	}
}

// nodeStartError adds what the user can do to the errors of a node.
func nodeStartError(cfg server.Config, err error) error {
	switch {
	case errors.Is(err, store.ErrLocked) && cfg.Store != "" && cfg.Store != "bolt":
		return withHint(fmt.Errorf("urna node: another process holds the PostgreSQL schema %s: %w", cfg.PostgresSchema, err),
			"is a node already running with it? give each node its own --pg-schema")
	case errors.Is(err, store.ErrLocked):
		return withHint(fmt.Errorf("urna node: another process holds the data directory %s: %w", cfg.DataDir, err),
			fmt.Sprintf("is a node already running with --data %s? stop it, or give this node its own --data directory", cfg.DataDir))
	case errors.Is(err, syscall.EADDRINUSE):
		var op *net.OpError
		if !errors.As(err, &op) || op.Addr == nil {
			return withHint(fmt.Errorf("urna node: %w", err), "another process listens on one of this node's addresses (--raft, --http, --peer-http): stop it, or give this node free ones")
		}
		addr, flag := op.Addr.String(), "--http"
		switch addr {
		case cfg.RaftBind:
			flag = "--raft"
		case cfg.PeerListen:
			flag = "--peer-http"
		}
		return withHint(fmt.Errorf("urna node: %w", err), fmt.Sprintf("another process listens on %s (a node already running?): stop it, or give this node a free address with %s", addr, flag))
	}
	return fmt.Errorf("urna node: %w", err)
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
	out := fs.String("o", "", "write a new key to `file` (must not exist)")
	show := fs.String("show", "", "print the public key of the existing key `file`")
	return func(_ context.Context, e *env, _ []string) error {
		switch {
		case (*out == "") == (*show == ""):
			return usagef("give the key file with -o FILE to create a key, or --show FILE to print the public key of an existing one")
		case *show != "":
			return showNodeKey(e, *show)
		}
		return runNodeKey(e, *out)
	}
}

func runNodeKey(e *env, out string) error {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("urna node-key: %w", err)
	}
	if err := keyfile.Write(out, []byte(server.FormatSeed(seed))); err != nil {
		return fmt.Errorf("urna node-key: %w", err)
	}
	fmt.Fprintln(e.stdout, publicKeyHex(ed25519.NewKeyFromSeed(seed)))
	return nil
}

// showNodeKey prints the public key of the node key file path.
func showNodeKey(e *env, path string) error {
	key, err := readNodeKey(path)
	if err != nil {
		return fmt.Errorf("urna node-key: %w", err)
	}
	fmt.Fprintln(e.stdout, publicKeyHex(key))
	return nil
}

// readNodeKey reads a node's signing key file, refusing one that other
// users may read (a world-readable key may already be someone else's).
func readNodeKey(path string) (ed25519.PrivateKey, error) {
	text, err := keyfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	seed, err := server.ParseSeed(string(text))
	if err != nil {
		return nil, withHint(fmt.Errorf("signing key %s: %w", path, err), "create a key with 'urna node-key -o FILE'")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// publicKeyHex is the form of a node's public key that the manifest's
// --board-node ID=KEY takes.
func publicKeyHex(key ed25519.PrivateKey) string {
	return hex.EncodeToString(key.Public().(ed25519.PublicKey))
}

// readClusterToken reads a cluster token file (a secret: owner-only).
func readClusterToken(path string) (string, error) {
	tok, err := keyfile.Read(path)
	if err != nil {
		return "", fmt.Errorf("cluster token: %w", err)
	}
	t := strings.TrimSpace(string(tok))
	if t == "" {
		return "", fmt.Errorf("cluster token file %s is empty", path)
	}
	return t, nil
}

// clusterClient is the API client of a cluster change by the command what
// ("node-remove"): the node at node, with the cluster token in tokenFile
// (none: loopback only).
func clusterClient(what, node, tokenFile string) (*apiclient.Client, error) {
	opts := apiclient.Options{MaxRetries: 3}
	if tokenFile != "" {
		tok, err := readClusterToken(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("urna %s: %w", what, err)
		}
		opts.ClusterToken = tok
	}
	cl, err := apiclient.New(node, opts)
	if err != nil {
		return nil, withHint(fmt.Errorf("urna %s: %w", what, err), "give the node's API base URL, e.g. --node http://127.0.0.1:8080")
	}
	return cl, nil
}

func nodeRemoveFlags(fs *flag.FlagSet) action {
	return clusterChangeFlags(fs, "node-remove", "give the ID of the node to remove",
		(*apiclient.Client).Remove, "removed node %s from the cluster; stop its process now\n")
}

// clusterChangeFlags is the action of a cluster change by the command what
// on the one ID in its arguments (missing: the usage error without it):
// change is asked of the node at --node, vouched for with
// --cluster-token-file, and done, formatted with the ID, is printed after.
func clusterChangeFlags(fs *flag.FlagSet, what, missing string, change func(*apiclient.Client, context.Context, string) error, done string) action {
	node := nodeFlag(fs)
	tokenFile := fs.String("cluster-token-file", "", "`file` holding the cluster token (owner-only permissions)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("%s", missing)
		}
		cl, err := clusterClient(what, *node, *tokenFile)
		if err != nil {
			return err
		}
		if err := change(cl, ctx, args[0]); err != nil {
			return nodeError(*node, fmt.Errorf("urna %s: %w", what, err))
		}
		fmt.Fprintf(e.stdout, done, args[0])
		return nil
	}
}
