package letters

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"

	"github.com/urna-vote/urna/internal/roll"
	"github.com/urna-vote/urna/internal/testonly"
)

// DebianCJKCollection is Debian's fonts-wqy-microhei: WenQuanYi Micro Hei
// and its monospaced face, TrueType outlines in one collection.
const DebianCJKCollection = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

func cjkCollection(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(DebianCJKCollection)
	testonly.Require(t, err == nil, DebianCJKCollection+" is missing", "apt-get install fonts-wqy-microhei")
	return b
}

// collect wraps fonts into a version-1 collection whose faces share
// nothing, as a test input.
func collect(fonts ...[]byte) []byte {
	out := []byte("ttcf\x00\x01\x00\x00")
	out = binary.BigEndian.AppendUint32(out, uint32(len(fonts)))
	base := len(out) + 4*len(fonts)
	var body []byte
	for _, f := range fonts {
		out = binary.BigEndian.AppendUint32(out, uint32(base+len(body)))
		// The face's directory, its offsets moved to where it lands.
		num := int(binary.BigEndian.Uint16(f[4:]))
		dir := bytes.Clone(f[:12+16*num])
		at := base + len(body) + len(dir)
		var tables []byte
		for i := range num {
			r := dir[12+16*i:]
			off, n := binary.BigEndian.Uint32(r[8:]), binary.BigEndian.Uint32(r[12:])
			binary.BigEndian.PutUint32(r[8:], uint32(at+len(tables)))
			tables = append(tables, f[off:off+n]...)
			for len(tables)%4 != 0 {
				tables = append(tables, 0)
			}
		}
		body = append(append(body, dir...), tables...)
	}
	return append(out, body...)
}

// TestCollectionDebian: both faces of Debian's WenQuanYi Micro Hei come
// out as fonts that parse, have the Chinese glyphs, sum to the OpenType
// checksum, and make a Chinese letter that poppler reads back.
func TestCollectionDebian(t *testing.T) {
	ttc := cjkCollection(t)
	for face := range 2 {
		font, n, err := FontFromCollection(ttc, face)
		if err != nil || n != 2 {
			t.Fatalf("face %d: %d faces, %v", face, n, err)
		}
		f, err := sfnt.Parse(font)
		if err != nil {
			t.Fatalf("face %d: %v", face, err)
		}
		var buf sfnt.Buffer
		for _, r := range "您的投票凭证" {
			if g, err := f.GlyphIndex(&buf, r); err != nil || g == 0 {
				t.Errorf("face %d has no glyph for %q", face, r)
			}
		}
		if s := sfntSum(font); s != 0xB1B0AFBA {
			t.Errorf("face %d sums to %#x, want 0xb1b0afba", face, s)
		}
		// Cut out again from a collection of it: the same bytes.
		again, _, err := FontFromCollection(collect(font), 0)
		if err != nil || !bytes.Equal(again, font) {
			t.Errorf("face %d: extracting it again from a collection of it differs (%v)", face, err)
		}
	}
	if _, _, err := FontFromCollection(ttc, 2); err == nil || !strings.Contains(err.Error(), "no face 2: it has 2 (0 to 1)") {
		t.Errorf("face 2 of 2: %v", err)
	}

	m, err := New(election(), Config{Languages: Languages, CJKFont: ttc, CJKFontName: "wqy-microhei.ttc"})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := m.PDF(roll.Voter{ID: "v1", Name: "王堃", Weight: 1}, credential(t, "ttc"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(need(t, "pdftotext", "poppler-utils"), "-enc", "UTF-8", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{"您的投票凭证", "王堃 (v1)", "理事会选举"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the letter in WenQuanYi lacks %q:\n%s", want, out)
		}
	}
}

// TestCollectionSingleFont: a TrueType font wrapped into a collection comes
// back with the same tables, and makes the same letter text.
func TestCollectionSingleFont(t *testing.T) {
	ttf := cjkFont(t)
	font, n, err := FontFromCollection(collect(ttf), 0)
	if err != nil || n != 1 {
		t.Fatalf("%d faces, %v", n, err)
	}
	a, err := sfnt.Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sfnt.Parse(font)
	if err != nil {
		t.Fatal(err)
	}
	if a.NumGlyphs() != b.NumGlyphs() {
		t.Errorf("%d glyphs, the font has %d", b.NumGlyphs(), a.NumGlyphs())
	}
}

// TestCollectionErrors: every malformed collection is a clear error.
func TestCollectionErrors(t *testing.T) {
	ttf := cjkFont(t)
	good := collect(ttf)
	// put returns a copy of b with v written at at.
	put := func(b []byte, at int, v []byte) []byte {
		return append(bytes.Clone(b[:at]), append(v, b[at+len(v):]...)...)
	}
	put32 := func(b []byte, at int, v uint32) []byte { return put(b, at, binary.BigEndian.AppendUint32(nil, v)) }
	put16 := func(b []byte, at int, v uint16) []byte { return put(b, at, binary.BigEndian.AppendUint16(nil, v)) }
	const dir = 16 // the only face's directory
	num := int(binary.BigEndian.Uint16(ttf[4:]))
	// Two directory entries swapped: no longer sorted.
	swapped := bytes.Clone(good)
	copy(swapped[dir+12:], good[dir+12+16:dir+12+32])
	copy(swapped[dir+12+16:], good[dir+12:dir+12+16])
	// A CFF face.
	cff := put32(good, dir, 0x4F54544F)
	for name, c := range map[string]struct {
		in    []byte
		index int
		want  string
	}{
		"not a collection": {ttf, 0, "not a TrueType collection"},
		"cut header":       {good[:10], 0, "header is cut short"},
		"version 3":        {put16(good, 4, 3), 0, "version 3.x"},
		"no faces":         {put32(good, 8, 0), 0, "0 faces"},
		"many faces":       {put32(good, 8, 1<<20), 0, "1048576 faces"},
		"offsets cut":      {put32(good[:20], 8, 3), 0, "offsets of its 3 faces are cut short"},
		"negative face":    {good, -1, "no face -1"},
		"face outside":     {put32(good, 12, uint32(len(good))), 0, "outside the file"},
		"unknown version":  {put32(good, dir, 0x12345678), 0, "unknown version 0x12345678"},
		"cff":              {cff, 0, "CFF outlines"},
		"no tables":        {put16(good, dir+4, 0), 0, "0 tables"},
		"directory cut":    {good[:dir+12+16*num-1], 0, "directory of"},
		"table outside":    {put32(good, dir+12+8, uint32(len(good))), 0, "is outside the file"},
		"table too long":   {put32(good, dir+12+12, 1<<31), 0, "is outside the file"},
		"unsorted":         {swapped, 0, "not sorted by tag"},
	} {
		_, _, err := FontFromCollection(c.in, c.index)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	if _, _, err := FontFromCollection(cff, 0); !errors.Is(err, ErrCFFFace) {
		t.Errorf("a CFF face: %v, want ErrCFFFace", err)
	}
	if _, err := New(election(), Config{Languages: Languages, CJKFont: cff, CJKFontName: "cff.ttc"}); err == nil || !strings.Contains(err.Error(), "CFF outlines (an OpenType/CFF collection), which the PDF writer cannot embed: give a TrueType font (face 0) (cff.ttc)") {
		t.Errorf("New with a CFF collection: %v", err)
	}
}

// FuzzFontFromCollection: no input panics or makes a font larger than
// itself, and whatever comes out is cut out again, from a collection of
// it, to the same bytes.
func FuzzFontFromCollection(f *testing.F) {
	ttf, err := os.ReadFile(DebianCJKFont)
	if err == nil {
		// The first tables only: a small, well-formed seed.
		f.Add(collect(ttf)[:4096], 0)
	}
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10\x00\x01\x00\x00\x00\x01\x00\x10\x00\x00\x00\x00head\x00\x00\x00\x00\x00\x00\x00\x2c\x00\x00\x00\x0c"), 0)
	f.Add([]byte("ttcf\x00\x02\x00\x00\x00\x00\x00\x02"), 1)
	f.Fuzz(func(t *testing.T, b []byte, index int) {
		font, _, err := FontFromCollection(b, index)
		if err != nil {
			if font != nil {
				t.Fatal("a font and an error")
			}
			return
		}
		if len(font) > len(b)+12+16*sfntMaxTables {
			t.Fatalf("a %d-byte font from %d bytes", len(font), len(b))
		}
		again, _, err := FontFromCollection(collect(font), 0)
		if err != nil || !bytes.Equal(again, font) {
			t.Fatalf("cut out again: %v", err)
		}
	})
}
