package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/testonly/golden"
)

// goldenSnapshot encodes a tiny state covering every record kind.
func goldenSnapshot(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newSnapWriter(&buf, 7, false)
	w.entry(0, 0, []byte("e0"))
	w.entry(0, 1, nil)
	w.hash(0, 0, tlog.RecordHash([]byte("e0")))
	w.block(0, 0, []byte("hdr"))
	w.kv(0, NSMeta, []byte("k"), []byte("v"))
	w.kv(0, NSTracker, []byte{0xff}, nil)
	return finishGolden(t, w, &buf)
}

// finishGolden ends the stream w writes into buf and returns its bytes.
func finishGolden(t testing.TB, w *snapWriter, buf *bytes.Buffer) []byte {
	t.Helper()
	n, err := w.finish()
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("finish returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// The format is persisted and exchanged between nodes: its bytes are pinned.
func TestSnapshotGolden(t *testing.T) {
	got := goldenSnapshot(t)
	// regenerate with URNA_UPDATE_GOLDEN=1
	golden.Check(t, filepath.Join("testdata", "snapshot-v1.hex"), []byte(hex.EncodeToString(got)+"\n"), os.Getenv("URNA_UPDATE_GOLDEN") != "")
	recs, err := decodeAll(got)
	if err != nil {
		t.Fatalf("decoding golden: %v", err)
	}
	if len(recs) != 7 || recs[0].index != 7 || recs[6].ns != NSTracker {
		t.Fatalf("decoded %d records: %+v", len(recs), recs)
	}
}

func decodeAll(b []byte) ([]snapRecord, error) {
	recs, _, err := decodeAllV(b)
	return recs, err
}

// decodeAllV also says whether the stream is format v2.
func decodeAllV(b []byte) ([]snapRecord, bool, error) {
	r := newSnapReader(bytes.NewReader(b))
	var out []snapRecord
	for {
		rec, err := r.next()
		if err == io.EOF {
			return out, r.v2, nil
		}
		if err != nil {
			return out, r.v2, err
		}
		out = append(out, rec)
	}
}

func reencode(recs []snapRecord, v2 bool) []byte {
	var buf bytes.Buffer
	w := newSnapWriter(&buf, recs[0].index, v2)
	for _, r := range recs[1:] {
		switch r.tag {
		case tagEntry:
			w.entry(r.part, r.index, r.value)
		case tagHash:
			w.hash(r.part, r.index, r.hash)
		case tagBlock:
			w.block(r.part, r.index, r.value)
		case tagKV:
			w.kv(r.part, r.ns, r.key, r.value)
		}
	}
	w.finish()
	return buf.Bytes()
}

// goldenSnapshotV2 encodes a tiny state of three partitions (0, 1 and 5)
// covering every record kind: format v2.
func goldenSnapshotV2(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newSnapWriter(&buf, 9, true)
	w.entry(0, 0, []byte("e0"))
	w.entry(1, 0, []byte("a0"))
	w.entry(1, 1, []byte("a1"))
	w.entry(5, 0, nil)
	w.hash(0, 0, tlog.RecordHash([]byte("e0")))
	w.hash(1, 0, tlog.RecordHash([]byte("a0")))
	w.block(1, 0, []byte("hdr1"))
	w.block(5, 0, []byte("hdr5"))
	w.kv(0, NSTracker, []byte("k"), []byte("v"))
	w.kv(1, NSMeta, []byte("k"), []byte("v1"))
	w.kv(5, NSMeta, []byte("a"), nil)
	w.kv(5, NSMeta, []byte("b"), nil)
	return finishGolden(t, w, &buf)
}

func TestSnapshotGoldenV2(t *testing.T) {
	got := goldenSnapshotV2(t)
	golden.Check(t, filepath.Join("testdata", "snapshot-v2.hex"), []byte(hex.EncodeToString(got)+"\n"), os.Getenv("URNA_UPDATE_GOLDEN") != "")
	recs, v2, err := decodeAllV(got)
	if err != nil {
		t.Fatalf("decoding golden: %v", err)
	}
	if !v2 || len(recs) != 13 || recs[3].part != 1 || recs[3].index != 1 || recs[12].part != 5 || string(recs[12].key) != "b" {
		t.Fatalf("decoded %d records (v2 %v): %+v", len(recs), v2, recs)
	}
	if again := reencode(recs, true); !bytes.Equal(again, got) {
		t.Fatal("v2 golden does not re-encode to itself")
	}
	// A v1 stream cannot carry another partition than 0.
	var buf bytes.Buffer
	w := newSnapWriter(&buf, 1, false)
	if err := w.entry(1, 0, nil); err == nil {
		t.Fatal("v1 writer accepted partition 1")
	}
}

// Negative vectors: each breaks exactly one rule of the format.
func TestSnapshotRejects(t *testing.T) {
	encode := func(multi bool, f func(w *snapWriter)) []byte {
		var buf bytes.Buffer
		w := newSnapWriter(&buf, 1, multi)
		f(w)
		w.finish()
		return buf.Bytes()
	}
	enc := func(f func(w *snapWriter)) []byte { return encode(false, f) }
	enc2 := func(f func(w *snapWriter)) []byte { return encode(true, f) }
	cases := map[string][]byte{
		"entry gap":          enc(func(w *snapWriter) { w.entry(0, 1, nil) }),
		"entry repeat":       enc(func(w *snapWriter) { w.entry(0, 0, nil); w.entry(0, 0, nil) }),
		"hash gap":           enc(func(w *snapWriter) { w.hash(0, 3, tlog.Hash{}) }),
		"block gap":          enc(func(w *snapWriter) { w.block(0, 1, nil) }),
		"entry after hash":   enc(func(w *snapWriter) { w.hash(0, 0, tlog.Hash{}); w.entry(0, 0, nil) }),
		"kv before block":    enc(func(w *snapWriter) { w.kv(0, NSMeta, []byte("k"), nil); w.block(0, 0, nil) }),
		"kv unsorted":        enc(func(w *snapWriter) { w.kv(0, NSMeta, []byte("b"), nil); w.kv(0, NSMeta, []byte("a"), nil) }),
		"kv duplicate":       enc(func(w *snapWriter) { w.kv(0, NSMeta, []byte("a"), nil); w.kv(0, NSMeta, []byte("a"), nil) }),
		"kv ns unsorted":     enc(func(w *snapWriter) { w.kv(0, NSTracker, []byte("a"), nil); w.kv(0, NSMeta, []byte("b"), nil) }),
		"kv unknown ns":      enc(func(w *snapWriter) { w.kv(0, 0, []byte("a"), nil) }),
		"kv ns too big":      enc(func(w *snapWriter) { w.kv(0, nsMax+1, []byte("a"), nil) }),
		"kv empty key":       enc(func(w *snapWriter) { w.kv(0, NSMeta, nil, nil) }),
		"kv key too long":    enc(func(w *snapWriter) { w.kv(0, NSMeta, make([]byte, MaxKeySize+1), nil) }),
		"second applied":     append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'A', 0, 0, 0, 0, 0, 0, 0, 1),
		"no applied":         append([]byte(snapMagic), 'E', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"huge length":        append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'E', 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		"unknown tag":        append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'Q'),
		"older magic":        append([]byte("urna-store-snapshot/v0\n"), 'A', 0, 0, 0, 0, 0, 0, 0, 1),
		"trailing after end": append(enc(func(*snapWriter) {}), 'Z'),
		"v2 partition down":  enc2(func(w *snapWriter) { w.entry(1, 0, nil); w.entry(0, 0, nil) }),
		"v2 partition gap":   enc2(func(w *snapWriter) { w.entry(1, 1, nil) }),
		"v2 part repeat":     enc2(func(w *snapWriter) { w.entry(2, 0, nil); w.entry(2, 0, nil) }),
		"v2 new part at 1":   enc2(func(w *snapWriter) { w.block(0, 0, nil); w.block(3, 1, nil) }),
		"v2 kv part down":    enc2(func(w *snapWriter) { w.kv(2, NSMeta, []byte("a"), nil); w.kv(1, NSMeta, []byte("b"), nil) }),
		"v2 kv unsorted":     enc2(func(w *snapWriter) { w.kv(2, NSMeta, []byte("b"), nil); w.kv(2, NSMeta, []byte("a"), nil) }),
		"v2 kv duplicate":    enc2(func(w *snapWriter) { w.kv(2, NSMeta, []byte("a"), nil); w.kv(2, NSMeta, []byte("a"), nil) }),
		"v2 partition max":   enc2(func(w *snapWriter) { w.entry(MaxPartition+1, 0, nil) }),
		"v2 truncated part":  append([]byte(snapMagicV2), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'E', 0, 0),
	}
	for name, b := range cases {
		if _, err := decodeAll(b); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: err = %v, want ErrBadSnapshot", name, err)
		}
	}
}

// FuzzSnapshotDecode: whatever decodes re-encodes to the same bytes (one
// encoding per state), and nothing panics.
func FuzzSnapshotDecode(f *testing.F) {
	f.Add(goldenSnapshot(f))
	f.Add(goldenSnapshotV2(f))
	var empty bytes.Buffer
	newSnapWriter(&empty, 0, false).finish()
	f.Add(empty.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, v2, err := decodeAllV(b)
		if err != nil {
			return
		}
		if got := reencode(recs, v2); !bytes.Equal(got, b) {
			t.Fatalf("decode/encode not a round trip:\n in %x\nout %x", b, got)
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want []byte }{
		{nil, nil}, {[]byte{}, nil}, {[]byte{0xff}, nil}, {[]byte{0xff, 0xff}, nil},
		{[]byte{0}, []byte{1}}, {[]byte("ab"), []byte("ac")}, {[]byte{1, 0xff}, []byte{2}}, {[]byte{1, 0xfe, 0xff}, []byte{1, 0xff}},
	} {
		if got := prefixEnd(c.in); !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("prefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
}

func TestVerifySnapshot(t *testing.T) {
	golden := goldenSnapshot(t)
	info, err := VerifySnapshot(bytes.NewReader(golden))
	if err != nil {
		t.Fatal(err)
	}
	want := SnapshotInfo{AppliedIndex: 7, Entries: 2, Hashes: 1, Blocks: 1, Keys: 2, Bytes: int64(len(golden))}
	copy(want.SHA256[:], golden[len(golden)-32:])
	if info != want {
		t.Fatalf("VerifySnapshot = %+v, want %+v", info, want)
	}
	// Every truncation, every flipped byte and a trailing byte are refused
	// as a bad snapshot (never another error, never accepted).
	bad := map[string][]byte{}
	for v, golden := range [][]byte{golden, goldenSnapshotV2(t)} {
		bad[fmt.Sprintf("v%d trailing", v+1)] = append(bytes.Clone(golden), 0)
		for n := range len(golden) {
			bad[fmt.Sprintf("v%d truncated to %d", v+1, n)] = golden[:n]
			flipped := bytes.Clone(golden)
			flipped[n] ^= 0x01
			bad[fmt.Sprintf("v%d bit flipped at %d", v+1, n)] = flipped
		}
	}
	for name, b := range bad {
		if _, err := VerifySnapshot(bytes.NewReader(b)); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: VerifySnapshot = %v, want ErrBadSnapshot", name, err)
		}
	}
}

// TestAttackSnapshotDeclaredLength: a peer's snapshot stream that declares
// a record of 64 MiB (within MaxValueSize) and then ends is refused, and
// the reader's memory follows the bytes sent, not the length declared.
func TestAttackSnapshotDeclaredLength(t *testing.T) {
	stream := append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'E', 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0)
	stream = append(stream, "ten bytes!"...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := decodeAll(stream)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("truncated 64 MiB record: err = %v, want ErrBadSnapshot", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("reading a stream of %d bytes that declares a 64 MiB record allocated %d bytes", len(stream), got)
	}
}
