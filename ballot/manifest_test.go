package ballot

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestManifestRoundTrip(t *testing.T) {
	m := newTestManifest(t, seeded.Raw("manifest"), "city-2026", shapes)
	b := m.Bytes()
	p, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Bytes(), b) || p.Fingerprint() != m.Fingerprint() {
		t.Fatal("manifest changed through its encoding")
	}
	js, err := MarshalManifestJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseManifestJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(q.Bytes(), b) {
		t.Fatal("manifest changed through its JSON form")
	}
	if m.TrusteeIndex(m.Trustees[2].SigningKey) != 3 || m.TrusteeIndex(m.Authority) != 0 {
		t.Fatal("TrusteeIndex")
	}
	m2 := newTestManifest(t, seeded.Raw("manifest"), "city-2027", shapes)
	if m2.Fingerprint() == m.Fingerprint() {
		t.Fatal("election id not in the fingerprint")
	}
}

func TestManifestJSONStrict(t *testing.T) {
	m := newTestManifest(t, seeded.Raw("manifest-json"), "json", shapes)
	js, _ := MarshalManifestJSON(m)
	s := string(js)
	authority := m.JSON().Authority
	for name, bad := range map[string]string{
		"unknown field":    strings.Replace(s, `"title"`, `"titel": "x", "title"`, 1),
		"trailing object":  s + "{}",
		"trailing garbage": s + "]",
		"padded base64":    strings.Replace(s, authority, authority+"=", 1),
		"std base64":       strings.Replace(s, `"authority": "`, `"authority": "+/`, 1),
		"short key":        strings.Replace(s, authority, authority[:40], 1),
		"not json":         "version: 1",
		"empty":            "",
		"bad threshold":    strings.Replace(s, `"threshold": 2`, `"threshold": 4`, 1),
	} {
		if _, err := ParseManifestJSON([]byte(bad)); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestManifestValidate(t *testing.T) {
	rng := seeded.Raw("validate")
	base := newTestManifest(t, rng, "valid", shapes)
	mutate := func(f func(m *Manifest)) *Manifest {
		m, _ := ParseManifest(base.Bytes())
		f(m)
		return m
	}
	cases := map[string]*Manifest{
		"version 2":           mutate(func(m *Manifest) { m.Version = 2 }),
		"empty id":            mutate(func(m *Manifest) { m.ElectionID = "" }),
		"upper-case id":       mutate(func(m *Manifest) { m.ElectionID = "City" }),
		"id with space":       mutate(func(m *Manifest) { m.ElectionID = "a b" }),
		"long id":             mutate(func(m *Manifest) { m.ElectionID = strings.Repeat("a", 65) }),
		"empty title":         mutate(func(m *Manifest) { m.Title = "" }),
		"bad utf8 title":      mutate(func(m *Manifest) { m.Title = "\xff" }),
		"no questions":        mutate(func(m *Manifest) { m.Questions = nil }),
		"one option":          mutate(func(m *Manifest) { m.Questions[0].Options = m.Questions[0].Options[:1]; m.Questions[0].Max = 1 }),
		"65 options":          mutate(func(m *Manifest) { m.Questions[0].Options = make([]string, 65) }),
		"repeated option":     mutate(func(m *Manifest) { m.Questions[0].Options[1] = m.Questions[0].Options[0] }),
		"empty option":        mutate(func(m *Manifest) { m.Questions[0].Options[1] = "" }),
		"min > max":           mutate(func(m *Manifest) { m.Questions[1].Min = 3 }),
		"max > options":       mutate(func(m *Manifest) { m.Questions[2].Max = 5 }),
		"max 0":               mutate(func(m *Manifest) { m.Questions[3].Max = 0 }),
		"identity authority":  mutate(func(m *Manifest) { m.Authority = group.NewElement() }),
		"nil ca":              mutate(func(m *Manifest) { m.CredentialAuthority = nil }),
		"ca = authority":      mutate(func(m *Manifest) { m.CredentialAuthority = m.Authority.Clone() }),
		"trustee = authority": mutate(func(m *Manifest) { m.Trustees[1].SigningKey = m.Authority.Clone() }),
		"no trustees":         mutate(func(m *Manifest) { m.Trustees = nil }),
		"33 trustees":         mutate(func(m *Manifest) { m.Trustees = make([]Trustee, 33) }),
		"threshold 0":         mutate(func(m *Manifest) { m.Threshold = 0 }),
		"threshold > n":       mutate(func(m *Manifest) { m.Threshold = 4 }),
		"same trustee names":  mutate(func(m *Manifest) { m.Trustees[1].Name = m.Trustees[0].Name }),
		"same trustee keys":   mutate(func(m *Manifest) { m.Trustees[1].SigningKey = m.Trustees[0].SigningKey }),
		"same share keys":     mutate(func(m *Manifest) { m.Trustees[1].ShareKey = m.Trustees[0].ShareKey }),
		"short share key":     mutate(func(m *Manifest) { m.Trustees[1].ShareKey = m.Trustees[1].ShareKey[:31] }),
		"no nodes":            mutate(func(m *Manifest) { m.BoardNodes = nil }),
		"quorum 0":            mutate(func(m *Manifest) { m.BoardQuorum = 0 }),
		"quorum > nodes":      mutate(func(m *Manifest) { m.BoardQuorum = 4 }),
		"same node ids":       mutate(func(m *Manifest) { m.BoardNodes[2].ID = m.BoardNodes[0].ID }),
		"same node keys":      mutate(func(m *Manifest) { m.BoardNodes[2].Key = m.BoardNodes[0].Key }),
		"long node key":       mutate(func(m *Manifest) { m.BoardNodes[2].Key = make([]byte, 33) }),
		"long trustee name":   mutate(func(m *Manifest) { m.Trustees[0].Name = strings.Repeat("x", 65) }),
	}
	for name, m := range cases {
		if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	if _, err := NewManifest("x", "t", nil, base.Authority, base.CredentialAuthority, base.Trustees, 1, base.BoardNodes, 1); err == nil {
		t.Error("NewManifest accepted no questions")
	}
}

func TestParseManifestRejects(t *testing.T) {
	m := newTestManifest(t, seeded.Raw("parse-manifest"), "p", shapes[:1])
	b := m.Bytes()
	for n := 0; n < len(b); n++ {
		if x, err := ParseManifest(b[:n]); err == nil || x != nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
	if _, err := ParseManifest(append(bytes.Clone(b), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	auth := bytes.Index(b, m.Authority.Bytes())
	set := func(off int, v []byte) []byte { r := bytes.Clone(b); copy(r[off:], v); return r }
	for name, bad := range map[string][]byte{
		"version 0":               set(0, []byte{0}),
		"identity authority":      set(auth, make([]byte, 32)),
		"non-canonical authority": set(auth, bytes.Repeat([]byte{0xff}, 32)),
		"id length too big":       set(1, []byte{0, 0, 1, 0}),
	} {
		if x, err := ParseManifest(bad); err == nil || x != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestBallotSizeIsExact pins Manifest.BallotSize to real encodings, and the
// manifest rule that keeps every ballot within the board's entry limit.
func TestBallotSizeIsExact(t *testing.T) {
	e := newTestElection(t, "size", shapes, 1)
	b, _ := e.encrypt(t, seeded.Raw("size-enc"), 0, [][]uint32{{0}, {1, 3}, {}, {2}})
	if got, want := len(b.Bytes()), e.m.BallotSize(); got != want {
		t.Fatalf("ballot is %d bytes, BallotSize says %d", got, want)
	}
	big := *e.m
	big.Questions = nil
	for i := 0; i < 8; i++ {
		q := Question{Text: "q", Min: 0, Max: 64}
		for o := 0; o < 64; o++ {
			q.Options = append(q.Options, strings.Repeat("o", o+1))
		}
		big.Questions = append(big.Questions, q)
	}
	if err := big.Validate(); !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), "board's limit") {
		t.Fatalf("oversized ballots accepted: %v", err)
	}
}
