package letters

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	qr "github.com/piglig/go-qr"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/roll"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

const booth = "https://vote.example.org/booth.html"

func election() Election {
	var fp [32]byte
	for i := range fp {
		fp[i] = byte(i * 7)
	}
	return Election{ID: "council-2027", Title: "Council 2027 · 理事会选举", Fingerprint: fp, BoothURL: booth}
}

func credential(t testing.TB, seed string) ballot.Credential {
	t.Helper()
	c, err := ballot.GenerateCredential(seeded.New(seed))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cjkFont is Debian's fonts-arphic-gbsn00lp, which .ci/run installs.
func cjkFont(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(DebianCJKFont)
	testonly.Require(t, err == nil, DebianCJKFont+" is missing", "apt-get install fonts-arphic-gbsn00lp")
	return b
}

func maker(t testing.TB) *Maker {
	t.Helper()
	m, err := New(election(), Config{Languages: Languages, CJKFont: cjkFont(t), CJKFontName: "gbsn00lp.ttf"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func need(t testing.TB, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	testonly.Require(t, err == nil, tool+" is not installed", "apt-get install "+pkg)
	return p
}

// TestPDF renders a letter with poppler, as a printer would, checks its
// text (both languages, the credential, the fingerprint, the URL) and
// decodes its QR code from the rendered page: it opens the booth with
// this voter's credential in the fragment.
func TestPDF(t *testing.T) {
	m := maker(t)
	cred := credential(t, "letter")
	v := roll.Voter{ID: "v-0042", Name: "张伟", Contact: "zhang@example.org", Weight: 3}
	pdf, d, err := m.build(v, cred)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	dir := t.TempDir()
	if a := os.Getenv("URNA_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "letters")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(need(t, "pdfinfo", "poppler-utils"), file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Pages:           1\n") || !strings.Contains(string(out), "x 841.89 pts (A4)") {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	out, err = exec.Command(need(t, "pdftotext", "poppler-utils"), "-enc", "UTF-8", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		cred.Text(), booth + "?election=council-2027", FingerprintGroups(election().Fingerprint)[:35],
		"Your voting credential", "您的投票凭证", "张伟 (v-0042)", "Council 2027 · 理事会选举 (council-2027)",
		"Your vote counts 3 times.", "您的选票计为 3 票。", "only your last ballot counts", "只有最后一张选票计入结果",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter's text lacks %q:\n%s", want, text)
		}
	}

	// Render at 200 dpi without anti-aliasing, crop the QR code (with its
	// quiet zone) and decode it.
	const dpi = 200
	if _, err := exec.Command(need(t, "pdftoppm", "poppler-utils"), "-r", "200", "-png", "-aa", "no", "-aaVector", "no",
		"-singlefile", file, filepath.Join(dir, "letter")).CombinedOutput(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "letter.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	px := func(mm float64) int { return int(mm / 25.4 * dpi) }
	crop := page.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(px(d.qrX), px(d.qrY), px(d.qrX+qrSize), px(d.qrY+qrSize)))
	got, err := qr.Decode(crop)
	if err != nil {
		t.Fatalf("decoding the QR code of the rendered letter: %v", err)
	}
	if want := booth + "?election=council-2027#cred=" + cred.Text(); got != want {
		t.Fatalf("QR code says %q, want %q", got, want)
	}
}

func TestText(t *testing.T) {
	m := maker(t)
	cred := credential(t, "text")
	s := m.Text(roll.Voter{ID: "a1", Weight: 1}, cred)
	for _, want := range []string{
		"Voter: a1\n", "选民: a1\n", "    " + cred.Text() + "\n", booth + "?election=council-2027#cred=" + cred.Text() + "\n",
		FingerprintGroups(election().Fingerprint), "1. Open the voting booth", "5. 选举开放期间",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("text lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "counts 1 times") || strings.Contains(s, "计为 1 票") {
		t.Error("a weight of 1 is mentioned")
	}
	if got := m.Subject(); got != "Your voting credential / 您的投票凭证: Council 2027 · 理事会选举" {
		t.Errorf("subject %q", got)
	}
}

func TestFingerprintGroups(t *testing.T) {
	var fp [32]byte
	fp[0], fp[31] = 0xab, 0x01
	want := "ab000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001"
	if got := FingerprintGroups(fp); got != want {
		t.Fatalf("%q", got)
	}
}

func TestNewErrors(t *testing.T) {
	font := cjkFont(t)
	e := election()
	for name, c := range map[string]struct {
		e    Election
		c    Config
		want string
	}{
		"no font for zh":     {e, Config{Languages: []string{"en", "zh"}}, "need a TrueType font"},
		"unknown language":   {e, Config{Languages: []string{"en", "fr"}, CJKFont: font}, `language "fr"`},
		"twice":              {e, Config{Languages: []string{"en", "en"}, CJKFont: font}, "given twice"},
		"none":               {e, Config{CJKFont: font}, "no language"},
		"collection":         {e, Config{Languages: []string{"en"}, CJKFont: []byte("ttcf\x00\x01")}, "font collection: the header is cut short"},
		"face of a font":     {e, Config{Languages: []string{"en"}, CJKFont: font, CJKFontIndex: 1}, "not a collection: it has no face 1"},
		"bad election id":    {Election{ID: "Council 2027", BoothURL: booth}, Config{Languages: []string{"en"}}, `election id "Council 2027"`},
		"other election":     {Election{ID: "x", BoothURL: booth + "?election=y"}, Config{Languages: []string{"en"}}, `names election "y", the letters are for "x"`},
		"cff":                {e, Config{Languages: []string{"en"}, CJKFont: []byte("OTTO\x00\x01")}, "CFF outlines"},
		"garbage font":       {e, Config{Languages: []string{"en"}, CJKFont: []byte("not a font")}, "not a TrueType font"},
		"title needs a font": {e, Config{Languages: []string{"en"}}, "needs a font with CJK glyphs"},
		"fragment":           {Election{ID: "x", BoothURL: booth + "#a"}, Config{Languages: []string{"en"}}, "without #fragment"},
		"relative":           {Election{ID: "x", BoothURL: "/booth.html"}, Config{Languages: []string{"en"}}, "absolute http(s) URL"},
		"scheme":             {Election{ID: "x", BoothURL: "javascript:alert(1)"}, Config{Languages: []string{"en"}}, "absolute http(s) URL"},
		"no id":              {Election{BoothURL: booth}, Config{Languages: []string{"en"}}, "no election id"},
	} {
		_, err := New(c.e, c.c)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	// English only, Latin names: no font needed.
	m, err := New(Election{ID: "x", Title: "Élection", BoothURL: booth}, Config{Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.PDF(roll.Voter{ID: "a", Name: "Zoë Müller", Weight: 1}, credential(t, "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PDF(roll.Voter{ID: "b", Name: "张伟", Weight: 1}, credential(t, "x")); err == nil || !strings.Contains(err.Error(), `the name of voter b "张伟" has '张'`) {
		t.Fatalf("a Chinese name without a CJK font: %v", err)
	}
}

// TestMissingGlyph: a character the font lacks is an error naming the
// voter, never a blank on paper.
func TestMissingGlyph(t *testing.T) {
	m := maker(t)
	_, err := m.PDF(roll.Voter{ID: "v7", Name: "王堃", Weight: 1}, credential(t, "x"))
	if err == nil || !strings.Contains(err.Error(), `the name of voter v7 "王堃": gbsn00lp.ttf has no glyph for '堃' (U+5803)`) {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkPDF(b *testing.B) {
	m := maker(b)
	cred := credential(b, "bench")
	v := roll.Voter{ID: "v1", Name: "张伟", Weight: 1}
	for b.Loop() {
		if _, err := m.PDF(v, cred); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBoothURLNamesElection: the letters of any election but the board's
// default open the booth with election=ID, decoded from the QR code as a
// phone reads it; the default election's keep the plain URL, which every
// board serves its default election at.
func TestBoothURLNamesElection(t *testing.T) {
	cred := credential(t, "url")
	for _, c := range []struct {
		booth   string
		def     bool
		want    string
		comment string
	}{
		{booth, false, booth + "?election=e-2", "another election"},
		{booth, true, booth, "the default election"},
		{booth + "?lang=zh", false, booth + "?lang=zh&election=e-2", "a query kept"},
		{booth + "?", false, booth + "?election=e-2", "an empty query"},
		{booth + "?election=e-2", false, booth + "?election=e-2", "named already"},
		{booth + "?election=e-2", true, booth + "?election=e-2", "the default named already"},
	} {
		m, err := New(Election{ID: "e-2", BoothURL: c.booth, Default: c.def}, Config{Languages: []string{"en"}})
		if err != nil {
			t.Fatalf("%s: %v", c.comment, err)
		}
		if m.BoothURL() != c.want {
			t.Errorf("%s: booth URL %q, want %q", c.comment, m.BoothURL(), c.want)
		}
		if !strings.Contains(m.Text(roll.Voter{ID: "a", Weight: 1}, cred), c.want+"#cred="+cred.Text()+"\n") {
			t.Errorf("%s: the text letter lacks the link %s#cred=…", c.comment, c.want)
		}
		if _, err := m.PDF(roll.Voter{ID: "a", Weight: 1}, cred); err != nil {
			t.Fatal(err)
		}
		code, err := QR(m.BoothURL(), cred)
		if err != nil {
			t.Fatal(err)
		}
		got, err := qr.Decode(qrImage(code))
		if err != nil {
			t.Fatalf("%s: decoding the QR code: %v", c.comment, err)
		}
		if want := c.want + "#cred=" + cred.Text(); got != want {
			t.Errorf("%s: the QR code opens %q, want %q", c.comment, got, want)
		}
	}
}

// qrImage draws code as a phone's camera would see it: 4 pixels a module,
// with its quiet zone.
func qrImage(code *qr.QrCode) image.Image {
	const px = 4
	n := code.Size() + 2*qrQuiet
	img := image.NewGray(image.Rect(0, 0, n*px, n*px))
	for y := 0; y < n*px; y++ {
		for x := 0; x < n*px; x++ {
			c, r := x/px-qrQuiet, y/px-qrQuiet
			if c >= 0 && r >= 0 && c < code.Size() && r < code.Size() && code.Module(c, r) {
				continue // black: the zero value
			}
			img.Pix[y*img.Stride+x] = 0xff
		}
	}
	return img
}
