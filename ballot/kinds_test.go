package ballot

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// kindQuestions has one question of every kind.
var kindQuestions = []Question{
	{Text: "mayor", Options: []string{"ana", "ben", "chen"}, Min: 1, Max: 1},
	{Text: "rank the parks", Kind: KindRanked, Options: []string{"north", "south", "east", "west", "river"}, Min: 1, Max: 5},
	{Text: "grade the plans", Kind: KindScore, Options: []string{"tram", "bus", "bikes", "walk"}, Min: 0, Max: 5},
	{Text: "name the bridge", Kind: KindWriteIn, Max: 40},
}

var kindAnswers = []Answer{
	{Choices: []uint32{2}},
	{Ranking: []uint32{3, 0, 4}},
	{Scores: []uint32{5, 0, 3, 2}},
	{Text: "Brücke der Einheit 桥"},
}

func (e *testElection) encryptAnswers(t testing.TB, rng *seeded.Reader, cred int, answers []Answer) (*Ballot, *Secrets) {
	t.Helper()
	b, s, err := EncryptAnswers(rng, e.m, e.pk, e.creds[cred], answers)
	if err != nil {
		t.Fatal(err)
	}
	return b, s
}

func TestKindsManifest(t *testing.T) {
	m := newTestManifest(t, seeded.Raw("kinds-manifest"), "kinds", kindQuestions)
	if m.Version != ManifestVersionKinds {
		t.Fatalf("version %d, want %d", m.Version, ManifestVersionKinds)
	}
	b := m.Bytes()
	p, err := ParseManifest(b)
	if err != nil || !bytes.Equal(p.Bytes(), b) || p.Fingerprint() != m.Fingerprint() {
		t.Fatalf("binary round trip: %v", err)
	}
	js, err := MarshalManifestJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind": "ranked"`, `"kind": "score"`, `"kind": "write-in"`, `"options": []`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("authoring JSON lacks %s", want)
		}
	}
	if strings.Contains(string(js), `"kind": "select"`) {
		t.Error("authoring JSON names the default kind")
	}
	q, err := ParseManifestJSON(js)
	if err != nil || !bytes.Equal(q.Bytes(), b) {
		t.Fatalf("JSON round trip: %v", err)
	}
	// Witnesses keep version 3; the encoding carries them.
	w, err := m.WithWitnesses([]Witness{{Name: "w.example/urna", Key: m.BoardNodes[0].Key}}, 1)
	if err == nil {
		t.Fatal("a witness key equal to a node key accepted")
	}
	rng := seeded.Raw("kinds-witness")
	key := newTestManifest(t, rng, "other", shapes).BoardNodes[0].Key
	if w, err = m.WithWitnesses([]Witness{{Name: "w.example/urna", Key: key}}, 1); err != nil || w.Version != ManifestVersionKinds {
		t.Fatalf("WithWitnesses: %v", err)
	}
	if p, err := ParseManifest(w.Bytes()); err != nil || !bytes.Equal(p.Bytes(), w.Bytes()) || len(p.Witnesses) != 1 {
		t.Fatalf("witnessed version 3 round trip: %v", err)
	}
	if len(w.Bytes()) != len(b)+4+len("w.example/urna")+32 {
		t.Fatal("version 3 witness fields are not version 2's")
	}
}

func TestKindsManifestRules(t *testing.T) {
	base := newTestManifest(t, seeded.Raw("kinds-rules"), "rules", kindQuestions)
	with := func(f func(m *Manifest)) *Manifest {
		m := *base
		m.Questions = append([]Question{}, base.Questions...)
		f(&m)
		return &m
	}
	opts := func(n int) []string {
		var o []string
		for i := 0; i < n; i++ {
			o = append(o, string(rune('a'+i)))
		}
		return o
	}
	for name, m := range map[string]*Manifest{
		"version 1 with a ranked question": with(func(m *Manifest) { m.Version = ManifestVersion }),
		"version 2 with a ranked question": with(func(m *Manifest) { m.Version = ManifestVersionWitnessed }),
		"version 3 without mixed question": with(func(m *Manifest) { m.Questions = m.Questions[:1] }),
		"more ranks than options":          with(func(m *Manifest) { m.Questions[1].Max = 6 }),
		"no ranks":                         with(func(m *Manifest) { m.Questions[1].Min, m.Questions[1].Max = 0, 0 }),
		"min ranked above max":             with(func(m *Manifest) { m.Questions[1].Min, m.Questions[1].Max = 3, 2 }),
		"ranking of one option":            with(func(m *Manifest) { m.Questions[1].Options = opts(1); m.Questions[1].Max = 1 }),
		"repeated ranked option":           with(func(m *Manifest) { m.Questions[1].Options = []string{"a", "b", "a"}; m.Questions[1].Max = 3 }),
		"empty score range":                with(func(m *Manifest) { m.Questions[2].Min = 5 }),
		"score above 100":                  with(func(m *Manifest) { m.Questions[2].Max = MaxScore + 1 }),
		"write-in with options":            with(func(m *Manifest) { m.Questions[3].Options = opts(2) }),
		"write-in of 0 bytes":              with(func(m *Manifest) { m.Questions[3].Max = 0 }),
		"write-in above 255 bytes":         with(func(m *Manifest) { m.Questions[3].Max = MaxWriteIn + 1 }),
		"write-in with a minimum":          with(func(m *Manifest) { m.Questions[3].Min = 1 }),
		"unknown kind":                     with(func(m *Manifest) { m.Questions[3].Kind = 4 }),
		"ballot above the board's limit":   with(func(m *Manifest) { m.Questions[1].Options = opts(16); m.Questions[1].Max = 16 }),
	} {
		if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// The unknown kind byte in an encoding, and unknown JSON kinds.
	enc := base.Bytes()
	i := bytes.Index(enc, []byte("name the bridge")) + len("name the bridge")
	bad := bytes.Clone(enc)
	bad[i] = 9
	if _, err := ParseManifest(bad); err == nil {
		t.Error("kind 9 decoded")
	}
	js, _ := MarshalManifestJSON(base)
	for _, k := range []string{"approval", "Ranked", "select "} {
		s := strings.Replace(string(js), `"kind": "ranked"`, `"kind": "`+k+`"`, 1)
		if _, err := ParseManifestJSON([]byte(s)); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("kind %q: err = %v", k, err)
		}
	}
	// Version-1 manifests encode as before: no kind byte.
	v1 := newTestManifest(t, seeded.Raw("kinds-rules"), "rules", shapes)
	if v1.Version != ManifestVersion || v1.BallotSize() != ballotHeader+8*len(shapes)+(5+5+4+3)*optionSize+(1+1+5+3)*branchSize {
		t.Fatalf("version-1 manifest changed: version %d, ballot size %d", v1.Version, v1.BallotSize())
	}
}

func TestKindsHonestBallotsVerify(t *testing.T) {
	e := newTestElection(t, "kinds-honest", kindQuestions, 3)
	rng := seeded.Raw("kinds-honest-enc")
	long := strings.Repeat("é", 20)
	var ballots []*Ballot
	for i, a := range [][]Answer{
		kindAnswers,
		{{Choices: []uint32{0}}, {Ranking: []uint32{4, 3, 2, 1, 0}}, {Scores: []uint32{0, 0, 0, 0}}, {}},
		{{Choices: []uint32{1}}, {Ranking: []uint32{1}}, {Scores: []uint32{5, 5, 5, 5}}, {Text: long}},
	} {
		b, _ := e.encryptAnswers(t, rng, i, a)
		if len(b.Bytes()) != e.m.BallotSize() || b.Version() != BallotVersionKinds {
			t.Fatalf("ballot %d: %d bytes (want %d), version %d", i, len(b.Bytes()), e.m.BallotSize(), b.Version())
		}
		if err := b.Verify(e.m, e.pk); err != nil {
			t.Fatalf("ballot %d: %v (%v)", i, err, b.Diagnose(e.m, e.pk))
		}
		if f := b.Diagnose(e.m, e.pk); f != nil {
			t.Fatalf("ballot %d: Diagnose: %v", i, f)
		}
		p, err := ParseBallot(b.Bytes())
		if err != nil || !bytes.Equal(p.Bytes(), b.Bytes()) || p.Tracker() != b.Tracker() {
			t.Fatalf("ballot %d: parse: %v", i, err)
		}
		if p.NumOptions(0) != 3 || p.NumOptions(1) != 0 || len(p.Ciphertexts()[2]) != 0 {
			t.Fatal("the homomorphic tally would see a mixed question")
		}
		ballots = append(ballots, p)
	}
	bad, err := VerifyBatch(seeded.Raw("kinds-batch"), e.m, e.pk, ballots, nil)
	if err != nil || bad != nil {
		t.Fatalf("VerifyBatch: %v, %v", bad, err)
	}
	if _, err := ballots[0].Open(&Secrets{tracker: ballots[0].tracker}); err == nil {
		t.Fatal("opened a version-2 ballot")
	}
}

func TestKindsEncryptRejectsBadAnswers(t *testing.T) {
	e := newTestElection(t, "kinds-reject", kindQuestions, 1)
	rng := seeded.Raw("kinds-reject-enc")
	with := func(q int, a Answer) []Answer {
		as := append([]Answer{}, kindAnswers...)
		as[q] = a
		return as
	}
	for name, as := range map[string][]Answer{
		"rank an option twice":     with(1, Answer{Ranking: []uint32{0, 0}}),
		"rank an unknown option":   with(1, Answer{Ranking: []uint32{5}}),
		"rank no option (min 1)":   with(1, Answer{Ranking: []uint32{}}),
		"ranking as choices":       with(1, Answer{Choices: []uint32{1}}),
		"score above max":          with(2, Answer{Scores: []uint32{6, 0, 0, 0}}),
		"too few scores":           with(2, Answer{Scores: []uint32{1, 2, 3}}),
		"write-in too long":        with(3, Answer{Text: strings.Repeat("x", 41)}),
		"write-in not UTF-8":       with(3, Answer{Text: "\xff"}),
		"two kinds in one answer":  with(3, Answer{Text: "x", Scores: []uint32{1}}),
		"selection of two (max 1)": with(0, Answer{Choices: []uint32{0, 1}}),
		"missing answer":           kindAnswers[:3],
	} {
		if _, _, err := EncryptAnswers(rng, e.m, e.pk, e.creds[0], as); !errors.Is(err, ErrInvalidChoice) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, _, err := EncryptBallot(rng, e.m, e.pk, e.creds[0], [][]uint32{{0}, {0}, {0}, {}}); !errors.Is(err, ErrInvalidChoice) {
		t.Errorf("EncryptBallot for a version-3 manifest: %v", err)
	}
	// For version-1 manifests EncryptAnswers is EncryptBallot.
	v1 := newTestElection(t, "kinds-reject-v1", shapes, 1)
	b, _, err := EncryptAnswers(seeded.Raw("same"), v1.m, v1.pk, v1.creds[0], []Answer{{Choices: []uint32{2}}, {Choices: []uint32{0, 4}}, {Choices: []uint32{1, 2, 3}}, {}})
	c, _, err2 := EncryptBallot(seeded.Raw("same"), v1.m, v1.pk, v1.creds[0], defaultChoices)
	if err != nil || err2 != nil || !bytes.Equal(b.Bytes(), c.Bytes()) {
		t.Fatalf("EncryptAnswers differs from EncryptBallot on a version-1 manifest: %v %v", err, err2)
	}
}

func TestWriteInEncoding(t *testing.T) {
	for _, c := range []struct {
		text string
		max  uint32
	}{{"", 1}, {"a", 1}, {"", 29}, {strings.Repeat("z", 29), 29}, {strings.Repeat("z", 30), 30}, {"桥", 3}, {strings.Repeat("\x00", 255), 255}, {strings.Repeat("ü", 127), 255}} {
		es, err := EncodeWriteIn(c.text, c.max)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if len(es) != WriteInChunks(c.max) {
			t.Fatalf("%q: %d chunks", c.text, len(es))
		}
		got, err := DecodeWriteIn(es, c.max)
		if err != nil || got != c.text {
			t.Fatalf("%q: decoded %q, %v", c.text, got, err)
		}
	}
	if WriteInChunks(29) != 1 || WriteInChunks(30) != 2 || WriteInChunks(MaxWriteIn) != 9 {
		t.Fatal("WriteInChunks")
	}
	// Strict decoding: every other element list is ErrInvalidAnswer.
	good, _ := EncodeWriteIn("ok", 40)
	chunk := func(b []byte) *group.Element {
		var c [32]byte
		copy(c[1:31], b)
		e, err := encodeChunk(c[1:31])
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	pad := make([]byte, 30)
	pad[0], pad[1], pad[29] = 1, 'x', 1
	later := nonMinimalChunk(t, []byte("later counter"))
	for name, es := range map[string][]*group.Element{
		"too few chunks":     good[:1],
		"too many chunks":    append(append([]*group.Element{}, good...), good[0]),
		"length above max":   {chunk([]byte{41}), good[1]},
		"non-zero padding":   {chunk(pad), good[1]},
		"not UTF-8":          {chunk([]byte{2, 0xc3, 0x28}), good[1]},
		"non-minimal chunk":  {later, good[1]},
		"not a chunk at all": {group.Generator(), good[1]},
		"missing chunk":      {nil, good[1]},
	} {
		if _, err := DecodeWriteIn(es, 40); !errors.Is(err, ErrInvalidAnswer) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// nonMinimalChunk returns an element whose bytes 1..30 carry data but whose
// counter is not the first that decodes.
func nonMinimalChunk(t *testing.T, data []byte) *group.Element {
	var c [32]byte
	copy(c[1:31], data)
	found := 0
	for j := 0; j < maxWriteInTries; j++ {
		c[0], c[31] = byte(j%128)*2, byte(j/128)
		if e, err := group.DecodeElement(c[:]); err == nil {
			if found++; found == 2 {
				return e
			}
		}
	}
	t.Fatal("no second counter decodes")
	return nil
}

// TestWriteInRetryRate measures try-and-increment (docs/spec/kinds.md
// §K.4): the fraction of candidates that decode is about 1/4, so about 3/4
// of chunks need a retry and the mean number of tries is about 4.
func TestWriteInRetryRate(t *testing.T) {
	rng := seeded.Raw("retry-rate")
	const chunks = 4000
	tries, retried, worst := 0, 0, 0
	for i := 0; i < chunks; i++ {
		data := rng.Bytes(30)
		var c [32]byte
		copy(c[1:31], data)
		for j := 0; ; j++ {
			c[0], c[31] = byte(j%128)*2, byte(j/128)
			if _, err := group.DecodeElement(c[:]); err == nil {
				tries += j + 1
				if j > 0 {
					retried++
				}
				worst = max(worst, j+1)
				break
			}
		}
	}
	mean := float64(tries) / chunks
	frac := float64(retried) / chunks
	t.Logf("%d chunks: mean tries %.2f, %.1f%% needed a retry, worst %d", chunks, mean, 100*frac, worst)
	if mean < 3.5 || mean > 4.5 || frac < 0.7 || frac > 0.8 || worst > 64 {
		t.Fatalf("try-and-increment does not behave as the spec says: mean %.2f, retried %.2f, worst %d", mean, frac, worst)
	}
}

func TestDecodeRowRejects(t *testing.T) {
	e := newTestElection(t, "kinds-decode", kindQuestions, 1)
	v := func(xs ...uint64) []*group.Element {
		var es []*group.Element
		for _, x := range xs {
			es = append(es, group.NewElement().ScalarBaseMult(group.ScalarFromUint64(x)))
		}
		return es
	}
	ok, err := e.m.DecodeRow(1, v(2, 0, 0, 1, 3))
	if err != nil || !slices.Equal(ok.Ranking, []uint32{3, 0, 4}) {
		t.Fatalf("ranking: %v, %v", ok.Ranking, err)
	}
	if a, err := e.m.DecodeRow(2, v(5, 0, 3, 2)); err != nil || !slices.Equal(a.Scores, []uint32{5, 0, 3, 2}) {
		t.Fatalf("scores: %v, %v", a.Scores, err)
	}
	for name, c := range map[string]struct {
		q  int
		es []*group.Element
	}{
		"rank twice":       {1, v(1, 1, 0, 0, 0)},
		"rank skipped":     {1, v(1, 3, 0, 0, 0)},
		"rank above k":     {1, v(6, 0, 0, 0, 0)},
		"too few ranked":   {1, v(0, 0, 0, 0, 0)},
		"width":            {1, v(1, 0, 0, 0)},
		"score above max":  {2, v(6, 0, 0, 0)},
		"score not small":  {2, v(1<<40, 0, 0, 0)},
		"write-in garbage": {3, v(7, 7)},
	} {
		if _, err := e.m.DecodeRow(c.q, c.es); !errors.Is(err, ErrInvalidAnswer) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := e.m.DecodeRow(0, v(1, 0, 0)); !errors.Is(err, ErrShape) {
		t.Errorf("selection question decoded as a row: %v", err)
	}
}
