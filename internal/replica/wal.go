package replica

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/durable"
)

// wal is the Raft log (raft.LogStore) as a write-ahead log of segment
// files in one directory (<DataDir>/raft-log). Why not bbolt: every ~300 KB
// entry was copied into bbolt pages, written and fsynced twice (data pages,
// then the meta page) on the leader loop's path; here a batch is one
// pwrite of the encoded records and one fdatasync (bench/README.md).
//
// Layout:
//
//	<20-digit first index>.seg   a segment: a header, then records
//	first                        the first live index (after a front cut)
//
// A segment's header is walMagic, the format version (u32), the index of
// its first record (u64, also its name) and a CRC-32C of those 20 bytes. A
// record is
//
//	len:u32 index:u64 hcrc:u32 crc:u32
//	term:u64 type:u8 appendedAt:i64 (unix ns, 0 = zero time) extLen:u32
//	batch:u64 ext data
//
// all integers big-endian, len the size of the whole record, hcrc the
// CRC-32C (Castagnoli) of len and index, and crc that of every other byte
// of the record (len, index, hcrc, and all after crc). Why a header check
// of its own: recovery must know whether a damaged record's length can be
// trusted (see tornTail). batch is the index of the first record of the
// StoreLogs call that wrote the record: a batch is one write and one
// fdatasync, and the next is written only after that returned. Records hold consecutive indexes, within a
// segment and across segments (a new segment starts at the previous one's
// last index + 1): the log has no gaps, and the store says so to raft
// (IsMonotonic), which then deletes the whole log when it installs a
// snapshot instead of leaving a gap.
//
// Durability: StoreLogs returns after its records were written and
// fdatasynced. A new segment is written under a temporary name, fsynced,
// renamed into place and the directory fsynced, so a segment's header is
// always whole. The file "first" is replaced (write, fsync, rename, fsync
// the directory) before a front cut removes anything, so that a crash
// never brings entries back at the front; records below it are invisible
// and segments wholly below it are removed on open. A suffix cut removes
// whole segments newest first, then truncates, so a crash leaves a log
// without gaps.
//
// Recovery (openWAL) reads every record and checks its CRCs and index.
// A record that is incomplete or fails its checks at the tail of the last
// segment was never acknowledged (its fdatasync had not returned): it and
// everything after it are cut off. A bad record followed by a whole record
// of a later batch, or a bad record in any other segment, is damage to
// acknowledged entries: openWAL fails, naming the file and offset.
type wal struct {
	dir string
	// segBytes is walSegmentBytes (smaller in tests, to roll often).
	segBytes int64

	// wmu serialises writers (StoreLogs, DeleteRange); mu guards the
	// fields below it. StoreLogs writes and syncs under wmu alone (readers
	// only read published records) and takes mu to publish.
	wmu sync.Mutex
	buf []byte // StoreLogs' encoding buffer, under wmu

	mu    sync.RWMutex
	segs  []*walSegment // by base; each holds at least one record
	first uint64        // first live index; meaningful when segs is not empty
	front uint64        // the value in the file "first" (0 = no file)
	// broken is set when a failed append could not be cut back: later
	// writes fail with it.
	broken error

	// syncs counts fdatasync and fsync calls (Stats.LogCommits).
	syncs atomic.Uint64
	// tornCut is what openWAL cut off the last segment, if anything, for
	// the node to log.
	tornCut *walTornCut
}

// walTornCut describes a torn tail openWAL cut off.
type walTornCut struct {
	segment       string
	offset, bytes int64
	reason        string // why the first cut record was bad
}

type walSegment struct {
	base uint64
	path string
	f    *os.File
	// offs[i] is the offset of record base+i; offs[len-1] is the end of
	// the last record (so there are len(offs)-1 records).
	offs []int64
}

func (s *walSegment) count() uint64 { return uint64(len(s.offs) - 1) }
func (s *walSegment) last() uint64  { return s.base + s.count() - 1 }
func (s *walSegment) size() int64   { return s.offs[len(s.offs)-1] }
func (s *walSegment) name() string  { return filepath.Base(s.path) }

var (
	_ raft.LogStore          = (*wal)(nil)
	_ raft.MonotonicLogStore = (*wal)(nil)
)

const (
	walMagic      = "URNAWAL\n"
	walVersion    = 1
	walHeaderSize = 8 + 4 + 8 + 4
	// walRecordPrefix is the size of a record's len, index, hcrc and crc.
	walRecordPrefix = 4 + 8 + 4 + 4
	// walRecordFixed is the size of a record before its extensions and data.
	walRecordFixed = walRecordPrefix + 8 + 1 + 8 + 4 + 8
	// walRecordBatch is the offset of a record's batch field.
	walRecordBatch = walRecordPrefix + 8 + 1 + 8 + 4
	// walSegmentBytes: a batch that would take the last segment past it
	// goes into a new one. A segment holds at least one batch, however
	// large (a command of up to Config.MaxCommandBytes).
	walSegmentBytes = 64 << 20
	walSegExt       = ".seg"
	walFirstFile    = "first"
	// walKeepBuf bounds the encoding buffer StoreLogs keeps between calls.
	walKeepBuf = 4 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errWALGap is returned by StoreLogs and DeleteRange when the call would
// leave a gap in the log.
var errWALGap = errors.New("would leave a gap in the log")

func segmentName(base uint64) string { return fmt.Sprintf("%020d%s", base, walSegExt) }

// openWAL opens the log in dir, creating dir when it does not exist, and
// recovers it (see wal).
func openWAL(dir string) (*wal, error) {
	if err := os.Mkdir(dir, 0o700); err == nil {
		// The new directory's name must be durable before any segment in it.
		if err := durable.SyncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("replica: wal: %w", err)
		}
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("replica: wal: %w", err)
	}
	w := &wal{dir: dir, segBytes: walSegmentBytes}
	if err := w.recover(); err != nil {
		w.closeFiles()
		return nil, err
	}
	return w, nil
}

// recover reads the directory: the front, then every segment.
func (w *wal) recover() error {
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("replica: wal: %w", err)
	}
	var bases []uint64
	dirty := false
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".tmp"):
			// A segment or front file that never got its final name.
			if err := os.Remove(filepath.Join(w.dir, name)); err != nil {
				return fmt.Errorf("replica: wal: %w", err)
			}
			dirty = true
		case name == walFirstFile:
			if w.front, err = readWALFront(filepath.Join(w.dir, name)); err != nil {
				return err
			}
		case strings.HasSuffix(name, walSegExt):
			b, err := strconv.ParseUint(strings.TrimSuffix(name, walSegExt), 10, 64)
			if err != nil || name != segmentName(b) {
				return fmt.Errorf("replica: wal: unexpected file %s", name)
			}
			bases = append(bases, b)
		default:
			return fmt.Errorf("replica: wal: unexpected file %s", name)
		}
	}
	slices.Sort(bases)
	for i, b := range bases {
		seg, err := w.openSegment(b, i == len(bases)-1)
		if err != nil {
			return err
		}
		if seg.count() == 0 {
			// Only the last segment can be empty (recovery cut all its
			// records, or a crash came right after it was created).
			_ = seg.f.Close()
			if err := os.Remove(seg.path); err != nil {
				return fmt.Errorf("replica: wal: %w", err)
			}
			dirty = true
			continue
		}
		if n := len(w.segs); n > 0 && w.segs[n-1].last()+1 != seg.base {
			_ = seg.f.Close()
			return fmt.Errorf("replica: wal: segment %s follows %s, which ends at index %d: gap in the log",
				seg.name(), w.segs[n-1].name(), w.segs[n-1].last())
		}
		w.segs = append(w.segs, seg)
	}
	// Segments wholly below the front are left over from a front cut.
	for len(w.segs) > 0 && w.segs[0].last() < w.front {
		seg := w.segs[0]
		_ = seg.f.Close()
		if err := os.Remove(seg.path); err != nil {
			return fmt.Errorf("replica: wal: %w", err)
		}
		w.segs = w.segs[1:]
		dirty = true
	}
	if len(w.segs) > 0 {
		w.first = max(w.front, w.segs[0].base)
	}
	if dirty {
		return w.syncDir()
	}
	return nil
}

// openSegment opens the segment starting at base and indexes its records,
// cutting a torn tail when it is the last one.
func (w *wal) openSegment(base uint64, last bool) (*walSegment, error) {
	path := filepath.Join(w.dir, segmentName(base))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("replica: wal: %w", err)
	}
	seg := &walSegment{base: base, path: path, f: f}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("replica: wal: %w", err)
	}
	fail := func(off int64, what string, args ...any) (*walSegment, error) {
		_ = f.Close()
		return nil, fmt.Errorf("replica: wal: segment %s offset %d: %s", seg.name(), off, fmt.Sprintf(what, args...))
	}
	var hdr [walHeaderSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return fail(0, "short header: %v", err)
	}
	if got, err := decodeSegmentHeader(hdr[:]); err != nil {
		return fail(0, "%v", err)
	} else if got != base {
		return fail(0, "header names index %d", got)
	}
	size := st.Size()
	r := bufio.NewReaderSize(f, 1<<20)
	off := int64(walHeaderSize)
	seg.offs = []int64{off}
	var body []byte
	for off < size {
		want := base + seg.count()
		n, err := readRecord(r, size-off, want, &body)
		if err == nil {
			off += n
			seg.offs = append(seg.offs, off)
			continue
		}
		if !last {
			return fail(off, "%v", err)
		}
		if torn, terr := w.tornTail(f, off, size, want, n); terr != nil {
			return fail(off, "%v (and reading on: %v)", err, terr)
		} else if !torn {
			return fail(off, "%v, and records follow", err)
		}
		// The tail of the last segment from off on was never
		// acknowledged: cut it.
		if err := f.Truncate(off); err != nil {
			return fail(off, "cut torn tail: %v", err)
		}
		if err := w.sync(f); err != nil {
			return fail(off, "cut torn tail: %v", err)
		}
		w.tornCut = &walTornCut{segment: seg.name(), offset: off, bytes: size - off, reason: err.Error()}
		break
	}
	return seg, nil
}

// readRecord reads the record at the reader's position, with avail bytes
// left in the file, into *rec (reused), checking its length, CRCs and
// index. It returns the record's size; on a bad record, the size its
// header claims when the header itself is whole and checks (0 when not).
func readRecord(r io.Reader, avail int64, want uint64, rec *[]byte) (int64, error) {
	var pre [walRecordPrefix]byte
	if avail < int64(len(pre)) {
		return 0, fmt.Errorf("incomplete record (%d bytes)", avail)
	}
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return 0, err
	}
	size, err := checkRecordHeader(pre[:], want)
	if err != nil {
		return 0, err
	}
	if size > avail {
		return size, fmt.Errorf("incomplete record (%d of %d bytes)", avail, size)
	}
	*rec = append(slices.Grow((*rec)[:0], int(size))[:0], pre[:]...)[:size]
	if _, err := io.ReadFull(r, (*rec)[walRecordPrefix:]); err != nil {
		return size, err
	}
	if recordCRC(*rec) != binary.BigEndian.Uint32((*rec)[16:]) {
		return size, errors.New("crc mismatch")
	}
	return size, nil
}

// checkRecordHeader checks a record's len, index and hcrc and returns its
// size.
func checkRecordHeader(pre []byte, want uint64) (int64, error) {
	if crc32.Checksum(pre[:12], castagnoli) != binary.BigEndian.Uint32(pre[12:]) {
		return 0, errors.New("record header crc mismatch")
	}
	size := int64(binary.BigEndian.Uint32(pre))
	if size < walRecordFixed {
		return 0, fmt.Errorf("bad record length %d", size)
	}
	if got := binary.BigEndian.Uint64(pre[4:]); got != want {
		return 0, fmt.Errorf("record holds index %d, want %d", got, want)
	}
	return size, nil
}

// recordCRC is the crc of whole record rec.
func recordCRC(rec []byte) uint32 {
	return crc32.Update(crc32.Checksum(rec[:16], castagnoli), castagnoli, rec[walRecordPrefix:])
}

// tornTail reports whether the bad record at off of the last segment,
// which should hold index want, is a torn tail rather than damage to
// acknowledged records: it is unless a whole record of a later batch
// follows it. A batch is written only after the one before it was
// fdatasynced, so a whole record of a batch starting after want means
// that want's batch was acknowledged, and its bad record is damage. Whole
// records of want's own batch (batch ≤ want) may follow: a process crash
// leaves a prefix of its last write, but after a power loss the disk may
// have kept a later page of that unacknowledged write and not an earlier
// one; the batch is cut from the bad record on, as a torn tail.
//
// Where to look: from the end of the bad record when its header checks
// (claimed > 0: its length is right, and what lies inside it is its own
// data, in which a client could have placed bytes that look like a
// record), record by record while headers check; otherwise at every byte
// offset, since a damaged length does not say where the next record
// starts.
func (w *wal) tornTail(f *os.File, off, size int64, want uint64, claimed int64) (bool, error) {
	from := off + max(claimed, 1)
	if from >= size {
		return true, nil
	}
	tail := make([]byte, size-from)
	if _, err := f.ReadAt(tail, from); err != nil {
		return false, err
	}
	most := uint64(len(tail)/walRecordFixed) + 1
	// framed: q is where a record starts, as far as whole headers tell.
	framed := claimed > 0
	for q := 0; q+walRecordFixed <= len(tail); {
		idx := binary.BigEndian.Uint64(tail[q+4:])
		if idx > want && idx-want <= most {
			n, err := checkRecordHeader(tail[q:q+walRecordPrefix], idx)
			if err == nil && n <= int64(len(tail)-q) {
				if rec := tail[q : q+int(n)]; recordCRC(rec) == binary.BigEndian.Uint32(rec[16:]) {
					if binary.BigEndian.Uint64(rec[walRecordBatch:]) > want {
						return false, nil // a later batch: want's was acknowledged
					}
					// want's own batch: on past it. framed stays as it was:
					// a whole record found by the byte search may lie in a
					// damaged record's data, so the lengths of the headers
					// after it are not trusted to skip a later batch.
					q += int(n)
					continue
				}
				if framed {
					q += int(n)
					continue
				}
			}
		}
		framed = false
		q++
	}
	return true, nil
}

func appendSegmentHeader(b []byte, base uint64) []byte {
	start := len(b)
	b = append(b, walMagic...)
	b = binary.BigEndian.AppendUint32(b, walVersion)
	b = binary.BigEndian.AppendUint64(b, base)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func decodeSegmentHeader(h []byte) (uint64, error) {
	switch {
	case string(h[:8]) != walMagic:
		return 0, errors.New("not a log segment (bad magic)")
	case crc32.Checksum(h[:20], castagnoli) != binary.BigEndian.Uint32(h[20:]):
		return 0, errors.New("header crc mismatch")
	case binary.BigEndian.Uint32(h[8:]) != walVersion:
		return 0, fmt.Errorf("unknown format version %d", binary.BigEndian.Uint32(h[8:]))
	}
	return binary.BigEndian.Uint64(h[12:]), nil
}

// appendRecord appends l's record to b, written by the batch whose first
// record is batch.
func appendRecord(b []byte, l *raft.Log, batch uint64) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(walRecordFixed+len(l.Extensions)+len(l.Data)))
	b = binary.BigEndian.AppendUint64(b, l.Index)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
	b = append(b, 0, 0, 0, 0) // crc
	b = binary.BigEndian.AppendUint64(b, l.Term)
	b = append(b, byte(l.Type))
	b = binary.BigEndian.AppendUint64(b, uint64(appendedAt(l)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Extensions)))
	b = binary.BigEndian.AppendUint64(b, batch)
	b = append(b, l.Extensions...)
	b = append(b, l.Data...)
	binary.BigEndian.PutUint32(b[start+16:], recordCRC(b[start:]))
	return b
}

// decodeRecord reads whole record rec, which MUST hold index, into out.
// out's Data and Extensions alias rec.
func decodeRecord(rec []byte, index uint64, out *raft.Log) error {
	if len(rec) < walRecordFixed {
		return errors.New("bad record length")
	}
	if _, err := checkRecordHeader(rec, index); err != nil {
		return err
	}
	if int(binary.BigEndian.Uint32(rec)) != len(rec) {
		return errors.New("bad record length")
	}
	if recordCRC(rec) != binary.BigEndian.Uint32(rec[16:]) {
		return errors.New("crc mismatch")
	}
	b := rec[walRecordPrefix:]
	out.Index = index
	out.Term = binary.BigEndian.Uint64(b)
	out.Type = raft.LogType(b[8])
	out.AppendedAt = time.Time{}
	if at := int64(binary.BigEndian.Uint64(b[9:])); at != 0 {
		out.AppendedAt = time.Unix(0, at)
	}
	ext := int(binary.BigEndian.Uint32(b[17:]))
	b = b[walRecordFixed-walRecordPrefix:] // the batch (b[21:29]) is recovery's
	if ext > len(b) {
		return errors.New("bad extensions length")
	}
	out.Extensions, out.Data = nil, nil
	if ext > 0 {
		out.Extensions = b[:ext:ext]
	}
	if len(b) > ext {
		out.Data = b[ext:]
	}
	return nil
}

// IsMonotonic implements raft.MonotonicLogStore: the log has no gaps, so
// raft deletes it whole when it installs a snapshot.
func (w *wal) IsMonotonic() bool { return true }

// FirstIndex returns the first index, or 0 for an empty log.
func (w *wal) FirstIndex() (uint64, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if len(w.segs) == 0 {
		return 0, nil
	}
	return w.first, nil
}

// LastIndex returns the last index, or 0 for an empty log.
func (w *wal) LastIndex() (uint64, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.lastLocked(), nil
}

func (w *wal) lastLocked() uint64 {
	if len(w.segs) == 0 {
		return 0
	}
	return w.segs[len(w.segs)-1].last()
}

// segmentOf returns the segment holding index, or nil.
func (w *wal) segmentOf(index uint64) *walSegment {
	if len(w.segs) == 0 || index < w.first || index > w.lastLocked() {
		return nil
	}
	i := sort.Search(len(w.segs), func(i int) bool { return w.segs[i].base > index })
	return w.segs[i-1]
}

// GetLog reads the entry at index into out (its Data and Extensions are
// the caller's), or returns raft.ErrLogNotFound.
func (w *wal) GetLog(index uint64, out *raft.Log) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	seg := w.segmentOf(index)
	if seg == nil {
		return raft.ErrLogNotFound
	}
	i := index - seg.base
	off, end := seg.offs[i], seg.offs[i+1]
	rec := make([]byte, end-off)
	if _, err := seg.f.ReadAt(rec, off); err != nil {
		return fmt.Errorf("replica: wal: segment %s offset %d: read index %d: %w", seg.name(), off, index, err)
	}
	if err := decodeRecord(rec, index, out); err != nil {
		return fmt.Errorf("replica: wal: segment %s offset %d: index %d: %w", seg.name(), off, index, err)
	}
	return nil
}

// StoreLog stores one entry.
func (w *wal) StoreLog(l *raft.Log) error { return w.StoreLogs([]*raft.Log{l}) }

// StoreLogs appends logs, whose indexes MUST be consecutive, with one write
// and one fdatasync. The first MUST be at most the last index + 1; the
// stored entries from it on are deleted first (raft deletes a conflicting
// suffix itself before it stores). Into an empty log, the first may be
// any index. On error nothing of logs is stored (the cut of an overlapped
// suffix, done first, stays).
func (w *wal) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	for i := 1; i < len(logs); i++ {
		if logs[i].Index != logs[i-1].Index+1 {
			return fmt.Errorf("replica: wal: store logs: index %d after %d", logs[i].Index, logs[i-1].Index)
		}
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.storeLogs(logs); err != nil {
		return fmt.Errorf("replica: wal: store logs %d..%d: %w", logs[0].Index, logs[len(logs)-1].Index, err)
	}
	return nil
}

func (w *wal) storeLogs(logs []*raft.Log) error {
	if w.broken != nil {
		return w.broken
	}
	n := 0
	for _, l := range logs {
		size := walRecordFixed + len(l.Extensions) + len(l.Data)
		if uint64(size) > 1<<32-1 {
			return fmt.Errorf("entry %d: %d bytes do not fit a record", l.Index, size)
		}
		n += size
	}
	first := logs[0].Index
	w.mu.RLock()
	empty, last := len(w.segs) == 0, w.lastLocked()
	w.mu.RUnlock()
	switch {
	case !empty && first > last+1:
		return fmt.Errorf("first index after %d: %w", last, errWALGap)
	case !empty && first <= last:
		if err := w.deleteRange(first, last); err != nil {
			return err
		}
		w.mu.RLock()
		empty = len(w.segs) == 0
		w.mu.RUnlock()
	}

	if cap(w.buf) < n {
		w.buf = make([]byte, 0, n)
	}
	w.buf = w.buf[:0]
	for _, l := range logs {
		w.buf = appendRecord(w.buf, l, first)
	}
	defer func() {
		if cap(w.buf) > walKeepBuf {
			w.buf = nil
		}
	}()

	var seg *walSegment
	fresh := false
	if !empty {
		seg = w.segs[len(w.segs)-1] // only writers change segs, and wmu is held
		if seg.size()+int64(len(w.buf)) > w.segBytes {
			seg = nil
		}
	}
	if seg == nil {
		var err error
		if seg, err = w.createSegment(first); err != nil {
			return err
		}
		fresh = true
	}
	off := seg.size()
	_, err := seg.f.WriteAt(w.buf, off)
	if err == nil {
		err = w.sync(seg.f)
	}
	if err != nil {
		w.undoAppend(seg, off, fresh)
		return err
	}
	offs := make([]int64, 0, len(logs))
	at := off
	for _, l := range logs {
		at += int64(walRecordFixed + len(l.Extensions) + len(l.Data))
		offs = append(offs, at)
	}
	w.mu.Lock()
	seg.offs = append(seg.offs, offs...)
	if fresh {
		w.segs = append(w.segs, seg)
	}
	if empty {
		w.first = first
	}
	w.mu.Unlock()
	return nil
}

// undoAppend cuts seg back to off after a failed append (a new segment is
// removed), so that the log stays usable; when that fails too, the store
// refuses further writes.
func (w *wal) undoAppend(seg *walSegment, off int64, fresh bool) {
	if fresh {
		_ = seg.f.Close()
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.broken = fmt.Errorf("remove segment %s after a failed write: %w", seg.name(), err)
		}
		return
	}
	err := seg.f.Truncate(off)
	if err == nil {
		err = w.sync(seg.f)
	}
	if err != nil {
		w.broken = fmt.Errorf("segment %s: cut back to offset %d after a failed write: %w", seg.name(), off, err)
	}
}

// createSegment makes the segment starting at base durable, empty. A
// segment below the front first lowers the front.
func (w *wal) createSegment(base uint64) (*walSegment, error) {
	if base < w.front {
		if err := w.writeFront(base); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(w.dir, segmentName(base))
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*walSegment, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("create segment %s: %w", segmentName(base), err)
	}
	if _, err := f.Write(appendSegmentHeader(nil, base)); err != nil {
		return fail(err)
	}
	if err := w.sync(f); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := w.syncDir(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("create segment %s: %w", segmentName(base), err)
	}
	return &walSegment{base: base, path: path, f: f, offs: []int64{walHeaderSize}}, nil
}

// DeleteRange deletes the entries lo..hi inclusive. The range MUST reach
// the first or the last index (raft cuts the front after a snapshot and a
// suffix on conflict); one strictly inside the log would leave a gap and is
// refused.
func (w *wal) DeleteRange(lo, hi uint64) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.broken != nil {
		return fmt.Errorf("replica: wal: delete logs [%d,%d]: %w", lo, hi, w.broken)
	}
	if err := w.deleteRange(lo, hi); err != nil {
		return fmt.Errorf("replica: wal: delete logs [%d,%d]: %w", lo, hi, err)
	}
	return nil
}

func (w *wal) deleteRange(lo, hi uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.segs) == 0 || lo > hi {
		return nil
	}
	first, last := w.first, w.lastLocked()
	lo, hi = max(lo, first), min(hi, last)
	switch {
	case lo > hi:
		return nil
	case lo == first:
		return w.cutFront(hi + 1)
	case hi == last:
		return w.cutBack(lo)
	default:
		return errWALGap
	}
}

// cutFront makes from the first live index; from MAY be past the last
// index (everything deleted). Under mu.
func (w *wal) cutFront(from uint64) error {
	if err := w.writeFront(from); err != nil {
		return err
	}
	w.first = from
	removed := false
	for len(w.segs) > 0 && w.segs[0].last() < from {
		seg := w.segs[0]
		_ = seg.f.Close()
		if err := os.Remove(seg.path); err != nil {
			return err
		}
		w.segs = w.segs[1:]
		removed = true
	}
	if removed {
		return w.syncDir()
	}
	return nil
}

// cutBack deletes from index from (above the first index) to the end:
// segments newest first, then the tail of the one holding from. Under mu.
func (w *wal) cutBack(from uint64) error {
	for {
		seg := w.segs[len(w.segs)-1]
		if seg.base < from {
			break
		}
		_ = seg.f.Close()
		if err := os.Remove(seg.path); err != nil {
			return err
		}
		w.segs = w.segs[:len(w.segs)-1]
		// One directory sync per segment: a crash never leaves a newer
		// segment without an older one.
		if err := w.syncDir(); err != nil {
			return err
		}
	}
	seg := w.segs[len(w.segs)-1]
	n := from - seg.base
	if n == seg.count() {
		return nil
	}
	if err := seg.f.Truncate(seg.offs[n]); err != nil {
		return err
	}
	if err := w.sync(seg.f); err != nil {
		return err
	}
	seg.offs = seg.offs[:n+1]
	return nil
}

// writeFront replaces the file "first" with index.
func (w *wal) writeFront(index uint64) error {
	path := filepath.Join(w.dir, walFirstFile)
	b := binary.BigEndian.AppendUint64(nil, index)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if err := w.writeFileSync(path, b); err != nil {
		return fmt.Errorf("write %s: %w", walFirstFile, err)
	}
	w.front = index
	return nil
}

func readWALFront(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("replica: wal: %w", err)
	}
	if len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.BigEndian.Uint32(b[8:]) {
		return 0, fmt.Errorf("replica: wal: %s: damaged (%d bytes, or crc mismatch)", path, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// writeFileSync writes b to path atomically and durably: a temporary
// file, fsynced, renamed over path, then the directory fsynced.
func (w *wal) writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = w.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return w.syncDir()
}

// sync makes f's data durable (fdatasync where there is one).
func (w *wal) sync(f *os.File) error {
	w.syncs.Add(1)
	return fdatasync(f)
}

func (w *wal) syncDir() error {
	w.syncs.Add(1)
	return durable.SyncDir(w.dir)
}

// Close closes the segment files. Everything stored is already durable.
func (w *wal) Close() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeFiles()
}

func (w *wal) closeFiles() error {
	var errs []error
	for _, s := range w.segs {
		if err := s.f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	w.segs = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("replica: wal: close: %w", err)
	}
	return nil
}
