package ballot

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// Every decoder accepts only canonical encodings: whatever parses MUST
// re-encode to exactly the input (parse→marshal is the identity).

// reparse parses data with parse and fails t unless whatever parses
// re-encodes to exactly data; ok says whether it parsed.
func reparse[T interface{ Bytes() []byte }](t *testing.T, parse func([]byte) (T, error), data []byte) (v T, ok bool) {
	v, err := parse(data)
	if err != nil {
		return v, false
	}
	if !bytes.Equal(v.Bytes(), data) {
		t.Fatal("re-encoding differs")
	}
	return v, true
}

func fuzzElection(f *testing.F) (*testElection, *Ballot, *Secrets) {
	e := newTestElection(f, "fuzz", []Question{{Text: "q", Options: []string{"x", "y", "z"}, Min: 0, Max: 2}}, 1)
	b, s := e.encrypt(f, seeded.Raw("fuzz-ballots"), 0, [][]uint32{{0, 2}})
	return e, b, s
}

func FuzzParseManifest(f *testing.F) {
	e, _, _ := fuzzElection(f)
	f.Add(e.m.Bytes())
	f.Add(newTestManifest(f, seeded.Raw("fuzz-m"), "f", shapes).Bytes())
	if v4, err := os.ReadFile(manifest4File); err == nil {
		var v manifest4Vector
		if json.Unmarshal(v4, &v) == nil {
			if b, err := hex.DecodeString(v.Manifest); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := reparse(t, ParseManifest, b)
		if !ok {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatal("parsed manifest does not validate")
		}
	})
}

func FuzzParseBallot(f *testing.F) {
	_, b, _ := fuzzElection(f)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParsedBallot(t, data)
	})
}

// checkParsedBallot: whatever ParseBallot accepts re-encodes to data, and
// its decoded ciphertexts re-encode to the bytes that are hashed.
func checkParsedBallot(t *testing.T, data []byte) *Ballot {
	b, ok := reparse(t, ParseBallot, data)
	if !ok {
		return nil
	}
	for q := range b.qs {
		for _, o := range b.qs[q].opts {
			if !bytes.Equal(o.ct.Bytes(), data[o.off:o.off+CiphertextSize]) {
				t.Fatal("ciphertext offsets")
			}
		}
		if wi := b.qs[q].wi; wi != nil {
			for k, ct := range wi.cts {
				o := wi.off + k*writeInChunkSize
				if !bytes.Equal(ct.Bytes(), data[o:o+CiphertextSize]) {
					t.Fatal("write-in offsets")
				}
			}
		}
	}
	return b
}

func FuzzParseCredentialList(f *testing.F) {
	l, _ := NewCredentialList(pointsFrom(f, seeded.Raw("fuzz-list"), 3))
	f.Add(l.Bytes())
	wl, _ := NewWeightedCredentialList([32]byte{1}, pointsFrom(f, seeded.Raw("fuzz-wlist"), 3), []uint32{1, 7, MaxWeight})
	f.Add(wl.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		l, ok := reparse(t, ParseCredentialList, data)
		if !ok {
			return
		}
		again, err := NewCredentialList(l.Credentials)
		if l.Weights != nil {
			again, err = NewWeightedCredentialList(l.Roll, l.Credentials, l.Weights)
		}
		if err != nil || !bytes.Equal(again.Bytes(), data) {
			t.Fatal("NewCredentialList disagrees with ParseCredentialList")
		}
	})
}

func FuzzParseAuditedBallot(f *testing.F) {
	_, b, s := fuzzElection(f)
	o, _ := b.Open(s)
	f.Add((&AuditedBallot{Ballot: b, Opening: o}).Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		reparse(t, ParseAuditedBallot, data)
	})
}

func FuzzParseCredential(f *testing.F) {
	c, _ := GenerateCredential(seeded.Raw("fuzz-cred"))
	f.Add(c.Text())
	f.Add("abcde-fghjk-mnpqr-stvwx-yz012")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredential(s)
		if err != nil {
			return
		}
		// The canonical text parses to itself.
		d, err := ParseCredential(c.Text())
		if err != nil || d.Text() != c.Text() {
			t.Fatal("canonical text does not round-trip")
		}
	})
}

func FuzzParseKindsBallot(f *testing.F) {
	e := newTestElection(f, "fuzz-kinds", kindQuestions, 1)
	b, _ := e.encryptAnswers(f, seeded.Raw("fuzz-kinds-enc"), 0, kindAnswers)
	f.Add(b.Bytes())
	f.Add(e.m.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseManifest(data); err == nil && !bytes.Equal(m.Bytes(), data) {
			t.Fatal("manifest re-encoding differs")
		}
		b := checkParsedBallot(t, data)
		if b == nil {
			return
		}
		_ = b.Verify(e.m, e.pk) // must not panic on any decodable ballot
		_ = b.Diagnose(e.m, e.pk)
	})
}

// FuzzWriteIn: every text within the bounds encodes and decodes to itself;
// every element list decodes to a text that re-encodes to the same list.
func FuzzWriteIn(f *testing.F) {
	f.Add("Golden Gate", uint32(40))
	f.Add("", uint32(1))
	f.Add("桥", uint32(3))
	f.Fuzz(func(t *testing.T, text string, max uint32) {
		es, err := EncodeWriteIn(text, max)
		if err != nil {
			return
		}
		got, err := DecodeWriteIn(es, max)
		if err != nil || got != text {
			t.Fatalf("%q (max %d): decoded %q, %v", text, max, got, err)
		}
	})
}

// FuzzParseAuditedBallotKinds: the decoder of version-2 openings
// (SPEC.md §12.9) accepts only canonical encodings, and every
// decoded opening verifies or fails without panicking.
func FuzzParseAuditedBallotKinds(f *testing.F) {
	e := newTestElection(f, "fuzz-audit-kinds", kindQuestions, 1)
	b, s := e.encryptAnswers(f, seeded.Raw("fuzz-audit-kinds-enc"), 0, kindAnswers)
	o, _ := b.Open(s)
	f.Add((&AuditedBallot{Ballot: b, Opening: o}).Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if a, ok := reparse(t, ParseAuditedBallot, data); ok {
			_ = VerifyOpening(e.m, e.pk, a.Ballot, a.Opening)
		}
	})
}
