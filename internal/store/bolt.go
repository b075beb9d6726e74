package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/durable"
)

// BoltOptions configures OpenBolt. The zero value selects the defaults.
type BoltOptions struct {
	// LockTimeout bounds the wait for the file lock held by another
	// process that has the same file open. Default 1s.
	LockTimeout time.Duration
	// InitialMmapSize is the size of the initial memory map. Default
	// defaultMmapSize: 64 GiB on 64-bit platforms but Windows, 1 GiB
	// elsewhere. Why it matters: bbolt remaps when the file outgrows the
	// map, and a remap waits for every open read transaction, including a
	// held Snapshot. A map larger than the data (address space, not
	// memory) keeps writers from stalling behind a snapshot being
	// streamed: with 1 GiB, a 1,000,000-ballot board (a 3 GB state file)
	// stopped taking posts for minutes while its nodes streamed their
	// Raft snapshots (bench/README.md, "A million voters").
	InitialMmapSize int
	// PageSize is the page size of a store created new (a power of two,
	// at least 4 KiB); an existing file keeps the size it was made with.
	// Default 16 KiB: a 2 KiB ballot fills most of a 4 KiB page, so with
	// 4 KiB pages bbolt writes (one pwrite each) and allocates a page per
	// entry, and these page writes were the largest part of a commit's CPU
	// (bench/README.md, "Board").
	PageSize int
}

// defaultMmapSize is 64 GiB of address space where that costs nothing:
// on 64-bit platforms a shared, read-only map past the end of the file
// takes no memory and leaves the file as it is. Windows grows the file to
// the map's size, and 32-bit platforms have no such address space: 1 GiB.
func defaultMmapSize() int {
	if gib := 64; strconv.IntSize == 64 && runtime.GOOS != "windows" {
		return gib << 30 // a variable: the constant would not compile for 32-bit
	}
	return 1 << 30
}

func (o BoltOptions) withDefaults() BoltOptions {
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Second
	}
	if o.InitialMmapSize == 0 {
		o.InitialMmapSize = defaultMmapSize()
	}
	if o.PageSize == 0 {
		o.PageSize = 16 << 10
	}
	return o
}

// Validate reports an option out of range.
func (o BoltOptions) Validate() error {
	if o.LockTimeout < 0 {
		return fmt.Errorf("%w: negative LockTimeout", ErrInvalid)
	}
	if o.InitialMmapSize < 0 {
		return fmt.Errorf("%w: negative InitialMmapSize", ErrInvalid)
	}
	if o.PageSize != 0 && (o.PageSize < 4<<10 || o.PageSize > 1<<20 || o.PageSize&(o.PageSize-1) != 0) {
		return fmt.Errorf("%w: PageSize %d is not a power of two from 4 KiB to 1 MiB", ErrInvalid, o.PageSize)
	}
	return nil
}

// Bucket layout. Append-only kinds are keyed by big-endian uint64, so
// bytewise key order is numeric order and the count is the last key + 1.
var (
	bktMeta    = []byte("meta")    // applied index, format version
	bktEntries = []byte("entries") // seq -> data
	bktHashes  = []byte("hashes")  // storage index -> 32-byte hash
	bktBlocks  = []byte("blocks")  // height -> header
	keyApplied = []byte("applied")
	keyFormat  = []byte("format")
	// partPrefix names the bucket of partition p > 0: partPrefix ‖ u32(p),
	// holding buckets named as partition 0's top-level ones (entries,
	// hashes, blocks, ns.*). Big-endian, so bucket order is numeric order.
	partPrefix = []byte("part/")
)

// appendBuckets take sequential keys: their pages are filled completely
// instead of bbolt's default half-full split.
var appendBuckets = [][]byte{bktEntries, bktHashes, bktBlocks}

func partBucket(p Partition) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), partPrefix...), uint32(p))
}

// boltFormat is the on-disk layout version in meta/format: 2 since the
// leveled namespaces (boltlevels.go), 3 since their levels' membership
// filters, 4 since levels 1 to 3 are sorted runs, 5 since a run's rows are
// packed in blocks (boltblocks.go). An older file is upgraded when opened,
// in the transaction that marks it 5: a format 1 file has no levels; a
// format 2 or 3 file's levels 1 to 3 are merged into the bases, and so
// are a format 4 file's runs (upgradeOld). A binary that knows only an
// older format then refuses the file instead of missing rows: it would not
// read the runs.
const boltFormat = 5

// nsBucket is the bucket name of ns (made once: it is looked up on every
// Get and Put).
func nsBucket(ns Namespace) []byte {
	if int(ns) < len(nsBuckets) && nsBuckets[ns] != nil {
		return nsBuckets[ns]
	}
	return []byte("ns." + ns.String())
}

var nsBuckets = func() [][]byte {
	out := make([][]byte, nsMax+1)
	for _, ns := range Namespaces() {
		out[ns] = []byte("ns." + ns.String())
	}
	return out
}()

func u64key(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }

// boltStore swaps its database on Restore; handle reference counts let a
// Snapshot of the old database finish streaming after the swap.
type boltStore struct {
	path string
	opts BoltOptions

	restoreMu sync.Mutex   // serializes Restore
	mu        sync.RWMutex // guards cur and closed; View/Update hold R
	cur       *boltHandle
	closed    bool
}

type boltHandle struct {
	db      *bolt.DB
	mu      sync.Mutex
	refs    int  // open Snapshots
	retired bool // replaced or store closed: close when refs drops to 0
}

func (h *boltHandle) acquire() { h.mu.Lock(); h.refs++; h.mu.Unlock() }

func (h *boltHandle) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	if h.refs == 0 && h.retired {
		// A read-only handle's deferred close has nobody left to report
		// to; bbolt only fails it on an unmap error.
		_ = h.db.Close()
	}
}

// retire closes the database now, or when its last Snapshot is released.
func (h *boltHandle) retire() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.retired = true
	if h.refs == 0 {
		return h.db.Close()
	}
	return nil
}

// OpenBolt opens (creating if needed) the bbolt store at path. Commits are
// fsynced. A second OpenBolt of the same path fails after opts.LockTimeout.
func OpenBolt(path string, opts BoltOptions) (Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	db, err := openBoltDB(path, opts)
	if err != nil {
		return nil, err
	}
	return &boltStore{path: path, opts: opts, cur: &boltHandle{db: db}}, nil
}

func openBoltDB(path string, opts BoltOptions) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         opts.LockTimeout,
		InitialMmapSize: opts.InitialMmapSize,
		PageSize:        opts.PageSize,
		FreelistType:    bolt.FreelistMapType,
		// The freelist is rebuilt from the pages on open, so a commit does
		// not write it: fewer pages per fsync. Durability is unchanged.
		NoFreelistSync: true,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: bolt database %s is open in another process (a running node?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening bolt database %s: %w", path, err)
	}
	if err := db.Update(initBolt); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: initializing bolt database %s: %w", path, err)
	}
	return db, nil
}

func initBolt(tx *bolt.Tx) error {
	names := [][]byte{bktMeta, bktEntries, bktHashes, bktBlocks}
	for _, ns := range Namespaces() {
		names = append(names, nsBucket(ns))
	}
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bktMeta)
	v := meta.Get(keyFormat)
	switch {
	case v == nil || bytes.Equal(v, u64key(1)) || bytes.Equal(v, u64key(2)) || bytes.Equal(v, u64key(3)) || bytes.Equal(v, u64key(4)):
	case len(v) != 8 || binary.BigEndian.Uint64(v) != boltFormat:
		return fmt.Errorf("unsupported on-disk format %x (want %d)", v, boltFormat)
	default:
		return nil
	}
	// A new file, or an upgrade: the filters' salt (boltlevels.go), then a
	// format 2 or 3 file's levels.
	if meta.Get(keyFilterSalt) == nil {
		salt := make([]byte, filterSaltSize)
		if _, err := rand.Read(salt); err != nil {
			return fmt.Errorf("making the filter salt: %w", err)
		}
		if err := meta.Put(keyFilterSalt, salt); err != nil {
			return err
		}
	}
	switch {
	case bytes.Equal(v, u64key(2)) || bytes.Equal(v, u64key(3)):
		if err := upgradeOld(tx, oldLevels); err != nil {
			return err
		}
	case bytes.Equal(v, u64key(4)):
		if err := upgradeOld(tx, oldRuns); err != nil {
			return err
		}
	}
	return meta.Put(keyFormat, u64key(boltFormat))
}

// handle returns the current database with s.mu read-locked; the caller
// MUST call s.mu.RUnlock when done.
func (s *boltStore) handle(ctx context.Context) (*boltHandle, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	return s.cur, nil
}

func (s *boltStore) View(ctx context.Context, fn func(ReadTx) error) error {
	h, err := s.handle(ctx)
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return h.db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx, filters: &txFilters{}, cursors: txCursors{}}) })
}

func (s *boltStore) Update(ctx context.Context, fn func(WriteTx) error) error {
	h, err := s.handle(ctx)
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return h.db.Update(func(tx *bolt.Tx) error {
		for _, name := range appendBuckets {
			tx.Bucket(name).FillPercent = 1.0
		}
		levels, filters := &txLevels{}, &txFilters{}
		if err := fn(&boltTx{tx: tx, levels: levels, filters: filters, cursors: txCursors{}}); err != nil {
			return err
		}
		return levels.merge(tx, filters)
	})
}

func (s *boltStore) Snapshot(ctx context.Context) (Snapshot, error) {
	h, err := s.handle(ctx)
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	h.acquire()
	tx, err := h.db.Begin(false)
	if err != nil {
		h.release()
		return nil, fmt.Errorf("store: beginning snapshot transaction: %w", err)
	}
	return &boltSnapshot{h: h, tx: tx}, nil
}

type boltSnapshot struct {
	h    *boltHandle
	tx   *bolt.Tx
	once sync.Once
}

func (b *boltSnapshot) Release() {
	b.once.Do(func() {
		b.tx.Rollback()
		b.h.release()
		b.tx = nil
	})
}

func (b *boltSnapshot) WriteTo(w io.Writer) (int64, error) {
	if b.tx == nil {
		return 0, fmt.Errorf("store: snapshot already released")
	}
	t := &boltTx{tx: b.tx}
	applied, err := t.AppliedIndex()
	if err != nil {
		return 0, err
	}
	parts, err := t.Partitions()
	if err != nil {
		return 0, err
	}
	sw := newSnapWriter(w, applied, len(parts) > 1)
	// Sections first, partitions within: the stream's order (snapshot.go).
	each := func(name []byte, fn func(p Partition, k, v []byte) error) error {
		for _, p := range parts {
			bkt := (&boltTx{tx: b.tx, part: p}).bucket(name)
			if bkt == nil {
				continue
			}
			c := bkt.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if err := fn(p, k, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err = each(bktEntries, func(p Partition, k, v []byte) error {
		return sw.entry(p, binary.BigEndian.Uint64(k), v)
	})
	if err != nil {
		return sw.n, err
	}
	err = each(bktHashes, func(p Partition, k, v []byte) error {
		if len(v) != len(tlog.Hash{}) {
			return fmt.Errorf("store: corrupt hash %x of partition %d (%d bytes)", k, p, len(v))
		}
		return sw.hash(p, binary.BigEndian.Uint64(k), tlog.Hash(v))
	})
	if err != nil {
		return sw.n, err
	}
	err = each(bktBlocks, func(p Partition, k, v []byte) error {
		return sw.block(p, binary.BigEndian.Uint64(k), v)
	})
	if err != nil {
		return sw.n, err
	}
	for _, p := range parts {
		t := &boltTx{tx: b.tx, part: p}
		for _, ns := range Namespaces() {
			if leveled(ns) {
				err := t.scanLevels(ns, nil, func(k, v []byte) error { return sw.kv(p, ns, k, v) })
				if err != nil {
					return sw.n, err
				}
				continue
			}
			bkt := t.bucket(nsBucket(ns))
			if bkt == nil {
				continue
			}
			c := bkt.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if err := sw.kv(p, ns, k, v); err != nil {
					return sw.n, err
				}
			}
		}
	}
	return sw.finish()
}

// restoreBatch bounds how much one build transaction holds in memory.
const restoreBatch = 4 << 20

// Restore builds the new state in a temporary file next to the store,
// fsyncs it, opens it, renames it over the store's path and only then swaps
// it in. Until the rename nothing the store serves has changed.
func (s *boltStore) Restore(ctx context.Context, r io.Reader) error {
	s.restoreMu.Lock()
	defer s.restoreMu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tmp := s.path + ".restore"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: removing stale restore file: %w", err)
	}
	if err := buildBolt(ctx, tmp, s.opts, r); err != nil {
		os.Remove(tmp)
		return err
	}
	db, err := openBoltDB(tmp, s.opts)
	if err != nil {
		os.Remove(tmp)
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		db.Close()
		os.Remove(tmp)
		return ErrClosed
	}
	if err := os.Rename(tmp, s.path); err != nil {
		db.Close()
		os.Remove(tmp)
		return fmt.Errorf("store: swapping in restored database: %w", err)
	}
	// The rename is durable only once the directory is synced. Should this
	// fail the new state is already in place, so report but keep it.
	dirErr := durable.SyncDir(filepath.Dir(s.path))
	old := s.cur
	s.cur = &boltHandle{db: db}
	if err := old.retire(); err != nil {
		return fmt.Errorf("store: closing replaced database: %w", err)
	}
	if dirErr != nil {
		return fmt.Errorf("store: after restore: %w", dirErr)
	}
	return nil
}

func buildBolt(ctx context.Context, path string, opts BoltOptions, r io.Reader) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         opts.LockTimeout,
		InitialMmapSize: opts.InitialMmapSize,
		PageSize:        opts.PageSize,
		FreelistType:    bolt.FreelistMapType,
		// One fsync at the end instead of one per batch: the file is not
		// visible until it is complete and renamed.
		NoSync: true,
	})
	if err != nil {
		return fmt.Errorf("store: creating restore database: %w", err)
	}
	defer db.Close()
	if err := db.Update(initBolt); err != nil {
		return fmt.Errorf("store: initializing restore database: %w", err)
	}
	sr := newSnapReader(r)
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: restore: %w", err)
		}
		err := db.Update(func(tx *bolt.Tx) error {
			size := 0
			for size < restoreBatch {
				rec, err := sr.next()
				if err == io.EOF {
					eof = true
					return nil
				}
				if err != nil {
					return err
				}
				size += len(rec.key) + len(rec.value) + 32
				if err := putRecord(tx, rec); err != nil {
					return fmt.Errorf("store: restore: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := db.Sync(); err != nil {
		return fmt.Errorf("store: syncing restore database: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: closing restore database: %w", err)
	}
	return nil
}

func putRecord(tx *bolt.Tx, rec snapRecord) error {
	if rec.tag == tagApplied {
		return tx.Bucket(bktMeta).Put(keyApplied, u64key(rec.index))
	}
	t := &boltTx{tx: tx, part: rec.part}
	var name, key, value []byte
	switch rec.tag {
	case tagEntry:
		name, key, value = bktEntries, u64key(rec.index), rec.value
	case tagHash:
		name, key, value = bktHashes, u64key(rec.index), rec.hash[:]
	case tagBlock:
		name, key, value = bktBlocks, u64key(rec.index), rec.value
	case tagKV:
		name, key, value = nsBucket(rec.ns), rec.key, rec.value
	default:
		return fmt.Errorf("unexpected record %q", rec.tag)
	}
	b, err := t.writeBucket(name)
	if err != nil {
		return err
	}
	return b.Put(key, value)
}

func (s *boltStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.cur.retire(); err != nil {
		return fmt.Errorf("store: closing bolt database: %w", err)
	}
	return nil
}

// boltTx implements WriteTx over one bbolt transaction, reading and
// writing partition part. Every slice handed out is copied: bbolt's are
// only valid inside the transaction.
type boltTx struct {
	tx      *bolt.Tx
	part    Partition
	levels  *txLevels    // an Update's writes to leveled namespaces
	filters *txFilters   // the transaction's levels' filters, read or changed
	pb      *bolt.Bucket // the partition's bucket (part > 0), once found
	cursors txCursors    // the transaction's lookup cursors (nil: none kept)
}

func (t *boltTx) In(p Partition) ReadTx {
	return &boltTx{tx: t.tx, part: p, levels: t.levels, filters: t.filters, cursors: t.cursors}
}
func (t *boltTx) WriteIn(p Partition) WriteTx {
	return &boltTx{tx: t.tx, part: p, levels: t.levels, filters: t.filters, cursors: t.cursors}
}

// txCursors keeps one cursor per bucket a transaction looked a key up in.
// bbolt's Bucket.Get makes a cursor and grows its stack for every call,
// and an apply looks up three keys per ballot in two or more buckets each;
// a kept cursor's Seek starts from the root again and reuses its stack. A
// bucket dropped in the transaction (a merged level) is never looked up
// again under its pointer: a level made anew is another bucket.
type txCursors map[*bolt.Bucket]*bolt.Cursor

// get is b.Get(key), through t's kept cursor of b.
func (t *boltTx) get(b *bolt.Bucket, key []byte) []byte {
	// Seek gives a nested bucket's key with a nil value, as Get gives nil.
	if k, v := t.cursor(b).Seek(key); bytes.Equal(k, key) {
		return v
	}
	return nil
}

// cursor returns t's kept cursor of b, or a new one if t keeps none.
func (t *boltTx) cursor(b *bolt.Bucket) *bolt.Cursor {
	if t.cursors == nil {
		return b.Cursor()
	}
	c := t.cursors[b]
	if c == nil {
		c = b.Cursor()
		t.cursors[b] = c
	}
	return c
}

// bucket returns the partition's bucket name, or nil if the partition was
// never written to (it reads as empty).
func (t *boltTx) bucket(name []byte) *bolt.Bucket {
	if t.part == 0 {
		return t.tx.Bucket(name)
	}
	if t.pb == nil {
		// Looked up once per view: a leveled namespace's read looks
		// through several buckets of the partition.
		if t.pb = t.tx.Bucket(partBucket(t.part)); t.pb == nil {
			return nil
		}
	}
	return t.pb.Bucket(name)
}

// readBucket checks the transaction's partition and returns its bucket
// name, or nil when nothing was ever written there (an empty read).
func (t *boltTx) readBucket(name []byte) (*bolt.Bucket, error) {
	if err := checkPartition(t.part); err != nil {
		return nil, err
	}
	return t.bucket(name), nil
}

// writeBucket returns the partition's bucket name, creating the partition
// on its first write.
func (t *boltTx) writeBucket(name []byte) (*bolt.Bucket, error) {
	b, err := t.readBucket(name)
	if err != nil {
		return nil, err
	}
	if b == nil && t.part == 0 {
		// Partition 0's buckets are top-level; only level buckets
		// (boltlevels.go) are made after initBolt.
		if b, err = t.tx.CreateBucket(name); err != nil {
			return nil, fmt.Errorf("store: creating bucket %s: %w", name, err)
		}
	}
	if b == nil {
		pb, err := t.tx.CreateBucketIfNotExists(partBucket(t.part))
		if err != nil {
			return nil, fmt.Errorf("store: creating partition %d: %w", t.part, err)
		}
		if b, err = pb.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("store: creating bucket %s of partition %d: %w", name, t.part, err)
		}
	}
	for _, a := range appendBuckets {
		if bytes.Equal(a, name) {
			b.FillPercent = 1.0
		}
	}
	return b, nil
}

func (t *boltTx) Partitions() ([]Partition, error) {
	out := []Partition{0}
	c := t.tx.Cursor()
	for k, _ := c.Seek(partPrefix); k != nil && bytes.HasPrefix(k, partPrefix); k, _ = c.Next() {
		if len(k) != len(partPrefix)+4 {
			return nil, fmt.Errorf("store: corrupt partition bucket %q", k)
		}
		out = append(out, Partition(binary.BigEndian.Uint32(k[len(partPrefix):])))
	}
	return out, nil
}

func (t *boltTx) lastIndex(bucket []byte) (uint64, error) {
	b, err := t.readBucket(bucket)
	if err != nil || b == nil {
		return 0, err
	}
	k, _ := b.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	return binary.BigEndian.Uint64(k) + 1, nil
}

func (t *boltTx) AppliedIndex() (uint64, error) {
	v := t.tx.Bucket(bktMeta).Get(keyApplied)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("store: corrupt applied index (%d bytes)", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func (t *boltTx) EntryCount() (uint64, error) { return t.lastIndex(bktEntries) }

func (t *boltTx) Entry(seq uint64) ([]byte, error) { return t.numbered(bktEntries, "entry", seq) }

// numbered reads record n of an append-only bucket (entries, blocks).
func (t *boltTx) numbered(bkt []byte, what string, n uint64) ([]byte, error) {
	b, err := t.readBucket(bkt)
	if err != nil {
		return nil, err
	}
	var v []byte
	if b != nil {
		v = b.Get(u64key(n))
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %s %d", ErrNotFound, what, n)
	}
	return clone(v), nil
}

func (t *boltTx) Entries(from, to uint64, fn func(seq uint64, data []byte) error) error {
	b, err := t.readBucket(bktEntries)
	if err != nil || b == nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.Seek(u64key(from)); k != nil; k, v = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		if seq >= to {
			break
		}
		if err := fn(seq, clone(v)); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	b, err := t.readBucket(bktHashes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 {
			return nil, fmt.Errorf("%w: negative hash index %d", ErrInvalid, idx)
		}
		var v []byte
		if b != nil {
			v = b.Get(u64key(uint64(idx)))
		}
		if v == nil {
			return nil, fmt.Errorf("%w: hash %d", ErrNotFound, idx)
		}
		if len(v) != len(tlog.Hash{}) {
			return nil, fmt.Errorf("store: corrupt hash %d (%d bytes)", idx, len(v))
		}
		copy(out[i][:], v)
	}
	return out, nil
}

func (t *boltTx) HashCount() (int64, error) {
	n, err := t.lastIndex(bktHashes)
	return int64(n), err
}

func (t *boltTx) BlockCount() (uint64, error) { return t.lastIndex(bktBlocks) }

func (t *boltTx) Block(height uint64) ([]byte, error) { return t.numbered(bktBlocks, "block", height) }

func (t *boltTx) Get(ns Namespace, key []byte) ([]byte, error) {
	if err := checkKey(ns, key); err != nil {
		return nil, err
	}
	if err := checkPartition(t.part); err != nil {
		return nil, err
	}
	var v []byte
	found := false
	if leveled(ns) {
		var err error
		if v, found, err = t.getLevels(ns, key); err != nil {
			return nil, err
		}
	} else if b := t.bucket(nsBucket(ns)); b != nil {
		v = t.get(b, key)
		found = v != nil
	}
	if !found {
		return nil, &keyNotFoundError{ns: ns, key: clone(key)}
	}
	return clone(v), nil
}

func (t *boltTx) Scan(ns Namespace, prefix []byte, fn func(key, value []byte) error) error {
	if err := checkNS(ns); err != nil {
		return err
	}
	if leveled(ns) {
		if err := checkPartition(t.part); err != nil {
			return err
		}
		return t.scanLevels(ns, prefix, fn)
	}
	b, err := t.readBucket(nsBucket(ns))
	if err != nil || b == nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(clone(k), clone(v)); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) SetAppliedIndex(i uint64) error {
	if err := t.tx.Bucket(bktMeta).Put(keyApplied, u64key(i)); err != nil {
		return fmt.Errorf("store: setting applied index: %w", err)
	}
	return nil
}

func (t *boltTx) AppendEntries(first uint64, data [][]byte) error {
	b, err := t.appendBucket(bktEntries, "entry", first, len(data))
	if err != nil || b == nil {
		return err
	}
	for i, d := range data {
		if err := checkValue("entry", d); err != nil {
			return err
		}
		if d == nil {
			d = []byte{} // bbolt refuses a nil value
		}
		// bbolt keeps the value slice until commit; the caller does not
		// modify it before (WriteTx.AppendEntries).
		if err := b.Put(u64key(first+uint64(i)), d); err != nil {
			return fmt.Errorf("store: appending entry %d: %w", first+uint64(i), err)
		}
	}
	return nil
}

func (t *boltTx) AppendHashes(start int64, hashes []tlog.Hash) error {
	if start < 0 {
		return fmt.Errorf("%w: negative hash index %d", ErrInvalid, start)
	}
	b, err := t.appendBucket(bktHashes, "hash", uint64(start), len(hashes))
	if err != nil || b == nil {
		return err
	}
	for i := range hashes {
		// Kept until commit, not copied (WriteTx.AppendHashes).
		if err := b.Put(u64key(uint64(start)+uint64(i)), hashes[i][:]); err != nil {
			return fmt.Errorf("store: appending hash %d: %w", start+int64(i), err)
		}
	}
	return nil
}

// appendBucket checks an append of n records (what names them in errors)
// at first to the numbered bucket bkt against its count, and returns the
// bucket to put them in, or nil when n is 0.
func (t *boltTx) appendBucket(bkt []byte, what string, first uint64, n int) (*bolt.Bucket, error) {
	count, err := t.lastIndex(bkt)
	if err != nil {
		return nil, err
	}
	if err := checkAppend(what, first, count, n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	return t.writeBucket(bkt)
}

func (t *boltTx) AppendBlock(height uint64, header []byte) error {
	n, err := t.lastIndex(bktBlocks)
	if err != nil {
		return err
	}
	if err := checkBlockAppend(height, n, header); err != nil {
		return err
	}
	b, err := t.writeBucket(bktBlocks)
	if err != nil {
		return err
	}
	if err := b.Put(u64key(height), clone(header)); err != nil {
		return fmt.Errorf("store: appending block %d: %w", height, err)
	}
	return nil
}

func (t *boltTx) Put(ns Namespace, key, value []byte) error {
	if err := checkKV(ns, key, value); err != nil {
		return err
	}
	if leveled(ns) {
		if err := t.putLevel(ns, key, levelValue, value); err != nil {
			return fmt.Errorf("store: putting key %x in namespace %v: %w", key, ns, err)
		}
		return nil
	}
	b, err := t.writeBucket(nsBucket(ns))
	if err != nil {
		return err
	}
	if err := b.Put(clone(key), clone(value)); err != nil {
		return fmt.Errorf("store: putting key %x in namespace %v: %w", key, ns, err)
	}
	return nil
}

func (t *boltTx) Delete(ns Namespace, key []byte) error {
	if err := checkKey(ns, key); err != nil {
		return err
	}
	if leveled(ns) {
		// A deletion is a row too: it hides the key in the levels behind.
		// A key absent everywhere needs none (and its partition stays
		// unwritten).
		if err := checkPartition(t.part); err != nil {
			return err
		}
		if _, found, err := t.getLevels(ns, key); err != nil || !found {
			return err
		}
		if err := t.putLevel(ns, key, levelDeleted, nil); err != nil {
			return fmt.Errorf("store: deleting key %x in namespace %v: %w", key, ns, err)
		}
		return nil
	}
	b, err := t.readBucket(nsBucket(ns))
	if err != nil || b == nil {
		return err
	}
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("store: deleting key %x in namespace %v: %w", key, ns, err)
	}
	return nil
}

// keyNotFoundError is Get's ErrNotFound. Its text is made only when asked
// for: the apply path looks up keys that are mostly absent (is this entry,
// tracker, credential new?), and formatting each answer was a measurable
// part of an apply.
type keyNotFoundError struct {
	ns  Namespace
	key []byte
}

func (e *keyNotFoundError) Error() string {
	return fmt.Sprintf("%v: key %x in namespace %v", ErrNotFound, e.key, e.ns)
}

func (e *keyNotFoundError) Unwrap() error { return ErrNotFound }
