package board

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// Commands. Every Raft command the board applies is
//
//	command = type:u8 body
//
// and each type has one canonical body encoding (big-endian integers, no
// trailing bytes), registered in [commandTable]. The replica's framing
// carries many commands per Raft log entry (group commit).
//
//	entries (1): time:u64 count:u32 count*(len:u32 entry)
//	             time is the proposer's clock in unix milliseconds; the
//	             entries are canonical bulletin entries already pre-checked
//	             (signatures and proofs) by the proposing node. 1 ≤ count.
//	cosign  (2): idLen:u8 id size:u64 root[32] sigLen:u8 sig
//	             the Ed25519 note signature by board node id of the
//	             checkpoint (size, root); sig is the raw signature of the
//	             note line (key hash and signature, 68 bytes).
const (
	cmdEntries byte = 1
	cmdCosign  byte = 2
)

// Limits of the command decoder. They bound allocation on garbage input.
const (
	maxCmdEntries = bulletin.MaxBlockEntries
	maxNodeID     = 64
	maxCosignSig  = 128
)

var errBadCommand = errors.New("board: malformed command")

// command is a decoded command.
type command interface{ kind() byte }

// entriesCmd proposes entries stamped with the proposer's time.
type entriesCmd struct {
	timeMillis uint64
	entries    [][]byte // alias the command buffer
}

// cosignCmd carries one node's signature on a checkpoint.
type cosignCmd struct {
	node string
	size uint64
	root [32]byte
	sig  []byte
}

func (*entriesCmd) kind() byte { return cmdEntries }
func (*cosignCmd) kind() byte  { return cmdCosign }

// commandTable is the registration table: type byte -> decoder. An array,
// not a map, so that nothing about dispatch depends on map iteration.
var commandTable = [256]func([]byte) (command, error){
	cmdEntries: decodeEntriesCmd,
	cmdCosign:  decodeCosignCmd,
}

// decodeCommand decodes one command. It never panics; garbage yields an
// error wrapping errBadCommand. Byte slices in the result alias b.
func decodeCommand(b []byte) (command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errBadCommand)
	}
	dec := commandTable[b[0]]
	if dec == nil {
		return nil, fmt.Errorf("%w: unknown type %d", errBadCommand, b[0])
	}
	return dec(b[1:])
}

func encodeEntriesCmd(timeMillis uint64, entries [][]byte) []byte {
	n := 1 + 8 + 4
	for _, e := range entries {
		n += 4 + len(e)
	}
	b := make([]byte, 0, n)
	b = append(b, cmdEntries)
	b = binary.BigEndian.AppendUint64(b, timeMillis)
	b = binary.BigEndian.AppendUint32(b, uint32(len(entries)))
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

func decodeEntriesCmd(b []byte) (command, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%w: entries: short header", errBadCommand)
	}
	c := &entriesCmd{timeMillis: binary.BigEndian.Uint64(b)}
	count := binary.BigEndian.Uint32(b[8:])
	rest := b[12:]
	if count == 0 || count > maxCmdEntries || uint64(count) > uint64(len(rest)/4) {
		return nil, fmt.Errorf("%w: entries: bad count %d", errBadCommand, count)
	}
	c.entries = make([][]byte, count)
	for i := range c.entries {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: entries: truncated entry %d", errBadCommand, i)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: entries: truncated entry %d", errBadCommand, i)
		}
		c.entries[i] = rest[:n:n]
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: entries: %d trailing bytes", errBadCommand, len(rest))
	}
	return c, nil
}

func encodeCosignCmd(c *cosignCmd) []byte {
	b := make([]byte, 0, 1+1+len(c.node)+8+32+1+len(c.sig))
	b = append(b, cmdCosign, byte(len(c.node)))
	b = append(b, c.node...)
	b = binary.BigEndian.AppendUint64(b, c.size)
	b = append(b, c.root[:]...)
	b = append(b, byte(len(c.sig)))
	return append(b, c.sig...)
}

func decodeCosignCmd(b []byte) (command, error) {
	c := &cosignCmd{}
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: cosign: short", errBadCommand)
	}
	n := int(b[0])
	b = b[1:]
	if n == 0 || n > maxNodeID || len(b) < n+8+32+1 {
		return nil, fmt.Errorf("%w: cosign: bad node id", errBadCommand)
	}
	c.node = string(b[:n])
	if !ballot.ValidNodeID(c.node) {
		return nil, fmt.Errorf("%w: cosign: bad node id", errBadCommand)
	}
	b = b[n:]
	c.size = binary.BigEndian.Uint64(b)
	copy(c.root[:], b[8:40])
	sl := int(b[40])
	b = b[41:]
	if sl == 0 || sl > maxCosignSig || len(b) != sl {
		return nil, fmt.Errorf("%w: cosign: bad signature length", errBadCommand)
	}
	c.sig = b
	return c, nil
}
