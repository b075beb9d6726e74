package letters

import (
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	qr "github.com/piglig/go-qr"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/roll"
)

// Page geometry, in millimetres (A4 portrait).
const (
	margin  = 20.0
	pageW   = 210.0
	textW   = pageW - 2*margin
	qrSize  = 42.0 // the QR code with its quiet zone
	qrQuiet = 4    // modules of quiet zone (ISO/IEC 18004)
)

// cjkFamily is the name the CJK font gets inside a PDF.
const cjkFamily = "urnacjk"

type doc struct {
	qrX, qrY float64 // where render put the QR code (mm from the top left)
	m        *Maker
	pdf      *fpdf.Fpdf
	tr       func(string) string // UTF-8 → Windows-1252 for the core fonts
}

func newDoc(m *Maker) *doc {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, margin)
	// A fixed date: the letter of the same voter and credential is the
	// same file, and the file tells nothing about when it was made.
	p.SetCreationDate(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	p.SetModificationDate(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	p.SetTitle("Urna voting credential", true)
	p.SetCreator("urna credentials issue", true)
	if m.face != nil {
		p.AddUTF8FontFromBytes(cjkFamily, "", m.cjk)
	}
	return &doc{m: m, pdf: p, tr: p.UnicodeTranslatorFromDescriptor("")}
}

// write flows s at the current position, in Helvetica (or the CJK font for
// the runs Helvetica cannot show), size pt, line height h.
func (d *doc) write(s string, pt, h float64, bold bool) {
	for _, run := range runs(s) {
		if run.latin {
			style := ""
			if bold {
				style = "B"
			}
			d.pdf.SetFont("Helvetica", style, pt)
			d.pdf.Write(h, d.tr(run.s))
		} else {
			d.pdf.SetFont(cjkFamily, "", pt)
			d.pdf.Write(h, run.s)
		}
	}
}

type run struct {
	s     string
	latin bool
}

// runs splits s into maximal runs the core fonts can or cannot show.
func runs(s string) []run {
	var out []run
	for _, r := range s {
		l := latin(r)
		if n := len(out); n > 0 && (out[n-1].latin == l || r == ' ') {
			out[n-1].s += string(r)
			continue
		}
		out = append(out, run{s: string(r), latin: l})
	}
	return out
}

// block writes a paragraph of one language with a hanging indent of
// indent mm: Helvetica for en, the CJK font for zh.
func (d *doc) block(lang, s string, pt, h, indent float64, bold bool) {
	d.pdf.SetX(margin + indent)
	if lang == "zh" {
		d.pdf.SetFont(cjkFamily, "", pt)
		d.pdf.MultiCell(textW-indent, h, s, "", "L", false)
		return
	}
	style := ""
	if bold {
		style = "B"
	}
	d.pdf.SetFont("Helvetica", style, pt)
	d.pdf.MultiCell(textW-indent, h, d.tr(s), "", "L", false)
}

// labels joins one label in every language of the letter: "Election / 选举".
func (d *doc) labels(pick func(words) string) string {
	parts := make([]string, 0, len(d.m.langs))
	for _, l := range d.m.langs {
		parts = append(parts, pick(texts[l]))
	}
	return strings.Join(parts, " / ")
}

func (d *doc) render(v roll.Voter, cred ballot.Credential, code *qr.QrCode) {
	p := d.pdf
	p.AddPage()
	p.SetTextColor(90, 90, 90)
	p.SetFont("Helvetica", "B", 9)
	p.CellFormat(textW, 5, "URNA", "", 1, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)

	for i, l := range d.m.langs {
		pt := 20.0
		if i > 0 {
			pt = 15
		}
		d.block(l, texts[l].title, pt, pt*0.45, 0, true)
	}
	p.Ln(3)

	d.write(d.labels(func(w words) string { return w.election })+": ", 10, 5.5, true)
	d.write(d.m.electionLine(), 10, 5.5, false)
	p.Ln(5.5)
	d.write(d.labels(func(w words) string { return w.voter })+": ", 10, 5.5, true)
	d.write(voterLine(v), 10, 5.5, false)
	p.Ln(8)

	// The credential, large, in a box.
	d.write(d.labels(func(w words) string { return w.credential })+":", 10, 5.5, true)
	p.Ln(6.5)
	y := p.GetY()
	p.SetLineWidth(0.5)
	p.Rect(margin, y, textW, 20, "D")
	p.SetFont("Courier", "B", 25)
	p.SetXY(margin, y)
	p.CellFormat(textW, 20, cred.Text(), "", 1, "C", false, 0, "")
	p.Ln(6)

	// Left: booth URL, fingerprint, weight. Right: the QR code.
	top := p.GetY()
	d.qrX, d.qrY = pageW-margin-qrSize, top
	d.qr(code, d.qrX, d.qrY)
	colW := textW - qrSize - 6
	p.SetRightMargin(pageW - margin - colW)
	d.write(d.labels(func(w words) string { return w.booth })+":", 10, 5.5, true)
	p.Ln(6)
	// The URL on one line where it fits at 7 pt or more: a URL broken
	// across lines is easily typed wrong.
	pt := 10.0
	for p.SetFont("Courier", "", pt); pt > 7 && p.GetStringWidth(d.m.booth) > colW-2; p.SetFont("Courier", "", pt) {
		pt -= 0.5
	}
	p.MultiCell(colW, 5, d.tr(d.m.booth), "", "L", false)
	p.Ln(3)
	d.write(d.labels(func(w words) string { return w.fingerprint })+":", 10, 5.5, true)
	p.Ln(6)
	g := strings.Fields(FingerprintGroups(d.m.e.Fingerprint))
	p.SetFont("Courier", "B", 12)
	p.CellFormat(colW, 6, strings.Join(g[:4], " "), "", 1, "L", false, 0, "")
	p.CellFormat(colW, 6, strings.Join(g[4:], " "), "", 1, "L", false, 0, "")
	if v.Weight > 1 {
		p.Ln(3)
		for _, l := range d.m.langs {
			d.block(l, fmt.Sprintf(texts[l].weight, v.Weight), 10, 5, 0, true)
		}
	}
	p.SetRightMargin(margin)
	// The caption under the QR code.
	capY := top + qrSize + 1
	for _, l := range d.m.langs {
		p.SetXY(pageW-margin-qrSize, capY)
		if l == "zh" {
			p.SetFont(cjkFamily, "", 7)
			p.MultiCell(qrSize, 3.2, texts[l].scan, "", "C", false)
		} else {
			p.SetFont("Helvetica", "", 7)
			p.MultiCell(qrSize, 3.2, d.tr(texts[l].scan), "", "C", false)
		}
		capY = p.GetY() + 0.5
	}
	p.SetY(max(p.GetY(), capY) + 4)

	// The instructions, in each language.
	for _, l := range d.m.langs {
		w := texts[l]
		d.block(l, w.howTo, 12, 6, 0, true)
		for i, s := range w.steps {
			y := p.GetY()
			p.SetFont("Helvetica", "B", 10)
			p.SetXY(margin, y)
			p.CellFormat(6, 5, fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
			p.SetXY(margin+6, y)
			d.block(l, s, 10, 5, 6, false)
			p.Ln(0.8)
		}
		p.Ln(1.5)
		d.block(l, w.secret, 10, 5, 0, true)
		p.Ln(4)
	}
}

// qr draws code as filled squares, a quiet zone included, at (x, y).
func (d *doc) qr(code *qr.QrCode, x, y float64) {
	p := d.pdf
	n := code.Size()
	mod := qrSize / float64(n+2*qrQuiet)
	p.SetFillColor(0, 0, 0)
	for row := 0; row < n; row++ {
		// One rectangle per horizontal run of dark modules keeps the file small.
		for col := 0; col < n; {
			if !code.Module(col, row) {
				col++
				continue
			}
			start := col
			for col < n && code.Module(col, row) {
				col++
			}
			p.Rect(x+float64(start+qrQuiet)*mod, y+float64(row+qrQuiet)*mod, float64(col-start)*mod, mod, "F")
		}
	}
}
