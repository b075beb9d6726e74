package testonly

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// Block is one sealed block.
type Block struct {
	Header  *bulletin.BlockHeader
	Entries [][]byte
}

// Sealed is a record before encoding: blocks and checkpoint notes.
type Sealed struct {
	Blocks []Block
	Notes  [][]byte
}

// Record seals Entries and encodes the record.
func (e *Election) Record() []byte { return e.Seal(e.Entries).Encode() }

// Seal groups entries into blocks of Config.BlockSize, with block times
// one second apart, and has every board node sign a checkpoint after the
// middle block and after the last one.
func (e *Election) Seal(entries [][]byte) *Sealed {
	e.t().Helper()
	return e.SealWith(entries, e.Config.BlockSize, nil)
}

// SealWith is Seal with a block size (≤ 0: 16) and the indexes of the
// nodes that sign (nil: all of them).
func (e *Election) SealWith(entries [][]byte, blockSize int, signers []int) *Sealed {
	e.t().Helper()
	return e.SealTimed(entries, blockSize, signers, BlockTime)
}

// BlockTime is the time Seal gives the block of height h: one second
// apart from 2023-11-14T22:13:20Z on.
func BlockTime(h int) uint64 { return 1_700_000_000_000 + uint64(h)*1000 }

// SealTimed is SealWith with the time of each block height, as a board
// leader chooses it: a hostile one may make it go back.
func (e *Election) SealTimed(entries [][]byte, blockSize int, signers []int, timeOf func(h int) uint64) *Sealed {
	e.t().Helper()
	if blockSize <= 0 {
		blockSize = 16
	}
	s := &Sealed{}
	sl := e.NewSealer(timeOf)
	for i := 0; i < len(entries); i += blockSize {
		end := min(i+blockSize, len(entries))
		s.Blocks = append(s.Blocks, Block{Header: sl.Block(entries[i:end]), Entries: entries[i:end]})
	}
	at := []int{len(s.Blocks) - 1}
	if mid := len(s.Blocks) / 2; mid != len(s.Blocks)-1 {
		at = []int{mid, len(s.Blocks) - 1}
	}
	for _, bi := range at {
		s.Notes = append(s.Notes, e.Checkpoint(s.Blocks[bi].Header, signers))
	}
	return s
}

// Sealer seals a board's entries one block at a time, as SealTimed does
// for a whole list: a generator that streams its record (bench/genrecord)
// writes each block as it is sealed and keeps only the log's hashes.
type Sealer struct {
	e      *Election
	log    bulletin.MemoryLog
	prev   *bulletin.BlockHeader
	timeOf func(h int) uint64
}

// NewSealer returns a sealer whose block of height h has time timeOf(h).
func (e *Election) NewSealer(timeOf func(h int) uint64) *Sealer {
	return &Sealer{e: e, timeOf: timeOf}
}

// Block appends entries to the log and returns the header of the block
// that holds them.
func (sl *Sealer) Block(entries [][]byte) *bulletin.BlockHeader {
	e := sl.e
	e.t().Helper()
	for _, en := range entries {
		e.must(sl.log.Append(en))
	}
	root, err := sl.log.Root(sl.log.Size())
	e.must(err)
	height, base := 0, uint64(0)
	if sl.prev != nil {
		height, base = int(sl.prev.Height)+1, sl.prev.Time
	}
	h, err := bulletin.NextBlock(sl.prev, base, uint32(len(entries)), root)
	e.must(err)
	h.Time = sl.timeOf(height) // possibly behind prev's, as a hostile leader may stamp it
	sl.prev = h
	return h
}

// Checkpoint returns the note for the log after block h, signed by the
// given nodes (nil: all of them).
func (e *Election) Checkpoint(h *bulletin.BlockHeader, signers []int) []byte {
	e.t().Helper()
	if signers == nil {
		for i := range e.Nodes {
			signers = append(signers, i)
		}
	}
	c := &bulletin.Checkpoint{Origin: bulletin.Origin(e.Manifest.ElectionID, e.Manifest.Fingerprint()),
		Size: h.LogSize, Root: h.LogRoot, Height: h.Height, BlockHash: h.Hash()}
	var notes [][]byte
	for _, i := range signers {
		sg, err := bulletin.NodeSigner(e.Nodes[i].ID, e.Nodes[i].Key)
		e.must(err)
		n, err := bulletin.SignCheckpoint(c, sg)
		e.must(err)
		notes = append(notes, n)
	}
	merged, err := bulletin.MergeCheckpointSignatures(notes...)
	e.must(err)
	return merged
}

// Encode writes the record file.
func (s *Sealed) Encode() []byte {
	var buf bytes.Buffer
	w, err := bulletin.NewRecordWriter(&buf)
	if err != nil {
		panic(err)
	}
	for _, b := range s.Blocks {
		if err := w.WriteBlock(b.Header, b.Entries); err != nil {
			panic(err)
		}
	}
	for _, n := range s.Notes {
		if err := w.WriteCheckpoint(n); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// ReadRecord reads a whole record file: its blocks and its checkpoint
// notes. It stops the test on any decoding error.
func ReadRecord(t testing.TB, r io.Reader) (blocks []*bulletin.RecordBlock, checkpoints [][]byte) {
	t.Helper()
	rr, err := bulletin.NewRecordReader(r)
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return blocks, rr.Checkpoints()
		}
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
}

// ParseEntry parses a signed entry or stops the test.
func ParseEntry(t testing.TB, raw []byte) *bulletin.Entry {
	t.Helper()
	e, err := bulletin.ParseEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Resealer returns an Election over entries of a record it did not build
// (a real board's export), knowing only the manifest and the board nodes'
// keys: enough to Resign entries whose signers' keys the test holds, and
// to Seal the record again around them, as colluding nodes could.
func Resealer(tb testing.TB, seed string, m *ballot.Manifest, nodes []Node, entries [][]byte) *Election {
	return &Election{tb: tb, Rand: seeded.New(seed), Manifest: m, Nodes: nodes, Entries: entries}
}

// WriteRecord frames blocks and checkpoint notes as a record file (the
// inverse of ReadRecord, for tests that edit a record). It stops the test
// on any error.
func WriteRecord(t testing.TB, blocks []*bulletin.RecordBlock, notes [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := bulletin.NewRecordWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if err := w.WriteBlock(b.Header, b.Raw); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range notes {
		if err := w.WriteCheckpoint(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
