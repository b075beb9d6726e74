package server

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urna-vote/urna/internal/replica"
)

// Config configures one board node. Start from DefaultConfig; ID, DataDir,
// the signing key and either Bootstrap or Join have no default.
type Config struct {
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

	// Bootstrap forms a new one-node cluster when the node has no Raft
	// state. Join is the API base URL of a running member to join through
	// (POST /api/v1/cluster/join). Exactly one of them on a fresh node; a
	// node with state ignores Bootstrap and re-joins (harmless).
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
}

// DefaultConfig returns a config with the defaults filled in.
func DefaultConfig() Config {
	return Config{
		RaftBind:       "127.0.0.1:7000",
		HTTPListen:     "127.0.0.1:8080",
		Store:          "bolt",
		CosignInterval: 75 * time.Millisecond,
		ShutdownGrace:  5 * time.Second,
	}
}

// Validate reports the first problem in c.
func (c *Config) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("server: config: node ID is empty")
	case len(c.ID) > 64 || strings.ContainsAny(c.ID, " +\t\n"):
		return fmt.Errorf("server: config: node ID %q must be at most 64 characters without spaces or '+'", c.ID)
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
	return nil
}

func (c *Config) usePostgres() bool {
	return strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://")
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
