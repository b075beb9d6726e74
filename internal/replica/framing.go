package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Log entry framing. Every Raft LogCommand entry written by this package is
//
//	entry   = version:u8 kind:u8 count:u32 count*(len:u32 bytes[len])
//
// with big-endian integers, version = entryVersion, count >= 1 and no
// trailing bytes, so that every entry has exactly one encoding. kind says who
// consumes the commands: kindCommands go to the FSM, kindMembership are
// membership-metadata operations kept by the replica itself.
const (
	entryVersion byte = 1

	kindCommands   byte = 1
	kindMembership byte = 2

	entryHeaderLen = 1 + 1 + 4
	cmdHeaderLen   = 4
)

var errMalformed = errors.New("replica: malformed log entry")

// entry is a decoded log entry. cmds alias the encoded buffer.
type entry struct {
	kind byte
	cmds [][]byte
}

// isCommandEntry reports whether a committed entry carries FSM commands,
// from its header (a committed entry that does not decode stops the
// replica before anyone reads it this way).
func isCommandEntry(data []byte) bool {
	return len(data) >= entryHeaderLen && data[0] == entryVersion && data[1] == kindCommands
}

// A Command is one FSM command handed to Submit in two parts: the command
// is Head followed by Body, and the FSM receives it as one slice. The
// split lets a caller put its own header before a payload it holds (a
// voter's 2 KB entry) without first copying both into one buffer: the log
// entry is the first copy made of the payload.
type Command struct {
	Head, Body []byte
}

// Len is the command's length.
func (c Command) Len() int { return len(c.Head) + len(c.Body) }

// wholeCommands wraps commands given whole.
func wholeCommands(cmds [][]byte) []Command {
	out := make([]Command, len(cmds))
	for i, c := range cmds {
		out[i].Body = c
	}
	return out
}

// entrySize returns the encoded size of an entry carrying cmds.
func entrySize(cmds []Command) int {
	n := entryHeaderLen
	for _, c := range cmds {
		n += cmdHeaderLen + c.Len()
	}
	return n
}

// encodeEntry frames cmds. It panics on inputs that the decoder would reject
// (no commands, unknown kind, a command longer than 4 GiB): those are
// programming errors, checked before by Submit.
func encodeEntry(kind byte, cmds []Command) []byte {
	if len(cmds) == 0 || (kind != kindCommands && kind != kindMembership) {
		panic("replica: encodeEntry: invalid entry")
	}
	b := make([]byte, 0, entrySize(cmds))
	b = append(b, entryVersion, kind)
	b = binary.BigEndian.AppendUint32(b, uint32(len(cmds)))
	for _, c := range cmds {
		if uint64(c.Len()) > 1<<32-1 {
			panic("replica: encodeEntry: command too long")
		}
		b = binary.BigEndian.AppendUint32(b, uint32(c.Len()))
		b = append(b, c.Head...)
		b = append(b, c.Body...)
	}
	return b
}

// decodeEntry parses an entry. It never panics: garbage yields errMalformed.
// The returned commands alias b.
func decodeEntry(b []byte) (entry, error) {
	if len(b) < entryHeaderLen {
		return entry{}, fmt.Errorf("%w: short header", errMalformed)
	}
	if b[0] != entryVersion {
		return entry{}, fmt.Errorf("%w: unknown version %d", errMalformed, b[0])
	}
	kind := b[1]
	if kind != kindCommands && kind != kindMembership {
		return entry{}, fmt.Errorf("%w: unknown kind %d", errMalformed, kind)
	}
	count := binary.BigEndian.Uint32(b[2:6])
	rest := b[entryHeaderLen:]
	// Each command needs at least its length prefix: bound count before
	// allocating so that a forged count cannot exhaust memory.
	if count == 0 || uint64(count) > uint64(len(rest)/cmdHeaderLen) {
		return entry{}, fmt.Errorf("%w: bad command count %d", errMalformed, count)
	}
	cmds := make([][]byte, count)
	for i := range cmds {
		if len(rest) < cmdHeaderLen {
			return entry{}, fmt.Errorf("%w: truncated command %d", errMalformed, i)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[cmdHeaderLen:]
		if uint64(n) > uint64(len(rest)) {
			return entry{}, fmt.Errorf("%w: truncated command %d", errMalformed, i)
		}
		cmds[i] = rest[:n:n]
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return entry{}, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(rest))
	}
	return entry{kind: kind, cmds: cmds}, nil
}

// Membership-metadata operations (the commands of a kindMembership entry):
//
//	op = 0x01 idLen:u16 id addrLen:u16 addr   set the API address of server id
//	   | 0x02 idLen:u16 id                    forget server id
//
// id MUST NOT be empty.
const (
	opSetAPI byte = 1
	opForget byte = 2
)

type memberOp struct {
	op   byte
	id   string
	addr string
}

func encodeMemberOp(m memberOp) []byte {
	b := []byte{m.op}
	b = appendString16(b, m.id)
	if m.op == opSetAPI {
		b = appendString16(b, m.addr)
	}
	return b
}

func decodeMemberOp(b []byte) (memberOp, error) {
	if len(b) < 1 {
		return memberOp{}, fmt.Errorf("%w: empty membership op", errMalformed)
	}
	m := memberOp{op: b[0]}
	rest := b[1:]
	var ok bool
	if m.id, rest, ok = readString16(rest); !ok || m.id == "" {
		return memberOp{}, fmt.Errorf("%w: bad membership server id", errMalformed)
	}
	switch m.op {
	case opSetAPI:
		if m.addr, rest, ok = readString16(rest); !ok {
			return memberOp{}, fmt.Errorf("%w: bad membership address", errMalformed)
		}
	case opForget:
	default:
		return memberOp{}, fmt.Errorf("%w: unknown membership op %d", errMalformed, m.op)
	}
	if len(rest) != 0 {
		return memberOp{}, fmt.Errorf("%w: trailing bytes in membership op", errMalformed)
	}
	return m, nil
}

func appendString16(b []byte, s string) []byte {
	if len(s) > 1<<16-1 {
		panic("replica: string too long for a u16 length prefix")
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func readString16(b []byte) (string, []byte, bool) {
	if len(b) < 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n > len(b) {
		return "", nil, false
	}
	return string(b[:n]), b[n:], true
}
