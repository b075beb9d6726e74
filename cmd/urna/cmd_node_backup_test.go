package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/servertest"
)

// backend is where a test node keeps its state: bolt under its data
// directory, or a throwaway PostgreSQL schema.
type backend struct {
	name   string
	url    string // "" for bolt
	schema string
}

func (b backend) flags() []string {
	if b.url == "" {
		return nil
	}
	return []string{"--store", b.url, "--pg-schema", b.schema}
}

func (b backend) config(cfg *server.Config) {
	if b.url != "" {
		cfg.Store, cfg.PostgresSchema = b.url, b.schema
	}
}

func (b backend) open(t *testing.T, dataDir string) store.Store {
	t.Helper()
	o := stateOpts{dataDir: dataDir, store: "bolt", pgSchema: b.schema}
	if b.url != "" {
		o.store = b.url
	}
	st, err := o.open(t.Context(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// backends returns bolt and, when URNA_TEST_POSTGRES is set (always in
// CI), PostgreSQL with a fresh schema per call to pg.
func backends(t *testing.T) (bolt backend, pg func(name string) backend, ok bool) {
	url := os.Getenv("URNA_TEST_POSTGRES")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("URNA_TEST_POSTGRES not set: PostgreSQL is required in CI")
		}
		t.Log("URNA_TEST_POSTGRES not set: PostgreSQL backups not tested (required in CI)")
	}
	pg = func(name string) backend {
		return backend{name: name, url: url, schema: storetest.PostgresSchema(t, url, "urna_test_backup_")}
	}
	return backend{name: "bolt"}, pg, url != ""
}

func schemaExists(ctx context.Context, url, schema string) (bool, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var ok bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)", schema).Scan(&ok)
	return ok, err
}

// startTestNode runs a node on dir (servertest: quick Raft timers, stopped
// when the test ends) and waits until it leads.
func startTestNode(t *testing.T, id, dir, raftAddr string, b backend, key ed25519.PrivateKey) *server.Node {
	t.Helper()
	cfg := servertest.Config(t, id, dir, key)
	cfg.Bootstrap, cfg.RaftBind = true, raftAddr
	b.config(&cfg)
	n := servertest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := n.Replica.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNodeBackupRestore backs up a stopped node holding an election (on
// bolt and on PostgreSQL), restores the backup into a fresh directory (and
// schema) on each backend, checks the restored state is byte for byte the
// original, and starts the restored node: it leads a new cluster and takes
// the election's next steps.
func TestNodeBackupRestore(t *testing.T) {
	bolt, pg, havePG := backends(t)
	sources := []backend{bolt}
	if havePG {
		sources = append(sources, pg("postgres"))
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			dir := t.TempDir()
			p := func(s string) string { return filepath.Join(dir, s) }
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			n := startTestNode(t, "n1", p("n1"), testonly.FreeAddr(t), src, key)
			N := "--node=" + n.APIAddr
			os.WriteFile(p("election.json"), []byte(`{"election_id":"backup-1","title":"Backup","threshold":2,
			 "questions":[{"text":"Q1","options":["A","B"],"min":1,"max":1}]}`), 0o644)
			createTestElection(func(args ...string) { mustUrna(t, args...) }, dir, N, key)
			mustUrna(t, "credentials", "issue", "--dir", p("ca"), N, "--count", "3")

			// A running node's state is locked: the backup says to stop it.
			backup := append([]string{"node", "backup", "--data", p("n1"), "-o", p("running.urna")}, src.flags()...)
			if out, err := urnaCmd(t, backup...); !errors.Is(err, store.ErrLocked) || !strings.Contains(out, "stop the node first") {
				t.Fatalf("backup of a running node: %v\n%s", err, out)
			}
			if _, err := os.Stat(p("running.urna")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused backup left a file: %v", err)
			}
			if err := n.Stop(); err != nil {
				t.Fatal(err)
			}
			orig := src.open(t, p("n1"))
			want := storetest.SnapshotBytes(t, orig)
			orig.Close()

			out := mustUrna(t, append([]string{"node", "backup", "--data", p("n1"), "-o", p("b.urna")}, src.flags()...)...)
			if !strings.Contains(out, "sha256 ") {
				t.Fatalf("backup output: %s", out)
			}
			if got, _ := os.ReadFile(p("b.urna")); !bytes.Equal(got, want) {
				t.Fatalf("the backup file is not the state's snapshot (%d bytes, want %d)", len(got), len(want))
			}
			if out, err := urnaCmd(t, append([]string{"node", "backup", "--data", p("n1"), "-o", p("b.urna")}, src.flags()...)...); err == nil || !strings.Contains(out, "never replaces") {
				t.Fatalf("backup over an existing file: %v\n%s", err, out)
			}

			targets := []backend{bolt}
			if havePG {
				targets = append(targets, pg("postgres"))
			}
			for _, dst := range targets {
				t.Run("into-"+dst.name, func(t *testing.T) {
					// The restored node keeps the ID the manifest names: the
					// parties act only on checkpoints its board nodes sign.
					rdir := filepath.Join(t.TempDir(), "n1")
					raftAddr := testonly.FreeAddr(t)
					mustUrna(t, append(append([]string{"node", "restore", "--id", "n1", "--data", rdir, "--raft", raftAddr}, dst.flags()...), p("b.urna"))...)
					st := dst.open(t, rdir)
					got := storetest.SnapshotBytes(t, st)
					st.Close()
					if !bytes.Equal(got, want) {
						t.Fatalf("restored state differs from the original (%d bytes, want %d)", len(got), len(want))
					}
					r := startTestNode(t, "n1", rdir, raftAddr, dst, key)
					defer r.Stop()
					for i := 1; i <= 3; i++ {
						// Each target grows another history from the same
						// backup: a trustee remembering one would rightly
						// refuse the other as a fork (SPEC.md §10.7), by its
						// memory or by its saved verification state alike.
						os.Remove(p(fmt.Sprintf("t%d/board-memory.json", i)))
						os.Remove(p(fmt.Sprintf("t%d/board-state.bin", i)))
						mustUrna(t, "trustee", "deal", "--dir", p(fmt.Sprintf("t%d", i)), "--node="+r.APIAddr)
					}
				})
			}
		})
	}
}

// TestNodeRestoreRefusesDamagedBackups: a truncated or corrupted backup is
// refused with a clear error before anything is written, on both backends.
func TestNodeRestoreRefusesDamagedBackups(t *testing.T) {
	bolt, pg, havePG := backends(t)
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	os.Mkdir(p("src"), 0o700)
	st := bolt.open(t, p("src"))
	err := st.Update(t.Context(), func(tx store.WriteTx) error {
		if err := tx.AppendEntries(0, [][]byte{[]byte("entry 0"), []byte("entry 1")}); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, []byte("k"), []byte("v")); err != nil {
			return err
		}
		return tx.SetAppliedIndex(9)
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	mustUrna(t, "node", "backup", "--data", p("src"), "-o", p("good.urna"))
	good, _ := os.ReadFile(p("good.urna"))
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	damaged := map[string][]byte{
		"truncated": good[:len(good)-1],
		"half":      good[:len(good)/2],
		"flipped":   flipped,
		"trailing":  append(bytes.Clone(good), '\n'),
		"empty":     {},
	}
	targets := []backend{bolt}
	if havePG {
		targets = append(targets, pg("postgres"))
	}
	for _, dst := range targets {
		for name, b := range damaged {
			file := p(name + ".urna")
			os.WriteFile(file, b, 0o600)
			rdir := p("restored-" + dst.name + "-" + name)
			out, err := urnaCmd(t, append(append([]string{"node", "restore", "--id", "r1", "--data", rdir, "--raft", "127.0.0.1:7001"}, dst.flags()...), file)...)
			if !errors.Is(err, store.ErrBadSnapshot) || !strings.Contains(out, "not a valid backup (nothing was written)") || !strings.Contains(out, "hint: ") {
				t.Errorf("%s into %s: %v\n%s", name, dst.name, err, out)
			}
			if _, err := os.Stat(rdir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s into %s: %s exists after a refused restore", name, dst.name, rdir)
			}
			if dst.url != "" {
				if ok, err := schemaExists(t.Context(), dst.url, dst.schema); err != nil || ok {
					t.Errorf("%s into %s: schema %s exists after a refused restore (%v)", name, dst.name, dst.schema, err)
				}
			}
		}
	}
	// Leftovers of the temporary files: none.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	// A good backup into a directory that is not empty is refused too.
	os.MkdirAll(p("full"), 0o700)
	os.WriteFile(p("full/x"), nil, 0o600)
	if out, err := urnaCmd(t, "node", "restore", "--id", "r1", "--data", p("full"), "--raft", "127.0.0.1:7001", p("good.urna")); err == nil || !strings.Contains(out, "not empty") {
		t.Errorf("restore into a full directory: %v\n%s", err, out)
	}
	// A PostgreSQL schema that holds state is never overwritten; the
	// directory of the refused restore is not created.
	if havePG {
		dst := pg("postgres")
		restore := func(rdir string) (string, error) {
			return urnaCmd(t, append(append([]string{"node", "restore", "--id", "r1", "--data", rdir, "--raft", "127.0.0.1:7001"}, dst.flags()...), p("good.urna"))...)
		}
		if out, err := restore(p("pg-first")); err != nil {
			t.Fatalf("restore into an empty schema: %v\n%s", err, out)
		}
		if out, err := restore(p("pg-second")); err == nil || !strings.Contains(out, "already holds state") {
			t.Errorf("restore into a schema with state: %v\n%s", err, out)
		}
		if _, err := os.Stat(p("pg-second")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pg-second exists after a refused restore")
		}
	}
	// Usage errors.
	for _, args := range [][]string{
		{"node", "restore", "--data", p("x"), p("good.urna")},
		{"node", "restore", "--id", "r1", "--data", p("x"), "--raft", "0.0.0.0:7001", p("good.urna")},
		{"node", "restore", "--id", "r1", "--data", p("x")},
		{"node", "backup", "--data", p("src")},
		{"node", "backup", "--data", p("nothing-here"), "-o", p("x.urna")},
		{"node", "backup", "--data", p("src"), "--pg-schema", "s", "-o", p("x.urna")},
	} {
		if out, err := urnaCmd(t, args...); err == nil || !strings.Contains(out, "hint: ") {
			t.Errorf("urna %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
