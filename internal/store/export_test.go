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

// SetLevels sets the bbolt store's level 0 capacity and growth factor
// (boltlevels.go) until the test ends: tiny levels merge at every few rows.
func SetLevels(t interface{ Cleanup(func()) }, rows0, growth uint64) {
	oldRows, oldGrowth := levelRows0, levelGrowth
	levelRows0, levelGrowth = rows0, growth
	t.Cleanup(func() { levelRows0, levelGrowth = oldRows, oldGrowth })
}

// BoltLevels is the number of level buckets of a leveled namespace.
const BoltLevels = boltLevels
