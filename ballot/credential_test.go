package ballot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestCredentialRoundTrip(t *testing.T) {
	rng := seeded.Raw("cred")
	for i := 0; i < 50; i++ {
		c, err := GenerateCredential(rng)
		if err != nil {
			t.Fatal(err)
		}
		txt := c.Text()
		if len(txt) != 29 || strings.Count(txt, "-") != 4 {
			t.Fatalf("bad format %q", txt)
		}
		for _, variant := range []string{txt, strings.ToLower(txt), strings.ReplaceAll(txt, "-", ""), strings.ReplaceAll(txt, "-", " "), " " + txt + " "} {
			p, err := ParseCredential(variant)
			if err != nil {
				t.Fatalf("%q: %v", variant, err)
			}
			if p.Text() != txt {
				t.Fatalf("%q parsed to another credential", variant)
			}
		}
	}
	c, _ := GenerateCredential(rng)
	if s := c.String(); strings.Contains(s, c.Text()[:5]) {
		t.Fatal("String leaks the credential")
	}
}

// TestCredentialChecksum: every single substitution and every adjacent
// transposition of a credential is caught by the check symbol.
func TestCredentialChecksum(t *testing.T) {
	c, _ := GenerateCredential(seeded.Raw("checksum"))
	norm := strings.ReplaceAll(c.Text(), "-", "")
	for i := 0; i < len(norm); i++ {
		for _, a := range CredentialAlphabet {
			if byte(a) == norm[i] {
				continue
			}
			typo := norm[:i] + string(a) + norm[i+1:]
			if _, err := ParseCredential(typo); !errors.Is(err, ErrCredentialChecksum) {
				t.Fatalf("substitution at %d not detected: %v", i, err)
			}
		}
		if i+1 < len(norm) && norm[i] != norm[i+1] {
			swap := norm[:i] + string(norm[i+1]) + string(norm[i]) + norm[i+2:]
			if _, err := ParseCredential(swap); !errors.Is(err, ErrCredentialChecksum) {
				t.Fatalf("transposition at %d not detected: %v", i, err)
			}
		}
	}
}

func TestParseCredentialRejects(t *testing.T) {
	c, _ := GenerateCredential(seeded.Raw("rejects"))
	txt := c.Text()
	for name, s := range map[string]string{
		"empty":      "",
		"short":      txt[:28],
		"long":       txt + "0",
		"letter U":   "U" + txt[1:],
		"underscore": strings.ReplaceAll(txt, "-", "_"),
		"dot":        strings.ReplaceAll(txt, "-", "."),
		"unicode":    "é" + txt[1:],
		"NBSP-like":  strings.ReplaceAll(txt, "-", "\u00b7"), // a middle dot is not a dash
		"huge":       strings.Repeat("-", 1000),
		"48 symbols": txt + txt[:19],
		"nul":        txt[:10] + "\x00" + txt[10:],
	} {
		if _, err := ParseCredential(s); !errors.Is(err, ErrInvalidCredential) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	var zero Credential
	if _, err := zero.Key("e"); err == nil {
		t.Error("zero credential derived a key")
	}
	if _, err := c.Key("Bad_ID"); err == nil {
		t.Error("invalid election id accepted")
	}
}

func TestCredentialKeyBindsElection(t *testing.T) {
	c, _ := GenerateCredential(seeded.Raw("bind"))
	k1, _ := c.Key("election-one")
	k2, _ := c.Key("election-two")
	k1b, _ := c.Key("election-one")
	if k1.Public().Equal(k2.Public()) {
		t.Fatal("one credential gives the same key in two elections")
	}
	if !k1.Public().Equal(k1b.Public()) {
		t.Fatal("derivation is not deterministic")
	}
	lower, _ := ParseCredential(strings.ToLower(c.Text()))
	k3, _ := lower.Key("election-one")
	if !k3.Public().Equal(k1.Public()) {
		t.Fatal("derivation depends on how the credential was typed")
	}
	sig, err := k1.Sign(seeded.Raw("sig"), []byte("msg"))
	if err != nil || k1.PrivateKey() == nil {
		t.Fatal(err)
	}
	_ = sig
}

func TestCredentialList(t *testing.T) {
	rng := seeded.Raw("list")
	pks := pointsFrom(t, rng, 20)
	l, err := NewCredentialList(pks)
	if err != nil {
		t.Fatal(err)
	}
	enc := l.Bytes()
	p, err := ParseCredentialList(enc)
	if err != nil || string(p.Bytes()) != string(enc) || p.Len() != 20 {
		t.Fatal("round trip", err)
	}
	for _, pk := range pks {
		if !p.Contains(pk) {
			t.Fatal("Contains misses a member")
		}
	}
	if p.Contains(pointFrom(t, rng)) {
		t.Fatal("Contains finds a stranger")
	}
	if _, err := NewCredentialList(append(pks, pks[3])); !errors.Is(err, ErrInvalidCredentialList) {
		t.Error("duplicate accepted")
	}
	if _, err := NewCredentialList(append(pks, group.NewElement())); !errors.Is(err, ErrInvalidCredentialList) {
		t.Error("identity accepted")
	}
	if _, err := NewCredentialList(nil); !errors.Is(err, ErrInvalidCredentialList) {
		t.Error("empty list accepted")
	}
	swapped := []byte(string(enc))
	copy(swapped[4:36], enc[36:68])
	copy(swapped[36:68], enc[4:36])
	dup := []byte(string(enc))
	copy(dup[36:68], enc[4:36])
	ident := []byte(string(enc))
	copy(ident[4:36], make([]byte, 32))
	for name, b := range map[string][]byte{
		"unsorted":      swapped,
		"duplicate":     dup,
		"identity":      ident,
		"trailing":      append([]byte(string(enc)), 0),
		"truncated":     enc[:len(enc)-1],
		"count too big": append([]byte{0, 0, 0, 21}, enc[4:]...),
		"empty":         {0, 0, 0, 0},
		"nothing":       nil,
		"huge count":    {0xff, 0xff, 0xff, 0xff},
		"non-canonical": append([]byte{0, 0, 0, 1}, []byte(strings.Repeat("\xff", 32))...),
	} {
		if x, err := ParseCredentialList(b); err == nil || x != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestParseCredentialForms: the forms a voter types or pastes that stand
// unambiguously for one credential all parse to it (SPEC.md §5.1), and a
// character that is none of them is named with its position.
func TestParseCredentialForms(t *testing.T) {
	// A credential with the symbols 0 and 1 in it, to type as O, I and L.
	rng := seeded.Raw("forms")
	var c Credential
	for {
		c, _ = GenerateCredential(rng)
		if strings.Contains(c.Text(), "0") && strings.Contains(c.Text(), "1") {
			break
		}
	}
	txt := c.Text()
	fullWidth := strings.Map(func(r rune) rune { return r + 0xFEE0 }, txt)
	for name, s := range map[string]string{
		"O for 0":          strings.ReplaceAll(txt, "0", "O"),
		"o for 0":          strings.ReplaceAll(txt, "0", "o"),
		"I for 1":          strings.ReplaceAll(txt, "1", "I"),
		"l for 1":          strings.ReplaceAll(txt, "1", "l"),
		"L for 1":          strings.ReplaceAll(txt, "1", "L"),
		"tabs":             strings.ReplaceAll(txt, "-", "\t"),
		"en dashes":        strings.ReplaceAll(txt, "-", "\u2013"),
		"em dashes":        strings.ReplaceAll(txt, "-", "\u2014"),
		"minus signs":      strings.ReplaceAll(txt, "-", "\u2212"),
		"non-breaking":     strings.ReplaceAll(txt, "-", "\u00a0"),
		"ideographic":      strings.ReplaceAll(txt, "-", "\u3000"),
		"newlines":         strings.ReplaceAll(txt, "-", "\r\n"),
		"full-width":       fullWidth,
		"two dashes":       strings.ReplaceAll(txt, "-", "--"),
		"lower look-alike": strings.ToLower(strings.ReplaceAll(txt, "1", "I")),
	} {
		p, err := ParseCredential(s)
		if err != nil {
			t.Errorf("%s: %q: %v", name, s, err)
		} else if p.Text() != txt {
			t.Errorf("%s: %q parsed to another credential", name, s)
		}
	}
	for _, tc := range []struct {
		name string
		in   string
		char rune
		pos  int
	}{
		{"U", "U" + txt[1:], 'U', 1},
		{"u after a dash", txt[:6] + "u" + txt[7:], 'u', 7},
		{"underscore", txt[:5] + "_" + txt[6:], '_', 6},
		{"accent", txt[:2] + "é" + txt[3:], 'é', 3},
		{"after an en dash", txt[:5] + "\u2013" + "#" + txt[7:], '#', 7},
	} {
		_, err := ParseCredential(tc.in)
		var se *SymbolError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidCredential) || se.Char != tc.char || se.Pos != tc.pos {
			t.Errorf("%s: err = %v, want a SymbolError naming %q at %d", tc.name, err, tc.char, tc.pos)
			continue
		}
		if !strings.Contains(err.Error(), strconv.QuoteRune(tc.char)) {
			t.Errorf("%s: %q does not name the character", tc.name, err)
		}
	}
	var le *LengthError
	if _, err := ParseCredential(txt[:23]); !errors.As(err, &le) || le.Got != 20 || le.Want != 25 {
		t.Errorf("short: err = %v, want a LengthError of 20 symbols", err)
	}
}

// TestParseTrackerQuery: the short form and the full tracker as people
// type or paste them (SPEC.md §7.1).
func TestParseTrackerQuery(t *testing.T) {
	tr := TrackerOf([]byte("a ballot"))
	for !strings.ContainsAny(tr.Short(), "01") {
		tr = TrackerOf(tr[:])
	}
	short := tr.Short()
	look := strings.NewReplacer("0", "O", "1", "l").Replace(short)
	for name, s := range map[string]string{
		"as shown":   short,
		"no dash":    strings.ReplaceAll(short, "-", ""),
		"space":      strings.ReplaceAll(short, "-", " "),
		"en dash":    strings.ReplaceAll(short, "-", "\u2013"),
		"lower":      strings.ToLower(short),
		"look-alike": look,
		"padded":     "  " + short + "\n",
	} {
		q, err := ParseTrackerQuery(s)
		if err != nil {
			t.Errorf("%s: %q: %v", name, s, err)
			continue
		}
		if q.Short != short || q.Full != nil || q.String() != short || !q.Matches(tr) || !bytes.Equal(q.Prefix(), tr[:5]) {
			t.Errorf("%s: %q read as %+v", name, s, q)
		}
	}
	for name, s := range map[string]string{
		"hex":       tr.Hex(),
		"upper hex": strings.ToUpper(tr.Hex()),
		"grouped":   tr.Hex()[:32] + " " + tr.Hex()[32:],
	} {
		q, err := ParseTrackerQuery(s)
		if err != nil || q.Full == nil || *q.Full != tr || q.Short != short || q.String() != tr.Hex() || !bytes.Equal(q.Prefix(), tr[:]) {
			t.Errorf("%s: %q read as %+v, %v", name, s, q, err)
		}
	}
	other := tr
	other[31] ^= 1
	if q, _ := ParseTrackerQuery(other.Hex()); q.Matches(tr) {
		t.Error("a full tracker matches another with the same short form")
	}
	for name, tc := range map[string]struct {
		in   string
		char rune
		pos  int
	}{
		"U":          {"K7QF-2MZU", 'U', 9},
		"star":       {"K7*F-2MZX", '*', 3},
		"apostrophe": {"K7QF\u20192MZX", '\u2019', 5},
	} {
		_, err := ParseTrackerQuery(tc.in)
		var se *SymbolError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidTracker) || se.Char != tc.char || se.Pos != tc.pos {
			t.Errorf("%s: err = %v, want a SymbolError naming %q at %d", name, err, tc.char, tc.pos)
		}
	}
	var le *LengthError
	if _, err := ParseTrackerQuery("K7QF-2MZ"); !errors.As(err, &le) || !errors.Is(err, ErrInvalidTracker) || le.Got != 7 {
		t.Errorf("7 symbols: err = %v", err)
	}
	if _, err := ParseTrackerQuery(""); !errors.Is(err, ErrInvalidTracker) {
		t.Errorf("empty: err = %v", err)
	}
}

// TestPeekCredentialList: on every list ParseCredentialList reads, the
// peek gives the same credentials (bytes) and weights, and it refuses
// every framing fault the parser refuses; only the elements' decoding is
// left out (a non-canonical element passes the peek, not the parser).
func TestPeekCredentialList(t *testing.T) {
	pts := pointsFrom(t, seeded.Raw("peek-list"), 5)
	w, _ := NewWeightedCredentialList([32]byte{7}, pts, []uint32{1, 2, 3, 4, MaxWeight})
	u, _ := NewCredentialList(pts)
	for _, l := range []*CredentialList{w, u} {
		b := l.Bytes()
		p, err := ParseCredentialList(b)
		if err != nil {
			t.Fatal(err)
		}
		creds, weights, err := PeekCredentialList(b)
		if err != nil || len(creds) != p.Len() || !slices.Equal(weights, p.Weights) {
			t.Fatalf("version %d: peek %d credentials, weights %v, %v; parse %d, %v", l.Version(), len(creds), weights, err, p.Len(), p.Weights)
		}
		for i, c := range creds {
			if !bytes.Equal(c, p.Credentials[i].Bytes()) {
				t.Fatalf("version %d: credential %d differs", l.Version(), i)
			}
		}
		item := 32
		if l.Version() == CredentialListWeighted {
			item = 36
		}
		swapped := bytes.Clone(b)
		first := len(b) - 5*item
		copy(swapped[first:], b[first+item:first+2*item])
		copy(swapped[first+item:], b[first:first+item])
		zeroCount := bytes.Clone(b)
		binary.BigEndian.PutUint32(zeroCount[first-4:], 0)
		for name, bad := range map[string][]byte{
			"trailing byte": append(bytes.Clone(b), 0),
			"cut short":     b[:len(b)-1],
			"not sorted":    swapped,
			"count 0":       zeroCount[:first],
			"empty":         nil,
			"unknown first": append([]byte{9}, b[1:]...),
		} {
			_, perr := ParseCredentialList(bad)
			_, _, kerr := PeekCredentialList(bad)
			if perr == nil || kerr == nil || perr.Error() != kerr.Error() {
				t.Errorf("version %d, %s: parse %v, peek %v; want the same refusal", l.Version(), name, perr, kerr)
			}
		}
		ff := bytes.Clone(b)
		copy(ff[len(b)-item:], bytes.Repeat([]byte{0xff}, 32))
		if _, err := ParseCredentialList(ff); err == nil {
			t.Fatal("a non-canonical credential parses")
		}
		if _, _, err := PeekCredentialList(ff); err != nil {
			t.Fatalf("the peek decoded an element: %v", err)
		}
	}
}
