package bulletin

import (
	"fmt"

	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// BlockHeaderSize is the length of an encoded block header.
const BlockHeaderSize = 8 + 32 + 8 + 8 + 4 + 8 + 32

// MaxBlockEntries bounds the number of entries of one block.
const MaxBlockEntries = 1 << 16

// BlockHeader is a hash-linked block header (SPEC.md §3.6). A block groups
// the entries with sequence numbers FirstSeq … FirstSeq+Count-1 and commits
// to the Merkle log of every entry up to and including them.
type BlockHeader struct {
	Height   uint64   // 0 for the genesis block
	Prev     [32]byte // hash of the previous header; all zero for genesis
	Time     uint64   // unix milliseconds, chosen by the proposer
	FirstSeq uint64   // sequence number of the block's first entry
	Count    uint32   // number of entries, 1 … MaxBlockEntries
	LogSize  uint64   // log size after this block = FirstSeq + Count
	LogRoot  [32]byte // RFC 6962 Merkle root of the first LogSize entries
}

// Bytes returns the 100-byte canonical encoding (SPEC.md §3.6).
func (h *BlockHeader) Bytes() []byte {
	return wire.NewWriter(BlockHeaderSize).U64(h.Height).Fixed(h.Prev[:]).U64(h.Time).
		U64(h.FirstSeq).U32(h.Count).U64(h.LogSize).Fixed(h.LogRoot[:]).Out()
}

// Hash returns Digest("board-block"; header bytes) (SPEC.md §3.6).
func (h *BlockHeader) Hash() [32]byte {
	return transcript.New(transcript.BlockHash).Bytes(h.Bytes()).Digest()
}

// ParseBlockHeader decodes a header strictly (SPEC.md V1.2): exactly 100
// bytes, 1 ≤ Count ≤ MaxBlockEntries, LogSize = FirstSeq + Count, and for
// height 0 a zero Prev and FirstSeq. On error it returns nil.
func ParseBlockHeader(b []byte) (*BlockHeader, error) {
	r := wire.NewReader(b)
	h := &BlockHeader{Height: r.U64("height")}
	copy(h.Prev[:], r.Fixed("prev", 32))
	h.Time = r.U64("time")
	h.FirstSeq = r.U64("first seq")
	h.Count = r.U32("count")
	h.LogSize = r.U64("log size")
	copy(h.LogRoot[:], r.Fixed("log root", 32))
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: block header: %v", ErrMalformed, err)
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *BlockHeader) check() error {
	switch {
	case h.Count == 0 || h.Count > MaxBlockEntries:
		return fmt.Errorf("%w: block %d: entry count %d", ErrMalformed, h.Height, h.Count)
	case h.FirstSeq > h.FirstSeq+uint64(h.Count) || h.LogSize != h.FirstSeq+uint64(h.Count):
		return fmt.Errorf("%w: block %d: log size %d ≠ first seq %d + count %d", ErrMalformed, h.Height, h.LogSize, h.FirstSeq, h.Count)
	case h.Height == 0 && (h.Prev != [32]byte{} || h.FirstSeq != 0):
		return fmt.Errorf("%w: genesis block must have zero prev and first seq 0", ErrMalformed)
	case h.Height != 0 && h.Prev == [32]byte{}:
		return fmt.Errorf("%w: block %d: zero prev hash", ErrMalformed, h.Height)
	}
	return nil
}

// NextBlock returns the header that follows prev (nil for genesis) with
// count entries, the proposer's time and the log root after the block
// (SPEC.md §3.6). The caller MUST supply timeMillis ≥ prev.Time.
func NextBlock(prev *BlockHeader, timeMillis uint64, count uint32, logRoot [32]byte) (*BlockHeader, error) {
	h := &BlockHeader{Time: timeMillis, Count: count, LogRoot: logRoot}
	if prev != nil {
		h.Height = prev.Height + 1
		h.Prev = prev.Hash()
		h.FirstSeq = prev.LogSize
	}
	h.LogSize = h.FirstSeq + uint64(count)
	if err := h.check(); err != nil {
		return nil, err
	}
	if err := CheckLink(prev, h); err != nil {
		return nil, err
	}
	return h, nil
}

// CheckLink verifies that h directly extends prev (SPEC.md V2.1–V2.4); prev
// is nil when h must be the genesis block. It returns an error wrapping
// ErrBadChain.
func CheckLink(prev, h *BlockHeader) error {
	if err := h.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadChain, err)
	}
	if prev == nil {
		if h.Height != 0 {
			return fmt.Errorf("%w: first block has height %d", ErrBadChain, h.Height)
		}
		return nil
	}
	switch {
	case h.Height != prev.Height+1:
		return fmt.Errorf("%w: block %d follows block %d", ErrBadChain, h.Height, prev.Height)
	case h.Prev != prev.Hash():
		return fmt.Errorf("%w: block %d: prev hash does not match block %d", ErrBadChain, h.Height, prev.Height)
	case h.FirstSeq != prev.LogSize:
		return fmt.Errorf("%w: block %d: first seq %d, expected %d", ErrBadChain, h.Height, h.FirstSeq, prev.LogSize)
	case h.Time < prev.Time:
		return fmt.Errorf("%w: block %d: time %d before previous block's %d", ErrBadChain, h.Height, h.Time, prev.Time)
	}
	return nil
}
