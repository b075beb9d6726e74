package store

// PgMigrations exposes the migration list to the external tests, which
// build a database at an older schema version and check the upgrade.
var PgMigrations = pgMigrations

// SetPgPageBytes sets the byte bound of a page of the PostgreSQL store's
// Entries until the test ends.
func SetPgPageBytes(t interface{ Cleanup(func()) }, n int64) {
	old := pgPageBytes
	pgPageBytes = n
	t.Cleanup(func() { pgPageBytes = old })
}
