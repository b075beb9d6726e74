package letters

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The PDF writer embeds single TrueType fonts only, and Debian ships many
// CJK fonts as TrueType collections (.ttc: fonts-wqy-microhei,
// fonts-wqy-zenhei), several faces sharing one file and often their
// glyph tables. FontFromCollection cuts one face out of such a file into
// a standalone .ttf (OpenType specification, "Font Collections" and
// "Organization of an OpenType Font"): the collection's header lists the
// faces' table directories; a face is its directory and the tables it
// names, which are copied, each 4-byte aligned, behind a new directory.

// ttcMaxFaces and sfntMaxTables bound what a file may claim before any of
// it is read; real collections have a handful of faces, real faces a few
// dozen tables.
const (
	ttcMaxFaces   = 1 << 10
	sfntMaxTables = 1 << 10
)

// Sentinels of FontFromCollection, for callers that tell them apart.
var (
	// ErrNotCollection: the bytes do not start with the "ttcf" tag.
	ErrNotCollection = errors.New("letters: not a TrueType collection (.ttc)")
	// ErrCFFFace: the face has CFF outlines ("OTTO"), which the PDF writer
	// cannot embed.
	ErrCFFFace = errors.New("letters: the face has CFF outlines (an OpenType/CFF collection), which the PDF writer cannot embed: give a TrueType font")
)

// IsCollection reports whether font is a TrueType collection (.ttc).
func IsCollection(font []byte) bool { return len(font) >= 4 && string(font[:4]) == "ttcf" }

// FontFromCollection returns face index (from 0) of the collection ttc as
// a standalone TrueType font, and how many faces the collection has. Every
// offset and length is checked against the file: a malformed collection
// is an error, never a panic or a font that points outside itself.
func FontFromCollection(ttc []byte, index int) (font []byte, faces int, err error) {
	if !IsCollection(ttc) {
		return nil, 0, ErrNotCollection
	}
	if len(ttc) < 12 {
		return nil, 0, errors.New("letters: font collection: the header is cut short")
	}
	major := binary.BigEndian.Uint16(ttc[4:])
	if major != 1 && major != 2 {
		return nil, 0, fmt.Errorf("letters: font collection: version %d.x, want 1 or 2", major)
	}
	n := binary.BigEndian.Uint32(ttc[8:])
	if n == 0 || n > ttcMaxFaces {
		return nil, 0, fmt.Errorf("letters: font collection: %d faces, want 1 to %d", n, ttcMaxFaces)
	}
	if uint64(len(ttc)) < 12+4*uint64(n) {
		return nil, 0, fmt.Errorf("letters: font collection: the offsets of its %d faces are cut short", n)
	}
	if index < 0 || index >= int(n) {
		return nil, int(n), fmt.Errorf("letters: font collection: no face %d: it has %d (0 to %d)", index, n, n-1)
	}
	font, err = extractFace(ttc, binary.BigEndian.Uint32(ttc[12+4*index:]))
	if errors.Is(err, ErrCFFFace) {
		return nil, int(n), fmt.Errorf("%w (face %d)", err, index)
	}
	if err != nil {
		return nil, int(n), fmt.Errorf("letters: font collection, face %d: %w", index, err)
	}
	return font, int(n), nil
}

// table is one entry of a table directory.
type table struct {
	tag              [4]byte
	sum, off, length uint32
}

// extractFace copies the face whose table directory is at off.
func extractFace(ttc []byte, off uint32) ([]byte, error) {
	size := uint64(len(ttc))
	if uint64(off)+12 > size {
		return nil, fmt.Errorf("its table directory at %d is outside the file (%d bytes)", off, size)
	}
	dir := ttc[off:]
	version := binary.BigEndian.Uint32(dir)
	switch version {
	case 0x00010000, 0x74727565: // TrueType outlines: 1.0, or Apple's "true"
	case 0x4F54544F: // "OTTO"
		return nil, ErrCFFFace
	default:
		return nil, fmt.Errorf("its table directory has the unknown version %#08x", version)
	}
	num := int(binary.BigEndian.Uint16(dir[4:]))
	if num == 0 || num > sfntMaxTables {
		return nil, fmt.Errorf("%d tables, want 1 to %d", num, sfntMaxTables)
	}
	if uint64(off)+12+16*uint64(num) > size {
		return nil, fmt.Errorf("its directory of %d tables is cut short", num)
	}
	tables := make([]table, num)
	total := uint64(12 + 16*num)
	for i := range tables {
		r := dir[12+16*i:]
		tb := table{tag: [4]byte(r[:4]), sum: binary.BigEndian.Uint32(r[4:]), off: binary.BigEndian.Uint32(r[8:]), length: binary.BigEndian.Uint32(r[12:])}
		if uint64(tb.off)+uint64(tb.length) > size {
			return nil, fmt.Errorf("table %q (%d bytes at %d) is outside the file (%d bytes)", tb.tag[:], tb.length, tb.off, size)
		}
		if i > 0 && string(tb.tag[:]) <= string(tables[i-1].tag[:]) {
			return nil, fmt.Errorf("table %q follows %q: the directory is not sorted by tag, or names a table twice", tb.tag[:], tables[i-1].tag[:])
		}
		tables[i] = tb
		total += (uint64(tb.length) + 3) &^ 3
	}
	// The face's tables are distinct parts of the file: together they
	// cannot be larger than it (a directory naming one region many times
	// would otherwise make a copy of any size).
	if total > size+uint64(12+16*num) {
		return nil, fmt.Errorf("its tables add up to %d bytes, more than the file's %d", total, size)
	}
	if !slices.ContainsFunc(tables, func(tb table) bool { return string(tb.tag[:]) == "glyf" }) {
		return nil, errors.New("it has no glyf table: no TrueType outlines")
	}

	out := make([]byte, 12+16*num, total)
	binary.BigEndian.PutUint32(out, version)
	binary.BigEndian.PutUint16(out[4:], uint16(num))
	// searchRange, entrySelector, rangeShift: the binary-search hints of the
	// directory, from the number of tables.
	sel := 0
	for 2<<sel <= num {
		sel++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(16<<sel))
	binary.BigEndian.PutUint16(out[8:], uint16(sel))
	binary.BigEndian.PutUint16(out[10:], uint16(16*num-16<<sel))
	head := -1
	for i, tb := range tables {
		r := out[12+16*i:]
		copy(r, tb.tag[:])
		binary.BigEndian.PutUint32(r[4:], tb.sum)
		binary.BigEndian.PutUint32(r[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(r[12:], tb.length)
		if string(tb.tag[:]) == "head" {
			if tb.length < 12 {
				return nil, fmt.Errorf("its head table has %d bytes, want at least 12", tb.length)
			}
			head = len(out)
		}
		out = append(out, ttc[tb.off:tb.off+tb.length]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	if head < 0 {
		return nil, errors.New("it has no head table")
	}
	// head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA; the
	// head table's own checksum counts it as 0, so the directory's stays.
	binary.BigEndian.PutUint32(out[head+8:], 0)
	binary.BigEndian.PutUint32(out[head+8:], 0xB1B0AFBA-sfntSum(out))
	return out, nil
}

// sfntSum is the OpenType checksum of b: the sum of its big-endian
// 32-bit words, the last one padded with zeros.
func sfntSum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}
