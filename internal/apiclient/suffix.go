package apiclient

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
)

// The record's frame tags and limits (SPEC.md §3.11).
const (
	tagBlock      = 1
	tagEntry      = 2
	tagCheckpoint = 3
	tagEnd        = 4
	maxBlockFrame = 100
	endFrameSize  = 8 + 8 + 4
)

// RecordSuffix opens GET /record?from=HEIGHT&size=SIZE: the blocks from
// height from up to the one ending at log size size (0: the node's newest
// quorum checkpoint), then the node's signed checkpoint of that size, in
// the record format (SPEC.md §3.11, "Record suffix"), as the node sends
// it. The caller MUST close it. Nothing in it is checked here (RecordSince
// checks its framing).
func (c *Client) RecordSuffix(ctx context.Context, from, size uint64) (io.ReadCloser, error) {
	q := url.Values{api.RecordFromParam: {strconv.FormatUint(from, 10)}}
	if size > 0 {
		q.Set(api.RecordSizeParam, strconv.FormatUint(size, 10))
	}
	resp, _, err := c.do(ctx, call{method: http.MethodGet, path: "/record", query: q, stream: true})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// RecordSince implements client.SuffixSource over GET /record?from=&size=
// (RecordSuffix): the record of the blocks from height from up to the one
// ending at log size size, with note (the checkpoint of that size the
// party already holds) as its checkpoint instead of the node's. It streams
// the node's frames through, one at a time, and checks as they pass what
// only the party knows: the first block is at height from and its first
// entry follows the party's entries, every block follows the previous one
// (height, first entry), the last ends at log size size, and the node's
// stream is whole (its END frame matches what it sent, nothing after it).
// Otherwise the returned reader fails with ErrSuffix or ErrIncomplete,
// never with a clean end. The entries themselves, the chain and the tree
// are the verifier's (client.Follow checks them against note).
func (c *Client) RecordSince(ctx context.Context, from, size uint64, note []byte) (io.ReadCloser, error) {
	if size == 0 {
		return nil, fmt.Errorf("apiclient: a record suffix needs the log size it ends at")
	}
	body, err := c.RecordSuffix(ctx, from, size)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		err := copySuffix(pw, body, from, size, note)
		body.Close()
		pw.CloseWithError(err)
	}()
	return &suffixReader{PipeReader: pr, body: body}, nil
}

// suffixReader closes the node's stream with the pipe, so that a verifier
// that stops reading ends the request.
type suffixReader struct {
	*io.PipeReader
	body io.Closer
}

func (r *suffixReader) Close() error {
	r.body.Close()
	return r.PipeReader.Close()
}

// suffixFramer reads a node's record suffix frame by frame and writes
// the frames it passes on to w.
type suffixFramer struct {
	r    *bufio.Reader
	w    *bufio.Writer
	from uint64 // the height asked for, for the errors
	n    int64  // bytes read
	h    [5]byte
}

func (f *suffixFramer) header(max uint32) (byte, uint32, error) {
	if _, err := io.ReadFull(f.r, f.h[:]); err != nil {
		return 0, 0, f.cut(err)
	}
	f.n += 5
	n := binary.BigEndian.Uint32(f.h[1:])
	if n > max {
		return 0, 0, f.bad("a frame (tag %d) of %d bytes, over its limit of %d", f.h[0], n, max)
	}
	return f.h[0], n, nil
}

// write writes a frame of the given tag and payload to w.
func (f *suffixFramer) write(tag byte, p []byte) {
	var h [5]byte
	h[0] = tag
	binary.BigEndian.PutUint32(h[1:], uint32(len(p)))
	f.w.Write(h[:])
	f.w.Write(p)
}

// pass copies the frame whose header was just read, n bytes of payload,
// to w unread.
func (f *suffixFramer) pass(n uint32) error {
	if _, err := f.w.Write(f.h[:]); err != nil {
		return err
	}
	c, err := io.CopyN(f.w, f.r, int64(n))
	f.n += c
	if err != nil {
		return f.cut(err)
	}
	return nil
}

func (f *suffixFramer) payload(n uint32) ([]byte, error) {
	p := make([]byte, n)
	if _, err := io.ReadFull(f.r, p); err != nil {
		return nil, f.cut(err)
	}
	f.n += int64(n)
	return p, nil
}

// cut is a stream that ended early: a transport error is kept as it is.
func (f *suffixFramer) cut(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("apiclient: the record from height %d: %w: the stream ends after %d bytes", f.from, ErrIncomplete, f.n)
	}
	return fmt.Errorf("apiclient: the record from height %d: %w", f.from, err)
}

func (f *suffixFramer) bad(format string, a ...any) error {
	return fmt.Errorf("apiclient: the record from height %d: %w: %s", f.from, ErrSuffix, fmt.Sprintf(format, a...))
}

// copySuffix writes to w the record of the node's blocks from height from
// to log size size read from r, with note as its one checkpoint (see
// RecordSince). It fails, having written no END frame, as soon as the
// node's stream does not continue what the party holds.
func copySuffix(w io.Writer, r io.Reader, from, size uint64, note []byte) error {
	f := &suffixFramer{r: bufio.NewReaderSize(r, 1<<16), w: bufio.NewWriterSize(w, 1<<16), from: from}
	var magic [len(bulletin.RecordMagic) + 1]byte
	if _, err := io.ReadFull(f.r, magic[:]); err != nil {
		return f.cut(err)
	}
	f.n += int64(len(magic))
	if string(magic[:len(bulletin.RecordMagic)]) != bulletin.RecordMagic || magic[len(bulletin.RecordMagic)] != bulletin.RecordVersion {
		return f.bad("not an Urna record (version %d)", bulletin.RecordVersion)
	}
	f.w.Write(magic[:])
	// Blocks: each BLOCK frame with its ENTRY frames, passed on as read.
	var blocks, entries uint64
	height, next := from, uint64(0) // the next block's height and first entry
	for {
		tag, n, err := f.header(maxBlockFrame)
		if tag == tagEntry && err != nil {
			err = f.bad("an entry where a block header was expected")
		}
		if err != nil {
			return err
		}
		if tag != tagBlock {
			return f.bad("frame %d where the block at height %d was expected (the stream ends before log size %d)", tag, height, size)
		}
		p, err := f.payload(n)
		if err != nil {
			return err
		}
		h, err := bulletin.ParseBlockHeader(p)
		if err != nil {
			return f.bad("block header %d: %v", height, err)
		}
		switch {
		case h.Height != height:
			return f.bad("a block at height %d where height %d was expected", h.Height, height)
		case blocks > 0 && h.FirstSeq != next:
			return f.bad("block %d starts at entry %d, not %d where block %d ended", h.Height, h.FirstSeq, next, height-1)
		case h.FirstSeq+uint64(h.Count) != h.LogSize || h.LogSize > size:
			return f.bad("block %d (entries %d to log size %d) does not lead to log size %d", h.Height, h.FirstSeq, h.LogSize, size)
		}
		f.write(tagBlock, p)
		for k := uint32(0); k < h.Count; k++ {
			tag, n, err := f.header(bulletin.MaxEntrySize)
			if err != nil {
				return err
			}
			if tag != tagEntry {
				return f.bad("block %d: frame %d where entry %d of %d was expected", h.Height, tag, k, h.Count)
			}
			if err := f.pass(n); err != nil {
				return err
			}
		}
		blocks++
		entries += uint64(h.Count)
		height, next = height+1, h.LogSize
		if h.LogSize == size {
			break
		}
	}
	// The node's checkpoints and END: read, checked for completeness, and
	// replaced by the party's note.
	cps := uint32(0)
	for {
		tag, n, err := f.header(max(bulletin.MaxNoteSize, endFrameSize))
		if err != nil {
			return err
		}
		p, err := f.payload(n)
		if err != nil {
			return err
		}
		switch tag {
		case tagCheckpoint:
			cps++
			continue
		case tagEnd:
		default:
			return f.bad("frame %d after the block ending at log size %d", tag, size)
		}
		if cps == 0 || len(p) != endFrameSize || binary.BigEndian.Uint64(p) != entries ||
			binary.BigEndian.Uint64(p[8:]) != blocks || binary.BigEndian.Uint32(p[16:]) != cps {
			return f.bad("its END frame does not count what it sent (%d entries, %d blocks, %d checkpoints)", entries, blocks, cps)
		}
		if _, err := f.r.ReadByte(); err != io.EOF {
			return f.bad("bytes after its END frame")
		}
		break
	}
	if len(note) > bulletin.MaxNoteSize {
		return fmt.Errorf("apiclient: a checkpoint note of %d bytes", len(note))
	}
	f.write(tagCheckpoint, note)
	var end [endFrameSize]byte
	binary.BigEndian.PutUint64(end[:], entries)
	binary.BigEndian.PutUint64(end[8:], blocks)
	binary.BigEndian.PutUint32(end[16:], 1)
	f.write(tagEnd, end[:])
	return f.w.Flush()
}
