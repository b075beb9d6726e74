package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Config configures a [Node]. Start from [DefaultConfig]; ID, DataDir,
// RaftBind and APIAddr have no default.
type Config struct {
	// ID is this server's stable Raft ID. It MUST be unique in the cluster and
	// MUST NOT change across restarts.
	ID string
	// DataDir holds raft.db (log, stable store, membership metadata) and the
	// snapshots/ directory. One node per directory.
	DataDir string
	// RaftBind is the TCP address the Raft transport listens on.
	RaftBind string
	// RaftAdvertise is the address other servers dial; empty means RaftBind.
	// It MUST NOT be an unspecified address (0.0.0.0).
	RaftAdvertise string
	// APIAddr is this node's API (HTTP) address, as followers should name it
	// when they forward a write to the leader.
	APIAddr string
	// Bootstrap makes a node with no Raft state form a one-server cluster.
	// Set it on exactly one node of a new cluster; it is ignored when state
	// exists. Other nodes join with (*Node).Join on the leader.
	Bootstrap bool
	// Logger receives all logs, including raft's (through an hclog adapter).
	// Nil discards them.
	Logger *slog.Logger

	// Group commit. The batcher closes a log entry when it holds MaxBatch
	// commands or MaxBatchBytes of framed commands, or MaxWait after it
	// started gathering, whichever comes first. At most MaxInflight entries
	// are in Raft at once; while the pipeline is full, commands queue up and
	// the next entry is bigger. That in-flight limit, not a timer, is what
	// grows entries under load, so MaxWait defaults to 0 (take what is
	// queued); a positive MaxWait trades latency for fewer, larger entries
	// when the FSM's cost per entry dominates. QueueSize bounds the number of
	// pending Submit/SubmitBatch calls; beyond it Submit fails with
	// ErrOverloaded.
	MaxBatch      int
	MaxBatchBytes int
	MaxWait       time.Duration
	MaxInflight   int
	QueueSize     int
	// ApplyTimeout bounds how long the batcher waits for Raft to accept an
	// entry (raft.Apply's enqueue timeout) and how long membership changes
	// may take.
	ApplyTimeout time.Duration

	// Snapshots: take one when SnapshotThreshold entries were committed since
	// the last, checked every SnapshotInterval; keep TrailingLogs entries
	// after it for slow followers, and SnapshotRetain snapshots on disk.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	SnapshotRetain    int

	// Raft timing and replication; see raft.Config.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	MaxAppendEntries   int
}

// DefaultConfig returns settings tuned for nodes on one host or a LAN with
// fsync on, and commands of a few KiB: entries of up to 512 commands (1 MiB),
// four entries in flight, heartbeats well above LAN round trips, commit
// notifications every 5 ms, a snapshot every 4096 entries.
func DefaultConfig() Config {
	return Config{
		MaxBatch:      512,
		MaxBatchBytes: 1 << 20,
		MaxWait:       0,
		MaxInflight:   4,
		QueueSize:     8192,
		ApplyTimeout:  10 * time.Second,

		SnapshotThreshold: 4096,
		SnapshotInterval:  30 * time.Second,
		TrailingLogs:      2048,
		SnapshotRetain:    2,

		HeartbeatTimeout:   500 * time.Millisecond,
		ElectionTimeout:    500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		MaxAppendEntries:   64,
	}
}

// Validate reports the first problem in c, including those raft would reject.
func (c *Config) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("replica: config: ID is empty")
	case c.DataDir == "":
		return errors.New("replica: config: DataDir is empty")
	case c.RaftBind == "":
		return errors.New("replica: config: RaftBind is empty")
	case c.APIAddr == "":
		return errors.New("replica: config: APIAddr is empty")
	case len(c.ID) > 1<<16-1 || len(c.APIAddr) > 1<<16-1:
		return errors.New("replica: config: ID or APIAddr too long")
	case c.MaxBatch < 1:
		return errors.New("replica: config: MaxBatch must be >= 1")
	case c.MaxBatchBytes < 64:
		return errors.New("replica: config: MaxBatchBytes must be >= 64")
	case c.MaxWait < 0:
		return errors.New("replica: config: MaxWait must be >= 0")
	case c.MaxInflight < 1:
		return errors.New("replica: config: MaxInflight must be >= 1")
	case c.QueueSize < 1:
		return errors.New("replica: config: QueueSize must be >= 1")
	case c.ApplyTimeout <= 0:
		return errors.New("replica: config: ApplyTimeout must be > 0")
	case c.SnapshotRetain < 1:
		return errors.New("replica: config: SnapshotRetain must be >= 1")
	}
	if _, _, err := net.SplitHostPort(c.advertise()); err != nil {
		return fmt.Errorf("replica: config: raft advertise address: %w", err)
	}
	if err := raft.ValidateConfig(c.raftConfig()); err != nil {
		return fmt.Errorf("replica: config: %w", err)
	}
	return nil
}

func (c *Config) advertise() string {
	if c.RaftAdvertise != "" {
		return c.RaftAdvertise
	}
	return c.RaftBind
}

// raftConfig derives the raft.Config. BatchApplyCh lets raft take up to
// MaxAppendEntries of our (already batched) entries per disk write.
func (c *Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.MaxAppendEntries = c.MaxAppendEntries
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	rc.NoLegacyTelemetry = true
	rc.Logger = newHCLogger(c.Logger, "raft")
	return rc
}
