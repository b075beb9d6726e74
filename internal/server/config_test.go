package server

import (
	"crypto/ed25519"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func validConfig() Config {
	c := DefaultConfig()
	c.ID, c.DataDir, c.Bootstrap = "n1", "/tmp/x", true
	c.SigningKey = ed25519.NewKeyFromSeed(make([]byte, 32))
	return c
}

func TestConfigValidate(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"no id":             {func(c *Config) { c.ID = "" }, "node ID"},
		"id with space":     {func(c *Config) { c.ID = "a b" }, "node ID"},
		"no data":           {func(c *Config) { c.DataDir = "" }, "data directory"},
		"both":              {func(c *Config) { c.Join = "http://127.0.0.1:1" }, "not both"},
		"bad join":          {func(c *Config) { c.Bootstrap, c.Join = false, "127.0.0.1:1" }, "join URL"},
		"wildcard http":     {func(c *Config) { c.HTTPListen = ":8080" }, "advertise"},
		"wildcard raft":     {func(c *Config) { c.RaftBind = "0.0.0.0:7000" }, "advertise"},
		"bad store":         {func(c *Config) { c.Store = "mysql://x" }, "store"},
		"schema with bolt":  {func(c *Config) { c.PostgresSchema = "s" }, "schema"},
		"no key":            {func(c *Config) { c.SigningKey = nil }, "signing key"},
		"two keys":          {func(c *Config) { c.SigningKeyFile = "k" }, "signing key"},
		"short key":         {func(c *Config) { c.SigningKey = c.SigningKey[:10] }, "Ed25519"},
		"bad advertise URL": {func(c *Config) { c.HTTPAdvertise = "ftp://x" }, "advertise URL"},
		"negative rate":     {func(c *Config) { c.ElectionRate = -1 }, "election rate"},
		"NaN rate":          {func(c *Config) { c.ElectionRate = math.NaN() }, "election rate"},
	} {
		c := validConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", name, err, tc.want)
		}
	}
	c = validConfig()
	c.Store, c.PostgresSchema = "postgres://u@h/db", "node_1"
	if err := c.Validate(); err != nil {
		t.Errorf("postgres config: %v", err)
	}
}

func TestSigningKeySources(t *testing.T) {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	want := ed25519.NewKeyFromSeed(seed)
	file := filepath.Join(t.TempDir(), "node.key")
	if err := os.WriteFile(file, []byte(FormatSeed(seed)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := validConfig()
	c.SigningKey, c.SigningKeyFile = nil, file
	k, err := c.signingKey()
	if err != nil || !k.Equal(want) {
		t.Fatalf("key file: %v", err)
	}
	t.Setenv("URNA_TEST_NODE_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
	c.SigningKeyFile, c.SigningKeyEnv = "", "URNA_TEST_NODE_KEY"
	if k, err = c.signingKey(); err != nil || !k.Equal(want) {
		t.Fatalf("key env: %v", err)
	}
	c.SigningKeyEnv = "URNA_TEST_UNSET_VARIABLE"
	if _, err := c.signingKey(); err == nil {
		t.Fatal("unset env var accepted")
	}
	for _, bad := range []string{"", "00", strings.Repeat("zz", 32), strings.Repeat("00", 33)} {
		if _, err := ParseSeed(bad); err == nil {
			t.Errorf("ParseSeed(%q) accepted", bad)
		}
	}
}
