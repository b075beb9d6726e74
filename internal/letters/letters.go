package letters

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	qr "github.com/piglig/go-qr"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/encoding/charmap"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/roll"
)

// Election is what every letter of one election shows.
type Election struct {
	ID          string
	Title       string
	Fingerprint [32]byte // SPEC.md §4.3
	BoothURL    string   // absolute http(s) URL of the booth page, without a fragment
	// Default says the election is the board's default, which the booth
	// opens without election= (docs/spec/elections.md E.6.3). For any
	// other election, and when unsure, leave it false: the letter's booth
	// URL and QR code then carry election=ID, which opens that election
	// on any board.
	Default bool
}

// Config says how letters are written.
type Config struct {
	// Languages of the instructions, in order; each one of Languages.
	Languages []string
	// CJKFont is a TrueType font (.ttf) or a TrueType collection (.ttc,
	// whose face CJKFontIndex is used: FontFromCollection) with the
	// Chinese glyphs; required for "zh" and for names and titles outside
	// Windows-1252. CJKFontName names it in errors.
	CJKFont      []byte
	CJKFontIndex int
	CJKFontName  string
}

// DebianCJKFont is where Debian's fonts-arphic-gbsn00lp puts AR PL
// SungtiL GB, a TrueType font with the GB 2312 characters under the
// Arphic Public License (a free licence).
const DebianCJKFont = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"

// DefaultConfig writes in every language of Languages; it still needs a
// CJKFont.
func DefaultConfig() Config { return Config{Languages: slices.Clone(Languages)} }

// Maker makes the letters of one election. It is safe for concurrent use.
type Maker struct {
	e     Election
	booth string // the booth URL as letters print it (boothURL)
	langs []string
	cjk   []byte
	face  *sfnt.Font // nil without a CJK font
	fname string
}

// New checks e and c and returns a Maker.
func New(e Election, c Config) (*Maker, error) {
	if e.ID == "" {
		return nil, errors.New("letters: no election id")
	}
	if !ballot.ValidElectionID(e.ID) {
		return nil, fmt.Errorf("letters: election id %q: want 1 to 64 of a-z, 0-9 and -", e.ID)
	}
	booth, err := boothURL(e)
	if err != nil {
		return nil, err
	}
	if len(c.Languages) == 0 {
		return nil, fmt.Errorf("letters: no language: want some of %s", strings.Join(Languages, ","))
	}
	m := &Maker{e: e, booth: booth, cjk: c.CJKFont, fname: c.CJKFontName}
	for _, l := range c.Languages {
		if _, ok := texts[l]; !ok {
			return nil, fmt.Errorf("letters: language %q: want one of %s", l, strings.Join(Languages, ","))
		}
		if slices.Contains(m.langs, l) {
			return nil, fmt.Errorf("letters: language %q given twice", l)
		}
		m.langs = append(m.langs, l)
	}
	if m.fname == "" {
		m.fname = "the CJK font"
	}
	if IsCollection(c.CJKFont) {
		font, _, err := FontFromCollection(c.CJKFont, c.CJKFontIndex)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, m.fname)
		}
		m.cjk = font
	} else if c.CJKFontIndex != 0 {
		return nil, fmt.Errorf("letters: %s is a single font, not a collection: it has no face %d", m.fname, c.CJKFontIndex)
	}
	if len(m.cjk) > 0 {
		if bytes.HasPrefix(m.cjk, []byte("OTTO")) {
			return nil, fmt.Errorf("letters: %s is an OpenType font with CFF outlines, which the PDF writer cannot embed: give a TrueType font (.ttf)", m.fname)
		}
		f, err := sfnt.Parse(m.cjk)
		if err != nil {
			return nil, fmt.Errorf("letters: %s: not a TrueType font: %w", m.fname, err)
		}
		m.face = f
	}
	if slices.Contains(m.langs, "zh") {
		if m.face == nil {
			return nil, errors.New("letters: Chinese instructions need a TrueType font with Chinese glyphs")
		}
		for _, l := range []string{"zh"} {
			w := texts[l]
			all := strings.Join(append(slices.Clone(w.steps), w.title, w.election, w.voter, w.credential, w.scan,
				w.booth, w.link, w.fingerprint, w.weight, w.howTo, w.secret), "")
			if err := m.covered(all); err != nil {
				return nil, fmt.Errorf("letters: the instructions in %s: %w", l, err)
			}
		}
	}
	if err := m.printable("the election title", e.Title); err != nil {
		return nil, err
	}
	return m, nil
}

// boothURL checks e.BoothURL, an absolute http or https URL with a host
// and without a fragment (the letter adds #cred=…), and returns it as
// the letters print it: with election=<e.ID> in its query unless e is the
// board's default election. A URL that names another election already is
// an error, never a letter that opens the wrong election.
func boothURL(e Election) (string, error) {
	s := e.BoothURL
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("letters: booth URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("letters: booth URL %q: want an absolute http(s) URL such as https://vote.example.org/booth.html, without #fragment or user", s)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", fmt.Errorf("letters: booth URL %q: its query: %w", s, err)
	}
	if named, ok := q["election"]; ok && (len(named) != 1 || named[0] != e.ID) {
		return "", fmt.Errorf("letters: booth URL %q names election %q, the letters are for %q", s, strings.Join(named, ","), e.ID)
	}
	if e.Default || q.Has("election") {
		return s, nil
	}
	var sep string
	switch {
	case strings.HasSuffix(s, "?") || strings.HasSuffix(s, "&"):
		sep = ""
	case u.RawQuery == "":
		sep = "?"
	default:
		sep = "&"
	}
	return s + sep + "election=" + e.ID, nil // an id needs no escaping: [a-z0-9-]
}

// BoothURL returns the booth URL the letters print and encode, without a
// credential: Election.BoothURL with election=ID for an election other
// than the board's default.
func (m *Maker) BoothURL() string { return m.booth }

// Link returns the booth URL with the credential in its fragment
// (booth.html#cred=<display form>), which the booth reads and removes.
func Link(boothURL string, cred ballot.Credential) string {
	return boothURL + "#cred=" + cred.Text()
}

// FingerprintGroups writes a fingerprint as the booth shows it: eight
// groups of eight hex digits.
func FingerprintGroups(fp [32]byte) string {
	h := fmt.Sprintf("%x", fp)
	g := make([]string, 0, 8)
	for i := 0; i < len(h); i += 8 {
		g = append(g, h[i:i+8])
	}
	return strings.Join(g, " ")
}

// latin reports whether the PDF core fonts can show r (Windows-1252).
func latin(r rune) bool {
	_, ok := charmap.Windows1252.EncodeRune(r)
	return ok && r >= 0x20
}

// covered checks that the CJK font has a glyph for every rune of s.
func (m *Maker) covered(s string) error {
	var buf sfnt.Buffer
	for _, r := range s {
		if r == ' ' {
			continue
		}
		if g, err := m.face.GlyphIndex(&buf, r); err != nil || g == 0 {
			return fmt.Errorf("%s has no glyph for %q (%U)", m.fname, r, r)
		}
	}
	return nil
}

// printable checks that the letter's fonts can show s (what names it).
func (m *Maker) printable(what, s string) error {
	for _, r := range s {
		if latin(r) {
			continue
		}
		if m.face == nil {
			return fmt.Errorf("letters: %s %q has %q (%U), which needs a font with CJK glyphs", what, s, r, r)
		}
		if err := m.covered(string(r)); err != nil {
			return fmt.Errorf("letters: %s %q: %w", what, s, err)
		}
	}
	return nil
}

// Subject is the e-mail subject of a letter.
func (m *Maker) Subject() string {
	parts := make([]string, 0, len(m.langs))
	for _, l := range m.langs {
		parts = append(parts, texts[l].title)
	}
	s := strings.Join(parts, " / ")
	if m.e.Title != "" {
		s += ": " + m.e.Title
	}
	return s
}

// voterLine is how a letter names its voter.
func voterLine(v roll.Voter) string {
	if v.Name == "" {
		return v.ID
	}
	return v.Name + " (" + v.ID + ")"
}

func (m *Maker) electionLine() string {
	if m.e.Title == "" {
		return m.e.ID
	}
	return m.e.Title + " (" + m.e.ID + ")"
}

// Text is the plain-text letter of voter v (the body of the e-mail): the
// same content as the PDF, the QR code replaced by the link.
func (m *Maker) Text(v roll.Voter, cred ballot.Credential) string {
	var b strings.Builder
	for i, l := range m.langs {
		w := texts[l]
		if i > 0 {
			b.WriteString("\n----------------------------------------------------------------\n\n")
		}
		fmt.Fprintf(&b, "%s\n\n", w.title)
		fmt.Fprintf(&b, "%s: %s\n", w.election, m.electionLine())
		fmt.Fprintf(&b, "%s: %s\n\n", w.voter, voterLine(v))
		fmt.Fprintf(&b, "%s:\n\n    %s\n\n", w.credential, cred.Text())
		if v.Weight > 1 {
			fmt.Fprintf(&b, w.weight+"\n\n", v.Weight)
		}
		fmt.Fprintf(&b, "%s: %s\n", w.booth, m.booth)
		fmt.Fprintf(&b, "%s:\n%s\n\n", w.link, Link(m.booth, cred))
		fmt.Fprintf(&b, "%s:\n    %s\n\n", w.fingerprint, FingerprintGroups(m.e.Fingerprint))
		fmt.Fprintf(&b, "%s:\n", w.howTo)
		for j, s := range w.steps {
			fmt.Fprintf(&b, "%d. %s\n", j+1, s)
		}
		fmt.Fprintf(&b, "\n%s\n", w.secret)
	}
	return b.String()
}

// QR returns the QR code of the link that opens the booth with cred
// filled in (error correction level M).
func QR(boothURL string, cred ballot.Credential) (*qr.QrCode, error) {
	q, err := qr.EncodeText(Link(boothURL, cred), qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("letters: QR code: %w", err)
	}
	return q, nil
}

// PDF returns the printable letter of voter v (A4).
func (m *Maker) PDF(v roll.Voter, cred ballot.Credential) ([]byte, error) {
	b, _, err := m.build(v, cred)
	return b, err
}

// Check reports whether the letter of v can be printed: every character
// of the voter's name has a glyph in the letter's fonts. A caller checks
// every voter before it issues anything.
func (m *Maker) Check(v roll.Voter) error {
	return m.printable("the name of voter "+v.ID, v.Name)
}

func (m *Maker) build(v roll.Voter, cred ballot.Credential) ([]byte, *doc, error) {
	if err := m.Check(v); err != nil {
		return nil, nil, err
	}
	code, err := QR(m.booth, cred)
	if err != nil {
		return nil, nil, err
	}
	d := newDoc(m)
	d.render(v, cred, code)
	var out bytes.Buffer
	if err := d.pdf.Output(&out); err != nil {
		return nil, nil, fmt.Errorf("letters: PDF of voter %s: %w", v.ID, err)
	}
	return out.Bytes(), d, nil
}
