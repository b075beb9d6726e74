package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// pgMigrations are applied in order, each once, recorded in schema_version.
// Append new steps; never edit or reorder an applied one.
var pgMigrations = []string{
	// 1: the initial layout. bigint columns hold uint64 values up to
	// 2^63-1 (checked in Go). bytea compares bytewise, so ORDER BY key is
	// the order Scan promises.
	`CREATE TABLE entries (
		seq  bigint PRIMARY KEY CHECK (seq >= 0),
		data bytea  NOT NULL
	);
	CREATE TABLE hashes (
		idx  bigint PRIMARY KEY CHECK (idx >= 0),
		hash bytea  NOT NULL CHECK (length(hash) = 32)
	);
	CREATE TABLE blocks (
		height bigint PRIMARY KEY CHECK (height >= 0),
		header bytea  NOT NULL
	);
	CREATE TABLE kv (
		ns    smallint NOT NULL CHECK (ns BETWEEN 1 AND 255),
		key   bytea    NOT NULL CHECK (length(key) > 0),
		value bytea    NOT NULL,
		PRIMARY KEY (ns, key)
	);
	CREATE TABLE meta (
		id      smallint PRIMARY KEY CHECK (id = 1),
		applied bigint   NOT NULL CHECK (applied >= 0)
	);
	INSERT INTO meta (id, applied) VALUES (1, 0);`,
	// 2: partitions (SPEC.md §3.14.8). The rows that exist are
	// partition 0's; every key gains the partition in front, and parts
	// lists the partitions other than 0 that were written to.
	`ALTER TABLE entries ADD COLUMN part integer NOT NULL DEFAULT 0 CHECK (part >= 0);
	ALTER TABLE entries ALTER COLUMN part DROP DEFAULT;
	ALTER TABLE entries DROP CONSTRAINT entries_pkey, ADD PRIMARY KEY (part, seq);
	ALTER TABLE hashes ADD COLUMN part integer NOT NULL DEFAULT 0 CHECK (part >= 0);
	ALTER TABLE hashes ALTER COLUMN part DROP DEFAULT;
	ALTER TABLE hashes DROP CONSTRAINT hashes_pkey, ADD PRIMARY KEY (part, idx);
	ALTER TABLE blocks ADD COLUMN part integer NOT NULL DEFAULT 0 CHECK (part >= 0);
	ALTER TABLE blocks ALTER COLUMN part DROP DEFAULT;
	ALTER TABLE blocks DROP CONSTRAINT blocks_pkey, ADD PRIMARY KEY (part, height);
	ALTER TABLE kv ADD COLUMN part integer NOT NULL DEFAULT 0 CHECK (part >= 0);
	ALTER TABLE kv ALTER COLUMN part DROP DEFAULT;
	ALTER TABLE kv DROP CONSTRAINT kv_pkey, ADD PRIMARY KEY (part, ns, key);
	CREATE TABLE parts (part integer PRIMARY KEY CHECK (part > 0));`,
}

// pgMigrate brings the current schema (search_path) up to date in one
// transaction. Concurrent starters serialize on an advisory lock keyed by
// the schema name, so it is idempotent and safe to run at every start.
func pgMigrate(ctx context.Context, conn interface {
	BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
}) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return pgError("beginning migration", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('urna-store:' || current_schema()))`); err != nil {
		return pgError("locking for migration", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return pgError("creating schema_version", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return pgError("reading schema version", err)
	}
	if have > len(pgMigrations) {
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d", have, len(pgMigrations))
	}
	for v := have + 1; v <= len(pgMigrations); v++ {
		// No arguments: pgx uses the simple protocol, which allows several
		// statements in one Exec.
		if _, err := tx.Exec(ctx, pgMigrations[v-1]); err != nil {
			return pgError(fmt.Sprintf("applying migration %d", v), err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v); err != nil {
			return pgError(fmt.Sprintf("recording migration %d", v), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return pgError("committing migration", err)
	}
	return nil
}
