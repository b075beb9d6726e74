package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"
)

// PostgresOptions configures OpenPostgres. The zero value selects the
// defaults.
type PostgresOptions struct {
	// Schema is the PostgreSQL schema holding this node's tables, so that
	// several nodes can share one database. It is created if missing and
	// set as the connections' search_path, overriding one in the URL.
	// Empty: use the URL's search_path (or the server default, public).
	// It MUST match [a-z_][a-z0-9_]* and be at most 63 bytes.
	Schema string
	// MaxConns bounds the connection pool. Default: pgxpool's default
	// (the larger of 4 and the number of CPUs).
	MaxConns int32
	// MaxRetries is how often a transaction aborted by a serialization
	// failure or deadlock is run again before Update returns ErrConflict.
	// Default 5.
	MaxRetries int
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate reports an option out of range.
func (o PostgresOptions) Validate() error {
	if o.Schema != "" && !schemaName.MatchString(o.Schema) {
		return fmt.Errorf("%w: schema name %q must match %s", ErrInvalid, o.Schema, schemaName)
	}
	if o.MaxConns < 0 {
		return fmt.Errorf("%w: negative MaxConns", ErrInvalid)
	}
	if o.MaxRetries < 0 {
		return fmt.Errorf("%w: negative MaxRetries", ErrInvalid)
	}
	return nil
}

// pgStore keeps one writer at a time, as bbolt does: the node has a single
// applier, and serializing here means REPEATABLE READ writers practically
// never abort.
type pgStore struct {
	pool       *pgxpool.Pool
	lock       *pgx.Conn // holds the schema's advisory lock while open
	maxRetries int

	writeMu sync.Mutex
	// swap is held shared by View and Update and exclusively by Restore,
	// whose TRUNCATE is not MVCC-safe: a transaction that started before it
	// and reads a table only afterwards would see that table empty.
	swap   sync.RWMutex
	closed atomic.Bool
}

// OpenPostgres connects to the database at url (a libpq URL or key=value
// string), creates opts.Schema if set, and applies pending migrations.
func OpenPostgres(ctx context.Context, url string, opts PostgresOptions) (Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parsing PostgreSQL URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Schema != "" {
		// Create the schema over a plain connection first: the pool's
		// connections start with search_path pointing at it.
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
		if err != nil {
			return nil, pgError("connecting to PostgreSQL", err)
		}
		_, err = conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{opts.Schema}.Sanitize())
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, pgError(fmt.Sprintf("creating schema %s", opts.Schema), err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	lock, err := lockSchema(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		lock.Close(context.WithoutCancel(ctx))
		return nil, pgError("creating connection pool", err)
	}
	if err := pgMigrate(ctx, pool); err != nil {
		pool.Close()
		lock.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return &pgStore{pool: pool, lock: lock, maxRetries: opts.MaxRetries}, nil
}

// schemaLockKey is the advisory lock key of the connection's schema.
const schemaLockKey = `hashtextextended('urna-store/' || current_schema(), 0)`

// lockSchema takes the session-level advisory lock of the connection's
// current schema on a dedicated connection and keeps it: two processes must
// never write one node's state (bbolt has its file lock for the same reason).
// The lock goes when the connection closes, including when the process dies.
func lockSchema(ctx context.Context, cc *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, pgError("connecting to PostgreSQL", err)
	}
	var ok bool
	var schema string
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+schemaLockKey+`), current_schema()`).Scan(&ok, &schema)
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, pgError("locking the schema", err)
	}
	if !ok {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w: PostgreSQL schema %q is open in another process (another node using the same --pg-schema?)", ErrLocked, schema)
	}
	return conn, nil
}

// inTx runs fn in a transaction with opts, committing iff fn returns nil,
// and runs it again from the start after a serialization failure or
// deadlock. It is the only place this package begins a transaction for
// View and Update.
func (s *pgStore) inTx(ctx context.Context, opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.tryTx(ctx, opts, fn)
		if err == nil || !pgRetryable(err) {
			return err
		}
		if attempt >= s.maxRetries {
			return fmt.Errorf("%w: gave up after %d attempts: %w", ErrConflict, attempt+1, err)
		}
		t := time.NewTimer(time.Duration(attempt+1) * 5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("store: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (s *pgStore) tryTx(ctx context.Context, opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return pgError("beginning transaction", err)
	}
	// Rolls back on error and on panic; a no-op after Commit.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return pgError("committing transaction", err)
	}
	return nil
}

var (
	pgReadOnly  = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	pgReadWrite = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadWrite}
)

func (s *pgStore) check(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func (s *pgStore) View(ctx context.Context, fn func(ReadTx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.sharedTx(ctx, pgReadOnly, func(tx *pgTx) error { return fn(tx) })
}

func (s *pgStore) Update(ctx context.Context, fn func(WriteTx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.sharedTx(ctx, pgReadWrite, func(tx *pgTx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.flush()
	})
}

// sharedTx runs fn in a transaction with opts, holding swap shared: a
// Restore waits for it.
func (s *pgStore) sharedTx(ctx context.Context, opts pgx.TxOptions, fn func(*pgTx) error) error {
	s.swap.RLock()
	defer s.swap.RUnlock()
	return s.inTx(ctx, opts, func(ctx context.Context, tx pgx.Tx) error {
		return fn(newPgTx(ctx, tx))
	})
}

// pgTables lists every table a snapshot or restore touches.
const pgTables = `entries, hashes, blocks, kv, parts, meta`

// Snapshot holds a REPEATABLE READ transaction on a dedicated connection.
// It locks the tables in ACCESS SHARE mode before its snapshot is taken, so
// a concurrent Restore waits for Release instead of truncating under it.
func (s *pgStore) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.swap.RLock()
	defer s.swap.RUnlock()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, pgError("acquiring snapshot connection", err)
	}
	tx, err := conn.BeginTx(ctx, pgReadOnly)
	if err != nil {
		conn.Release()
		return nil, pgError("beginning snapshot transaction", err)
	}
	snap := &pgSnapshot{conn: conn, tx: tx}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+pgTables+` IN ACCESS SHARE MODE`); err != nil {
		snap.Release()
		return nil, pgError("locking tables for snapshot", err)
	}
	// The first query fixes the transaction's snapshot.
	if err := tx.QueryRow(ctx, `SELECT applied FROM meta WHERE id = 1`).Scan(&snap.applied); err != nil {
		snap.Release()
		return nil, pgError("reading applied index", err)
	}
	return snap, nil
}

type pgSnapshot struct {
	conn    *pgxpool.Conn
	tx      pgx.Tx
	applied int64
	once    sync.Once
}

func (p *pgSnapshot) Release() {
	p.once.Do(func() {
		p.tx.Rollback(context.Background())
		p.conn.Release()
		p.tx = nil
	})
}

// WriteTo streams each table with one query; pgx reads rows off the wire as
// they are consumed, so memory stays bounded by one row.
func (p *pgSnapshot) WriteTo(w io.Writer) (int64, error) {
	if p.tx == nil {
		return 0, fmt.Errorf("store: snapshot already released")
	}
	ctx := context.Background()
	var multi bool
	if err := p.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM parts)`).Scan(&multi); err != nil {
		return 0, pgError("snapshot partitions", err)
	}
	sw := newSnapWriter(w, uint64(p.applied), multi)
	var (
		part int32
		i    int64
		ns   int16
		a, b []byte
	)
	steps := []struct {
		query string
		dest  []any
		emit  func() error
	}{
		{`SELECT part, seq, data FROM entries ORDER BY part, seq`, []any{&part, &i, &a}, func() error { return sw.entry(Partition(part), uint64(i), a) }},
		{`SELECT part, idx, hash FROM hashes ORDER BY part, idx`, []any{&part, &i, &a}, func() error {
			if len(a) != len(tlog.Hash{}) {
				return fmt.Errorf("store: corrupt hash %d of partition %d (%d bytes)", i, part, len(a))
			}
			return sw.hash(Partition(part), uint64(i), tlog.Hash(a))
		}},
		{`SELECT part, height, header FROM blocks ORDER BY part, height`, []any{&part, &i, &a}, func() error { return sw.block(Partition(part), uint64(i), a) }},
		{`SELECT part, ns, key, value FROM kv ORDER BY part, ns, key`, []any{&part, &ns, &a, &b}, func() error {
			if !Namespace(ns).Valid() {
				return fmt.Errorf("store: corrupt kv row in namespace %d", ns)
			}
			return sw.kv(Partition(part), Namespace(ns), a, b)
		}},
	}
	for _, st := range steps {
		rows, err := p.tx.Query(ctx, st.query)
		if err != nil {
			return sw.n, pgError("snapshot query", err)
		}
		for rows.Next() {
			if err := rows.Scan(st.dest...); err != nil {
				rows.Close()
				return sw.n, pgError("snapshot scan", err)
			}
			if err := st.emit(); err != nil {
				rows.Close()
				return sw.n, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return sw.n, pgError("snapshot rows", err)
		}
	}
	return sw.finish()
}

// Restore replaces everything in one transaction: truncate, then COPY each
// section of the stream straight into its table. The end record (counts and
// checksum) is verified before COMMIT, so a bad stream leaves the old state.
// It waits for in-process Views and Updates and for outstanding Snapshots.
func (s *pgStore) Restore(ctx context.Context, r io.Reader) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.swap.Lock()
	defer s.swap.Unlock()
	sr := newSnapReader(r)
	return s.tryTx(ctx, pgReadWrite, func(ctx context.Context, tx pgx.Tx) error {
		rec, err := sr.next()
		if err != nil {
			if err == io.EOF {
				err = badSnap("no applied index")
			}
			return err
		}
		if rec.index > maxSeq {
			return badSnap("applied index %d out of range", rec.index)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE `+pgTables+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return pgError("locking tables for restore", err)
		}
		if _, err := tx.Exec(ctx, `TRUNCATE entries, hashes, blocks, kv, parts`); err != nil {
			return pgError("truncating for restore", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE meta SET applied = $1 WHERE id = 1`, int64(rec.index)); err != nil {
			return pgError("restoring applied index", err)
		}
		sections := []struct {
			tag     byte
			table   string
			columns []string
		}{
			{tagEntry, "entries", []string{"part", "seq", "data"}},
			{tagHash, "hashes", []string{"part", "idx", "hash"}},
			{tagBlock, "blocks", []string{"part", "height", "header"}},
			{tagKV, "kv", []string{"part", "ns", "key", "value"}},
		}
		parts := map[Partition]bool{}
		for _, sec := range sections {
			src := &snapCopySource{sr: sr, tag: sec.tag, parts: parts}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{sec.table}, sec.columns, src); err != nil {
				if src.err != nil {
					return src.err
				}
				return pgError("restoring "+sec.table, err)
			}
		}
		for p := range parts {
			if _, err := tx.Exec(ctx, `INSERT INTO parts (part) VALUES ($1)`, int32(p)); err != nil {
				return pgError(fmt.Sprintf("restoring partition %d", p), err)
			}
		}
		if rec, err := sr.next(); err != io.EOF {
			if err != nil {
				return err
			}
			return badSnap("record %q after its section", rec.tag)
		}
		return nil
	})
}

// snapCopySource feeds one section of a snapshot stream to CopyFrom and
// pushes back the first record of the next section.
type snapCopySource struct {
	sr    *snapReader
	tag   byte
	parts map[Partition]bool // partitions other than 0 seen
	rec   snapRecord
	err   error
	done  bool
}

func (c *snapCopySource) Next() bool {
	if c.done {
		return false
	}
	rec, err := c.sr.next()
	switch {
	case err == io.EOF:
		c.done = true
		return false
	case err != nil:
		c.err, c.done = err, true
		return false
	case rec.tag != c.tag:
		c.sr.unread(rec)
		c.done = true
		return false
	}
	c.rec = rec
	if rec.part != 0 {
		c.parts[rec.part] = true
	}
	return true
}

func (c *snapCopySource) Values() ([]any, error) {
	part := int32(c.rec.part)
	switch c.tag {
	case tagHash:
		h := c.rec.hash
		return []any{part, int64(c.rec.index), h[:]}, nil
	case tagKV:
		return []any{part, int16(c.rec.ns), c.rec.key, c.rec.value}, nil
	}
	return []any{part, int64(c.rec.index), c.rec.value}, nil
}

func (c *snapCopySource) Err() error { return c.err }

func (s *pgStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	// Release the lock before disconnecting: the server drops a closed
	// session's locks only when its backend has exited, after Close has
	// returned, so a store reopened at once (a restart, a restore) could
	// find its own schema still locked.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, unlockErr := s.lock.Exec(ctx, `SELECT pg_advisory_unlock(`+schemaLockKey+`)`)
	if err := s.lock.Close(ctx); err != nil {
		return err
	}
	if unlockErr != nil {
		return pgError("unlocking the schema", unlockErr)
	}
	return nil
}

// pgPage is how many rows Entries and Scan fetch per query. Paging (rather
// than one streaming query) leaves the connection free, so fn may call other
// methods of the transaction.
const pgPage = 512

// pgPageBytes bounds the entry bytes of one page of Entries: a page ends
// with the row that brings it to pgPageBytes or past (at least one row), so
// that large entries (credential lists, shuffles: up to
// bulletin.MaxEntrySize) are not held pgPage at a time. A variable for
// the tests.
var pgPageBytes int64 = 16 << 20

// pgTx implements WriteTx on partition part. Counts are cached per
// partition: within one transaction only its pgTx views change them.
type pgTx struct {
	ctx  context.Context
	tx   pgx.Tx
	part Partition
	sh   *pgShared
}

// pgShared is what the views of one transaction share.
type pgShared struct {
	counts map[Partition]*pgCounts
	known  map[Partition]bool // partitions known to be in parts
	// pending are the Puts and Deletes not sent yet, in order. They go to
	// the server in one round trip when pgPending are waiting, before any
	// other statement of the transaction, and before it commits, each run
	// of Puts as one multi-row INSERT (flush): a credential list of a
	// million voters is a million key-value rows, which one round trip
	// each made take minutes, and one statement each still tens of
	// seconds per node.
	pending []pgOp
}

// pgOp is a pending Put or Delete.
type pgOp struct {
	del   bool
	part  int32
	ns    Namespace
	key   []byte
	value []byte
}

func (o pgOp) String() string {
	if o.del {
		return fmt.Sprintf("deleting key %x in namespace %v", o.key, o.ns)
	}
	return fmt.Sprintf("putting key %x in namespace %v", o.key, o.ns)
}

// pgPending is how many Puts and Deletes wait before they are sent.
const pgPending = 8192

type pgCounts struct {
	nEntries, nHashes, nBlocks      int64
	haveEntries, haveHashes, haveBl bool
}

func newPgTx(ctx context.Context, tx pgx.Tx) *pgTx {
	return &pgTx{ctx: ctx, tx: tx, sh: &pgShared{counts: map[Partition]*pgCounts{}, known: map[Partition]bool{}}}
}

func (t *pgTx) In(p Partition) ReadTx       { return &pgTx{ctx: t.ctx, tx: t.tx, part: p, sh: t.sh} }
func (t *pgTx) WriteIn(p Partition) WriteTx { return &pgTx{ctx: t.ctx, tx: t.tx, part: p, sh: t.sh} }

func (t *pgTx) counts() *pgCounts {
	c := t.sh.counts[t.part]
	if c == nil {
		c = &pgCounts{}
		t.sh.counts[t.part] = c
	}
	return c
}

// pp is the partition as a query argument, after checking it.
func (t *pgTx) pp() (int32, error) {
	if err := checkPartition(t.part); err != nil {
		return 0, err
	}
	return int32(t.part), nil
}

// written records that the partition holds data (parts lists it) before
// its first write in the transaction. Only that statement sends the
// pending writes first: a Put that finds its partition recorded leaves
// them pending (flush), so that a credential list's million rows go in a
// few round trips, not one each.
func (t *pgTx) written() error {
	p, err := t.pp()
	if err != nil || p == 0 || t.sh.known[t.part] {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO parts (part) VALUES ($1) ON CONFLICT DO NOTHING`, p); err != nil {
		return pgError(fmt.Sprintf("recording partition %d", p), err)
	}
	t.sh.known[t.part] = true
	return nil
}

func (t *pgTx) Partitions() ([]Partition, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT part FROM parts ORDER BY part`)
	if err != nil {
		return nil, pgError("listing partitions", err)
	}
	out := []Partition{0}
	var p int32
	_, err = pgx.ForEachRow(rows, []any{&p}, func() error {
		out = append(out, Partition(p))
		return nil
	})
	if err != nil {
		return nil, pgError("listing partitions", err)
	}
	return out, nil
}

func (t *pgTx) count(table, col string, n *int64, have *bool) (int64, error) {
	p, err := t.pp()
	if err != nil {
		return 0, err
	}
	if *have {
		return *n, nil
	}
	// max() on the primary key is an index lookup, not a scan.
	q := `SELECT coalesce(max(` + col + `) + 1, 0) FROM ` + table + ` WHERE part = $1`
	if err := t.tx.QueryRow(t.ctx, q, p).Scan(n); err != nil {
		return 0, pgError("counting "+table, err)
	}
	*have = true
	return *n, nil
}

func (t *pgTx) AppliedIndex() (uint64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	var i int64
	if err := t.tx.QueryRow(t.ctx, `SELECT applied FROM meta WHERE id = 1`).Scan(&i); err != nil {
		return 0, pgError("reading applied index", err)
	}
	return uint64(i), nil
}

func (t *pgTx) EntryCount() (uint64, error) {
	c := t.counts()
	n, err := t.count("entries", "seq", &c.nEntries, &c.haveEntries)
	return uint64(n), err
}

func (t *pgTx) Entry(seq uint64) ([]byte, error) {
	return t.numbered(`SELECT data FROM entries WHERE part = $2 AND seq = $1`, "entry", seq)
}

// numbered reads record n of an append-only table (entries, blocks) with
// query, which takes n as $1 and the partition as $2.
func (t *pgTx) numbered(query, what string, n uint64) ([]byte, error) {
	p, err := t.pp()
	if err != nil {
		return nil, err
	}
	if n > maxSeq {
		return nil, fmt.Errorf("%w: %s %d", ErrNotFound, what, n)
	}
	var data []byte
	if err := t.tx.QueryRow(t.ctx, query, int64(n), p).Scan(&data); err != nil {
		return nil, pgError(fmt.Sprintf("%s %d", what, n), err)
	}
	return clone(data), nil
}

func (t *pgTx) Entries(from, to uint64, fn func(seq uint64, data []byte) error) error {
	if err := t.flush(); err != nil {
		return err
	}
	p, err := t.pp()
	if err != nil {
		return err
	}
	to = min(to, maxSeq)
	type row struct {
		seq  int64
		data []byte
	}
	page := make([]row, 0, pgPage)
	for from < to {
		page = page[:0]
		// before: the bytes of the page's rows ahead of this one.
		rows, err := t.tx.Query(t.ctx, `SELECT seq, data FROM (
			SELECT seq, data, sum(octet_length(data)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - octet_length(data) AS before
			FROM entries WHERE part = $4 AND seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3) page
			WHERE before < $5 ORDER BY seq`,
			int64(from), int64(to), pgPage, p, pgPageBytes)
		if err != nil {
			return pgError("reading entries", err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.data); err != nil {
				rows.Close()
				return pgError("reading entries", err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return pgError("reading entries", err)
		}
		var size int64
		for _, r := range page {
			size += int64(len(r.data))
			if err := fn(uint64(r.seq), clone(r.data)); err != nil {
				return err
			}
		}
		if len(page) < pgPage && size < pgPageBytes {
			return nil // cut by neither bound: no more rows
		}
		from = uint64(page[len(page)-1].seq) + 1
	}
	return nil
}

func (t *pgTx) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	p, err := t.pp()
	if err != nil {
		return nil, err
	}
	if len(indexes) == 0 {
		return []tlog.Hash{}, nil
	}
	for _, idx := range indexes {
		if idx < 0 {
			return nil, fmt.Errorf("%w: negative hash index %d", ErrInvalid, idx)
		}
	}
	rows, err := t.tx.Query(t.ctx, `SELECT idx, hash FROM hashes WHERE part = $2 AND idx = ANY($1)`, indexes, p)
	if err != nil {
		return nil, pgError("reading hashes", err)
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	var (
		idx int64
		h   []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&idx, &h}, func() error {
		if len(h) != len(tlog.Hash{}) {
			return fmt.Errorf("store: corrupt hash %d (%d bytes)", idx, len(h))
		}
		found[idx] = tlog.Hash(h)
		return nil
	})
	if err != nil {
		return nil, pgError("reading hashes", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := found[idx]
		if !ok {
			return nil, fmt.Errorf("%w: hash %d", ErrNotFound, idx)
		}
		out[i] = h
	}
	return out, nil
}

func (t *pgTx) HashCount() (int64, error) {
	c := t.counts()
	return t.count("hashes", "idx", &c.nHashes, &c.haveHashes)
}

func (t *pgTx) BlockCount() (uint64, error) {
	c := t.counts()
	n, err := t.count("blocks", "height", &c.nBlocks, &c.haveBl)
	return uint64(n), err
}

func (t *pgTx) Block(height uint64) ([]byte, error) {
	return t.numbered(`SELECT header FROM blocks WHERE part = $2 AND height = $1`, "block", height)
}

func (t *pgTx) Get(ns Namespace, key []byte) ([]byte, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	if err := checkKey(ns, key); err != nil {
		return nil, err
	}
	p, err := t.pp()
	if err != nil {
		return nil, err
	}
	var v []byte
	if err := t.tx.QueryRow(t.ctx, `SELECT value FROM kv WHERE part = $3 AND ns = $1 AND key = $2`, int16(ns), key, p).Scan(&v); err != nil {
		return nil, pgError(fmt.Sprintf("key %x in namespace %v", key, ns), err)
	}
	return clone(v), nil
}

func (t *pgTx) Scan(ns Namespace, prefix []byte, fn func(key, value []byte) error) error {
	if err := t.flush(); err != nil {
		return err
	}
	if err := checkNS(ns); err != nil {
		return err
	}
	p, err := t.pp()
	if err != nil {
		return err
	}
	start, end := clone(prefix), prefixEnd(prefix)
	type row struct{ k, v []byte }
	page := make([]row, 0, pgPage)
	for {
		page = page[:0]
		rows, err := t.tx.Query(t.ctx, `SELECT key, value FROM kv
			WHERE part = $5 AND ns = $1 AND key >= $2 AND ($3::bytea IS NULL OR key < $3)
			ORDER BY key LIMIT $4`, int16(ns), start, end, pgPage, p)
		if err != nil {
			return pgError("scanning namespace "+ns.String(), err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.k, &r.v); err != nil {
				rows.Close()
				return pgError("scanning namespace "+ns.String(), err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return pgError("scanning namespace "+ns.String(), err)
		}
		for _, r := range page {
			if err := fn(clone(r.k), clone(r.v)); err != nil {
				return err
			}
		}
		if len(page) < pgPage {
			return nil
		}
		// The least key greater than last is last followed by a zero byte.
		start = append(clone(page[len(page)-1].k), 0)
	}
}

func (t *pgTx) SetAppliedIndex(i uint64) error {
	if err := t.flush(); err != nil {
		return err
	}
	if i > maxSeq {
		return fmt.Errorf("%w: applied index %d out of range", ErrInvalid, i)
	}
	if _, err := t.tx.Exec(t.ctx, `UPDATE meta SET applied = $1 WHERE id = 1`, int64(i)); err != nil {
		return pgError("setting applied index", err)
	}
	return nil
}

func (t *pgTx) AppendEntries(first uint64, data [][]byte) error {
	n, err := t.EntryCount()
	if err != nil {
		return err
	}
	if err := checkAppend("entry", first, n, len(data)); err != nil {
		return err
	}
	for _, d := range data {
		if err := checkValue("entry", d); err != nil {
			return err
		}
	}
	part := int32(t.part)
	err = t.copyRows("entries", []string{"part", "seq", "data"}, len(data), func(i int) []any {
		return []any{part, int64(first) + int64(i), data[i]}
	})
	if err != nil {
		return err
	}
	t.counts().nEntries += int64(len(data))
	return nil
}

// copyRows inserts n rows of the partition with COPY, or with one INSERT
// for a single row, where COPY's extra round trips cost more than they save.
func (t *pgTx) copyRows(table string, cols []string, n int, row func(i int) []any) error {
	if err := t.flush(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if err := t.written(); err != nil {
		return err
	}
	switch n {
	case 1:
		q := fmt.Sprintf(`INSERT INTO %s (%s, %s, %s) VALUES ($1, $2, $3)`, table, cols[0], cols[1], cols[2])
		if _, err := t.tx.Exec(t.ctx, q, row(0)...); err != nil {
			return pgError("appending to "+table, err)
		}
		return nil
	}
	_, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		return row(i), nil
	}))
	if err != nil {
		return pgError("appending to "+table, err)
	}
	return nil
}

func (t *pgTx) AppendHashes(start int64, hashes []tlog.Hash) error {
	if start < 0 {
		return fmt.Errorf("%w: negative hash index %d", ErrInvalid, start)
	}
	n, err := t.HashCount()
	if err != nil {
		return err
	}
	if err := checkAppend("hash", uint64(start), uint64(n), len(hashes)); err != nil {
		return err
	}
	part := int32(t.part)
	err = t.copyRows("hashes", []string{"part", "idx", "hash"}, len(hashes), func(i int) []any {
		h := hashes[i]
		return []any{part, start + int64(i), h[:]}
	})
	if err != nil {
		return err
	}
	t.counts().nHashes += int64(len(hashes))
	return nil
}

func (t *pgTx) AppendBlock(height uint64, header []byte) error {
	n, err := t.BlockCount()
	if err != nil {
		return err
	}
	if err := checkBlockAppend(height, n, header); err != nil {
		return err
	}
	if err := t.written(); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO blocks (part, height, header) VALUES ($1, $2, $3)`, int32(t.part), int64(height), nonNil(header)); err != nil {
		return pgError(fmt.Sprintf("appending block %d", height), err)
	}
	t.counts().nBlocks++
	return nil
}

func (t *pgTx) Put(ns Namespace, key, value []byte) error {
	if err := checkKV(ns, key, value); err != nil {
		return err
	}
	if err := t.written(); err != nil {
		return err
	}
	return t.queue(pgOp{part: int32(t.part), ns: ns, key: bytes.Clone(key), value: bytes.Clone(nonNil(value))})
}

// queue adds a Put or Delete to the pending writes, sending them when
// pgPending wait. The caller's key and value may change after Put returns
// (the WriteTx contract), hence the copies.
func (t *pgTx) queue(op pgOp) error {
	t.sh.pending = append(t.sh.pending, op)
	if len(t.sh.pending) >= pgPending {
		return t.flush()
	}
	return nil
}

// putRows writes many kv rows in one statement; a row whose key exists
// replaces its value. The rows MUST name distinct keys (ON CONFLICT
// cannot touch a row twice in one statement).
const putRows = `INSERT INTO kv (part, ns, key, value)
	SELECT * FROM unnest($1::integer[], $2::smallint[], $3::bytea[], $4::bytea[])
	ON CONFLICT (part, ns, key) DO UPDATE SET value = excluded.value`

// flush sends the pending Puts and Deletes in one round trip, in order:
// each run of Puts of distinct keys as one statement (putRows), each
// Delete alone. Every other statement of the transaction runs after it, so
// reads see the writes.
func (t *pgTx) flush() error {
	if len(t.sh.pending) == 0 {
		return nil
	}
	ops := t.sh.pending
	t.sh.pending = nil
	var b pgx.Batch
	var what []string // each statement's description, for its error
	for i := 0; i < len(ops); {
		if ops[i].del {
			o := ops[i]
			b.Queue(`DELETE FROM kv WHERE part = $3 AND ns = $1 AND key = $2`, int16(o.ns), o.key, o.part)
			what = append(what, o.String())
			i++
			continue
		}
		var parts []int32
		var nss []int16
		var keys, values [][]byte
		seen := map[pgKey]bool{}
		j := i
		for ; j < len(ops) && !ops[j].del; j++ {
			k := pgKey{ops[j].part, ops[j].ns, string(ops[j].key)}
			if seen[k] {
				break // a second Put of a key: the next statement, in order
			}
			seen[k] = true
			parts, nss = append(parts, ops[j].part), append(nss, int16(ops[j].ns))
			keys, values = append(keys, ops[j].key), append(values, ops[j].value)
		}
		b.Queue(putRows, parts, nss, keys, values)
		if j-i == 1 {
			what = append(what, ops[i].String())
		} else {
			what = append(what, fmt.Sprintf("putting %d keys (the first %x in namespace %v)", j-i, ops[i].key, ops[i].ns))
		}
		i = j
	}
	br := t.tx.SendBatch(t.ctx, &b)
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return pgError(w, err)
		}
	}
	if err := br.Close(); err != nil {
		return pgError("sending key-value writes", err)
	}
	return nil
}

func (t *pgTx) Delete(ns Namespace, key []byte) error {
	if err := checkKey(ns, key); err != nil {
		return err
	}
	p, err := t.pp()
	if err != nil {
		return err
	}
	return t.queue(pgOp{del: true, part: p, ns: ns, key: bytes.Clone(key)})
}

// pgKey is a kv row's key, for flush.
type pgKey struct {
	part int32
	ns   Namespace
	key  string
}

// nonNil maps a nil slice to an empty one: pgx encodes nil []byte as SQL
// NULL, and the columns are NOT NULL (an empty value is valid).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
