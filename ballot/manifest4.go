package ballot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urna-vote/urna/internal/wire"
)

// Version 4 of the manifest (SPEC.md §4.1, §4.2) adds, to version 2's
// encoding with 0..32 witnesses, the election's languages with a
// translation of every text, and its schedule: the voting window that the
// board enforces and every verifier checks against the block times
// (SPEC.md §3.9, V5.7). Its questions are select questions (version 3's
// kinds are a draft outside SPEC.md). Each content has one encoding: a
// version-4 manifest MUST declare a language or carry a schedule (an
// opening or closing time, or no manual close); without them it is a
// version-1 or version-2 manifest.
const ManifestVersionExtended = 4

// Limits of version 4 (SPEC.md §4.1).
const (
	MaxLanguages   = 8
	MaxLanguageTag = 35 // bytes; RFC 5646 §4.4.1's recommended maximum
	// MaxManifestBytes is the manifest entry's body limit (SPEC.md §3.2):
	// a version-4 manifest, whose translations multiply its texts, MUST
	// fit it.
	MaxManifestBytes = 1 << 20
)

// Texts are the title, question texts and option texts of a manifest in
// one language: the manifest's own (Manifest.Title and Questions, in the
// primary language) or a translation.
type Texts struct {
	Title     string
	Questions []QuestionTexts
}

// QuestionTexts are one question's text and its options' texts, in order.
type QuestionTexts struct {
	Text    string
	Options []string
}

// Schedule is a version-4 manifest's voting window (SPEC.md §4.1, §3.9):
// ballots and audits are accepted only in blocks whose time t satisfies
// OpensAt ≤ t < ClosesAt. A zero time is absent: no lower (or upper)
// bound. Manual allows the election authority to close the election
// before ClosesAt with a close entry; without it the close entry is
// accepted only from ClosesAt on, so the election opens and closes by
// time alone (SPEC.md §3.9). Versions 1–3 have no schedule and allow the
// manual close (the zero Schedule with Manual set).
type Schedule struct {
	OpensAt  uint64 // Unix milliseconds; 0: none
	ClosesAt uint64 // Unix milliseconds; 0: none
	Manual   bool
}

// Window says where a time lies relative to a schedule.
type Window int

// The places of a time relative to the window [OpensAt, ClosesAt).
const (
	WindowOpen    Window = iota // within the window (or no schedule)
	WindowNotOpen               // before OpensAt
	WindowClosed                // at or after ClosesAt
)

// At returns where the time t (Unix milliseconds) lies: before OpensAt,
// at or after ClosesAt, or within the window. It is the one copy of the
// window rule of SPEC.md §3.9: the board's rules, the verifier's V5.7 and
// the voter's device all call it.
func (s Schedule) At(t uint64) Window {
	switch {
	case s.OpensAt != 0 && t < s.OpensAt:
		return WindowNotOpen
	case s.ClosesAt != 0 && t >= s.ClosesAt:
		return WindowClosed
	}
	return WindowOpen
}

// Scheduled reports whether s differs from the schedule of versions 1–3
// (no times, manual close allowed).
func (s Schedule) Scheduled() bool { return s.OpensAt != 0 || s.ClosesAt != 0 || !s.Manual }

// FormatTime returns t (Unix milliseconds) as an RFC 3339 UTC string, with
// milliseconds only when they are not zero: the form of the authoring JSON.
func FormatTime(t uint64) string {
	return time.UnixMilli(int64(t)).UTC().Format("2006-01-02T15:04:05.999Z07:00")
}

// ParseTime reads an RFC 3339 time in UTC ("…Z") with at most millisecond
// precision, after 1970, as Unix milliseconds (SPEC.md §4.4).
func ParseTime(s string) (uint64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return 0, fmt.Errorf("%q is not an RFC 3339 time in UTC such as 2026-11-03T07:00:00Z", s)
	}
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return 0, fmt.Errorf("%q is more precise than a millisecond", s)
	}
	if t.UnixMilli() <= 0 {
		return 0, fmt.Errorf("%q is not after 1970-01-01T00:00:00Z", s)
	}
	return uint64(t.UnixMilli()), nil
}

// ValidLanguageTag reports whether tag is a language tag of SPEC.md §4.1:
// 2..3 letters a–z, then any number of subtags of "-" and 2..8 letters or
// digits, at most MaxLanguageTag bytes in all (a subset of BCP 47: "en",
// "zh-Hant", "pt-BR", "es-419").
func ValidLanguageTag(tag string) bool {
	if len(tag) > MaxLanguageTag {
		return false
	}
	parts := strings.Split(tag, "-")
	if n := len(parts[0]); n < 2 || n > 3 || strings.Trim(parts[0], "abcdefghijklmnopqrstuvwxyz") != "" {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 2 || len(p) > 8 {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

// hasExtensions reports whether m sets a version-4 field: in versions
// 1–3 they are all zero.
func (m *Manifest) hasExtensions() bool {
	return len(m.Languages) > 0 || len(m.Translations) > 0 || m.Schedule != Schedule{}
}

// Window returns m's schedule: a version-4 manifest's, or for versions
// 1–3 no times and the manual close.
func (m *Manifest) Window() Schedule {
	if m.Version != ManifestVersionExtended {
		return Schedule{Manual: true}
	}
	return m.Schedule
}

// PrimaryLanguage returns the language of m's own texts, or "" when m
// declares no languages.
func (m *Manifest) PrimaryLanguage() string {
	if len(m.Languages) == 0 {
		return ""
	}
	return m.Languages[0]
}

// Text returns m's texts in language lang: its own texts for "" or the
// primary language, a translation for another declared language. An
// undeclared language is an error naming the declared ones.
func (m *Manifest) Text(lang string) (*Texts, error) {
	if lang == "" || lang == m.PrimaryLanguage() {
		t := &Texts{Title: m.Title}
		for _, q := range m.Questions {
			t.Questions = append(t.Questions, QuestionTexts{Text: q.Text, Options: slices.Clone(q.Options)})
		}
		return t, nil
	}
	for i, l := range m.Languages {
		if l == lang && i > 0 && i-1 < len(m.Translations) {
			return m.Translations[i-1].clone(), nil
		}
	}
	if len(m.Languages) == 0 {
		return nil, fmt.Errorf("ballot: the manifest declares no languages, so it has no %q texts", lang)
	}
	return nil, fmt.Errorf("ballot: the manifest has no %q texts (its languages: %s)", lang, strings.Join(m.Languages, ", "))
}

// Localized returns m's title and a copy of its questions with the texts
// of language lang (as Text returns them) and their rules unchanged: what
// labels a ballot or a result for people reading lang.
func (m *Manifest) Localized(lang string) (title string, questions []Question, err error) {
	t, err := m.Text(lang)
	if err != nil {
		return "", nil, err
	}
	for qi, q := range m.Questions {
		q.Text, q.Options = t.Questions[qi].Text, t.Questions[qi].Options
		questions = append(questions, q)
	}
	return t.Title, questions, nil
}

func (t *Texts) clone() *Texts {
	c := &Texts{Title: t.Title}
	for _, q := range t.Questions {
		c.Questions = append(c.Questions, QuestionTexts{Text: q.Text, Options: slices.Clone(q.Options)})
	}
	return c
}

// WithLanguages returns a validated version-4 copy of m whose texts are
// in langs[0] and translated into langs[1:] by translations, in order
// (SPEC.md §4.1).
func (m *Manifest) WithLanguages(langs []string, translations []Texts) (*Manifest, error) {
	c := m.clone()
	if c.Version != ManifestVersionExtended {
		c.Schedule = Schedule{Manual: true}
	}
	c.Version, c.Languages, c.Translations = ManifestVersionExtended, slices.Clone(langs), nil
	for i := range translations {
		c.Translations = append(c.Translations, *translations[i].clone())
	}
	return c, c.Validate()
}

// WithSchedule returns a validated version-4 copy of m with schedule s
// (SPEC.md §4.1).
func (m *Manifest) WithSchedule(s Schedule) (*Manifest, error) {
	c := m.clone()
	c.Version, c.Schedule = ManifestVersionExtended, s
	return c, c.Validate()
}

// clone returns a deep copy of m, version 4 if m is version 2 or 4 (the
// encoding of version 2 with the version-4 fields).
func (m *Manifest) clone() *Manifest {
	c, _ := ParseManifest(m.Bytes())
	if c == nil {
		c = &Manifest{}
	}
	return c
}

// validateExtended checks the version-4 rules of SPEC.md §4.1 on m.
func (m *Manifest) validateExtended() error {
	if len(m.Languages) == 0 && !m.Schedule.Scheduled() {
		return fmt.Errorf("%w: a version-4 manifest declares languages or a schedule (use version %d or %d)", ErrInvalidManifest, ManifestVersion, ManifestVersionWitnessed)
	}
	if len(m.Languages) > MaxLanguages {
		return fmt.Errorf("%w: %d languages, want at most %d", ErrInvalidManifest, len(m.Languages), MaxLanguages)
	}
	seen := map[string]bool{}
	for _, l := range m.Languages {
		if !ValidLanguageTag(l) {
			return fmt.Errorf("%w: language %q is not a tag such as en, zh or pt-BR (2–3 letters a–z, then -subtags of 2–8 letters or digits, at most %d bytes)", ErrInvalidManifest, l, MaxLanguageTag)
		}
		if seen[strings.ToLower(l)] {
			return fmt.Errorf("%w: language %q listed twice", ErrInvalidManifest, l)
		}
		seen[strings.ToLower(l)] = true
	}
	if want := max(len(m.Languages)-1, 0); len(m.Translations) != want {
		return fmt.Errorf("%w: %d translations for %d languages besides the primary, want one each", ErrInvalidManifest, len(m.Translations), want)
	}
	for i := range m.Translations {
		if err := m.checkTranslation(m.Languages[i+1], &m.Translations[i]); err != nil {
			return err
		}
	}
	s := m.Schedule
	if s.OpensAt != 0 && s.ClosesAt != 0 && s.ClosesAt <= s.OpensAt {
		return fmt.Errorf("%w: the election closes at %s, not after it opens at %s", ErrInvalidManifest, FormatTime(s.ClosesAt), FormatTime(s.OpensAt))
	}
	if !s.Manual && (s.OpensAt == 0 || s.ClosesAt == 0) {
		return fmt.Errorf("%w: an election without manual open and close needs both an opening and a closing time", ErrInvalidManifest)
	}
	for _, t := range []uint64{s.OpensAt, s.ClosesAt} {
		if t > maxTime {
			return fmt.Errorf("%w: time %d ms is after the year 9999", ErrInvalidManifest, t)
		}
	}
	return nil
}

// maxTime is 9999-12-31T23:59:59.999Z in Unix milliseconds, the last time
// RFC 3339 can write.
const maxTime = 253402300799999

// checkTranslation checks that t translates every text of m into lang,
// within the limits of the primary texts.
func (m *Manifest) checkTranslation(lang string, t *Texts) error {
	if err := checkText(lang+" title", t.Title, MaxTitle); err != nil {
		return err
	}
	if len(t.Questions) != len(m.Questions) {
		return fmt.Errorf("%w: the %s translation has %d questions, the manifest %d", ErrInvalidManifest, lang, len(t.Questions), len(m.Questions))
	}
	for qi, q := range t.Questions {
		if err := checkText(fmt.Sprintf("%s question %d text", lang, qi), q.Text, MaxQuestionText); err != nil {
			return err
		}
		if len(q.Options) != len(m.Questions[qi].Options) {
			return fmt.Errorf("%w: the %s translation of question %d has %d options, the manifest %d", ErrInvalidManifest, lang, qi, len(q.Options), len(m.Questions[qi].Options))
		}
		seen := map[string]bool{}
		for oi, o := range q.Options {
			if err := checkText(fmt.Sprintf("%s question %d option %d", lang, qi, oi), o, MaxOptionText); err != nil {
				return err
			}
			if seen[o] {
				return fmt.Errorf("%w: the %s translation of question %d repeats option %q", ErrInvalidManifest, lang, qi, o)
			}
			seen[o] = true
		}
	}
	return nil
}

// writeExtended appends fields 25–30 of SPEC.md §4.2 to w.
func (m *Manifest) writeExtended(w *wire.Writer) {
	w.Count(len(m.Languages))
	for _, l := range m.Languages {
		w.String(l)
	}
	for _, t := range m.Translations {
		w.String(t.Title)
		for _, q := range t.Questions {
			w.String(q.Text)
			for _, o := range q.Options {
				w.String(o)
			}
		}
	}
	w.U64(m.Schedule.OpensAt).U64(m.Schedule.ClosesAt).U8(flagByte(m.Schedule.Manual))
}

func flagByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// readExtended reads fields 25–30 of SPEC.md §4.2 into m, whose questions
// are read: a translation has exactly their numbers of questions and
// options.
func (m *Manifest) readExtended(r *wire.Reader) {
	nl := r.Count("languages", MaxLanguages)
	for i := 0; i < nl && r.Err() == nil; i++ {
		m.Languages = append(m.Languages, r.String("language", MaxLanguageTag))
	}
	for i := 1; i < nl && r.Err() == nil; i++ {
		t := Texts{Title: r.String("translated title", MaxTitle)}
		for _, q := range m.Questions {
			qt := QuestionTexts{Text: r.String("translated question text", MaxQuestionText)}
			for range q.Options {
				qt.Options = append(qt.Options, r.String("translated option", MaxOptionText))
			}
			t.Questions = append(t.Questions, qt)
		}
		m.Translations = append(m.Translations, t)
	}
	m.Schedule.OpensAt = r.U64("opens_at")
	m.Schedule.ClosesAt = r.U64("closes_at")
	m.Schedule.Manual = r.Flag("manual")
}

// TranslationJSON is a translation in ManifestJSON.
type TranslationJSON struct {
	Title     string                    `json:"title"`
	Questions []QuestionTranslationJSON `json:"questions"`
}

// QuestionTranslationJSON is one question of a TranslationJSON.
type QuestionTranslationJSON struct {
	Text    string   `json:"text"`
	Options []string `json:"options"`
}

// extendedJSON fills the version-4 fields of j from m.
func (m *Manifest) extendedJSON(j *ManifestJSON) {
	if m.Version != ManifestVersionExtended {
		return
	}
	j.Languages = slices.Clone(m.Languages)
	for i, t := range m.Translations {
		if j.Translations == nil {
			j.Translations = map[string]TranslationJSON{}
		}
		tj := TranslationJSON{Title: t.Title, Questions: []QuestionTranslationJSON{}}
		for _, q := range t.Questions {
			tj.Questions = append(tj.Questions, QuestionTranslationJSON{Text: q.Text, Options: append([]string{}, q.Options...)})
		}
		j.Translations[m.Languages[i+1]] = tj
	}
	if m.Schedule.OpensAt != 0 {
		j.OpensAt = FormatTime(m.Schedule.OpensAt)
	}
	if m.Schedule.ClosesAt != 0 {
		j.ClosesAt = FormatTime(m.Schedule.ClosesAt)
	}
	manual := m.Schedule.Manual
	j.Manual = &manual
}

// extendedManifest reads the version-4 fields of j into m (SPEC.md §4.4):
// the times as RFC 3339 UTC strings, "manual" true when omitted, and one
// translation for each language after the first, keyed by its tag.
func (j *ManifestJSON) extendedManifest(m *Manifest) error {
	if m.Version != ManifestVersionExtended {
		if len(j.Languages) > 0 || len(j.Translations) > 0 || j.OpensAt != "" || j.ClosesAt != "" || j.Manual != nil {
			return fmt.Errorf("%w: languages, translations, opens_at, closes_at and manual need \"version\": %d", ErrInvalidManifest, ManifestVersionExtended)
		}
		return nil
	}
	var err error
	if j.OpensAt != "" {
		if m.Schedule.OpensAt, err = ParseTime(j.OpensAt); err != nil {
			return fmt.Errorf("%w: opens_at: %v", ErrInvalidManifest, err)
		}
	}
	if j.ClosesAt != "" {
		if m.Schedule.ClosesAt, err = ParseTime(j.ClosesAt); err != nil {
			return fmt.Errorf("%w: closes_at: %v", ErrInvalidManifest, err)
		}
	}
	m.Schedule.Manual = j.Manual == nil || *j.Manual
	m.Languages = slices.Clone(j.Languages)
	for lang := range j.Translations {
		if !slices.Contains(j.Languages, lang) || (len(j.Languages) > 0 && lang == j.Languages[0]) {
			return fmt.Errorf("%w: translations: %q is not one of the languages after the primary %v", ErrInvalidManifest, lang, j.Languages)
		}
	}
	for i, lang := range j.Languages {
		if i == 0 {
			continue
		}
		tj, ok := j.Translations[lang]
		if !ok {
			return fmt.Errorf("%w: translations: no %q translation of the title, questions and options", ErrInvalidManifest, lang)
		}
		t := Texts{Title: tj.Title}
		for _, q := range tj.Questions {
			t.Questions = append(t.Questions, QuestionTexts{Text: q.Text, Options: slices.Clone(q.Options)})
		}
		m.Translations = append(m.Translations, t)
	}
	return nil
}
