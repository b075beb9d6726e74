package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/testonly/golden"
)

// goldenSnapshot encodes a tiny state covering every record kind.
func goldenSnapshot(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newSnapWriter(&buf, 7)
	w.entry(0, []byte("e0"))
	w.entry(1, nil)
	w.hash(0, tlog.RecordHash([]byte("e0")))
	w.block(0, []byte("hdr"))
	w.kv(NSMeta, []byte("k"), []byte("v"))
	w.kv(NSTracker, []byte{0xff}, nil)
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
	r := newSnapReader(bytes.NewReader(b))
	var out []snapRecord
	for {
		rec, err := r.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func reencode(recs []snapRecord) []byte {
	var buf bytes.Buffer
	w := newSnapWriter(&buf, recs[0].index)
	for _, r := range recs[1:] {
		switch r.tag {
		case tagEntry:
			w.entry(r.index, r.value)
		case tagHash:
			w.hash(r.index, r.hash)
		case tagBlock:
			w.block(r.index, r.value)
		case tagKV:
			w.kv(r.ns, r.key, r.value)
		}
	}
	w.finish()
	return buf.Bytes()
}

// Negative vectors: each breaks exactly one rule of the format.
func TestSnapshotRejects(t *testing.T) {
	enc := func(f func(w *snapWriter)) []byte {
		var buf bytes.Buffer
		w := newSnapWriter(&buf, 1)
		f(w)
		w.finish()
		return buf.Bytes()
	}
	cases := map[string][]byte{
		"entry gap":          enc(func(w *snapWriter) { w.entry(1, nil) }),
		"entry repeat":       enc(func(w *snapWriter) { w.entry(0, nil); w.entry(0, nil) }),
		"hash gap":           enc(func(w *snapWriter) { w.hash(3, tlog.Hash{}) }),
		"block gap":          enc(func(w *snapWriter) { w.block(1, nil) }),
		"entry after hash":   enc(func(w *snapWriter) { w.hash(0, tlog.Hash{}); w.entry(0, nil) }),
		"kv before block":    enc(func(w *snapWriter) { w.kv(NSMeta, []byte("k"), nil); w.block(0, nil) }),
		"kv unsorted":        enc(func(w *snapWriter) { w.kv(NSMeta, []byte("b"), nil); w.kv(NSMeta, []byte("a"), nil) }),
		"kv duplicate":       enc(func(w *snapWriter) { w.kv(NSMeta, []byte("a"), nil); w.kv(NSMeta, []byte("a"), nil) }),
		"kv ns unsorted":     enc(func(w *snapWriter) { w.kv(NSTracker, []byte("a"), nil); w.kv(NSMeta, []byte("b"), nil) }),
		"kv unknown ns":      enc(func(w *snapWriter) { w.kv(0, []byte("a"), nil) }),
		"kv ns too big":      enc(func(w *snapWriter) { w.kv(nsMax+1, []byte("a"), nil) }),
		"kv empty key":       enc(func(w *snapWriter) { w.kv(NSMeta, nil, nil) }),
		"kv key too long":    enc(func(w *snapWriter) { w.kv(NSMeta, make([]byte, MaxKeySize+1), nil) }),
		"second applied":     append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'A', 0, 0, 0, 0, 0, 0, 0, 1),
		"no applied":         append([]byte(snapMagic), 'E', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"huge length":        append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'E', 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		"unknown tag":        append([]byte(snapMagic), 'A', 0, 0, 0, 0, 0, 0, 0, 1, 'Q'),
		"older magic":        append([]byte("urna-store-snapshot/v0\n"), 'A', 0, 0, 0, 0, 0, 0, 0, 1),
		"trailing after end": append(enc(func(*snapWriter) {}), 'Z'),
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
	var empty bytes.Buffer
	newSnapWriter(&empty, 0).finish()
	f.Add(empty.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := decodeAll(b)
		if err != nil {
			return
		}
		if got := reencode(recs); !bytes.Equal(got, b) {
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
	bad := map[string][]byte{"trailing": append(bytes.Clone(golden), 0)}
	for n := range len(golden) {
		bad[fmt.Sprintf("truncated to %d", n)] = golden[:n]
		flipped := bytes.Clone(golden)
		flipped[n] ^= 0x01
		bad[fmt.Sprintf("bit flipped at %d", n)] = flipped
	}
	for name, b := range bad {
		if _, err := VerifySnapshot(bytes.NewReader(b)); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: VerifySnapshot = %v, want ErrBadSnapshot", name, err)
		}
	}
}
