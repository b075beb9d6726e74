package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// The snapshot stream format, shared by both backends so that a snapshot of
// a bbolt store restores into PostgreSQL and back. All integers are
// big-endian. There are two versions; a writer uses v1 when the state has
// no partition but 0 (so a one-election store streams exactly as before
// partitions existed) and v2 otherwise. A reader accepts both.
//
//	stream  = magic applied entry* hash* block* kv* end
//	magic   = "urna-store-snapshot/v1\n" | "urna-store-snapshot/v2\n"
//	applied = 'A' u64(applied index)
//	entry   = 'E' [part] u64(seq) u32(len) data     seq = 0, 1, 2, ... per partition
//	hash    = 'H' [part] u64(index) [32]byte         index = 0, 1, 2, ... per partition
//	block   = 'B' [part] u64(height) u32(len) header height = 0, 1, 2, ... per partition
//	kv      = 'K' [part] u8(namespace) u32(len) key u32(len) value
//	                                                 (part, namespace, key) strictly ascending
//	end     = 'Z' u64(#entries) u64(#hashes) u64(#blocks) u64(#kv) [32]byte(sha256)
//	part    = u32(partition), present in v2 only (v1: partition 0)
//
// Within the entry, hash and block sections the partitions ascend and each
// partition's numbers start at 0 and have no gap. The counts of the end
// record are totals over the partitions. The SHA-256 covers every byte
// before it, from the magic through the four counts. Nothing may follow
// end. A decoder rejects any deviation: an unknown tag, a record out of
// section, partition or index order, a partition above the maximum, an
// unknown namespace, an empty or oversized key, an oversized value, a
// wrong count or checksum, trailing bytes. Because the checksum is checked
// last, a Restore MUST NOT make anything visible before the end record has
// been read.
const (
	snapMagic   = "urna-store-snapshot/v1\n"
	snapMagicV2 = "urna-store-snapshot/v2\n"
)

// Record tags, in the order their sections appear.
const (
	tagApplied = 'A'
	tagEntry   = 'E'
	tagHash    = 'H'
	tagBlock   = 'B'
	tagKV      = 'K'
	tagEnd     = 'Z'
)

func tagPhase(tag byte) int {
	switch tag {
	case tagApplied:
		return 0
	case tagEntry:
		return 1
	case tagHash:
		return 2
	case tagBlock:
		return 3
	case tagKV:
		return 4
	case tagEnd:
		return 5
	}
	return -1
}

// snapWriter encodes the stream. Callers feed records in format order; the
// writer does not re-validate what the store already guarantees.
type snapWriter struct {
	v2     bool // partitions other than 0 may follow: records carry one
	bw     *bufio.Writer
	h      hash.Hash
	n      int64
	counts [4]uint64 // entries, hashes, blocks, kv
	buf    [64]byte
	err    error
}

// newSnapWriter starts a stream; multi selects format v2, which a state
// with any partition other than 0 needs.
func newSnapWriter(w io.Writer, applied uint64, multi bool) *snapWriter {
	s := &snapWriter{h: sha256.New(), v2: multi}
	s.bw = bufio.NewWriterSize(io.MultiWriter(w, s.h), 256<<10)
	if multi {
		s.write([]byte(snapMagicV2))
	} else {
		s.write([]byte(snapMagic))
	}
	b := append(s.buf[:0], tagApplied)
	s.write(binary.BigEndian.AppendUint64(b, applied))
	return s
}

func (s *snapWriter) write(p []byte) {
	if s.err != nil {
		return
	}
	n, err := s.bw.Write(p)
	s.n += int64(n)
	if err != nil {
		s.err = fmt.Errorf("store: writing snapshot: %w", err)
	}
}

// head starts a record of tag in partition p. A v1 stream has no
// partition field and can hold partition 0 only.
func (s *snapWriter) head(tag byte, p Partition) []byte {
	b := append(s.buf[:0], tag)
	if s.v2 {
		return binary.BigEndian.AppendUint32(b, uint32(p))
	}
	if p != 0 && s.err == nil {
		s.err = fmt.Errorf("store: writing snapshot: partition %d in a v1 stream", p)
	}
	return b
}

func (s *snapWriter) entry(p Partition, seq uint64, data []byte) error {
	return s.numbered(tagEntry, p, seq, data, 0)
}

func (s *snapWriter) hash(p Partition, idx uint64, h tlog.Hash) error {
	b := s.head(tagHash, p)
	b = binary.BigEndian.AppendUint64(b, idx)
	s.write(append(b, h[:]...))
	s.counts[1]++
	return s.err
}

func (s *snapWriter) block(p Partition, height uint64, header []byte) error {
	return s.numbered(tagBlock, p, height, header, 2)
}

// numbered writes one record of tag, an 8-byte number and length-prefixed
// data (entries and blocks share this layout), counting it in counts[kind].
func (s *snapWriter) numbered(tag byte, p Partition, n uint64, data []byte, kind int) error {
	b := s.head(tag, p)
	b = binary.BigEndian.AppendUint64(b, n)
	s.write(binary.BigEndian.AppendUint32(b, uint32(len(data))))
	s.write(data)
	s.counts[kind]++
	return s.err
}

func (s *snapWriter) kv(p Partition, ns Namespace, key, value []byte) error {
	b := append(s.head(tagKV, p), byte(ns))
	s.write(binary.BigEndian.AppendUint32(b, uint32(len(key))))
	s.write(key)
	s.write(binary.BigEndian.AppendUint32(s.buf[:0], uint32(len(value))))
	s.write(value)
	s.counts[3]++
	return s.err
}

// finish writes the end record and flushes; it returns the stream length.
func (s *snapWriter) finish() (int64, error) {
	b := append(s.buf[:0], tagEnd)
	for _, c := range s.counts {
		b = binary.BigEndian.AppendUint64(b, c)
	}
	s.write(b)
	if s.err == nil {
		// The checksum is of everything written so far, so flush first.
		if err := s.bw.Flush(); err != nil {
			s.err = fmt.Errorf("store: writing snapshot: %w", err)
		}
	}
	if s.err != nil {
		return s.n, s.err
	}
	sum := s.h.Sum(nil)
	n, err := s.bw.Write(sum)
	s.n += int64(n)
	if err == nil {
		err = s.bw.Flush()
	}
	if err != nil {
		return s.n, fmt.Errorf("store: writing snapshot: %w", err)
	}
	return s.n, nil
}

// snapRecord is one decoded record. key, value and data slices are freshly
// allocated and owned by the consumer.
type snapRecord struct {
	tag   byte
	part  Partition
	index uint64 // applied index, seq, hash index or height
	ns    Namespace
	key   []byte
	value []byte // entry data, block header or kv value
	hash  tlog.Hash
}

// snapReader decodes and validates the stream record by record, so a
// restore never holds more than one record in memory.
type snapReader struct {
	br      *bufio.Reader
	h       hash.Hash
	v2      bool
	phase   int
	counts  [4]uint64 // totals, for the end record
	part    Partition // partition of the section's last record
	inPart  uint64    // records of the current section in part
	lastNS  Namespace
	lastKey []byte
	pending *snapRecord
	done    bool
	buf     [64]byte
}

func newSnapReader(r io.Reader) *snapReader {
	return &snapReader{br: bufio.NewReaderSize(r, 256<<10), h: sha256.New(), phase: -1}
}

func badSnap(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSnapshot, fmt.Sprintf(format, args...))
}

// read fills p from the stream and feeds it to the checksum.
func (r *snapReader) read(p []byte, what string) error {
	if _, err := io.ReadFull(r.br, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return badSnap("truncated in %s", what)
		}
		return fmt.Errorf("store: reading snapshot: %w", err)
	}
	r.h.Write(p)
	return nil
}

func (r *snapReader) u64(what string) (uint64, error) {
	if err := r.read(r.buf[:8], what); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(r.buf[:8]), nil
}

func (r *snapReader) bytes(what string, limit int) ([]byte, error) {
	if err := r.read(r.buf[:4], what); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(r.buf[:4])
	if uint64(n) > uint64(limit) {
		return nil, badSnap("%s of %d bytes exceeds %d", what, n, limit)
	}
	// Memory follows the bytes that arrive, not the length declared: a
	// peer's stream declaring 80 MiB and sending ten bytes costs a chunk,
	// not 80 MiB (the Raft snapshot of a node in another institution).
	p := make([]byte, 0, min(int(n), snapReadChunk))
	for len(p) < int(n) {
		k := min(int(n)-len(p), snapReadChunk)
		p = slices.Grow(p, k)
		if err := r.read(p[len(p):len(p)+k], what); err != nil {
			return nil, err
		}
		p = p[:len(p)+k]
	}
	return p, nil
}

// snapReadChunk is how much of a record is allocated ahead of its bytes.
const snapReadChunk = 1 << 20

// unread pushes rec back so the next call to next returns it again.
func (r *snapReader) unread(rec snapRecord) { r.pending = &rec }

// next returns the next record, or io.EOF after a valid end record followed
// by the end of the stream. The end record itself is not returned.
func (r *snapReader) next() (snapRecord, error) {
	if r.pending != nil {
		rec := *r.pending
		r.pending = nil
		return rec, nil
	}
	if r.done {
		return snapRecord{}, io.EOF
	}
	if r.phase < 0 {
		magic := make([]byte, len(snapMagic))
		if err := r.read(magic, "magic"); err != nil {
			return snapRecord{}, err
		}
		switch string(magic) {
		case snapMagic:
		case snapMagicV2:
			r.v2 = true
		default:
			return snapRecord{}, badSnap("unknown format %q", magic)
		}
	}
	if err := r.read(r.buf[:1], "record tag"); err != nil {
		return snapRecord{}, err
	}
	rec := snapRecord{tag: r.buf[0]}
	phase := tagPhase(rec.tag)
	switch {
	case phase < 0:
		return rec, badSnap("unknown record tag 0x%02x", rec.tag)
	case r.phase < 0 && phase != 0:
		return rec, badSnap("first record is %q, want applied index", rec.tag)
	case phase < r.phase || (phase == 0 && r.phase == 0):
		return rec, badSnap("record %q out of section order", rec.tag)
	}
	if phase != r.phase {
		// A new section starts in partition 0 with nothing counted.
		r.part, r.inPart = 0, 0
	}
	r.phase = phase
	var err error
	if rec.tag != tagApplied && rec.tag != tagEnd {
		if err := r.partition(&rec); err != nil {
			return rec, err
		}
	}
	switch rec.tag {
	case tagApplied:
		rec.index, err = r.u64("applied index")
	case tagEntry, tagHash, tagBlock:
		c := &r.counts[phase-1]
		if rec.index, err = r.u64("index"); err != nil {
			return rec, err
		}
		if rec.index != r.inPart {
			return rec, badSnap("record %q of partition %d at %d, want %d", rec.tag, rec.part, rec.index, r.inPart)
		}
		if r.inPart >= maxSeq {
			return rec, badSnap("record %q index overflows", rec.tag)
		}
		r.inPart++
		*c++
		switch rec.tag {
		case tagEntry:
			rec.value, err = r.bytes("entry", MaxValueSize)
		case tagBlock:
			rec.value, err = r.bytes("block header", MaxValueSize)
		default:
			err = r.read(rec.hash[:], "hash")
		}
	case tagKV:
		err = r.kv(&rec)
	case tagEnd:
		err = r.end()
		if err == nil {
			return rec, io.EOF
		}
	}
	return rec, err
}

// partition reads a record's partition (v2; v1 records are in 0) and
// checks that partitions ascend within the section: a new partition
// restarts the section's numbering.
func (r *snapReader) partition(rec *snapRecord) error {
	if !r.v2 {
		return nil
	}
	if err := r.read(r.buf[:4], "partition"); err != nil {
		return err
	}
	rec.part = Partition(binary.BigEndian.Uint32(r.buf[:4]))
	switch {
	case !rec.part.Valid():
		return badSnap("partition %d above the maximum %d", rec.part, MaxPartition)
	case rec.part < r.part:
		return badSnap("record %q of partition %d after partition %d", rec.tag, rec.part, r.part)
	case rec.part > r.part:
		r.part, r.inPart = rec.part, 0
	}
	return nil
}

func (r *snapReader) kv(rec *snapRecord) error {
	if err := r.read(r.buf[:1], "namespace"); err != nil {
		return err
	}
	rec.ns = Namespace(r.buf[0])
	if !rec.ns.Valid() {
		return badSnap("unknown namespace %d", r.buf[0])
	}
	var err error
	if rec.key, err = r.bytes("key", MaxKeySize); err != nil {
		return err
	}
	if len(rec.key) == 0 {
		return badSnap("empty key in namespace %v", rec.ns)
	}
	if r.inPart > 0 && (rec.ns < r.lastNS || rec.ns == r.lastNS && bytes.Compare(rec.key, r.lastKey) <= 0) {
		return badSnap("key %x in namespace %v out of order", rec.key, rec.ns)
	}
	if rec.value, err = r.bytes("value", MaxValueSize); err != nil {
		return err
	}
	r.lastNS, r.lastKey = rec.ns, rec.key
	r.inPart++
	r.counts[3]++
	return nil
}

func (r *snapReader) end() error {
	for i, want := range r.counts {
		got, err := r.u64("end counts")
		if err != nil {
			return err
		}
		if got != want {
			return badSnap("end record count %d is %d, stream had %d", i, got, want)
		}
	}
	want := r.h.Sum(nil)
	var got [sha256.Size]byte
	if _, err := io.ReadFull(r.br, got[:]); err != nil {
		return badSnap("truncated in checksum")
	}
	if !bytes.Equal(got[:], want) {
		return badSnap("checksum mismatch")
	}
	if _, err := r.br.ReadByte(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("store: reading snapshot: %w", err)
		}
		return badSnap("trailing bytes after end record")
	}
	r.done = true
	return nil
}

// SnapshotInfo summarises a snapshot stream.
type SnapshotInfo struct {
	// AppliedIndex is the last Raft index applied to the captured state.
	AppliedIndex uint64
	// Entries, Hashes, Blocks and Keys count the stream's records.
	Entries, Hashes, Blocks, Keys uint64
	// Bytes is the length of the stream, checksum included.
	Bytes int64
	// SHA256 is the checksum that ends the stream (over everything before
	// it), which also names the state: one state has one encoding.
	SHA256 [sha256.Size]byte
}

// VerifySnapshot reads a whole stream written by Snapshot.WriteTo and checks
// it as Restore would (format, order, limits, counts, checksum, nothing
// after the end), without storing anything. A stream Restore would refuse
// is refused with [ErrBadSnapshot], saying where and why.
func VerifySnapshot(r io.Reader) (SnapshotInfo, error) {
	cr := &countingReader{r: r}
	sr := newSnapReader(cr)
	var info SnapshotInfo
	for {
		rec, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return SnapshotInfo{}, err
		}
		if rec.tag == tagApplied {
			info.AppliedIndex = rec.index
		}
	}
	info.Entries, info.Hashes, info.Blocks, info.Keys = sr.counts[0], sr.counts[1], sr.counts[2], sr.counts[3]
	info.Bytes = cr.n
	copy(info.SHA256[:], sr.h.Sum(nil))
	return info, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// IsEmpty reports whether st holds no state at all: nothing applied, no
// entry, hash or block, no key in any namespace (a store just created).
func IsEmpty(ctx context.Context, st Store) (bool, error) {
	empty := true
	errFound := errors.New("found")
	err := st.View(ctx, func(tx ReadTx) error {
		hashes := func() (uint64, error) { n, err := tx.HashCount(); return uint64(n), err }
		for _, count := range []func() (uint64, error){tx.AppliedIndex, tx.EntryCount, hashes, tx.BlockCount} {
			n, err := count()
			if err != nil {
				return err
			}
			if n != 0 {
				empty = false
				return nil
			}
		}
		for _, ns := range Namespaces() {
			err := tx.Scan(ns, nil, func(_, _ []byte) error { return errFound })
			if errors.Is(err, errFound) {
				empty = false
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: checking for state: %w", err)
	}
	return empty, nil
}
