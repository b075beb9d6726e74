package replica

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.ID, good.DataDir, good.RaftBind, good.APIAddr = "n1", t.TempDir(), "127.0.0.1:7000", "http://127.0.0.1:8080"
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no id":          func(c *Config) { c.ID = "" },
		"no dir":         func(c *Config) { c.DataDir = "" },
		"no bind":        func(c *Config) { c.RaftBind = "" },
		"no api":         func(c *Config) { c.APIAddr = "" },
		"bad bind":       func(c *Config) { c.RaftBind = "nope" },
		"zero batch":     func(c *Config) { c.MaxBatch = 0 },
		"tiny bytes":     func(c *Config) { c.MaxBatchBytes = 10 },
		"neg wait":       func(c *Config) { c.MaxWait = -1 },
		"no inflight":    func(c *Config) { c.MaxInflight = 0 },
		"no queue":       func(c *Config) { c.QueueSize = 0 },
		"raft lease":     func(c *Config) { c.LeaderLeaseTimeout = time.Hour },
		"raft appends":   func(c *Config) { c.MaxAppendEntries = 5000 },
		"no retain":      func(c *Config) { c.SnapshotRetain = 0 },
		"no apply limit": func(c *Config) { c.ApplyTimeout = 0 },
		"lease > hb": func(c *Config) {
			c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = time.Second, time.Second, 2*time.Second
		},
		"election < hb":    func(c *Config) { c.ElectionTimeout = c.HeartbeatTimeout - time.Millisecond },
		"tiny hb":          func(c *Config) { c.HeartbeatTimeout, c.LeaderLeaseTimeout = 10*time.Millisecond, 10*time.Millisecond },
		"tiny lease":       func(c *Config) { c.LeaderLeaseTimeout = 49 * time.Millisecond },
		"huge election":    func(c *Config) { c.ElectionTimeout = 2 * time.Minute },
		"zero hb":          func(c *Config) { c.HeartbeatTimeout = 0 },
		"neg lease":        func(c *Config) { c.LeaderLeaseTimeout = -time.Second },
		"zero commit":      func(c *Config) { c.CommitTimeout = 0 },
		"slow commit":      func(c *Config) { c.CommitTimeout = c.HeartbeatTimeout },
		"no appends":       func(c *Config) { c.MaxAppendEntries = 0 },
		"no log cache":     func(c *Config) { c.LogCache = 0 },
		"snapshot spin":    func(c *Config) { c.SnapshotInterval = time.Millisecond },
		"apply < election": func(c *Config) { c.ApplyTimeout = c.ElectionTimeout / 2 },
	} {
		c := good
		mut(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "replica: ") {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}

// TestDefaultTimingSurvivesStalls pins the properties DefaultConfig's
// comment argues for: a leader tolerates a 1 s stall before stepping down,
// and steps down before any follower can time out.
func TestDefaultTimingSurvivesStalls(t *testing.T) {
	c := DefaultConfig()
	if c.LeaderLeaseTimeout < time.Second {
		t.Errorf("LeaderLeaseTimeout %v: a 1 s stall makes the leader step down", c.LeaderLeaseTimeout)
	}
	if c.LeaderLeaseTimeout >= c.HeartbeatTimeout {
		t.Errorf("LeaderLeaseTimeout %v >= HeartbeatTimeout %v: followers may elect before the old leader steps down", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.ElectionTimeout < c.HeartbeatTimeout || c.HeartbeatTimeout > 5*time.Second {
		t.Errorf("ElectionTimeout %v, HeartbeatTimeout %v", c.ElectionTimeout, c.HeartbeatTimeout)
	}
	c.ID, c.DataDir, c.RaftBind, c.APIAddr = "n1", t.TempDir(), "127.0.0.1:7000", "http://127.0.0.1:8080"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	rc := c.raftConfig()
	if rc.HeartbeatTimeout != c.HeartbeatTimeout || rc.ElectionTimeout != c.ElectionTimeout || rc.LeaderLeaseTimeout != c.LeaderLeaseTimeout {
		t.Fatalf("raft config timing not derived: %+v", rc)
	}
}

func TestRaftConfigTuned(t *testing.T) {
	c := DefaultConfig()
	c.ID = "n1"
	rc := c.raftConfig()
	if !rc.BatchApplyCh || rc.MaxAppendEntries != c.MaxAppendEntries || rc.CommitTimeout != c.CommitTimeout || rc.Logger == nil {
		t.Fatalf("raft config not derived: %+v", rc)
	}
}
