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
	// DataDir holds raft-log/ (the Raft log), raft.db (stable store,
	// membership metadata) and snapshots/. One node per directory.
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
	// PeerTLS, when set, carries Raft over mutual TLS (see PeerTLS); nil
	// means plain TCP, for loopback and private networks only.
	PeerTLS *PeerTLS
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
	// MaxCommandBytes is the largest single command: a command larger
	// than MaxBatchBytes (a credential list of a million voters, a
	// shuffle) travels alone in its own log entry, and at most one such
	// command is in flight on this node at a time, so that memory stays
	// bounded; later ones wait their turn. 0 means MaxBatchBytes (no
	// command larger than a batch).
	MaxCommandBytes int
	MaxWait         time.Duration
	MaxInflight     int
	QueueSize       int
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

	// Raft timing (see raft.Config and DefaultConfig for the trade-off).
	// HeartbeatTimeout: a follower that hears nothing from the leader for a
	// random time in [HeartbeatTimeout, 2*HeartbeatTimeout) starts an
	// election; the leader sends heartbeats every HeartbeatTimeout/10.
	// ElectionTimeout: how long a candidate waits (again randomised up to
	// twice that) before starting a new election round.
	// LeaderLeaseTimeout: a leader that has not heard from a quorum for
	// this long steps down. CommitTimeout: the longest a follower waits to
	// learn that an entry committed when no new entry comes along.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// MaxAppendEntries bounds the log entries sent in one AppendEntries
	// call and those raft hands the FSM at once (at most 1024).
	MaxAppendEntries int
	// LogCache is how many of the newest Raft log entries each node keeps
	// in memory (raft.NewLogCache; default 16): enough for the entries
	// in flight to the followers and not yet applied. An entry holds up to
	// MaxBatchBytes (256 KiB, about 115 ballots). Why no more: the former
	// default, 1024, held up to 1 GiB of recent log on every node (entries
	// were then up to 1 MiB); every entry then took fresh memory, and the
	// kernel's first touch of it cost the board 25-30 % of its CPU per post
	// (bench/README.md, "The Raft log cache"). An entry no longer cached is
	// read from the log store (one pread of its record).
	LogCache int
}

// DefaultConfig returns settings tuned for nodes on one host or a LAN with
// fsync on, and commands of a few KiB: entries of up to 512 commands and 256 KiB,
// four entries in flight, commit notifications every 5 ms, a snapshot every
// 4096 entries.
//
// Why the Raft timeouts are what they are: a leader election interrupts
// writes for seconds and, with LeaderLeaseTimeout, a leader steps down on
// its own whenever it misses a quorum's answers for that long. Network
// round trips (well under 10 ms on a LAN, under 100 ms between
// institutions) are not what trips these timers; stalls are: a node on a
// busy 2-core machine was observed to go hundreds of milliseconds without
// being scheduled, and an fsync on a shared disk can take as long. With the
// earlier 250 ms lease and 500 ms heartbeat timeout such a machine saw five
// unprovoked step-downs in 25 minutes. The defaults therefore tolerate a
// stall of a full second:
//
//   - HeartbeatTimeout 1.5 s: heartbeats go out every 150 ms, so a follower
//     starts an election only after ten heartbeats in a row went missing.
//   - LeaderLeaseTimeout 1 s: a stalled leader steps down after 1 s, before
//     any follower can time out (1.5 s at the earliest), so two nodes rarely
//     both believe they lead.
//   - ElectionTimeout 1.5 s: as raft requires, at least HeartbeatTimeout.
//
// The price: a dead leader is replaced after about 1.5 to 3 s instead of
// 0.5 to 1 s, and a single bootstrapping node takes as long to elect itself.
// hashicorp/raft's own defaults are 1 s, 1 s and 500 ms; consul multiplies
// them by five on small machines. Tests that want fast elections set
// shorter values explicitly.
func DefaultConfig() Config {
	return Config{
		MaxBatch: 512,
		// 256 KiB: raft's network transport decodes an entry of up to
		// 256 KiB into one allocation, and a larger one in 256 KiB steps,
		// each step a new slice and a copy of all before it (go-msgpack's
		// decByteSlice). At 1 MiB the followers' decoding was 28 % of the
		// board's allocations and 4 % of its CPU (bench/README.md, "Entries
		// of at most 256 KiB"); TestDefaultBatchDecodesOnce keeps it so.
		MaxBatchBytes: 256 << 10,
		// The largest entries of the protocol (bulletin's type registry:
		// 40 MiB credential lists, shuffles up to 64 MiB) and their
		// command header.
		MaxCommandBytes: 80 << 20,
		MaxWait:         0,
		MaxInflight:     4,
		QueueSize:       8192,
		ApplyTimeout:    10 * time.Second,

		SnapshotThreshold: 4096,
		SnapshotInterval:  30 * time.Second,
		TrailingLogs:      2048,
		SnapshotRetain:    2,

		HeartbeatTimeout:   1500 * time.Millisecond,
		ElectionTimeout:    1500 * time.Millisecond,
		LeaderLeaseTimeout: 1000 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		MaxAppendEntries:   64,
		LogCache:           16,
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
	case c.MaxCommandBytes != 0 && c.MaxCommandBytes < c.MaxBatchBytes:
		return errors.New("replica: config: MaxCommandBytes must be 0 or >= MaxBatchBytes")
	case c.MaxWait < 0:
		return errors.New("replica: config: MaxWait must be >= 0")
	case c.MaxInflight < 1:
		return errors.New("replica: config: MaxInflight must be >= 1")
	case c.LogCache < 1:
		return errors.New("replica: config: LogCache must be >= 1")
	case c.QueueSize < 1:
		return errors.New("replica: config: QueueSize must be >= 1")
	case c.ApplyTimeout <= 0:
		return errors.New("replica: config: ApplyTimeout must be > 0")
	case c.SnapshotRetain < 1:
		return errors.New("replica: config: SnapshotRetain must be >= 1")
	}
	if err := c.validateTiming(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.advertise()); err != nil {
		return fmt.Errorf("replica: config: raft advertise address: %w", err)
	}
	if err := raft.ValidateConfig(c.raftConfig()); err != nil {
		return fmt.Errorf("replica: config: %w", err)
	}
	return nil
}

// Bounds of the Raft timers. raft itself accepts anything from 5 ms; below
// minRaftTimeout a scheduling hiccup on any machine causes elections, and
// above maxRaftTimeout a dead leader goes unnoticed for longer than any
// client waits.
const (
	minRaftTimeout = 50 * time.Millisecond
	maxRaftTimeout = time.Minute
)

// validateTiming checks the Raft timers against each other, with messages
// that name this package's fields (raft.ValidateConfig, run afterwards,
// checks the same relations in its own words).
func (c *Config) validateTiming() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"HeartbeatTimeout", c.HeartbeatTimeout},
		{"ElectionTimeout", c.ElectionTimeout},
		{"LeaderLeaseTimeout", c.LeaderLeaseTimeout},
	} {
		if d.v < minRaftTimeout || d.v > maxRaftTimeout {
			return fmt.Errorf("replica: config: %s %v is outside [%v, %v]", d.name, d.v, minRaftTimeout, maxRaftTimeout)
		}
	}
	switch {
	case c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		// A follower would elect a new leader while the old one still
		// trusts its lease.
		return fmt.Errorf("replica: config: LeaderLeaseTimeout %v exceeds HeartbeatTimeout %v", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return fmt.Errorf("replica: config: ElectionTimeout %v is below HeartbeatTimeout %v", c.ElectionTimeout, c.HeartbeatTimeout)
	case c.CommitTimeout < time.Millisecond || c.CommitTimeout >= c.HeartbeatTimeout:
		// raft's floor is 1 ms; a commit notification slower than the
		// heartbeat timeout leaves followers' reads behind for no gain.
		return fmt.Errorf("replica: config: CommitTimeout %v must be at least 1ms and below HeartbeatTimeout %v", c.CommitTimeout, c.HeartbeatTimeout)
	case c.MaxAppendEntries < 1 || c.MaxAppendEntries > 1024:
		return fmt.Errorf("replica: config: MaxAppendEntries %d is outside [1, 1024]", c.MaxAppendEntries)
	case c.SnapshotInterval < 5*time.Millisecond:
		return fmt.Errorf("replica: config: SnapshotInterval %v is below 5ms", c.SnapshotInterval)
	case c.ApplyTimeout < c.ElectionTimeout:
		// A membership change or an entry waiting out one election would
		// always time out.
		return fmt.Errorf("replica: config: ApplyTimeout %v is below ElectionTimeout %v", c.ApplyTimeout, c.ElectionTimeout)
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
