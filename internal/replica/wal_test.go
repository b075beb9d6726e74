package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// walEntry is the entry at index i of the WAL tests: its term, data and
// extensions follow from i and size alone, so a reader can check any
// entry byte for byte.
func walEntry(i uint64, size int) *raft.Log {
	d := make([]byte, size)
	for k := range d {
		d[k] = byte(i*31 + uint64(k)*7)
	}
	l := &raft.Log{Index: i, Term: 1 + i/10, Type: raft.LogCommand, Data: d, AppendedAt: time.Unix(1700000000, int64(i))}
	if i%3 == 0 {
		l.Extensions = []byte(fmt.Sprintf("ext%d", i))
	}
	if size == 0 {
		l.Data = nil
		l.Type = raft.LogNoop
	}
	return l
}

// walEntrySize is the data size of entry i in the tests that do not
// choose it: mostly small, some larger than a page.
func walEntrySize(i uint64) int {
	if i%7 == 0 {
		return 5000 + int(i%13)*100
	}
	return int(i % 50)
}

func openTestWAL(t *testing.T, dir string) *wal {
	t.Helper()
	w, err := openWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func storeRange(t *testing.T, w *wal, lo, hi uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := lo; i <= hi; i++ {
		logs = append(logs, walEntry(i, walEntrySize(i)))
	}
	if err := w.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

// checkWALHolds checks that w holds exactly first..last, each entry equal
// to walEntry's.
func checkWALHolds(t *testing.T, w raft.LogStore, first, last uint64) {
	t.Helper()
	if f, err := w.FirstIndex(); err != nil || f != first {
		t.Fatalf("FirstIndex = %d, %v; want %d", f, err, first)
	}
	if l, err := w.LastIndex(); err != nil || l != last {
		t.Fatalf("LastIndex = %d, %v; want %d", l, err, last)
	}
	if first == 0 {
		return
	}
	for i := first; i <= last; i++ {
		var got raft.Log
		if err := w.GetLog(i, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", i, err)
		}
		sameLog(t, &got, walEntry(i, walEntrySize(i)))
	}
	for _, i := range []uint64{first - 1, last + 1} {
		var got raft.Log
		if err := w.GetLog(i, &got); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d) outside %d..%d: %v, want ErrLogNotFound", i, first, last, err)
		}
	}
}

func sameLog(t *testing.T, got, want *raft.Log) {
	t.Helper()
	if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
		!got.AppendedAt.Equal(want.AppendedAt) || (got.Data == nil) != (want.Data == nil) {
		t.Fatalf("entry %d = {term %d type %v %d bytes ext %q at %v}, want {term %d type %v %d bytes ext %q at %v}",
			want.Index, got.Term, got.Type, len(got.Data), got.Extensions, got.AppendedAt,
			want.Term, want.Type, len(want.Data), want.Extensions, want.AppendedAt)
	}
}

// TestWALModel drives the WAL with tiny segments through random appends,
// front and suffix cuts, deletes of everything (then a restart anywhere)
// and reopens, comparing it with raft's in-memory store after every step.
func TestWALModel(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	w.segBytes = 16 << 10
	want := raft.NewInmemStore()
	rng := rand.New(rand.NewPCG(3, 4))
	var hi uint64
	maxSegs := 0
	for step := range 600 {
		first, _ := want.FirstIndex()
		last, _ := want.LastIndex()
		var name string
		switch op := rng.IntN(20); {
		case op < 12 || last == 0:
			start := last + 1
			if last == 0 {
				start = 1 + uint64(rng.IntN(int(hi)+5)) // anywhere, also below the old front
			}
			var logs []*raft.Log
			for i := range uint64(1 + rng.IntN(8)) {
				logs = append(logs, walEntry(start+i, rng.IntN(3)*rng.IntN(6000)))
			}
			name = fmt.Sprintf("store %d..%d", start, logs[len(logs)-1].Index)
			if err := w.StoreLogs(logs); err != nil {
				t.Fatalf("step %d %s: %v", step, name, err)
			}
			_ = want.StoreLogs(logs)
			hi = max(hi, logs[len(logs)-1].Index)
		case op < 14: // overlap: a batch replacing a suffix
			lo := first + uint64(rng.IntN(int(last-first+1)))
			logs := []*raft.Log{walEntry(lo, 10), walEntry(lo+1, 7000)}
			name = fmt.Sprintf("store over %d..%d", lo, lo+1)
			if err := w.StoreLogs(logs); err != nil {
				t.Fatalf("step %d %s: %v", step, name, err)
			}
			_ = want.DeleteRange(lo, last)
			_ = want.StoreLogs(logs)
		case op < 16:
			lo := first + uint64(rng.IntN(int(last-first+1)))
			name = fmt.Sprintf("delete suffix %d..%d", lo, last)
			if err := w.DeleteRange(lo, last+uint64(rng.IntN(3))); err != nil {
				t.Fatalf("step %d %s: %v", step, name, err)
			}
			_ = want.DeleteRange(lo, last)
		case op < 19:
			h := first + uint64(rng.IntN(int(last-first+1)))
			name = fmt.Sprintf("delete prefix %d..%d", first, h)
			if err := w.DeleteRange(first-uint64(rng.IntN(int(first))), h); err != nil {
				t.Fatalf("step %d %s: %v", step, name, err)
			}
			_ = want.DeleteRange(first, h)
		default:
			name = "delete all"
			if err := w.DeleteRange(0, last+10); err != nil {
				t.Fatalf("step %d %s: %v", step, name, err)
			}
			_ = want.DeleteRange(first, last)
		}
		if rng.IntN(15) == 0 {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			w = openTestWAL(t, dir)
			w.segBytes = 16 << 10
			name += ", reopen"
		}
		checkWALAgainst(t, w, want, hi+2, fmt.Sprintf("step %d (%s)", step, name))
		maxSegs = max(maxSegs, len(w.segs))
	}
	if maxSegs < 4 {
		t.Errorf("the log never had more than %d segments: the test should roll several", maxSegs)
	}
}

// checkWALAgainst is checkStoreAgainst, also comparing types and
// extensions.
func checkWALAgainst(t *testing.T, w *wal, want *raft.InmemStore, hi uint64, step string) {
	t.Helper()
	checkStoreAgainst(t, w, want, hi, step)
	for i := uint64(1); i <= hi; i++ {
		var got, exp raft.Log
		if want.GetLog(i, &exp) == nil {
			if err := w.GetLog(i, &got); err != nil {
				t.Fatalf("%s: GetLog(%d): %v", step, i, err)
			}
			sameLog(t, &got, &exp)
		}
	}
}

// TestWALRefusesGaps: an append after a gap, a delete strictly inside the
// log, and a log missing a middle segment are all refused.
func TestWALRefusesGaps(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	w.segBytes = 1 // every batch in a segment of its own
	storeRange(t, w, 5, 7)
	storeRange(t, w, 8, 9)
	storeRange(t, w, 10, 12)
	if err := w.StoreLogs([]*raft.Log{walEntry(14, 1)}); !errors.Is(err, errWALGap) {
		t.Errorf("append after a gap: %v, want errWALGap", err)
	}
	if err := w.StoreLogs([]*raft.Log{walEntry(13, 1), walEntry(15, 1)}); err == nil {
		t.Error("batch with a gap inside stored")
	}
	if err := w.DeleteRange(8, 9); !errors.Is(err, errWALGap) {
		t.Errorf("delete inside the log: %v, want errWALGap", err)
	}
	checkWALHolds(t, w, 5, 12)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, segmentName(8))); err != nil {
		t.Fatal(err)
	}
	_, err := openWAL(dir)
	if err == nil || !strings.Contains(err.Error(), "gap") || !strings.Contains(err.Error(), segmentName(10)) {
		t.Fatalf("open with a middle segment missing: %v", err)
	}
}

// TestWALFrontSurvivesCrash: a front cut is durable before any segment is
// removed. A crash after it wrote the front but before it removed the
// segments (put back here) reopens with the cut front, and the leftover
// segments are removed; an append into the emptied log below the old
// front is visible after reopen.
func TestWALFrontSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	w.segBytes = 1
	for _, r := range [][2]uint64{{1, 3}, {4, 6}, {7, 9}} {
		storeRange(t, w, r[0], r[1])
	}
	saved := map[string][]byte{}
	for _, b := range []uint64{1, 4} {
		saved[segmentName(b)], _ = os.ReadFile(filepath.Join(dir, segmentName(b)))
	}
	if err := w.DeleteRange(1, 7); err != nil {
		t.Fatal(err)
	}
	checkWALHolds(t, w, 8, 9)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, b := range saved {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w = openTestWAL(t, dir)
	checkWALHolds(t, w, 8, 9)
	for name := range saved {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("segment %s below the front still there after open: %v", name, err)
		}
	}
	// Delete everything, then start again below the old front.
	if err := w.DeleteRange(8, 9); err != nil {
		t.Fatal(err)
	}
	checkWALHolds(t, w, 0, 0)
	storeRange(t, w, 2, 4)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkWALHolds(t, openTestWAL(t, dir), 2, 4)
}

// tornTestLog writes entries 1..6 in three batches into one segment and
// returns the segment's bytes and the end offset of each record.
func tornTestLog(t *testing.T) ([]byte, []int64) {
	t.Helper()
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	storeRange(t, w, 1, 3)
	storeRange(t, w, 4, 4)
	storeRange(t, w, 5, 6)
	offs := slices.Clone(w.segs[0].offs)
	b := closeAndReadFirstSegment(t, w, dir)
	if int64(len(b)) != offs[len(offs)-1] {
		t.Fatalf("segment is %d bytes, its index ends at %d", len(b), offs[len(offs)-1])
	}
	return b, offs
}

// openSegmentBytes opens a WAL whose only segment (first index 1) holds b.
func openSegmentBytes(t *testing.T, b []byte) (*wal, string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segmentName(1)), b, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := openWAL(dir)
	if err == nil {
		t.Cleanup(func() { _ = w.Close() })
	}
	return w, dir, err
}

// TestWALTornTail: the segment cut at every byte, and the last record
// garbled at every byte, reopens with exactly the whole records before the
// damage, cut back to them on disk, and takes appends after them.
func TestWALTornTail(t *testing.T) {
	orig, offs := tornTestLog(t)
	check := func(b []byte, wantLast uint64, what string) {
		t.Helper()
		w, dir, err := openSegmentBytes(t, b)
		if err != nil {
			t.Fatalf("%s: open: %v", what, err)
		}
		first := uint64(1)
		if wantLast == 0 {
			first = 0
		}
		checkWALHolds(t, w, first, wantLast)
		size := int64(-1)
		if st, err := os.Stat(filepath.Join(dir, segmentName(1))); err == nil {
			size = st.Size()
		}
		if wantLast > 0 && size != offs[wantLast] {
			t.Fatalf("%s: segment is %d bytes after recovery, want %d", what, size, offs[wantLast])
		}
		if wantLast == 0 && size != -1 {
			t.Fatalf("%s: empty segment left behind (%d bytes)", what, size)
		}
		// The cut is reported for the node to log; a log ending on a
		// record boundary has nothing to report.
		cutAt := int64(walHeaderSize)
		if wantLast > 0 {
			cutAt = offs[wantLast]
		}
		switch c := w.tornCut; {
		case int64(len(b)) == cutAt && c != nil:
			t.Fatalf("%s: nothing torn, but tornCut = %+v", what, c)
		case int64(len(b)) > cutAt && (c == nil || c.offset != cutAt || c.bytes != int64(len(b))-cutAt || c.segment != segmentName(1)):
			t.Fatalf("%s: tornCut = %+v, want %d bytes at offset %d", what, c, int64(len(b))-cutAt, cutAt)
		}
		storeRange(t, w, wantLast+1, wantLast+1)
		checkWALHolds(t, w, 1, wantLast+1)
	}
	for n := int64(walHeaderSize); n < int64(len(orig)); n++ {
		var whole uint64
		for whole < uint64(len(offs)-1) && offs[whole+1] <= n {
			whole++
		}
		check(orig[:n], whole, fmt.Sprintf("cut at %d", n))
	}
	last := offs[len(offs)-2]
	for p := last; p < int64(len(orig)); p++ {
		b := slices.Clone(orig)
		b[p] ^= 0x5a
		check(b, 5, fmt.Sprintf("last record garbled at %d", p))
	}
	// After a power loss the disk may have kept a later page of the last,
	// unacknowledged write and not an earlier one: record 5 garbled,
	// record 6 of the same batch whole. The batch is cut from record 5 on.
	for p := offs[4]; p < offs[5]; p++ {
		b := slices.Clone(orig)
		b[p] ^= 0x5a
		check(b, 4, fmt.Sprintf("record 5 of the last batch garbled at %d, record 6 whole", p))
	}
}

// TestWALCorruptMiddle: a damaged record followed by good ones of a later
// batch, in the last segment (at every byte of the record) or in an earlier one, fails
// the open with an error naming the file and the record's offset.
func TestWALCorruptMiddle(t *testing.T) {
	orig, offs := tornTestLog(t)
	for p := offs[1]; p < offs[2]; p++ {
		b := slices.Clone(orig)
		b[p] ^= 0x5a
		_, _, err := openSegmentBytes(t, b)
		want := fmt.Sprintf("segment %s offset %d: ", segmentName(1), offs[1])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("record 2 garbled at %d: open = %v, want an error containing %q", p, err, want)
		}
	}

	// Two damaged records in a row, then good ones.
	b := slices.Clone(orig)
	b[offs[2]-1] ^= 1
	b[offs[3]-1] ^= 1
	_, _, err := openSegmentBytes(t, b)
	if want := fmt.Sprintf("segment %s offset %d: crc mismatch", segmentName(1), offs[1]); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("records 2 and 3 damaged: open = %v, want an error containing %q", err, want)
	}

	// The last record of a segment that is not the last one.
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	w.segBytes = 1
	storeRange(t, w, 1, 3)
	storeRange(t, w, 4, 5)
	off := w.segs[0].offs[2]
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, segmentName(1))
	b, _ = os.ReadFile(path)
	b[len(b)-1] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = openWAL(dir)
	want := fmt.Sprintf("segment %s offset %d: crc mismatch", segmentName(1), off)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("open = %v, want an error containing %q", err, want)
	}
}

// TestWALGetLogChecksCRC: a record damaged after open is reported by
// GetLog, with the file and offset, not returned.
func TestWALGetLogChecksCRC(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	storeRange(t, w, 1, 3)
	off := w.segs[0].offs[1]
	f, err := os.OpenFile(filepath.Join(dir, segmentName(1)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, off+walRecordFixed-1); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	var l raft.Log
	err = w.GetLog(2, &l)
	want := fmt.Sprintf("segment %s offset %d: index 2: crc mismatch", segmentName(1), off)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("GetLog of a damaged record = %v, want an error containing %q", err, want)
	}
}

// TestAttackWALForgedRecordInPayload: a client's command that carries
// bytes forming valid WAL records of the next indexes, torn by a crash
// after those bytes were written, is cut as the torn tail it is: recovery
// does not take the forged records for acknowledged ones after damage (and
// refuse to start), nor keep them.
func TestAttackWALForgedRecordInPayload(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	storeRange(t, w, 1, 3)
	var payload []byte
	payload = append(payload, "ballot"...)
	payload = appendRecord(payload, walEntry(5, 40), 5)
	payload = appendRecord(payload, walEntry(6, 40), 5)
	payload = append(payload, bytes.Repeat([]byte{0}, 3000)...)
	l := walEntry(4, 0)
	l.Type, l.Data = raft.LogCommand, payload
	if err := w.StoreLogs([]*raft.Log{l}); err != nil {
		t.Fatal(err)
	}
	end := w.segs[0].offs[4]
	b := closeAndReadFirstSegment(t, w, dir)
	for _, cut := range []int64{end - 2000, end - 1} {
		w2, _, err := openSegmentBytes(t, b[:cut])
		if err != nil {
			t.Fatalf("torn forged entry (cut at %d of %d): open: %v", cut, end, err)
		}
		checkWALHolds(t, w2, 1, 3)
	}
}

// TestWALConcurrentReads: readers (raft's replication goroutines) read
// while the writer appends, rolls segments and cuts the front: every read
// returns the entry, whole, or ErrLogNotFound for one cut away. Run with
// -race.
func TestWALConcurrentReads(t *testing.T) {
	w := openTestWAL(t, t.TempDir())
	w.segBytes = 8 << 10
	storeRange(t, w, 1, 10)
	done := make(chan struct{})
	errs := make(chan error, 4)
	for r := range 3 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(r), 9))
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				first, _ := w.FirstIndex()
				last, _ := w.LastIndex()
				if last < first {
					errs <- fmt.Errorf("first %d > last %d", first, last)
					return
				}
				i := first + uint64(rng.IntN(int(last-first+1)))
				var got raft.Log
				err := w.GetLog(i, &got)
				if errors.Is(err, raft.ErrLogNotFound) {
					if f, _ := w.FirstIndex(); f > i {
						continue // cut meanwhile
					}
				}
				if err != nil {
					errs <- fmt.Errorf("GetLog(%d) in %d..%d: %w", i, first, last, err)
					return
				}
				want := walEntry(i, walEntrySize(i))
				if got.Term != want.Term || !bytes.Equal(got.Data, want.Data) {
					errs <- fmt.Errorf("GetLog(%d) returned another entry (term %d, %d bytes)", i, got.Term, len(got.Data))
					return
				}
			}
		}()
	}
	for next := uint64(11); next < 1500; next += 3 {
		storeRange(t, w, next, next+2)
		if next%60 == 2 {
			if err := w.DeleteRange(0, next-40); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAttackWALForgedBatchInDamagedRecord: a record whose header is
// damaged (so its length is not trusted) carries in its data a forged
// whole record of its own batch, then a forged header claiming to span
// the rest of the file. The byte search must not let the forged length
// skip the real records of later batches that follow: recovery refuses
// to start instead of cutting acknowledged entries.
func TestAttackWALForgedBatchInDamagedRecord(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	forgedLong := appendRecord(nil, walEntry(3, 40), 1)
	payload := append([]byte("ballot"), appendRecord(nil, walEntry(2, 40), 1)...)
	payload = append(payload, forgedLong...)
	l := walEntry(1, 0)
	l.Type, l.Data = raft.LogCommand, payload
	if err := w.StoreLogs([]*raft.Log{l}); err != nil {
		t.Fatal(err)
	}
	storeRange(t, w, 2, 2)
	storeRange(t, w, 3, 3)
	rec1 := w.segs[0].offs[0]
	b := closeAndReadFirstSegment(t, w, dir)
	// The forged header claims every byte to the end of the file.
	at := bytes.Index(b, forgedLong)
	if at < 0 {
		t.Fatal("forged record not found in the segment")
	}
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at))
	binary.BigEndian.PutUint32(b[at+12:], crc32.Checksum(b[at:at+12], castagnoli))
	b[rec1] ^= 0xff // record 1's length: its header no longer checks
	_, _, err := openSegmentBytes(t, b)
	want := fmt.Sprintf("segment %s offset %d: ", segmentName(1), rec1)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("open = %v, want a refusal containing %q (records 1..3 were acknowledged)", err, want)
	}
}

// closeAndReadFirstSegment closes w, kept in dir, and returns the bytes of
// its first segment file.
func closeAndReadFirstSegment(t *testing.T, w *wal, dir string) []byte {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, segmentName(1)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
