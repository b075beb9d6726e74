package store

// PgMigrations exposes the migration list to the external tests, which
// build a database at an older schema version and check the upgrade.
var PgMigrations = pgMigrations
