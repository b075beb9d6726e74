package ballot

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

const manifest4File = "testdata/manifest4.json"

// zhTexts translates shapes' texts (helpers_test.go) into "zh".
func zhTexts() []Texts {
	t := Texts{Title: "测试选举"}
	for qi, q := range shapes {
		qt := QuestionTexts{Text: fmt.Sprintf("问题 %d", qi+1)}
		for oi := range q.Options {
			qt.Options = append(qt.Options, fmt.Sprintf("选项 %d", oi+1))
		}
		t.Questions = append(t.Questions, qt)
	}
	return []Texts{t}
}

// testSchedule opens on 2026-11-03 at 07:00 UTC and closes 13 hours later.
var testSchedule = Schedule{OpensAt: 1793689200000, ClosesAt: 1793736000000, Manual: false}

func newExtendedManifest(t *testing.T, seed string) *Manifest {
	t.Helper()
	m := newTestManifest(t, seeded.Raw(seed), "v4-"+seed, shapes)
	m, err := m.WithLanguages([]string{"en", "zh"}, zhTexts())
	if err != nil {
		t.Fatal(err)
	}
	if m, err = m.WithSchedule(testSchedule); err != nil {
		t.Fatal(err)
	}
	return m
}

type manifest4Vector struct {
	Comment     string `json:"comment"`
	Manifest    string `json:"manifest"`
	Fingerprint string `json:"fingerprint"`
	JSON        string `json:"json"`
}

// TestManifest4Vector pins the bytes and fingerprint of a version-4
// manifest (SPEC.md §4.2) and its authoring JSON (§4.4); tools/pyverify
// decodes the same file.
func TestManifest4Vector(t *testing.T) {
	m := newExtendedManifest(t, "manifest4")
	js, err := MarshalManifestJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	fp := m.Fingerprint()
	var v manifest4Vector
	pinVectors(t, manifest4File, &manifest4Vector{
		Comment:  "SPEC.md §4.2 version 4: languages en, zh; opens 2026-11-03T07:00:00Z, closes 2026-11-03T20:00:00Z, no manual close. Regenerate: go test ./ballot -run TestManifest4Vector -update",
		Manifest: hex.EncodeToString(m.Bytes()), Fingerprint: hex.EncodeToString(fp[:]), JSON: string(js),
	}, &v)
	p, err := ParseManifest(golden.Hex(t, v.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Fingerprint(); hex.EncodeToString(got[:]) != v.Fingerprint {
		t.Fatal("fingerprint of the pinned bytes")
	}
	q, err := ParseManifestJSON([]byte(v.JSON))
	if err != nil || !bytes.Equal(q.Bytes(), p.Bytes()) {
		t.Fatalf("the pinned JSON does not give the pinned bytes: %v", err)
	}
	if p.Version != ManifestVersionExtended || p.Window() != testSchedule || p.PrimaryLanguage() != "en" {
		t.Fatalf("decoded version %d, window %+v, primary %q", p.Version, p.Window(), p.PrimaryLanguage())
	}
	for _, want := range []string{`"languages": [`, `"zh": {`, `"opens_at": "2026-11-03T07:00:00Z"`, `"closes_at": "2026-11-03T20:00:00Z"`, `"manual": false`} {
		if !strings.Contains(v.JSON, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
}

// TestManifest4Versions: version 4 appends to version 2's layout, and the
// other versions encode as before (their own vectors pin them).
func TestManifest4Versions(t *testing.T) {
	m := newTestManifest(t, seeded.Raw("manifest4-versions"), "versions", shapes)
	v1 := m.Bytes()
	s, err := m.WithSchedule(Schedule{ClosesAt: 1793736000000, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	b := s.Bytes()
	// version byte, v1 fields, no witnesses (count 0, quorum 0), 0 languages, times, manual
	want := append([]byte{ManifestVersionExtended}, v1[1:]...)
	want = append(want, make([]byte, 8)...)
	want = append(want, 0, 0, 0, 0)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 0)
	want = binary.BigEndian.AppendUint64(want, 1793736000000)
	want = append(want, 1)
	if !bytes.Equal(b, want) {
		t.Fatalf("version-4 layout:\n got %x\nwant %x", b, want)
	}
	if m.Window() != (Schedule{Manual: true}) || s.Window().At(1793735999999) != WindowOpen || s.Window().At(1793736000000) != WindowClosed {
		t.Fatal("Window")
	}
	// A version-4 copy with witnesses keeps its schedule.
	w, err := s.WithWitnesses([]Witness{{Name: "w.example/urna", Key: nodeKey(t, 7)}}, 1)
	if err != nil || w.Version != ManifestVersionExtended || w.Schedule != s.Schedule {
		t.Fatalf("WithWitnesses of version 4: %v", err)
	}
	if p, err := ParseManifest(w.Bytes()); err != nil || !bytes.Equal(p.Bytes(), w.Bytes()) {
		t.Fatalf("witnessed version 4 round trip: %v", err)
	}
}

func nodeKey(t *testing.T, i byte) []byte {
	t.Helper()
	return ed25519.NewKeyFromSeed(seeded.Raw("node-key-" + string('a'+i)).Bytes(32)).Public().(ed25519.PublicKey)
}

func TestManifest4Text(t *testing.T) {
	m := newExtendedManifest(t, "text")
	en, err := m.Text("")
	if err != nil || en.Title != m.Title || en.Questions[1].Options[2] != shapes[1].Options[2] {
		t.Fatalf("primary texts: %v", err)
	}
	if p, err := m.Text("en"); err != nil || p.Title != m.Title {
		t.Fatalf("Text(en): %v", err)
	}
	zh, err := m.Text("zh")
	if err != nil || zh.Title != "测试选举" || zh.Questions[0].Options[1] != "选项 2" {
		t.Fatalf("Text(zh): %+v %v", zh, err)
	}
	zh.Questions[0].Options[1] = "changed"
	if again, _ := m.Text("zh"); again.Questions[0].Options[1] != "选项 2" {
		t.Fatal("Text returns the manifest's own slices")
	}
	title, qs, err := m.Localized("zh")
	if err != nil || title != "测试选举" || qs[2].Text != "问题 3" || qs[2].Max != shapes[2].Max || m.Questions[2].Text != shapes[2].Text {
		t.Fatalf("Localized(zh): %q %+v %v", title, qs, err)
	}
	if _, err := m.Text("fr"); err == nil || !strings.Contains(err.Error(), "en, zh") {
		t.Fatalf("Text(fr) = %v, want an error naming the languages", err)
	}
}

func TestManifest4Invalid(t *testing.T) {
	base := newExtendedManifest(t, "invalid")
	mutate := func(f func(m *Manifest)) *Manifest {
		m, err := ParseManifest(base.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		f(m)
		return m
	}
	long := strings.Repeat("x", MaxQuestionText+1)
	for name, m := range map[string]*Manifest{
		"nothing of version 4": mutate(func(m *Manifest) {
			m.Languages, m.Translations, m.Schedule = nil, nil, Schedule{Manual: true}
		}),
		"version 2 with a schedule":   mutate(func(m *Manifest) { m.Version = ManifestVersionWitnessed }),
		"version 1 with languages":    mutate(func(m *Manifest) { m.Version, m.Schedule = ManifestVersion, Schedule{Manual: true} }),
		"closes before it opens":      mutate(func(m *Manifest) { m.Schedule.ClosesAt = m.Schedule.OpensAt - 1 }),
		"closes when it opens":        mutate(func(m *Manifest) { m.Schedule.ClosesAt = m.Schedule.OpensAt }),
		"no manual and no close time": mutate(func(m *Manifest) { m.Schedule.ClosesAt = 0 }),
		"no manual and no open time":  mutate(func(m *Manifest) { m.Schedule.OpensAt = 0 }),
		"after year 9999":             mutate(func(m *Manifest) { m.Schedule.ClosesAt = maxTime + 1 }),
		"bad tag":                     mutate(func(m *Manifest) { m.Languages[1] = "ZH" }),
		"tag with empty subtag":       mutate(func(m *Manifest) { m.Languages[1] = "zh--x" }),
		"tag subtag too long":         mutate(func(m *Manifest) { m.Languages[1] = "zh-abcdefghi" }),
		"repeated language":           mutate(func(m *Manifest) { m.Languages[1] = "en" }),
		"missing translation":         mutate(func(m *Manifest) { m.Translations = nil }),
		"translation too many":        mutate(func(m *Manifest) { m.Languages = m.Languages[:1] }),
		"too many languages": mutate(func(m *Manifest) {
			for _, l := range []string{"fr", "de", "es", "it", "pt", "nl", "sv"} {
				m.Languages = append(m.Languages, l)
				m.Translations = append(m.Translations, *m.Translations[0].clone())
			}
		}),
		"empty translated title":   mutate(func(m *Manifest) { m.Translations[0].Title = "" }),
		"translated text too long": mutate(func(m *Manifest) { m.Translations[0].Questions[0].Text = long }),
		"translated bad utf8":      mutate(func(m *Manifest) { m.Translations[0].Questions[1].Options[0] = "\xff" }),
		"translated option twice": mutate(func(m *Manifest) {
			m.Translations[0].Questions[0].Options[1] = m.Translations[0].Questions[0].Options[0]
		}),
		"translation lacks a question": mutate(func(m *Manifest) { m.Translations[0].Questions = m.Translations[0].Questions[1:] }),
		"translation lacks an option": mutate(func(m *Manifest) {
			m.Translations[0].Questions[0].Options = m.Translations[0].Questions[0].Options[1:]
		}),
		"ranked question": mutate(func(m *Manifest) { m.Questions[0].Kind = KindRanked }),
	} {
		if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	// Encodings that do not decode: a bad manual flag, trailing bytes, a
	// language count above 8, a truncated translation.
	b := base.Bytes()
	langs := bytes.Index(b, []byte{0, 0, 0, 2, 0, 0, 0, 2, 'e', 'n'})
	if langs < 0 {
		t.Fatal("language list not found")
	}
	for name, bad := range map[string][]byte{
		"manual flag 2":  append(bytes.Clone(b[:len(b)-1]), 2),
		"trailing byte":  append(bytes.Clone(b), 0),
		"9 languages":    append(append(bytes.Clone(b[:langs]), 0, 0, 0, 9), b[langs+4:]...),
		"truncated":      b[:len(b)-20],
		"unknown v5":     append([]byte{5}, b[1:]...),
		"v2 bytes of v4": append([]byte{ManifestVersionWitnessed}, b[1:]...),
	} {
		if _, err := ParseManifest(bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestManifest4JSON(t *testing.T) {
	m := newExtendedManifest(t, "json4")
	js, _ := MarshalManifestJSON(m)
	s := string(js)
	for name, bad := range map[string]string{
		"local time":         strings.Replace(s, `07:00:00Z"`, `08:00:00+01:00"`, 1),
		"no zone":            strings.Replace(s, `07:00:00Z"`, `07:00:00"`, 1),
		"microseconds":       strings.Replace(s, `07:00:00Z"`, `07:00:00.000001Z"`, 1),
		"not a time":         strings.Replace(s, `"2026-11-03T07:00:00Z"`, `"tomorrow"`, 1),
		"close before open":  strings.Replace(s, `2026-11-03T20:00:00Z`, `2026-11-03T06:00:00Z`, 1),
		"unlisted language":  strings.Replace(s, `"zh": {`, `"fr": {`, 1),
		"primary translated": strings.Replace(s, `"zh": {`, `"en": {`, 1),
		"version 2":          strings.Replace(s, `"version": 4`, `"version": 2`, 1),
		"unknown field":      strings.Replace(s, `"manual"`, `"manuel": true, "manual"`, 1),
	} {
		if _, err := ParseManifestJSON([]byte(bad)); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// "manual" omitted means true; milliseconds are kept.
	omitted := strings.Replace(strings.Replace(s, `"manual": false`, `"languages": ["en"]`, 1), `"languages": [
    "en",
    "zh"
  ],`, ``, 1)
	omitted = strings.Replace(omitted, `07:00:00Z"`, `07:00:00.250Z"`, 1)
	omitted = omitted[:strings.Index(omitted, `"translations"`)] + omitted[strings.Index(omitted, `"opens_at"`):]
	p, err := ParseManifestJSON([]byte(omitted))
	if err != nil {
		t.Fatalf("%v\n%s", err, omitted)
	}
	if !p.Schedule.Manual || p.Schedule.OpensAt != testSchedule.OpensAt+250 || len(p.Translations) != 0 {
		t.Fatalf("schedule %+v", p.Schedule)
	}
	if j := p.JSON(); j.OpensAt != "2026-11-03T07:00:00.25Z" {
		t.Fatalf("opens_at written %q", j.OpensAt)
	}
}

func TestParseTime(t *testing.T) {
	for s, want := range map[string]uint64{"1970-01-01T00:00:00.001Z": 1, "2026-11-03T07:00:00Z": 1793689200000} {
		if got, err := ParseTime(s); err != nil || got != want || FormatTime(got) != s {
			t.Errorf("ParseTime(%s) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-11-03 07:00:00Z", "2026-11-03T07:00:00z"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%s) accepted", s)
		}
	}
}

func TestValidLanguageTag(t *testing.T) {
	for _, ok := range []string{"en", "zh", "yue", "zh-Hant", "pt-BR", "es-419", "sl-rozaj-biske", "x" + "x"} {
		if !ValidLanguageTag(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "e", "engl", "EN", "en-", "-en", "en_US", "en-a", "en-abcdefghi", "zh-汉", "en--US", "en US", strings.Repeat("ab-", 12) + "ab"} {
		if ValidLanguageTag(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
