package ballot

import (
	"bytes"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// Audits of version-2 ballots (SPEC.md §12.9).

const auditKindsFile = "testdata/audit_kinds.json"

// kindsAudit returns the election of kindQuestions, a ballot of kindAnswers
// and its opening.
func kindsAudit(t *testing.T) (*testElection, *Ballot, *Secrets, *Opening) {
	t.Helper()
	e := newTestElection(t, "kinds-vectors", kindQuestions, 2)
	b, s := e.encryptAnswers(t, seeded.Raw("audit-kinds"), 0, kindAnswers)
	o, err := b.Open(s)
	if err != nil {
		t.Fatal(err)
	}
	return e, b, s, o
}

func TestAuditKinds(t *testing.T) {
	e, b, s, o := kindsAudit(t)
	if err := VerifyOpening(e.m, e.pk, b, o); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"chen"}, {"west", "north", "river"}, {"tram: 5", "bus: 0", "bikes: 3", "walk: 2"}, {"Brücke der Einheit 桥"}}
	if got := o.Selections(e.m); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("selections %q", got)
	}
	enc := (&AuditedBallot{Ballot: b, Opening: o}).Bytes()
	p, err := ParseAuditedBallot(enc)
	if err != nil || !bytes.Equal(p.Bytes(), enc) {
		t.Fatal("audited ballot round trip", err)
	}
	if err := VerifyOpening(e.m, e.pk, p.Ballot, p.Opening); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(p.Opening.Answers, kindAnswers, answerEqual) {
		t.Fatalf("decoded answers %+v", p.Opening.Answers)
	}
	// The size of §12.9's table: 4 + (1+4+33·3) + (1+12+4·3+32·25) + (1+4+36·4) + (1+4+62·2).
	if got, want := len(enc)-4-len(b.raw), 4+104+825+149+129; got != want {
		t.Errorf("opening of %d bytes, want %d", got, want)
	}

	// Secrets of another ballot.
	other, s2 := e.encryptAnswers(t, seeded.Raw("audit-kinds-2"), 1, kindAnswers)
	if _, err := b.Open(s2); !errors.Is(err, ErrOpeningMismatch) {
		t.Error("opened a ballot with another ballot's secrets")
	}
	o2, _ := other.Open(s2)
	if err := VerifyOpening(e.m, e.pk, b, o2); !errors.Is(err, ErrOpeningMismatch) {
		t.Error("another ballot's opening (same answers) accepted")
	}
	// The audit entry of a version-2 ballot (SPEC.md §12.10) has its tracker.
	if a, err := b.Audit(s); err != nil || a.Tracker() != b.Tracker() {
		t.Errorf("Audit of a version-2 ballot: %v", err)
	}
}

func answerEqual(a, b Answer) bool {
	return slices.Equal(a.Choices, b.Choices) && slices.Equal(a.Ranking, b.Ranking) && slices.Equal(a.Scores, b.Scores) && a.Text == b.Text
}

// lie is an opening of the ballot of kindsAudit changed by f, and the step
// that must reject it.
type lie struct {
	what, step string
	f          func(o *Opening)
}

var kindsLies = []lie{
	{"ranking: north and west swapped", "V9.3", func(o *Opening) { o.Answers[1].Ranking = []uint32{0, 3, 4} }},
	{"ranking: one option fewer", "V9.3", func(o *Opening) { o.Answers[1].Ranking = []uint32{3, 0} }},
	{"ranking: an option twice", "V9.2", func(o *Opening) { o.Answers[1].Ranking = []uint32{3, 3, 4} }},
	{"grade of tram 4, not 5", "V9.3", func(o *Opening) { o.Answers[2].Scores[0] = 4 }},
	{"grade of bus 6, above the maximum 5", "V9.2", func(o *Opening) { o.Answers[2].Scores[1] = 6 }},
	{"write-in text changed", "V9.3", func(o *Opening) { o.Answers[3].Text = "Brücke der Einheit 桤" }},
	{"write-in text of 41 bytes, above the maximum 40", "V9.2", func(o *Opening) { o.Answers[3].Text = strings.Repeat("x", 41) }},
	{"selection changed", "V9.3", func(o *Opening) { o.Answers[0].Choices = []uint32{1} }},
	{"randomness of entry (option 0, rank 0) plus one", "V9.3", func(o *Opening) {
		o.Randomness[1][0] = group.NewScalar().Add(o.Randomness[1][0], group.ScalarFromUint64(1))
	}},
	{"randomness of write-in chunk 1 of another chunk", "V9.3", func(o *Opening) { o.Randomness[3][1] = o.Randomness[3][0] }},
}

// TestAttackOpeningLies: a device that encrypted one ranking, grade or text
// and shows another (with the ballot's randomness, or any other) is caught
// at V9.3; an answer the question does not allow, at V9.2. Each lie is
// also checked through its encoding, as an observer reading the board sees it.
func TestAttackOpeningLies(t *testing.T) {
	e, b, s, _ := kindsAudit(t)
	for _, l := range kindsLies {
		o, _ := b.Open(s)
		l.f(o)
		err := VerifyOpening(e.m, e.pk, b, o)
		if !errors.Is(err, ErrOpeningMismatch) || !strings.Contains(err.Error(), l.step+":") {
			t.Errorf("%s: %v, want %s", l.what, err, l.step)
		}
		p, err := ParseAuditedBallot((&AuditedBallot{Ballot: b, Opening: o}).Bytes())
		if err != nil {
			t.Fatalf("%s: %v", l.what, err)
		}
		if err := VerifyOpening(e.m, e.pk, p.Ballot, p.Opening); !errors.Is(err, ErrOpeningMismatch) {
			t.Errorf("%s, decoded: %v", l.what, err)
		}
	}
}

// malformedKindsOpenings are encodings ParseAuditedBallot MUST reject.
func malformedKindsOpenings(t *testing.T, b *Ballot, s *Secrets) map[string][]byte {
	t.Helper()
	enc := func(f func(o *Opening)) []byte {
		o, _ := b.Open(s)
		f(o)
		return (&AuditedBallot{Ballot: b, Opening: o}).Bytes()
	}
	good := enc(func(*Opening) {})
	at := 4 + len(b.raw) // the opening
	kind := bytes.Clone(good)
	kind[at+4+104] = uint8(KindScore) // question 1's kind byte
	ranks := bytes.Clone(good)
	ranks[at+4+104+8] = 4 // question 1's k
	flag := bytes.Clone(good)
	flag[at+4+5] = 2
	pad := bytes.Clone(good)
	pad[len(pad)-33] = 1 // the last byte of the last chunk text
	return map[string][]byte{
		"kind of question 1 altered":     kind,
		"ranks of question 1 altered":    ranks,
		"selection flag 2":               flag,
		"write-in padding not zero":      pad,
		"ranking of 6 options, k = 5":    enc(func(o *Opening) { o.Answers[1].Ranking = []uint32{0, 1, 2, 3, 4, 0} }),
		"ranked option 5 of 5":           enc(func(o *Opening) { o.Answers[1].Ranking = []uint32{5} }),
		"write-in not UTF-8":             enc(func(o *Opening) { o.Answers[3].Text = "\xff" }),
		"trailing byte":                  append(bytes.Clone(good), 0),
		"truncated":                      good[:len(good)-1],
		"no opening":                     good[:at],
		"non-canonical scalar":           func() []byte { x := bytes.Clone(good); copy(x[len(x)-32:], bytes.Repeat([]byte{0xff}, 32)); return x }(),
		"a version-1 opening, v2 ballot": enc(func(o *Opening) { o.shape = nil }),
	}
}

func TestAuditKindsDecoderRejects(t *testing.T) {
	_, b, s, _ := kindsAudit(t)
	for name, x := range malformedKindsOpenings(t, b, s) {
		if a, err := ParseAuditedBallot(x); err == nil || a != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type auditKindsVector struct {
	What          string `json:"what"`
	AuditedBallot string `json:"audited_ballot"`
	Step          string `json:"step"` // "" if valid; "decode", "V9.2" or "V9.3"
}

// audit2Vector is an audit entry's body (SPEC.md §12.10) and the tracker
// a verifier computes for it (empty when it does not decode).
type audit2Vector struct {
	What    string `json:"what"`
	Audit   string `json:"audit"`
	Tracker string `json:"tracker,omitempty"`
	Step    string `json:"step"` // "" if valid; "decode", "V9.1.1", "V9.1.2", "V9.1.3", "V9.2" or "V9.3"
}

type auditKindsVectors struct {
	Comment     string             `json:"comment"`
	Manifest    string             `json:"manifest"`
	ElectionKey string             `json:"election_key"`
	Answers     []Answer           `json:"answers"`
	Audits      []auditKindsVector `json:"audited_ballots"`
	// BallotTracker is the tracker of the audited ballot (SPEC.md §12.10),
	// which the honest audit2 has too.
	BallotTracker string         `json:"ballot_tracker"`
	Audits2       []audit2Vector `json:"audits"`
}

func generateAuditKindsVectors(t *testing.T) *auditKindsVectors {
	e, b, s, o := kindsAudit(t)
	v := &auditKindsVectors{
		Comment:     "SPEC.md §12.9 audited version-2 ballots and §12.10 audits (type 13) of the same ballot: the first of each is valid and opens to answers; the others are rejected at step (an audit's \"decode\" is V9.1.1; \"V9.1.1\" marks a version-1 audit, which a verifier choosing the layout by the manifest also fails to decode as audit2). Election of kinds.json (seed \"kinds-vectors\"), ballot seed \"audit-kinds\". Regenerate: go test ./ballot -run TestAuditKindsVectors -update",
		Manifest:    hex.EncodeToString(e.m.Bytes()),
		ElectionKey: hex.EncodeToString(e.pk.Bytes()),
		Answers:     kindAnswers,
	}
	add := func(what, step string, data []byte) {
		v.Audits = append(v.Audits, auditKindsVector{What: what, AuditedBallot: hex.EncodeToString(data), Step: step})
	}
	add("honest", "", (&AuditedBallot{Ballot: b, Opening: o}).Bytes())
	for _, l := range kindsLies {
		lo, _ := b.Open(s)
		l.f(lo)
		add(l.what, l.step, (&AuditedBallot{Ballot: b, Opening: lo}).Bytes())
	}
	bad := malformedKindsOpenings(t, b, s)
	for _, name := range slices.Sorted(maps.Keys(bad)) {
		add(name, "decode", bad[name])
	}
	v.BallotTracker = b.Tracker().Hex()
	v.Audits2 = audit2Vectors(t, e, b, s)
	return v
}

// audit2Vectors are the audit2 vectors of audit_kinds.json: the honest
// audit, every lie, another voter's choices with a made-up opening, an
// audit of another election or shape, and every malformed encoding.
func audit2Vectors(t *testing.T, e *testElection, b *Ballot, s *Secrets) []audit2Vector {
	var out []audit2Vector
	add := func(what, step string, data []byte) {
		vec := audit2Vector{What: what, Audit: hex.EncodeToString(data), Step: step}
		if a, err := ParseAudit(data); err == nil && a.Version() == BallotVersionKinds {
			vec.Tracker = a.Tracker().Hex()
		}
		out = append(out, vec)
	}
	a, _ := b.Audit(s)
	add("honest", "", a.Bytes())
	for _, l := range kindsLies {
		la, _ := b.Audit(s)
		l.f(la.Opening)
		add(l.what, l.step, la.Bytes())
	}
	other, os := e.encryptAnswers(t, seeded.Raw("audit2-attacker"), 1, kindAnswers)
	c, _ := choicesOfBallot(b.raw)
	add("choices of the audited ballot, opening of another ballot with the same answers", "V9.3", append(slices.Clone(c), other.openingBytes(t, os)...))
	_, v1 := v1Audit(t)
	add("a version-1 audit (SPEC.md §7.3) in a version-3 election", "V9.1.1", v1.Bytes())
	fp := bytes.Clone(a.Bytes())
	fp[0] ^= 1
	add("fingerprint of another election", "V9.1.2", fp)
	bad := malformedAudits2(t, b, s)
	for _, name := range slices.Sorted(maps.Keys(bad)) {
		add(name, "decode", bad[name])
	}
	return out
}

// TestAuditKindsVectors pins audit_kinds.json and checks every vector with
// the decoder and verifier alone.
func TestAuditKindsVectors(t *testing.T) {
	var v auditKindsVectors
	pinVectors(t, auditKindsFile, generateAuditKindsVectors(t), &v)
	m, pk := pinnedElection(t, v.Manifest, v.ElectionKey)
	for _, a := range v.Audits {
		p, err := ParseAuditedBallot(unhex(t, a.AuditedBallot))
		if a.Step == "decode" {
			if err == nil {
				t.Errorf("%s: decoded", a.What)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", a.What, err)
		}
		err = VerifyOpening(m, pk, p.Ballot, p.Opening)
		switch {
		case a.Step == "" && err != nil:
			t.Errorf("%s: %v", a.What, err)
		case a.Step == "" && !slices.EqualFunc(p.Opening.Answers, v.Answers, answerEqual):
			t.Errorf("%s: answers %+v", a.What, p.Opening.Answers)
		case a.Step != "" && (err == nil || !strings.Contains(err.Error(), a.Step+":")):
			t.Errorf("%s: %v, want %s", a.What, err, a.Step)
		}
	}
	if len(v.Audits2) == 0 || v.Audits2[0].Tracker != v.BallotTracker {
		t.Fatal("the honest audit2 does not have the ballot's tracker")
	}
	for _, a := range v.Audits2 {
		p, err := ParseAudit(unhex(t, a.Audit))
		if a.Step == "decode" {
			if err == nil || a.Tracker != "" {
				t.Errorf("audit2 %s: decoded", a.What)
			}
			continue
		}
		if err != nil {
			t.Fatalf("audit2 %s: %v", a.What, err)
		}
		if p.Version() == BallotVersionKinds && p.Tracker().Hex() != a.Tracker {
			t.Errorf("audit2 %s: tracker %s", a.What, p.Tracker().Hex())
		}
		err = VerifyAudit(m, pk, p)
		switch {
		case a.Step == "" && err != nil:
			t.Errorf("audit2 %s: %v", a.What, err)
		case a.Step == "" && !slices.EqualFunc(p.Opening.Answers, v.Answers, answerEqual):
			t.Errorf("audit2 %s: answers %+v", a.What, p.Opening.Answers)
		case a.Step != "" && (err == nil || !strings.Contains(err.Error(), a.Step+":")):
			t.Errorf("audit2 %s: %v, want %s", a.What, err, a.Step)
		}
	}
}
