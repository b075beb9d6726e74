package ballot

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

const kindsVectorsFile = "testdata/kinds.json"

type kindsBallotVector struct {
	Credential int      `json:"credential"`
	Answers    []Answer `json:"answers"`
	Ballot     string   `json:"ballot"`
	Tracker    string   `json:"tracker"`
	MixRows    []string `json:"mix_rows"` // per question: α || β of each row ciphertext; "" for a selection question
	Plaintexts []string `json:"plaintexts"`
}

type badBallotVector struct {
	What   string `json:"what"`
	Ballot string `json:"ballot"`
	Step   string `json:"step"` // first failing step of docs/spec/kinds.md
}

type writeInVector struct {
	Text     string   `json:"text"`
	Max      uint32   `json:"max"`
	Elements []string `json:"elements"`
}

type kindsVectors struct {
	Comment     string              `json:"comment"`
	Manifest    string              `json:"manifest"`
	Fingerprint string              `json:"fingerprint"`
	ElectionKey string              `json:"election_key"`
	SecretKey   string              `json:"secret_key"` // test only: decrypts the mix rows
	Ballots     []kindsBallotVector `json:"ballots"`
	Bad         []badBallotVector   `json:"bad_ballots"`
	WriteIns    []writeInVector     `json:"write_ins"`
}

func generateKindsVectors(t *testing.T) *kindsVectors {
	e := newTestElection(t, "kinds-vectors", kindQuestions, 2)
	fp := e.m.Fingerprint()
	v := &kindsVectors{
		Comment:     "docs/spec/kinds.md known answers; randomness: SHA-256(seed || u64be counter) blocks, seeds \"kinds-vectors\" (election), \"kinds-vectors-ballots\" and \"kinds-vectors-bad\". Regenerate: go test ./ballot -run TestKindsVectors -update",
		Manifest:    hex.EncodeToString(e.m.Bytes()),
		Fingerprint: hex.EncodeToString(fp[:]),
		ElectionKey: hex.EncodeToString(e.pk.Bytes()),
		SecretKey:   hex.EncodeToString(e.sk.Bytes()),
	}
	rng := seeded.Raw("kinds-vectors-ballots")
	for i, as := range [][]Answer{kindAnswers, {{Choices: []uint32{0}}, {Ranking: []uint32{4, 3, 2, 1, 0}}, {Scores: []uint32{0, 1, 4, 5}}, {}}} {
		b, _ := e.encryptAnswers(t, rng, i, as)
		bv := kindsBallotVector{Credential: i, Answers: as, Ballot: hex.EncodeToString(b.Bytes()), Tracker: b.Tracker().Hex()}
		for q := range e.m.Questions {
			row, err := b.MixRow(e.m, q)
			if err != nil {
				bv.MixRows, bv.Plaintexts = append(bv.MixRows, ""), append(bv.Plaintexts, "")
				continue
			}
			var rb, pb []byte
			for k, ct := range row {
				rb = append(rb, ct.Bytes()...)
				pb = append(pb, decryptRow(e.sk, row)[k].Bytes()...)
			}
			bv.MixRows, bv.Plaintexts = append(bv.MixRows, hex.EncodeToString(rb)), append(bv.Plaintexts, hex.EncodeToString(pb))
		}
		v.Ballots = append(v.Ballots, bv)
	}
	bad := func(what, step string, f func(p []plaintext)) {
		plain := honestPlain(t, e)
		f(plain)
		b, _, err := encryptKinds(seeded.Raw("kinds-vectors-bad"), e.m, e.pk, e.creds[0], plain)
		if err != nil {
			t.Fatal(err)
		}
		v.Bad = append(v.Bad, badBallotVector{What: what, Ballot: hex.EncodeToString(b.Bytes()), Step: step})
	}
	bad("rank 1 given to options 0 and 1", "V8.8.2", func(p []plaintext) { p[1].vals = rankMatrix([2]int{0, 0}, [2]int{1, 0}) })
	bad("option 2 ranked 1st and 2nd", "V8.8.2", func(p []plaintext) { p[1].vals = rankMatrix([2]int{2, 0}, [2]int{2, 1}) })
	bad("ranks 1 and 3 without 2", "V8.8.2", func(p []plaintext) { p[1].vals = rankMatrix([2]int{0, 0}, [2]int{1, 2}) })
	bad("entry (3, 0) encrypts 2", "V8.8.1", func(p []plaintext) { p[1].vals = rankMatrix([2]int{3, 0}, [2]int{3, 0}) })
	bad("no option ranked, at least 1 required", "V8.8.2", func(p []plaintext) { p[1].vals = rankMatrix() })
	bad("option 1 scored 6 of at most 5", "V8.9.1", func(p []plaintext) { p[2].vals = []uint64{1, 6, 1, 1} })
	bad("write-in of 3 chunks for a 2-chunk question", "V8.3", func(p []plaintext) { p[3].elems, _ = EncodeWriteIn("x", 70) })
	// A write-in chunk whose response is off by one.
	b, _ := e.encryptAnswers(t, seeded.Raw("kinds-vectors-bad"), 1, kindAnswers)
	raw := b.Bytes()
	o := b.qs[3].wi.off + 3*group.Size
	s := group.NewScalar().Add(b.qs[3].wi.s[0], group.ScalarFromUint64(1))
	copy(raw[o:], s.Bytes())
	v.Bad = append(v.Bad, badBallotVector{What: "write-in chunk 0 response altered", Ballot: hex.EncodeToString(raw), Step: "V8.10.1"})
	for _, w := range []writeInVector{{Text: "", Max: 1}, {Text: "Golden Gate", Max: 29}, {Text: "Brücke der Einheit 桥", Max: 40}, {Text: "twenty-nine bytes long......!", Max: 30}} {
		es, err := EncodeWriteIn(w.Text, w.Max)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range es {
			w.Elements = append(w.Elements, hex.EncodeToString(x.Bytes()))
		}
		v.WriteIns = append(v.WriteIns, w)
	}
	return v
}

// TestKindsVectors fails if the generator's output differs from the pinned
// file, and checks the pinned objects with the verifier and decoder alone.
func TestKindsVectors(t *testing.T) {
	var v kindsVectors
	pinVectors(t, kindsVectorsFile, generateKindsVectors(t), &v)
	m, pk := pinnedElection(t, v.Manifest, v.ElectionKey)
	sk, err := group.DecodeScalar(golden.Hex(t, v.SecretKey))
	if err != nil || !group.NewElement().ScalarBaseMult(sk).Equal(pk) {
		t.Fatal("secret key")
	}
	for i, bv := range v.Ballots {
		b, err := ParseBallot(golden.Hex(t, bv.Ballot))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Verify(m, pk); err != nil || b.Tracker().Hex() != bv.Tracker {
			t.Fatalf("ballot %d: %v", i, err)
		}
		for q := range m.Questions {
			if bv.MixRows[q] == "" {
				continue
			}
			row, _ := b.MixRow(m, q)
			var rb []byte
			for _, ct := range row {
				rb = append(rb, ct.Bytes()...)
			}
			if hex.EncodeToString(rb) != bv.MixRows[q] {
				t.Fatalf("ballot %d question %d: mix row", i, q)
			}
			a, err := m.DecodeRow(q, decryptRow(sk, row))
			if err != nil {
				t.Fatal(err)
			}
			wantA := bv.Answers[q]
			if !slices.Equal(a.Ranking, wantA.Ranking) || !slices.Equal(a.Scores, wantA.Scores) || a.Text != wantA.Text {
				t.Fatalf("ballot %d question %d: decoded %+v, want %+v", i, q, a, wantA)
			}
		}
	}
	for _, bv := range v.Bad {
		b, err := ParseBallot(golden.Hex(t, bv.Ballot))
		if err != nil {
			t.Fatalf("%s: %v", bv.What, err)
		}
		if err := b.Verify(m, pk); !errors.Is(err, ErrInvalidProof) && !errors.Is(err, ErrShape) {
			t.Fatalf("%s: Verify = %v", bv.What, err)
		}
		if f := b.Diagnose(m, pk); f == nil || f.Step != bv.Step {
			t.Fatalf("%s: Diagnose = %v, want %s", bv.What, f, bv.Step)
		}
	}
	for _, w := range v.WriteIns {
		var es []*group.Element
		for _, x := range w.Elements {
			e, err := group.DecodeElement(golden.Hex(t, x))
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
		if text, err := DecodeWriteIn(es, w.Max); err != nil || text != w.Text {
			t.Fatalf("write-in %q: %q, %v", w.Text, text, err)
		}
	}
}
