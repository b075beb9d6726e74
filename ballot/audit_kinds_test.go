package ballot

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/internal/transcript"
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
		p, err := ParseAuditedBallot(golden.Hex(t, a.AuditedBallot))
		if a.Step == "decode" {
			if err == nil {
				t.Errorf("%s: decoded", a.What)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", a.What, err)
		}
		checkVerdict(t, a.What, a.Step, VerifyOpening(m, pk, p.Ballot, p.Opening), p.Opening, v.Answers)
	}
	if len(v.Audits2) == 0 || v.Audits2[0].Tracker != v.BallotTracker {
		t.Fatal("the honest audit2 does not have the ballot's tracker")
	}
	for _, a := range v.Audits2 {
		p, err := ParseAudit(golden.Hex(t, a.Audit))
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
		checkVerdict(t, "audit2 "+a.What, a.Step, VerifyAudit(m, pk, p), p.Opening, v.Answers)
	}
}

// checkVerdict checks the verifier's err on a vector against its step: ""
// (valid, and the opening is of answers) or the step err names.
func checkVerdict(t *testing.T, what, step string, err error, o *Opening, answers []Answer) {
	t.Helper()
	switch {
	case step == "" && err != nil:
		t.Errorf("%s: %v", what, err)
	case step == "" && !slices.EqualFunc(o.Answers, answers, answerEqual):
		t.Errorf("%s: answers %+v", what, o.Answers)
	case step != "" && (err == nil || !strings.Contains(err.Error(), step+":")):
		t.Errorf("%s: %v, want %s", what, err, step)
	}
}

// The audit (type 13) of version-2 ballots, audit2 (SPEC.md §12.10).

// kindsAudit2 returns the election, ballot and secrets of kindsAudit and
// the audit2 of the ballot (b.Audit succeeds: TestAudit2).
func kindsAudit2(t *testing.T) (*testElection, *Ballot, *Secrets, *Audit) {
	t.Helper()
	e, b, s, _ := kindsAudit(t)
	a, _ := b.Audit(s)
	return e, b, s, a
}

func TestAudit2(t *testing.T) {
	e, b, s, a := kindsAudit2(t)
	if a == nil {
		t.Fatal("Audit of a version-2 ballot failed")
	}
	if a.Version() != BallotVersionKinds || a.Tracker() != b.Tracker() {
		t.Fatalf("audit2 version %d, tracker %s; ballot's %s", a.Version(), a.Tracker(), b.Tracker())
	}
	if err := VerifyAudit(e.m, e.pk, a); err != nil {
		t.Fatal(err)
	}
	enc := a.Bytes()
	p, err := ParseAudit(enc)
	if err != nil || !bytes.Equal(p.Bytes(), enc) || p.Tracker() != b.Tracker() {
		t.Fatal("audit2 round trip", err)
	}
	if err := VerifyAudit(e.m, e.pk, p); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(p.Opening.Answers, kindAnswers, answerEqual) {
		t.Fatalf("decoded answers %+v", p.Opening.Answers)
	}
	want := [][]string{{"chen"}, {"west", "north", "river"}, {"tram: 5", "bus: 0", "bikes: 3", "walk: 2"}, {"Brücke der Einheit 桥"}}
	if got := p.Opening.Selections(e.m); !slices.EqualFunc(got, want, slices.Equal) || !p.Opening.Fits(e.m) {
		t.Fatalf("selections %q", got)
	}
	// The sizes of §12.10's choices2 and §12.9's opening; the audit of
	// this ballot is as large as MaxAuditSize says for the longest ranking
	// less the two ranks it leaves out.
	choices := 32 + 4 + (1 + 4 + 64*3) + (1 + 8 + 64*25) + (1 + 4 + 64*4) + (1 + 4 + 64*2)
	opening := len(b.openingBytes(t, s))
	if len(enc) != choices+opening || len(enc) != e.m.MaxAuditSize()-4*2 {
		t.Errorf("audit2 of %d bytes, want %d + %d, max %d", len(enc), choices, opening, e.m.MaxAuditSize())
	}
	// choices2 are the audit's first bytes and what the ballot's tracker hashes.
	c, ok := choicesOfBallot(b.raw)
	if !ok || !bytes.Equal(enc[:len(c)], c) || len(c) != choices {
		t.Fatal("choices2 of the ballot are not the audit's first bytes")
	}
	if Tracker(transcript.New(transcript.KindChoicesTracker).Bytes(c).Digest()) != b.Tracker() {
		t.Fatal("the version-2 tracker is not Digest(kind-choices-tracker; choices2)")
	}
	// Domain separation: choices2 under the version-1 label is another tracker.
	if Tracker(transcript.New(transcript.ChoicesTracker).Bytes(c).Digest()) == b.Tracker() {
		t.Fatal("version-2 tracker under the version-1 label")
	}
	// Secrets of another ballot.
	_, s2 := e.encryptAnswers(t, seeded.Raw("audit-kinds-2"), 1, kindAnswers)
	if _, err := b.Audit(s2); !errors.Is(err, ErrOpeningMismatch) {
		t.Error("audited a ballot with another ballot's secrets")
	}
}

// openingBytes is the §12.9 opening of b.
func (b *Ballot) openingBytes(t *testing.T, s *Secrets) []byte {
	t.Helper()
	o, err := b.Open(s)
	if err != nil {
		t.Fatal(err)
	}
	return o.Bytes()
}

// TestTrackerV2BindsChoicesOnly: the tracker of a version-2 ballot hashes
// its kinds, counts and ciphertexts and nothing else: a byte of a proof,
// of a write-in's t or s, or of the credential changes the ballot but not
// the tracker TrackerOf reads (so a replay with fresh proofs is caught by
// V10.3); a byte of a ciphertext changes it.
func TestTrackerV2BindsChoicesOnly(t *testing.T) {
	_, b, _, _ := kindsAudit(t)
	same := func(off int) bool {
		x := bytes.Clone(b.raw)
		x[off] ^= 1
		return TrackerOf(x) == b.Tracker()
	}
	wi := b.qs[3].wi
	for name, off := range map[string]int{
		"credential":                 40,
		"selection option 0 proof":   b.qs[0].opts[0].off + CiphertextSize + 5,
		"ranking row 0 proof":        b.qs[1].sums[0].off + 5,
		"ranking total proof":        b.qs[1].sums[len(b.qs[1].sums)-1].off + 5,
		"score 1 proof":              b.qs[2].opts[1].off + CiphertextSize + 5,
		"write-in chunk 1 t":         wi.off + writeInChunkSize + CiphertextSize + 3,
		"write-in chunk 0 s (low)":   wi.off + CiphertextSize + group.Size,
		"selection range proof (a)":  b.qs[0].rngOff + 3,
		"ranking entry (2, 1) proof": b.qs[1].opts[2*5+1].off + CiphertextSize + 200,
	} {
		if !same(off) {
			t.Errorf("%s changes the tracker", name)
		}
	}
	for name, off := range map[string]int{
		"fingerprint":            3,
		"selection option 2 β":   b.qs[0].opts[2].off + 40,
		"ranking entry (4, 4) α": b.qs[1].opts[24].off + 1,
		"score 3 β":              b.qs[2].opts[3].off + 63,
		"write-in chunk 1 α":     wi.off + writeInChunkSize + 2,
	} {
		if same(off) {
			t.Errorf("%s does not change the tracker", name)
		}
	}
}

// TestAttackAudit2Lies: every lie of kindsLies posted as an audit2 (an
// opening for other answers) is caught at its step, from the audit's bytes
// as an observer reads them.
func TestAttackAudit2Lies(t *testing.T) {
	e, b, s, _ := kindsAudit2(t)
	for _, l := range kindsLies {
		a, _ := b.Audit(s)
		l.f(a.Opening)
		p, err := ParseAudit(a.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", l.what, err)
		}
		if err := VerifyAudit(e.m, e.pk, p); !errors.Is(err, ErrOpeningMismatch) || !strings.Contains(err.Error(), l.step+":") {
			t.Errorf("%s: %v, want %s", l.what, err, l.step)
		}
	}
}

// TestAttackAudit2CopiedChoices: the choices of another voter's cast
// ballot (public on the board) with an opening made up for them (the
// attacker's own answers and randomness) fail V9.3; they carry the other
// ballot's tracker, which the rules refuse anyway (it is on the board).
func TestAttackAudit2CopiedChoices(t *testing.T) {
	e, victim, _, _ := kindsAudit(t)
	mine, ms := e.encryptAnswers(t, seeded.Raw("audit2-attacker"), 1, kindAnswers)
	c, _ := choicesOfBallot(victim.raw)
	forged := append(bytes.Clone(c), mine.openingBytes(t, ms)...)
	a, err := ParseAudit(forged)
	if err != nil {
		t.Fatal(err)
	}
	if a.Tracker() != victim.Tracker() {
		t.Fatal("copied choices have another tracker")
	}
	if err := VerifyAudit(e.m, e.pk, a); !errors.Is(err, ErrOpeningMismatch) || !strings.Contains(err.Error(), "V9.3:") {
		t.Fatalf("copied choices with a made-up opening: %v", err)
	}
}

// TestAttackAudit2Layout: an audit of the other layout for the manifest (a
// §7.3 audit for a version-3 manifest, an audit2 for a version-1 one) and
// an audit2 of another shape fail V9.1.
func TestAttackAudit2Layout(t *testing.T) {
	e, _, _, a2 := kindsAudit2(t)
	v1, a1 := v1Audit(t)
	if err := VerifyAudit(e.m, e.pk, a1); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "V9.1.1") {
		t.Errorf("a version-1 audit for a version-3 manifest: %v", err)
	}
	if err := VerifyAudit(v1.m, v1.pk, a2); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "V9.1.1") {
		t.Errorf("an audit2 for a version-1 manifest: %v", err)
	}
	other := newTestElection(t, "kinds-other", kindQuestions, 1)
	if err := VerifyAudit(other.m, other.pk, a2); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "V9.1.2") {
		t.Errorf("an audit2 of another election: %v", err)
	}
	qs := slices.Clone(kindQuestions)
	qs[1].Max = 4 // k = 4
	shaped := newTestElection(t, "kinds-vectors", qs, 1)
	if err := VerifyAudit(shaped.m, shaped.pk, a2); !errors.Is(err, ErrShape) {
		t.Errorf("an audit2 of another shape: %v", err)
	}
}

// v1Audit returns a version-1 election and the §7.3 audit of a ballot.
func v1Audit(t testing.TB) (*testElection, *Audit) {
	t.Helper()
	e := newTestElection(t, "fuzz", []Question{{Text: "q", Options: []string{"x", "y", "z"}, Min: 0, Max: 2}}, 1)
	b, s := e.encrypt(t, seeded.Raw("fuzz-ballots"), 0, [][]uint32{{0, 2}})
	a, err := b.Audit(s)
	if err != nil {
		t.Fatal(err)
	}
	return e, a
}

// malformedAudits2 are audit2 encodings ParseAudit MUST reject.
func malformedAudits2(t *testing.T, b *Ballot, s *Secrets) map[string][]byte {
	t.Helper()
	a, err := b.Audit(s)
	if err != nil {
		t.Fatal(err)
	}
	good := a.Bytes()
	c, _ := choicesOfBallot(b.raw)
	q1 := 32 + 4 + 1 + 4 + 64*3 // question 1's kind byte in choices2
	set := func(off int, v ...byte) []byte {
		x := bytes.Clone(good)
		copy(x[off:], v)
		return x
	}
	u32 := func(off int, v uint32) []byte {
		return set(off, binary.BigEndian.AppendUint32(nil, v)...)
	}
	at := len(c) // the opening
	return map[string][]byte{
		"choices2: no questions":                u32(32, 0),
		"choices2: 65 questions":                u32(32, 65),
		"choices2: kind 4":                      set(q1, 4),
		"choices2: kind of question 1 is score": set(q1, uint8(KindScore)),
		"choices2: ranks 6 of 5 options":        u32(q1+5, 6),
		"choices2: 0 ranks":                     u32(q1+5, 0),
		"choices2: ranks 4 (opening says 5)":    u32(q1+5, 4),
		"choices2: 1 option":                    u32(32+4+1, 1),
		"choices2: 10 write-in chunks":          u32(len(c)-2*64-4, 10),
		"choices2: α the identity":              set(32+4+1+4, make([]byte, 32)...),
		"choices2: β not canonical":             set(32+4+1+4+32, bytes.Repeat([]byte{0xff}, 32)...),
		"opening: 3 questions":                  u32(at, 3),
		"opening: kind of question 0":           set(at+4, uint8(KindRanked)),
		"opening: selection flag 2":             set(at+4+5, 2),
		"opening: write-in padding not zero":    set(len(good)-33, 1),
		"opening: scalar not canonical":         set(len(good)-32, bytes.Repeat([]byte{0xff}, 32)...),
		"truncated by one byte":                 good[:len(good)-1],
		"choices2 only":                         good[:at],
		"trailing byte":                         append(bytes.Clone(good), 0),
		"a version-1 opening after choices2":    append(bytes.Clone(c), func() []byte { o, _ := b.Open(s); o.shape = nil; return o.Bytes() }()...),
	}
}

func TestAudit2DecoderRejects(t *testing.T) {
	_, b, s, _ := kindsAudit(t)
	for name, x := range malformedAudits2(t, b, s) {
		if a, err := ParseAudit(x); err == nil || a != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAuditLayoutDisjoint: no prefix of a §7.3 audit is read as an
// audit2 and the other way round (SPEC.md §12.10, Which layout).
func TestAuditLayoutDisjoint(t *testing.T) {
	_, a1 := v1Audit(t)
	_, _, _, a2 := kindsAudit2(t)
	if auditLayout(a1.Bytes()) != BallotVersion || auditLayout(a2.Bytes()) != BallotVersionKinds {
		t.Fatal("layouts")
	}
	for kind := range uint8(4) {
		for n := range uint32(65) {
			x := binary.BigEndian.AppendUint32(append(make([]byte, 36), kind), n)[:40]
			v1 := binary.BigEndian.Uint32(x[36:40])
			if v1 >= MinOptions && v1 <= MaxOptions && n >= 1 {
				t.Fatalf("kind %d count %d reads as %d options", kind, n, v1)
			}
		}
	}
}

// TestManifestAuditSize: a version-3 manifest whose audits would exceed
// the audit body limit is invalid (SPEC.md §12.10, Size); the largest audit
// of a valid one fits it.
func TestManifestAuditSize(t *testing.T) {
	wi := func(n int) []Question {
		qs := []Question{{Text: "q", Options: []string{"a", "b"}, Min: 0, Max: 1}}
		for i := range n {
			qs = append(qs, Question{Text: "w" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Kind: KindWriteIn, Max: MaxWriteIn})
		}
		return qs
	}
	// 40 + (2+8+97·2) + n·(2+8+126·9) ≤ 32768 ⇔ n ≤ 28.
	m := newTestManifest(t, seeded.Raw("audit-size"), "size", wi(28))
	if got := m.MaxAuditSize(); got > MaxAuditBytes || got != 40+204+28*1144 {
		t.Fatalf("MaxAuditSize %d", got)
	}
	big := *m
	big.Questions = wi(29)
	if err := big.Validate(); !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), "audit") {
		t.Fatalf("29 long write-ins: %v", err)
	}
	e := newTestElection(t, "audit-size", wi(28), 1)
	ans := []Answer{{Choices: []uint32{}}}
	for range 28 {
		ans = append(ans, Answer{Text: strings.Repeat("é", MaxWriteIn/2)})
	}
	b, s := e.encryptAnswers(t, seeded.Raw("audit-size-enc"), 0, ans)
	a, err := b.Audit(s)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.Bytes()); n > e.m.MaxAuditSize() || n > MaxAuditBytes {
		t.Fatalf("audit of %d bytes, max %d", n, e.m.MaxAuditSize())
	}
	if err := VerifyAudit(e.m, e.pk, a); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseAudit(f *testing.F) {
	e1, a1 := v1Audit(f)
	f.Add(a1.Bytes())
	e2 := newTestElection(f, "fuzz-kinds", kindQuestions, 1)
	b2, s2 := e2.encryptAnswers(f, seeded.Raw("fuzz-kinds-enc"), 0, kindAnswers)
	a2, _ := b2.Audit(s2)
	f.Add(a2.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		a, ok := reparse(t, ParseAudit, data)
		if !ok {
			return
		}
		if a.Tracker() != trackerOfChoices(a.Version(), a.choices) || !bytes.HasPrefix(data, a.choices) {
			t.Fatal("tracker is not that of the audit's first bytes")
		}
		// Must not panic on any decodable audit, under either manifest.
		_ = VerifyAudit(e1.m, e1.pk, a)
		_ = VerifyAudit(e2.m, e2.pk, a)
		_ = a.Opening.Fits(e2.m)
	})
}
