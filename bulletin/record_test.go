package bulletin

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
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

func TestVerifyRecord(t *testing.T) {
	_, b, p := fullParts(t, "record")
	raw := p.write(t)
	n := 0
	sum, err := VerifyRecord(seeded.Raw("v"), bytes.NewReader(raw), NewRules(jsonBodies{}), func(seq uint64, r []byte, e *Entry, eff *Effects) error {
		if seq != uint64(n) || !bytes.Equal(r, b.raw[n]) || eff.Seq != seq {
			t.Fatalf("callback out of order at %d", seq)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.State.Phase != PhaseResult || n != len(b.raw) || sum.Checkpoint.Size != uint64(n) || sum.Blocks != 4 {
		t.Fatalf("summary %+v", sum)
	}
	// the reader alone
	rr, err := NewRecordReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for {
		_, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		blocks++
	}
	if blocks != 4 || len(rr.Checkpoints()) != 2 {
		t.Fatalf("%d blocks, %d checkpoints", blocks, len(rr.Checkpoints()))
	}
}

func TestVerifyRecordFailures(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*election, *board, *recordParts)
		step string
	}{
		{"log root", func(el *election, b *board, p *recordParts) {
			// a block whose root is wrong, re-linked so that V2 passes
			h := *p.headers[3]
			h.LogRoot[0] ^= 1
			p.headers[3] = &h
			p.notes = p.notes[:1]
		}, "V3.5"},
		{"broken link", func(el *election, b *board, p *recordParts) {
			h := *p.headers[2]
			h.Prev[0] ^= 1
			p.headers[2] = &h
		}, "V2"},
		{"forged entry signature", func(el *election, b *board, p *recordParts) {
			e, _ := ParseEntry(p.entries[1][1])
			e.Sig = mustEntry(t, p.entries[1][2]).Sig
			p.entries[1] = append([][]byte{}, p.entries[1]...)
			p.entries[1][1] = e.Bytes()
		}, "V1.4"},
		{"no checkpoint of the whole record", func(el *election, b *board, p *recordParts) { p.notes = p.notes[:1] }, "V3.6"},
		{"checkpoint below quorum", func(el *election, b *board, p *recordParts) {
			p.notes[1] = signedBy(t, el.checkpointFor(p.headers[3]), signers(t, el)[2])
		}, "V3.1"},
		{"checkpoint of another block", func(el *election, b *board, p *recordParts) {
			c := el.checkpointFor(p.headers[3])
			c.Height = 2
			p.notes[1] = signedBy(t, c, signers(t, el)...)
		}, "V3.5"},
		{"entry the rules reject", func(el *election, b *board, p *recordParts) {
			// swap the order of the last block's entries: result before the last partial
			last := append([][]byte{}, p.entries[3]...)
			n := len(last)
			last[n-1], last[n-2] = last[n-2], last[n-1]
			p.entries[3] = last
			var m MemoryLog
			for _, blk := range p.entries {
				for _, e := range blk {
					m.Append(e)
				}
			}
			root, _ := m.Root(m.Size())
			h := *p.headers[3]
			h.LogRoot = root
			p.headers[3] = &h
			p.notes = [][]byte{signedBy(t, el.checkpointFor(&h), signers(t, el)...)}
		}, "V5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			el, b, p := fullParts(t, "record-fail")
			c.mut(el, b, p)
			_, err := VerifyRecord(seeded.Raw("v"), bytes.NewReader(p.write(t)), NewRules(jsonBodies{}), nil)
			var se *StepError
			if !errors.As(err, &se) || se.Step != c.step {
				t.Fatalf("got %v, want step %s", err, c.step)
			}
		})
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
