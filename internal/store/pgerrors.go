package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL SQLSTATE codes this package acts on
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	pgUniqueViolation      = "23505"
	pgCheckViolation       = "23514"
	pgNumericOutOfRange    = "22003"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgInvalidSchemaName    = "3F000"
	pgUndefinedTable       = "42P01"
)

// pgError wraps err from PostgreSQL with what was being done, mapping the
// codes callers branch on to this package's sentinels. The original error
// stays in the chain (retry detection looks for it).
func pgError(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			// Only the append-only tables have plain inserts: a duplicate
			// key means an append raced or restarted at a stale count.
			return fmt.Errorf("%w: %s: %w", ErrOutOfOrder, what, err)
		case pgCheckViolation, pgNumericOutOfRange:
			return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
		case pgInvalidSchemaName, pgUndefinedTable:
			return fmt.Errorf("store: %s: schema missing or not migrated: %w", what, err)
		}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// pgRetryable reports whether the transaction that failed with err may
// succeed when run again from the start.
func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected
	}
	return false
}
