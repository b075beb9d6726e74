package server

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/replica"
)

// Config configures one board node. Start from DefaultConfig; ID, DataDir,
// the signing key and either Bootstrap or Join have no default.
type Config struct {
	// Version is the build this node runs (urna --version), reported by
	// GET /api/v1/health.
	Version string
	// ID is the node's stable Raft ID and its name among the manifest's
	// board nodes.
	ID string
	// DataDir holds raft/ (the Raft log and snapshots) and, with the bolt
	// store, state.db.
	DataDir string

	// RaftBind is the Raft TCP listen address; RaftAdvertise what peers
	// dial (empty: RaftBind; required when RaftBind is 0.0.0.0 or [::]).
	RaftBind      string
	RaftAdvertise string
	// HTTPListen is the API listen address; HTTPAdvertise the API base URL
	// peers and clients use (empty: http://<actual listen address>, which
	// requires a specific listen host).
	HTTPListen    string
	HTTPAdvertise string
	// PeerListen, if set, is a second listener for node-to-node HTTP
	// (forwarded writes, joins, cosignatures), so that a firewall can keep
	// the public and the peer traffic apart; PeerAdvertise is its base URL
	// (default: https:// or http:// and the listen address). The
	// membership then records the peer URL, so peers call only it.
	PeerListen    string
	PeerAdvertise string

	// TLS. TLSCertFile and TLSKeyFile: the node serves HTTPS (PEM files,
	// reloaded on SIGHUP and when they change). TLSCAFile: the cluster's
	// own CA; it turns on mutual TLS between nodes, for Raft and for every
	// node-to-node HTTP call, with the node's certificate naming its ID
	// (common name and DNS name) and peers checked against the membership.
	// Without them the node speaks plain HTTP and TCP: loopback demos and
	// private networks only.
	TLSCertFile string
	TLSKeyFile  string
	TLSCAFile   string

	// Bootstrap forms a new one-node cluster when the node has no Raft
	// state. Join is the API base URL of a running member to join through
	// (POST /api/v1/cluster/join). Exactly one of them on a fresh node; a
	// node with Raft state ignores both (it is a member already, and its
	// start never depends on the Join node being up).
	Bootstrap bool
	Join      string

	// Store is "bolt" (default: <DataDir>/state.db) or a PostgreSQL URL
	// (postgres:// or postgresql://). PostgresSchema is the schema of this
	// node's tables (several nodes may share a database).
	Store          string
	PostgresSchema string

	// The node's Ed25519 checkpoint signing key: a 32-byte seed as 64 hex
	// digits or base64, read from SigningKeyFile, or from the environment
	// variable named SigningKeyEnv, or given directly as SigningKey (in
	// process: tests and `urna demo`). There is no default location.
	SigningKeyFile string
	SigningKeyEnv  string
	SigningKey     ed25519.PrivateKey

	// Witnesses are the base URLs of the manifest's witnesses (SPEC.md
	// §3.13), by witness name, for those not reached at https://<name>.
	Witnesses map[string]string

	// ClusterToken authorises cluster changes from non-loopback peers (and
	// the cosignatures followers forward to the leader).
	ClusterToken string

	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Static is the web client served at "/" (nil: none).
	Static fs.FS

	// Replica tunes the Raft replica (group commit, timeouts); applied to
	// replica.DefaultConfig after the fields above.
	Replica func(*replica.Config)
	// CosignInterval is the minimum time between two checkpoint signatures
	// of this node (default 75 ms).
	CosignInterval time.Duration
	// ShutdownGrace bounds the wait for HTTP requests in flight at stop.
	ShutdownGrace time.Duration
	// SkipChecks disables signature and proof pre-checks: benchmarks only.
	SkipChecks bool
	// Creators, if not empty, are the only election authority keys
	// (canonical Schnorr public keys) whose manifests create elections
	// through this node (board.Config.Creators).
	Creators [][32]byte
	// ElectionRate, if positive, limits the entries per second this node
	// admits for one election (board.Config.ElectionRate).
	ElectionRate float64

	// Readiness (GET /api/v1/ready): a follower that has not heard from
	// the leader for MaxLeaderSilence, or whose board state is more than
	// MaxApplyLag entries behind the commit index, is not ready; nor is a
	// node whose write probe (every ProbeInterval: 4 KiB written and synced
	// in DataDir, a read of the store) failed.
	MaxLeaderSilence time.Duration
	MaxApplyLag      uint64
	ProbeInterval    time.Duration
	// HandOverTimeout bounds the leadership transfer a leader attempts
	// when it stops.
	HandOverTimeout time.Duration
}

// DefaultConfig returns a config with the defaults filled in.
func DefaultConfig() Config {
	return Config{
		RaftBind:       "127.0.0.1:7000",
		HTTPListen:     "127.0.0.1:8080",
		Store:          "bolt",
		CosignInterval: 75 * time.Millisecond,
		ShutdownGrace:  5 * time.Second,

		MaxLeaderSilence: 5 * time.Second,
		MaxApplyLag:      1024,
		ProbeInterval:    5 * time.Second,
		HandOverTimeout:  5 * time.Second,
	}
}

// Validate reports the first problem in c.
func (c *Config) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("server: config: node ID is empty")
	case !ballot.ValidNodeID(c.ID):
		return fmt.Errorf("server: config: node ID %q is not 1..%d characters of A-Z, a-z, 0-9, '.', '_' and '-' (SPEC.md §4.1)", c.ID, ballot.MaxName)
	case c.ElectionRate < 0 || math.IsNaN(c.ElectionRate) || math.IsInf(c.ElectionRate, 0):
		return fmt.Errorf("server: config: election rate %g is not a number of entries per second ≥ 0", c.ElectionRate)
	case c.DataDir == "":
		return errors.New("server: config: data directory is empty")
	case c.RaftBind == "":
		return errors.New("server: config: Raft bind address is empty")
	case c.HTTPListen == "":
		return errors.New("server: config: HTTP listen address is empty")
	case c.Bootstrap && c.Join != "":
		return errors.New("server: config: set either bootstrap or join, not both")
	}
	if err := needAdvertise("Raft", c.RaftBind, c.RaftAdvertise); err != nil {
		return err
	}
	if err := needAdvertise("HTTP", c.HTTPListen, c.HTTPAdvertise); err != nil {
		return err
	}
	if c.PeerListen != "" {
		if err := needAdvertise("peer HTTP", c.PeerListen, c.PeerAdvertise); err != nil {
			return err
		}
	}
	if c.PeerAdvertise != "" {
		if c.PeerListen == "" {
			return errors.New("server: config: a peer advertise URL needs a peer listen address")
		}
		if err := checkURL(c.PeerAdvertise); err != nil {
			return fmt.Errorf("server: config: peer advertise URL: %w", err)
		}
	}
	switch {
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		return errors.New("server: config: give both the TLS certificate and its key, or neither")
	case c.TLSCAFile != "" && c.TLSCertFile == "":
		return errors.New("server: config: mutual TLS (a cluster CA) needs the node's own TLS certificate and key")
	case c.TLSCAFile != "" && c.PeerListen == "":
		// Browsers must not be asked for client certificates: mutual TLS
		// lives on the peer listener only.
		return errors.New("server: config: mutual TLS (a cluster CA) needs a peer listener for node-to-node traffic")
	case c.TLSCAFile != "" && (strings.HasPrefix(c.Join, "http://") || strings.HasPrefix(c.PeerAdvertise, "http://")):
		// No plaintext between nodes once mutual TLS is on.
		return errors.New("server: config: with mutual TLS the join and peer URLs must be https://")
	}
	if c.HTTPAdvertise != "" {
		if err := checkURL(c.HTTPAdvertise); err != nil {
			return fmt.Errorf("server: config: HTTP advertise URL: %w", err)
		}
	}
	if c.Join != "" {
		if err := checkURL(c.Join); err != nil {
			return fmt.Errorf("server: config: join URL: %w", err)
		}
	}
	if !c.usePostgres() && c.Store != "" && c.Store != "bolt" {
		return fmt.Errorf("server: config: store %q is neither \"bolt\" nor a postgres:// URL", c.Store)
	}
	if c.PostgresSchema != "" && !c.usePostgres() {
		return errors.New("server: config: a PostgreSQL schema needs a PostgreSQL store URL")
	}
	n := 0
	for _, set := range []bool{c.SigningKeyFile != "", c.SigningKeyEnv != "", c.SigningKey != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("server: config: give exactly one signing key source (file, environment variable or key)")
	}
	if c.SigningKey != nil && len(c.SigningKey) != ed25519.PrivateKeySize {
		return errors.New("server: config: signing key is not an Ed25519 private key")
	}
	if c.CosignInterval < 0 || c.ShutdownGrace < 0 {
		return errors.New("server: config: negative interval")
	}
	if c.MaxLeaderSilence <= 0 || c.ProbeInterval <= 0 || c.HandOverTimeout <= 0 {
		return errors.New("server: config: MaxLeaderSilence and ProbeInterval and HandOverTimeout must be positive (start from DefaultConfig)")
	}
	return nil
}

func (c *Config) usePostgres() bool { return IsPostgresURL(c.Store) }

// IsPostgresURL reports whether store, a Config.Store value, names a
// PostgreSQL database (postgres:// or postgresql://) rather than bolt.
func IsPostgresURL(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

func needAdvertise(what, bind, adv string) error {
	host, _, err := net.SplitHostPort(bind)
	if err != nil {
		return fmt.Errorf("server: config: %s listen address %q: %w", what, bind, err)
	}
	if adv != "" {
		return nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return fmt.Errorf("server: config: %s listens on all interfaces (%q): set its advertise address", what, bind)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) base URL", s)
	}
	return nil
}

// signingKey loads the Ed25519 key from the configured source.
func (c *Config) signingKey() (ed25519.PrivateKey, error) {
	if c.SigningKey != nil {
		return c.SigningKey, nil
	}
	var text string
	if c.SigningKeyFile != "" {
		b, err := os.ReadFile(c.SigningKeyFile)
		if err != nil {
			return nil, fmt.Errorf("server: signing key: %w", err)
		}
		text = string(b)
	} else {
		v, ok := os.LookupEnv(c.SigningKeyEnv)
		if !ok {
			return nil, fmt.Errorf("server: signing key: environment variable %s is not set", c.SigningKeyEnv)
		}
		text = v
	}
	seed, err := ParseSeed(text)
	if err != nil {
		return nil, fmt.Errorf("server: signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParseSeed decodes a 32-byte Ed25519 seed written as 64 hex digits or as
// (padded or unpadded, standard or URL) base64, surrounding space ignored.
func ParseSeed(text string) ([]byte, error) {
	t := strings.TrimSpace(text)
	if len(t) == 2*ed25519.SeedSize {
		if b, err := hex.DecodeString(t); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(t); err == nil && len(b) == ed25519.SeedSize {
			return b, nil
		}
	}
	return nil, errors.New("not a 32-byte seed in hex or base64")
}

// FormatSeed encodes a seed as ParseSeed reads it (hex).
func FormatSeed(seed []byte) string { return hex.EncodeToString(seed) + "\n" }
