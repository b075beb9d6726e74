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
		cred.Text(), booth, FingerprintGroups(election().Fingerprint)[:35],
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
	if want := booth + "#cred=" + cred.Text(); got != want {
		t.Fatalf("QR code says %q, want %q", got, want)
	}
}

func TestText(t *testing.T) {
	m := maker(t)
	cred := credential(t, "text")
	s := m.Text(roll.Voter{ID: "a1", Weight: 1}, cred)
	for _, want := range []string{
		"Voter: a1\n", "选民: a1\n", "    " + cred.Text() + "\n", booth + "#cred=" + cred.Text() + "\n",
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
		"collection":         {e, Config{Languages: []string{"en"}, CJKFont: []byte("ttcf\x00\x01")}, "font collection (.ttc)"},
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
