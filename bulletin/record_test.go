package bulletin

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type recordParts struct {
	headers []*BlockHeader
	entries [][][]byte
	notes   [][]byte
}

func fullParts(t testing.TB, seed string) (*election, *board, *recordParts) {
	el := newElection(t, seed)
	b := newBoard()
	es := el.prefix(t, PhaseResult)
	b.mustApply(t, es...)
	sizes := []int{1, 4, 3, len(es) - 8}
	hs := b.blocks(t, sizes...)
	p := &recordParts{headers: hs}
	seq := 0
	for _, n := range sizes {
		p.entries = append(p.entries, b.raw[seq:seq+n])
		seq += n
	}
	ss := signers(t, el)
	p.notes = [][]byte{
		signedBy(t, el.checkpointFor(hs[1]), ss[0], ss[1]),
		signedBy(t, el.checkpointFor(hs[3]), ss[0], ss[1], ss[2]),
	}
	return el, b, p
}

func (p *recordParts) write(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := NewRecordWriter(&buf)
	for i, h := range p.headers {
		if err := w.WriteBlock(h, p.entries[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range p.notes {
		if err := w.WriteCheckpoint(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRecordReader(t *testing.T) {
	_, _, p := fullParts(t, "record")
	raw := p.write(t)
	rr, err := NewRecordReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	blocks, seq := 0, 0
	for {
		b, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Header.FirstSeq != uint64(seq) || len(b.Entries) != len(p.entries[blocks]) {
			t.Fatalf("block %d: first seq %d, %d entries", blocks, b.Header.FirstSeq, len(b.Entries))
		}
		for k := range b.Entries {
			if !bytes.Equal(b.Raw[k], p.entries[blocks][k]) {
				t.Fatalf("block %d entry %d differs", blocks, k)
			}
		}
		seq += len(b.Entries)
		blocks++
	}
	if blocks != 4 || len(rr.Checkpoints()) != 2 {
		t.Fatalf("%d blocks, %d checkpoints", blocks, len(rr.Checkpoints()))
	}
	for i, n := range rr.Checkpoints() {
		if !bytes.Equal(n, p.notes[i]) {
			t.Fatalf("checkpoint %d differs", i)
		}
	}
}

func mustEntry(t testing.TB, b []byte) *Entry {
	e, err := ParseEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRecordDecodingStrict(t *testing.T) {
	_, _, p := fullParts(t, "record-strict")
	raw := p.write(t)
	readAll := func(b []byte) error {
		rr, err := NewRecordReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		for {
			if _, err := rr.Next(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	if err := readAll(raw); err != nil {
		t.Fatal(err)
	}
	endAt := len(raw) - 5 - endPayloadSize
	bad := map[string][]byte{
		"magic":          append([]byte("URNAREX"), raw[7:]...),
		"version":        append(append([]byte(RecordMagic), 2), raw[8:]...),
		"trailing":       append(bytes.Clone(raw), 0),
		"truncated":      raw[:len(raw)-1],
		"no end":         raw[:endAt],
		"end count":      func() []byte { b := bytes.Clone(raw); b[endAt+5+7]++; return b }(),
		"unknown frame":  func() []byte { b := bytes.Clone(raw); b[endAt] = 9; return b }(),
		"entry as block": func() []byte { b := bytes.Clone(raw); b[8] = frameEntry; return b }(),
		"empty":          nil,
	}
	for name, b := range bad {
		if err := readAll(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// writer misuse
	var buf bytes.Buffer
	w, _ := NewRecordWriter(&buf)
	if w.WriteCheckpoint([]byte("x")) == nil {
		t.Error("checkpoint before blocks")
	}
	if w.WriteBlock(p.headers[0], nil) == nil {
		t.Error("block with the wrong entry count")
	}
	if w.Close() == nil {
		t.Error("record without checkpoint")
	}
}
