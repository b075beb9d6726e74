package ballot

import (
	"errors"
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
		"letter O":   "O" + txt[1:],
		"letter I":   "I" + txt[1:],
		"letter L":   "l" + txt[1:],
		"letter U":   "U" + txt[1:],
		"underscore": strings.ReplaceAll(txt, "-", "_"),
		"dot":        strings.ReplaceAll(txt, "-", "."),
		"tab":        strings.ReplaceAll(txt, "-", "\t"),
		"unicode":    "é" + txt[1:],
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
