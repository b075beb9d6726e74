package board

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/ballot"
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
//	witness (3): nameLen:u8 name size:u64 root[32] sigLen:u8 sig
//	             a witness's cosignature/v1 of the checkpoint (size, root)
//	             (SPEC.md §3.13); sig is the raw signature of the note line
//	             (key ID, timestamp and signature, 76 bytes). Only the
//	             leader proposes it, after the witness answered.
//	cosign-in  (4): election[32] cosign body
//	witness-in (5): election[32] witness body
//	             the same for the election with that fingerprint
//	             (SPEC.md §3.14.8); types 2 and 3 name the
//	             default election, so that logs written before many
//	             elections replay identically. The entry command needs no
//	             such field: an entry names its election itself.
//	archive (6): election[32]
//	             the board operator archives the election with that
//	             fingerprint (SPEC.md §3.14.3): it accepts no
//	             more entries.
const (
	cmdEntry     byte = 1
	cmdCosign    byte = 2
	cmdWitness   byte = 3
	cmdCosignIn  byte = 4
	cmdWitnessIn byte = 5
	cmdArchive   byte = 6
)

// Limits of the command decoder. They bound allocation on garbage input.
const (
	maxNodeID    = 64
	maxCosignSig = 128
)

var errBadCommand = errors.New("board: malformed command")

// command is a decoded command.
type command interface{ kind() byte }

// entryCmd proposes one entry stamped with the proposer's time.
type entryCmd struct {
	timeMillis uint64
	entry      []byte // aliases the command buffer
}

// cosignCmd carries one node's signature on a checkpoint of the election
// with fingerprint *election, or of the default election when nil.
type cosignCmd struct {
	election *[32]byte
	node     string
	size     uint64
	root     [32]byte
	sig      []byte
}

// witnessCmd carries one witness's cosignature of a checkpoint; node is
// the witness name.
type witnessCmd struct{ cosignCmd }

func (*entryCmd) kind() byte { return cmdEntry }
func (c *cosignCmd) kind() byte {
	if c.election != nil {
		return cmdCosignIn
	}
	return cmdCosign
}

// archiveCmd archives the election with fingerprint election.
type archiveCmd struct{ election [32]byte }

func (*archiveCmd) kind() byte { return cmdArchive }

func encodeArchiveCmd(fp [32]byte) []byte { return append([]byte{cmdArchive}, fp[:]...) }

func decodeArchiveCmd(b []byte) (command, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: archive: %d bytes, want a 32-byte fingerprint", errBadCommand, len(b))
	}
	return &archiveCmd{election: [32]byte(b)}, nil
}

func (c *witnessCmd) kind() byte {
	if c.election != nil {
		return cmdWitnessIn
	}
	return cmdWitness
}

// commandTable is the registration table: type byte -> decoder. An array,
// not a map, so that nothing about dispatch depends on map iteration.
var commandTable = [256]func([]byte) (command, error){
	cmdEntry:     decodeEntryCmd,
	cmdCosign:    decodeCosignCmd,
	cmdWitness:   decodeWitnessCmd,
	cmdCosignIn:  inElection(decodeCosignCmd),
	cmdWitnessIn: inElection(decodeWitnessCmd),
	cmdArchive:   decodeArchiveCmd,
}

// inElection decodes election[32] and then the body dec decodes.
func inElection(dec func([]byte) (command, error)) func([]byte) (command, error) {
	return func(b []byte) (command, error) {
		if len(b) < 32 {
			return nil, fmt.Errorf("%w: short election fingerprint", errBadCommand)
		}
		fp := [32]byte(b[:32])
		c, err := dec(b[32:])
		if err != nil {
			return nil, err
		}
		switch c := c.(type) {
		case *cosignCmd:
			c.election = &fp
		case *witnessCmd:
			c.election = &fp
		}
		return c, nil
	}
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

func encodeEntryCmd(timeMillis uint64, entry []byte) []byte {
	b := appendEntryCmdHead(make([]byte, 0, entryCmdHeadLen+len(entry)), timeMillis, len(entry))
	return append(b, entry...)
}

// appendEntryCmdHead appends the entry command of an entry of n bytes
// without the entry: the leader hands the replica this head and the entry
// apart (replica.Command), and the Raft log entry is the first copy of the
// entry it makes.
func appendEntryCmdHead(b []byte, timeMillis uint64, n int) []byte {
	b = append(b, cmdEntry)
	b = binary.BigEndian.AppendUint64(b, timeMillis)
	b = binary.BigEndian.AppendUint32(b, 1)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// entryCmdHeadLen is the length of an entry command's head.
const entryCmdHeadLen = 1 + 8 + 4 + 4

func decodeEntryCmd(b []byte) (command, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%w: entry: short header", errBadCommand)
	}
	c := &entryCmd{timeMillis: binary.BigEndian.Uint64(b)}
	if count := binary.BigEndian.Uint32(b[8:]); count != 1 {
		return nil, fmt.Errorf("%w: entry: count %d, want 1", errBadCommand, count)
	}
	n, rest := binary.BigEndian.Uint32(b[12:]), b[16:]
	if uint64(n) != uint64(len(rest)) {
		return nil, fmt.Errorf("%w: entry: length %d of %d bytes", errBadCommand, n, len(rest))
	}
	c.entry = rest[:n:n]
	return c, nil
}

func encodeCosignCmd(c *cosignCmd) []byte { return encodeSigCmd(c.kind(), c) }

func encodeWitnessCmd(c *witnessCmd) []byte { return encodeSigCmd(c.kind(), &c.cosignCmd) }

func encodeSigCmd(typ byte, c *cosignCmd) []byte {
	b := make([]byte, 0, 1+32+1+len(c.node)+8+32+1+len(c.sig))
	b = append(b, typ)
	if c.election != nil {
		b = append(b, c.election[:]...)
	}
	b = append(b, byte(len(c.node)))
	b = append(b, c.node...)
	b = binary.BigEndian.AppendUint64(b, c.size)
	b = append(b, c.root[:]...)
	b = append(b, byte(len(c.sig)))
	return append(b, c.sig...)
}

func decodeCosignCmd(b []byte) (command, error) {
	return decodeSigCmd(b, "cosign", maxNodeID, ballot.ValidNodeID)
}

func decodeWitnessCmd(b []byte) (command, error) {
	c, err := decodeSigCmd(b, "witness", ballot.MaxWitnessName, ballot.ValidWitnessName)
	if err != nil {
		return nil, err
	}
	return &witnessCmd{*c}, nil
}

func decodeSigCmd(b []byte, what string, maxName int, valid func(string) bool) (*cosignCmd, error) {
	c := &cosignCmd{}
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: %s: short", errBadCommand, what)
	}
	n := int(b[0])
	b = b[1:]
	if n == 0 || n > maxName || len(b) < n+8+32+1 {
		return nil, fmt.Errorf("%w: %s: bad name", errBadCommand, what)
	}
	c.node = string(b[:n])
	if !valid(c.node) {
		return nil, fmt.Errorf("%w: %s: bad name", errBadCommand, what)
	}
	b = b[n:]
	c.size = binary.BigEndian.Uint64(b)
	copy(c.root[:], b[8:40])
	sl := int(b[40])
	b = b[41:]
	if sl == 0 || sl > maxCosignSig || len(b) != sl {
		return nil, fmt.Errorf("%w: %s: bad signature length", errBadCommand, what)
	}
	c.sig = b
	return c, nil
}
