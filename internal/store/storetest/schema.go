package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresSchema names a fresh schema, prefix followed by random hex digits,
// in the database at url, and drops it (with everything in it) when the test
// ends. Call it before opening the stores that use the schema: cleanups run
// last-in first-out, so the drop comes after they are closed.
func PostgresSchema(t testing.TB, url, prefix string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}
