package bulletin

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The election record file (SPEC.md §3.11) is
//
//	magic "URNAREC" || u8 version (1)
//	then frames, each u8 tag || u32be length || payload:
//	  ( BLOCK(header) ENTRY(entry)^header.Count )+  CHECKPOINT(note)+  END(counts)
//
// and nothing after END.

// RecordMagic starts every record file.
const RecordMagic = "URNAREC"

// RecordVersion is the record format version.
const RecordVersion = 1

// Record frame tags.
const (
	frameBlock      = 1
	frameEntry      = 2
	frameCheckpoint = 3
	frameEnd        = 4
)

// MaxRecordCheckpoints bounds the checkpoint notes of one record.
const MaxRecordCheckpoints = 1024

const endPayloadSize = 8 + 8 + 4

// RecordWriter streams an election record. Call WriteBlock for every block
// in order, then WriteCheckpoint at least once, then Close.
type RecordWriter struct {
	w              *bufio.Writer
	blocks, ntries uint64
	cps            uint32
	err            error
}

// NewRecordWriter writes the record header to w.
func NewRecordWriter(w io.Writer) (*RecordWriter, error) {
	rw := &RecordWriter{w: bufio.NewWriterSize(w, 1<<16)}
	rw.w.WriteString(RecordMagic)
	rw.w.WriteByte(RecordVersion)
	return rw, nil
}

func (rw *RecordWriter) frame(tag byte, payload []byte) {
	if rw.err != nil {
		return
	}
	var h [5]byte
	h[0] = tag
	binary.BigEndian.PutUint32(h[1:], uint32(len(payload)))
	if _, err := rw.w.Write(h[:]); err != nil {
		rw.err = err
		return
	}
	if _, err := rw.w.Write(payload); err != nil {
		rw.err = err
	}
}

// WriteBlock writes a block header followed by its entries' canonical
// bytes; len(entries) MUST equal h.Count.
func (rw *RecordWriter) WriteBlock(h *BlockHeader, entries [][]byte) error {
	if rw.err != nil {
		return rw.err
	}
	if rw.cps > 0 {
		return errors.New("bulletin: record: block after checkpoints")
	}
	if int(h.Count) != len(entries) {
		return fmt.Errorf("bulletin: record: block %d has count %d but %d entries", h.Height, h.Count, len(entries))
	}
	rw.frame(frameBlock, h.Bytes())
	for _, e := range entries {
		if len(e) > MaxEntrySize {
			return fmt.Errorf("bulletin: record: entry of %d bytes", len(e))
		}
		rw.frame(frameEntry, e)
	}
	rw.blocks++
	rw.ntries += uint64(len(entries))
	return rw.err
}

// WriteCheckpoint writes a signed checkpoint note.
func (rw *RecordWriter) WriteCheckpoint(note []byte) error {
	if rw.err != nil {
		return rw.err
	}
	if rw.blocks == 0 {
		return errors.New("bulletin: record: checkpoint before any block")
	}
	if len(note) > MaxNoteSize || rw.cps >= MaxRecordCheckpoints {
		return errors.New("bulletin: record: checkpoint note too large or too many")
	}
	rw.frame(frameCheckpoint, note)
	rw.cps++
	return rw.err
}

// Close writes the END frame and flushes. It does not close the underlying writer.
func (rw *RecordWriter) Close() error {
	if rw.err != nil {
		return rw.err
	}
	if rw.cps == 0 {
		return errors.New("bulletin: record: no checkpoint")
	}
	var p [endPayloadSize]byte
	binary.BigEndian.PutUint64(p[0:], rw.ntries)
	binary.BigEndian.PutUint64(p[8:], rw.blocks)
	binary.BigEndian.PutUint32(p[16:], rw.cps)
	rw.frame(frameEnd, p[:])
	if rw.err == nil {
		rw.err = rw.w.Flush()
	}
	if rw.err == nil {
		rw.err = errors.New("bulletin: record writer closed")
		return nil
	}
	return rw.err
}

// RecordBlock is one block of a record with its decoded entries.
type RecordBlock struct {
	Header  *BlockHeader
	Entries []*Entry
	Raw     [][]byte // canonical bytes of Entries
}

// RecordReader reads a record strictly (SPEC.md V1): every frame well
// formed, every block header and entry decoding canonically, the frame
// order of §3.11, matching END counts and nothing after END. It checks
// structure only; chain links, the Merkle log and signatures are V2/V3
// (package client runs them).
type RecordReader struct {
	r              *bufio.Reader
	blocks, ntries uint64
	first          uint64 // sequence number of the record's first entry (StartAt)
	cps            [][]byte
	done           bool
	err            error
}

// NewRecordReader reads and checks the record header.
func NewRecordReader(r io.Reader) (*RecordReader, error) {
	rr := &RecordReader{r: bufio.NewReaderSize(r, 1<<16)}
	var h [len(RecordMagic) + 1]byte
	if _, err := io.ReadFull(rr.r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: record header: %v", ErrMalformed, err)
	}
	if string(h[:len(RecordMagic)]) != RecordMagic || h[len(RecordMagic)] != RecordVersion {
		return nil, fmt.Errorf("%w: not an Urna record (version 1)", ErrMalformed)
	}
	return rr, nil
}

func (rr *RecordReader) readFrame(max int) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(rr.r, h[:]); err != nil {
		return 0, nil, fmt.Errorf("%w: record truncated: %v", ErrMalformed, err)
	}
	n := binary.BigEndian.Uint32(h[1:])
	if uint64(n) > uint64(max) {
		return 0, nil, fmt.Errorf("%w: record frame of %d bytes", ErrMalformed, n)
	}
	// Grow with the data actually present, so a lying length cannot make
	// the reader allocate MaxEntrySize up front.
	p, err := io.ReadAll(io.LimitReader(rr.r, int64(n)))
	if err != nil || len(p) != int(n) {
		return 0, nil, fmt.Errorf("%w: record truncated", ErrMalformed)
	}
	return h[0], p, nil
}

func (rr *RecordReader) fail(err error) (*RecordBlock, error) {
	rr.err = err
	return nil, err
}

// Next returns the next block, or io.EOF once the checkpoints and the END
// frame have been read and verified; Checkpoints is then available.
func (rr *RecordReader) Next() (*RecordBlock, error) {
	if rr.err != nil {
		return nil, rr.err
	}
	if rr.done {
		return nil, io.EOF
	}
	tag, p, err := rr.readFrame(MaxEntrySize)
	if err != nil {
		return rr.fail(err)
	}
	switch tag {
	case frameBlock:
		if len(rr.cps) > 0 {
			return rr.fail(fmt.Errorf("%w: record: block after checkpoints", ErrMalformed))
		}
		h, err := ParseBlockHeader(p)
		if err != nil {
			return rr.fail(err)
		}
		b := &RecordBlock{Header: h, Entries: make([]*Entry, 0, h.Count), Raw: make([][]byte, 0, h.Count)}
		for k := uint32(0); k < h.Count; k++ {
			tag, p, err := rr.readFrame(MaxEntrySize)
			if err != nil {
				return rr.fail(err)
			}
			if tag != frameEntry {
				return rr.fail(fmt.Errorf("%w: record: block %d: frame %d where entry %d of %d expected", ErrMalformed, h.Height, tag, k, h.Count))
			}
			e, err := ParseEntry(p)
			if err != nil {
				return rr.fail(fmt.Errorf("entry %d: %w", rr.first+rr.ntries+uint64(k), err))
			}
			b.Entries, b.Raw = append(b.Entries, e), append(b.Raw, p)
		}
		rr.blocks++
		rr.ntries += uint64(h.Count)
		return b, nil
	case frameCheckpoint:
		if rr.blocks == 0 || len(p) > MaxNoteSize || len(rr.cps) >= MaxRecordCheckpoints {
			return rr.fail(fmt.Errorf("%w: record: misplaced, oversized or surplus checkpoint", ErrMalformed))
		}
		rr.cps = append(rr.cps, p)
		return rr.Next()
	case frameEnd:
		if len(rr.cps) == 0 || len(p) != endPayloadSize ||
			binary.BigEndian.Uint64(p[0:]) != rr.ntries || binary.BigEndian.Uint64(p[8:]) != rr.blocks ||
			binary.BigEndian.Uint32(p[16:]) != uint32(len(rr.cps)) {
			return rr.fail(fmt.Errorf("%w: record: END frame does not match the record", ErrMalformed))
		}
		if _, err := rr.r.ReadByte(); err != io.EOF {
			return rr.fail(fmt.Errorf("%w: record: bytes after END", ErrMalformed))
		}
		rr.done = true
		return nil, io.EOF
	default:
		return rr.fail(fmt.Errorf("%w: record: unexpected frame tag %d", ErrMalformed, tag))
	}
}

// StartAt tells the reader that the record's first entry has sequence
// number seq (a record of the blocks after a verifier's saved state), for
// its error messages; the END frame still counts this file's entries.
func (rr *RecordReader) StartAt(seq uint64) { rr.first = seq }

// Checkpoints returns the record's checkpoint notes, in file order. It is
// complete only after Next has returned io.EOF.
func (rr *RecordReader) Checkpoints() [][]byte { return rr.cps }
