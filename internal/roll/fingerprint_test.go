package roll

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// The pinned vector of SPEC.md §5.4: a verifier in another language MUST
// get the same bytes.
const (
	vectorRoll = "voter_id,name,contact,weight\n" +
		"b2,Bo,bo@example.org,1\n" +
		"a1,An,,3\n"
	vectorFingerprint = "1900a382de4693db7e6021f8779329bad2a3e8fecf4562e15c41fd2b41340096"
)

func TestFingerprintVector(t *testing.T) {
	vs, err := Parse(strings.NewReader(vectorRoll))
	if err != nil {
		t.Fatal(err)
	}
	fp := Fingerprint(vs)
	if got := hex.EncodeToString(fp[:]); got != vectorFingerprint {
		t.Fatalf("fingerprint %s, want %s", got, vectorFingerprint)
	}
}

func TestFingerprintBytes(t *testing.T) {
	// The exact preimage of SPEC.md §5.4, written out.
	vs := []Voter{{ID: "b2", Weight: 1}, {ID: "a1", Weight: 3}}
	pre := "\x00\x00\x00\x08" + "\x00\x00\x00\x00\x00\x00\x00\x02" +
		"\x00\x00\x00\x02a1" + "\x00\x00\x00\x08" + "\x00\x00\x00\x00\x00\x00\x00\x03" +
		"\x00\x00\x00\x02b2" + "\x00\x00\x00\x08" + "\x00\x00\x00\x00\x00\x00\x00\x01"
	want := sha256Hex("\x00\x00\x00\x12" + "urna/v1/voter-roll" + pre)
	fp := Fingerprint(vs)
	if got := hex.EncodeToString(fp[:]); got != want {
		t.Fatalf("fingerprint %s, want %s", got, want)
	}
}

func TestFingerprintCovers(t *testing.T) {
	base := []Voter{{ID: "a1", Name: "An", Weight: 3}, {ID: "b2", Contact: "bo@example.org", Weight: 1}}
	fp := Fingerprint(base)
	// Order, names and contacts are not part of it.
	if Fingerprint([]Voter{{ID: "b2", Weight: 1}, {ID: "a1", Weight: 3, Name: "Other"}}) != fp {
		t.Fatal("fingerprint depends on order, names or contacts")
	}
	for name, vs := range map[string][]Voter{
		"weight":    {{ID: "a1", Weight: 2}, {ID: "b2", Weight: 1}},
		"id":        {{ID: "a1", Weight: 3}, {ID: "b3", Weight: 1}},
		"one fewer": {{ID: "a1", Weight: 3}},
		"one more":  {{ID: "a1", Weight: 3}, {ID: "b2", Weight: 1}, {ID: "c", Weight: 1}},
		// Length prefixes keep "a1"+"b2" apart from "a"+"1b2".
		"split": {{ID: "a", Weight: 3}, {ID: "1b2", Weight: 1}},
	} {
		if Fingerprint(vs) == fp {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestFormatPublic(t *testing.T) {
	vs, err := Parse(strings.NewReader(vectorRoll))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(FormatPublic(vs)); got != "voter_id,weight\na1,3\nb2,1\n" {
		t.Fatalf("%q", got)
	}
}
