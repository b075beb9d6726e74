// Package letters makes each voter's credential letter: a printable A4 PDF
// and the plain text of the same letter for e-mail.
//
// A letter carries the voter's secret credential (SPEC.md §5.1, display
// form, in large monospace for reading aloud), the election fingerprint
// (SPEC.md §4.3, in the groups of eight hex digits the booth shows, so the
// voter can compare them: SPEC.md §10.6), the booth's URL, a QR code that
// opens the booth with the credential filled in, and instructions in each
// of the letter's languages (English and Chinese).
//
// For any election but the board's default, the booth URL, the link and
// the QR code carry election=ID in the query (docs/spec/elections.md E.7),
// so the booth opens that election; the default election's letters keep
// the plain URL, which every node serves it at.
//
// The QR code and the links carry the credential in the URL fragment
// (booth.html#cred=…): a browser never sends a fragment to a server, so the
// credential reaches no server's log; the booth fills its credential field
// from it and removes it from the address bar and the history.
//
// Fonts: Latin text uses the PDF core fonts (Helvetica, and Courier for the
// credential and the fingerprint), which every PDF reader has and which are
// not embedded. Chinese text, and any name or title outside Windows-1252,
// needs a TrueType font with CJK glyphs (Config.CJKFont; Debian's
// fonts-arphic-gbsn00lp, AR PL SungtiL GB under the Arphic Public License,
// is the default of `urna credentials issue`); the used glyphs are embedded
// as a subset. A TrueType collection (.ttc, as Debian ships
// fonts-wqy-microhei) works too: FontFromCollection cuts the chosen face
// out of it (ttc.go), since the PDF writer embeds single fonts only.
// Fonts with CFF outlines (Noto CJK) cannot be embedded, and say so. A character the font lacks is an error naming the voter,
// never a blank box on paper. Without such a font, letters can be made in
// English only (and for Latin names).
//
// The letters are secret: every byte this package returns holds a
// credential. It keeps nothing and writes nothing.
package letters
