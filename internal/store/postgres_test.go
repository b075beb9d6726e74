package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
	"github.com/urna-vote/urna/internal/testonly"
)

func openPostgres(t *testing.T) (store.Store, func(*testing.T) store.Store) {
	t.Helper()
	url := testonly.PostgresURL(t)
	schema := storetest.PostgresSchema(t, url, "urna_test_")
	return storetest.Opener(t, func() (store.Store, error) {
		return store.OpenPostgres(context.Background(), url, store.PostgresOptions{Schema: schema})
	})
}

func TestPostgres(t *testing.T) {
	testonly.PostgresURL(t) // skip or fail once, not in every subtest
	storetest.Run(t, openPostgres)
}

// Restore waits for a snapshot held elsewhere instead of truncating under
// it; the snapshot still streams the state it captured.
func TestPostgresRestoreWaitsForSnapshot(t *testing.T) {
	s, _ := openPostgres(t)
	want, snap := storetest.FilledSnapshot(t, s)
	empty, _ := openPostgres(t)
	emptyStream := bytesOf(t, empty)
	restored := make(chan error, 1)
	go func() { restored <- s.Restore(context.Background(), emptyStream) }()
	select {
	case err := <-restored:
		t.Fatalf("Restore finished (%v) while a snapshot was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	stream := writeToReader(t, snap)
	snap.Release()
	if err := <-restored; err != nil {
		t.Fatalf("Restore: %v", err)
	}
	storetest.RequireSameState(t, empty, s)
	other, _ := openPostgres(t)
	if err := other.Restore(t.Context(), stream); err != nil {
		t.Fatal(err)
	}
	if got := storetest.Dump(t, other); got.Applied != want.Applied || len(got.Entries) != len(want.Entries) {
		t.Fatal("snapshot streamed the wrong state")
	}
}

func TestPostgresMigrationsIdempotent(t *testing.T) {
	url := testonly.PostgresURL(t)
	schema := storetest.PostgresSchema(t, url, "urna_test_")
	ctx := t.Context()
	for range 3 {
		s, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: schema})
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
		s.Close()
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, max int
	q := `SELECT count(*), max(version) FROM ` + pgx.Identifier{schema, "schema_version"}.Sanitize()
	if err := conn.QueryRow(ctx, q).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if want := len(store.PgMigrations); n != want || max != want {
		t.Fatalf("schema_version has %d rows, max %d; want %d, %d", n, max, want, want)
	}
	// A schema newer than the binary is refused, not silently used.
	if _, err := conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "schema_version"}.Sanitize()+` (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: schema}); err == nil {
		s.Close()
		t.Fatal("OpenPostgres accepted a schema from the future")
	}
}

func TestPostgresSchemasIsolateNodes(t *testing.T) {
	a, _ := openPostgres(t)
	b, _ := openPostgres(t)
	storetest.Fill(t, a, 1)
	if got := storetest.Dump(t, b); len(got.Entries) != 0 || got.Applied != 0 {
		t.Fatalf("node b sees node a's data")
	}
}

func TestPostgresOptionsValidate(t *testing.T) {
	for _, o := range []store.PostgresOptions{
		{Schema: "Bad"}, {Schema: "a;drop"}, {Schema: "1x"}, {Schema: string(bytes.Repeat([]byte("a"), 64))},
		{MaxConns: -1}, {MaxRetries: -1},
	} {
		if err := o.Validate(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Validate(%+v) = %v", o, err)
		}
	}
	if err := (store.PostgresOptions{Schema: "node_1"}).Validate(); err != nil {
		t.Errorf("Validate(node_1): %v", err)
	}
}

// A snapshot from either backend restores into the other, and both encode
// the same state to the same bytes: one partition (format v1) and several
// (format v2).
func TestSnapshotCrossBackend(t *testing.T) {
	for _, tc := range []struct {
		name string
		fill func(*testing.T, store.Store, int)
	}{{"one partition", storetest.Fill}, {"partitions", storetest.FillPartitions}} {
		t.Run(tc.name, func(t *testing.T) {
			pg, _ := openPostgres(t)
			bolt, _ := openBolt(t)
			tc.fill(t, bolt, 2)
			boltSnap := storetest.SnapshotBytes(t, bolt)
			if err := pg.Restore(t.Context(), bytes.NewReader(boltSnap)); err != nil {
				t.Fatalf("bolt -> postgres: %v", err)
			}
			storetest.RequireSameState(t, bolt, pg)
			if !bytes.Equal(storetest.SnapshotBytes(t, pg), boltSnap) {
				t.Fatal("postgres snapshot of the same state differs from bolt's")
			}

			pg2, _ := openPostgres(t)
			tc.fill(t, pg2, 5)
			bolt2, _ := openBolt(t)
			if err := bolt2.Restore(t.Context(), bytesOf(t, pg2)); err != nil {
				t.Fatalf("postgres -> bolt: %v", err)
			}
			storetest.RequireSameState(t, pg2, bolt2)

			// Independently filled stores encode identically too.
			bolt3, _ := openBolt(t)
			tc.fill(t, bolt3, 5)
			if !bytes.Equal(storetest.SnapshotBytes(t, bolt3), storetest.SnapshotBytes(t, pg2)) {
				t.Fatal("same state, different snapshot bytes")
			}
		})
	}
}

// TestPostgresMigratePartitions: a database written at schema version 1
// (before partitions) opens as partition 0, unchanged, and streams the same
// format-v1 snapshot as a bbolt store holding the same state.
func TestPostgresMigratePartitions(t *testing.T) {
	url := testonly.PostgresURL(t)
	schema := storetest.PostgresSchema(t, url, "urna_test_")
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{schema}.Sanitize()
	steps := []string{
		`CREATE SCHEMA ` + id,
		`SET search_path TO ` + id,
		`CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		store.PgMigrations[0],
		`INSERT INTO schema_version (version) VALUES (1)`,
		`INSERT INTO entries (seq, data) VALUES (0, 'e0'), (1, '')`,
		`INSERT INTO hashes (idx, hash) VALUES (0, decode(repeat('ab', 32), 'hex'))`,
		`INSERT INTO blocks (height, header) VALUES (0, 'hdr')`,
		`INSERT INTO kv (ns, key, value) VALUES (1, 'k', 'v'), (2, 'x', '')`,
		`UPDATE meta SET applied = 7`,
	}
	for _, q := range steps {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	pg, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: schema})
	if err != nil {
		t.Fatalf("OpenPostgres of a version-1 schema: %v", err)
	}
	t.Cleanup(func() { pg.Close() })
	bolt, _ := openBolt(t)
	err = bolt.Update(ctx, func(tx store.WriteTx) error {
		if err := tx.AppendEntries(0, [][]byte{[]byte("e0"), {}}); err != nil {
			return err
		}
		if err := tx.AppendHashes(0, []tlog.Hash{tlog.Hash(bytes.Repeat([]byte{0xab}, 32))}); err != nil {
			return err
		}
		if err := tx.AppendBlock(0, []byte("hdr")); err != nil {
			return err
		}
		if err := tx.Put(store.NSMeta, []byte("k"), []byte("v")); err != nil {
			return err
		}
		if err := tx.Put(store.NSTracker, []byte("x"), nil); err != nil {
			return err
		}
		return tx.SetAppliedIndex(7)
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.RequireSameState(t, bolt, pg)
	if !bytes.Equal(storetest.SnapshotBytes(t, pg), storetest.SnapshotBytes(t, bolt)) {
		t.Fatal("the migrated database's snapshot differs from bolt's of the same state")
	}
	// The migrated database takes new partitions.
	err = pg.Update(ctx, func(tx store.WriteTx) error {
		return tx.WriteIn(2).AppendEntries(0, [][]byte{[]byte("p2")})
	})
	if err != nil {
		t.Fatalf("writing a partition after the migration: %v", err)
	}
}

// TestPostgresSchemaLocked: a schema open in one store cannot be opened by a
// second one (another node's process) until the first closes.
func TestPostgresSchemaLocked(t *testing.T) {
	url := testonly.PostgresURL(t)
	schema := storetest.PostgresSchema(t, url, "urna_test_")
	ctx := t.Context()
	a, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: schema}); !errors.Is(err, store.ErrLocked) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("second open of a held schema: %v, want ErrLocked", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: schema})
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	b.Close()
}

// Entries pages by bytes as well as by rows: with a page bound of 10,000
// bytes, entries of 0 to 30,000 bytes (some alone past the bound) come
// back all, once each, in order, from any start.
func TestPostgresEntriesPageBytes(t *testing.T) {
	store.SetPgPageBytes(t, 10_000)
	s, _ := openPostgres(t)
	var data [][]byte
	for i := range 60 {
		n := (i * 3_517) % 9_000
		if i%13 == 5 {
			n = 30_000
		}
		data = append(data, bytes.Repeat([]byte{byte(i)}, n))
	}
	err := s.Update(t.Context(), func(tx store.WriteTx) error { return tx.AppendEntries(0, data) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]uint64{{0, 60}, {7, 33}, {5, 6}, {59, 100}} {
		var got []uint64
		err := s.View(t.Context(), func(tx store.ReadTx) error {
			return tx.Entries(r[0], r[1], func(seq uint64, d []byte) error {
				if !bytes.Equal(d, data[seq]) {
					t.Errorf("entry %d: %d bytes, want %d", seq, len(d), len(data[seq]))
				}
				got = append(got, seq)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		want := min(r[1], 60) - r[0]
		if uint64(len(got)) != want || got[0] != r[0] || got[len(got)-1] != r[0]+want-1 {
			t.Errorf("Entries(%d, %d): got %d entries (%v…), want %d from %d", r[0], r[1], len(got), got[:min(len(got), 3)], want, r[0])
		}
		for i := 1; i < len(got); i++ {
			if got[i] != got[i-1]+1 {
				t.Errorf("Entries(%d, %d): %d after %d", r[0], r[1], got[i], got[i-1])
			}
		}
	}
}
