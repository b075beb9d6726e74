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
	} {
		c := good
		mut(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "replica: ") {
			t.Errorf("%s: Validate = %v", name, err)
		}
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
