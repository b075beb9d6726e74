package bulletin

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/urna-vote/urna/internal/testonly/golden"
)

// cosignatureVectors pin cosignature/v1 (SPEC.md §3.13): the key ID, the
// signed message and the signature line, and lines every verifier MUST
// refuse or ignore. Regenerate: go test ./bulletin -run CosignatureVectors -update
type cosignatureVectors struct {
	Comment       string      `json:"comment"`
	WitnessSeed   string      `json:"witness_seed"` // hex Ed25519 seed
	WitnessName   string      `json:"witness_name"`
	WitnessKey    string      `json:"witness_key"` // hex public key
	KeyID         string      `json:"key_id"`      // hex, 4 bytes
	Timestamp     uint64      `json:"timestamp"`
	Text          string      `json:"text"`    // the checkpoint note text
	Message       string      `json:"message"` // the signed message
	Line          string      `json:"line"`    // the cosignature line
	Note          string      `json:"note"`    // text, node quorum and the cosignature
	NodeQuorum    int         `json:"node_quorum"`
	Nodes         []NodeKey   `json:"nodes"`
	Invalid       []namedLine `json:"invalid"` // a listed witness's line that MUST make the note invalid
	Ignored       []namedLine `json:"ignored"` // lines that MUST NOT count (unknown name or key ID)
	WitnessQuorum int         `json:"witness_quorum"`
}

type namedLine struct {
	Name string `json:"name"`
	Line string `json:"line"`
}

func cosignLine(t testing.TB, text []byte, name string, key ed25519.PrivateKey, ts uint64) string {
	t.Helper()
	s, err := WitnessSigner(name, key, func() uint64 { return ts })
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg[len(text)+1:])
}

// rawLine builds a signature line by hand: name, key ID, timestamp and the
// Ed25519 signature of msg.
func rawLine(name string, keyID uint32, ts uint64, key ed25519.PrivateKey, msg []byte) string {
	b := binary.BigEndian.AppendUint32(nil, keyID)
	b = binary.BigEndian.AppendUint64(b, ts)
	b = append(b, ed25519.Sign(key, msg)...)
	return "— " + name + " " + base64.StdEncoding.EncodeToString(b) + "\n"
}

func makeCosignatureVectors(t *testing.T) *cosignatureVectors {
	el := newElection(t, "cosignature")
	seed := sha256.Sum256([]byte("witness w1"))
	wk := ed25519.NewKeyFromSeed(seed[:])
	pub := wk.Public().(ed25519.PublicKey)
	name := "witness.example/w1"
	c := testCheckpoint(el, 10)
	text := c.Text()
	const ts = 1_767_225_600
	v := &cosignatureVectors{
		Comment:     "SPEC.md §3.13 cosignature/v1 known answers. Regenerate: go test ./bulletin -run CosignatureVectors -update",
		WitnessSeed: hex.EncodeToString(seed[:]), WitnessName: name, WitnessKey: hex.EncodeToString(pub),
		Timestamp: ts, Text: string(text), Message: string(CosignatureMessage(text, ts)),
		NodeQuorum: 2, Nodes: el.nodes, WitnessQuorum: 1,
	}
	v.KeyID = hex.EncodeToString(binary.BigEndian.AppendUint32(nil, WitnessKeyHash(name, pub)))
	v.Line = cosignLine(t, text, name, wk, ts)
	ss := signers(t, el)
	v.Note = string(signedBy(t, c, ss[0], ss[1])) + v.Line
	id := WitnessKeyHash(name, pub)
	three := []byte(strings.Join(strings.SplitAfter(string(text), "\n")[:3], ""))
	v.Invalid = []namedLine{
		{"timestamp changed after signing", rawLine(name, id, ts+1, wk, CosignatureMessage(text, ts))},
		{"signed without the extension line (first three lines only)", rawLine(name, id, ts, wk, CosignatureMessage(three, ts))},
		{"signed without the header line", rawLine(name, id, ts, wk, []byte("time 1767225600\n"+string(text)))},
		{"timestamp above 2^63 − 1", rawLine(name, id, 1<<63, wk, CosignatureMessage(text, 1<<63))},
		{"a node-style signature of the text (72 bytes expected)", func() string {
			b := binary.BigEndian.AppendUint32(nil, id)
			b = append(b, ed25519.Sign(wk, text)...)
			return "— " + name + " " + base64.StdEncoding.EncodeToString(b) + "\n"
		}()},
	}
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	v.Ignored = []namedLine{
		{"key ID of signature type 0x01 (a node key, not a cosigner)", rawLine(name, nodeKeyHash(t, name, pub), ts, wk, CosignatureMessage(text, ts))},
		{"unknown witness name", cosignLine(t, text, "witness.example/w9", wk, ts)},
		{"another key under the listed name", cosignLine(t, text, name, other, ts)},
	}
	return v
}

func nodeKeyHash(t testing.TB, name string, pub ed25519.PublicKey) uint32 {
	vk, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vk)
	if err != nil {
		t.Fatal(err)
	}
	return v.KeyHash()
}

func TestCosignatureVectors(t *testing.T) {
	want := golden.JSON(t, filepath.Join("testdata", "cosignature.json"), makeCosignatureVectors(t), *update)
	// The pinned vectors verify as SPEC.md says, from the file alone.
	var p cosignatureVectors
	if err := json.Unmarshal(want, &p); err != nil {
		t.Fatal(err)
	}
	pub, _ := hex.DecodeString(p.WitnessKey)
	b := &Board{Origin: Origin("test-2026", newElection(t, "cosignature").fp), Nodes: p.Nodes, Quorum: p.NodeQuorum,
		Witnesses: []WitnessKey{{Name: p.WitnessName, PublicKey: pub}}, WitnessQuorum: p.WitnessQuorum}
	if _, err := b.Open([]byte(p.Note)); err != nil {
		t.Fatalf("pinned cosigned note: %v", err)
	}
	cs, err := VerifyCosignatures([]byte(p.Text), []byte(p.Line), b.Witnesses)
	if err != nil || len(cs) != 1 || cs[0].Time != p.Timestamp || cs[0].Witness != p.WitnessName {
		t.Fatalf("VerifyCosignatures: %v %+v", err, cs)
	}
	nodesOnly := strings.TrimSuffix(p.Note, p.Line)
	for _, l := range p.Invalid {
		if _, err := b.Open([]byte(nodesOnly + l.Line)); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "invalid cosignature by witness") {
			t.Errorf("invalid %q: Open = %v", l.Name, err)
		}
		if _, err := VerifyCosignatures([]byte(p.Text), []byte(l.Line), b.Witnesses); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("invalid %q: VerifyCosignatures = %v", l.Name, err)
		}
	}
	for _, l := range p.Ignored {
		if _, err := b.Open([]byte(nodesOnly + l.Line)); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "0 witness cosignatures") {
			t.Errorf("ignored %q: Open = %v", l.Name, err)
		}
		if cs, err := VerifyCosignatures([]byte(p.Text), []byte(l.Line), b.Witnesses); err != nil || len(cs) != 0 {
			t.Errorf("ignored %q: VerifyCosignatures = %v, %d", l.Name, err, len(cs))
		}
	}
}

// TestWitnessQuorum: Board.Open counts distinct listed witnesses with a
// valid cosignature (V3.9), on top of the node quorum.
func TestWitnessQuorum(t *testing.T) {
	el := newElection(t, "witness quorum")
	c := testCheckpoint(el, 7)
	ss := signers(t, el)
	var ws []WitnessKey
	var wks []ed25519.PrivateKey
	for _, n := range []string{"w1.example", "w2.example/x", "w3.example:443/y"} {
		s := sha256.Sum256([]byte(n))
		k := ed25519.NewKeyFromSeed(s[:])
		wks = append(wks, k)
		ws = append(ws, WitnessKey{Name: n, PublicKey: k.Public().(ed25519.PublicKey)})
	}
	b := &Board{Origin: c.Origin, Nodes: el.nodes, Quorum: 2, Witnesses: ws, WitnessQuorum: 2}
	nodes := signedBy(t, c, ss[0], ss[1])
	line := func(i int) string { return cosignLine(t, c.Text(), ws[i].Name, wks[i], 1000+uint64(i)) }
	cases := map[string]struct {
		note string
		ok   bool
	}{
		"nodes only":                     {string(nodes), false},
		"one witness":                    {string(nodes) + line(0), false},
		"one witness twice":              {string(nodes) + line(0) + line(0), false},
		"two witnesses":                  {string(nodes) + line(0) + line(2), true},
		"three witnesses":                {string(nodes) + line(2) + line(1) + line(0), true},
		"two witnesses, one node":        {string(signedBy(t, c, ss[0])) + line(0) + line(1), false},
		"witness line of another text":   {string(nodes) + line(0) + cosignLine(t, testCheckpoint(el, 8).Text(), ws[1].Name, wks[1], 5), false},
		"two witnesses and an unknown w": {string(nodes) + line(0) + line(1) + cosignLine(t, c.Text(), "w9.example", wks[0], 1), true},
	}
	for name, tc := range cases {
		_, err := b.Open([]byte(tc.note))
		if (err == nil) != tc.ok {
			t.Errorf("%s: Open = %v, want ok=%v", name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v does not wrap ErrCheckpoint", name, err)
		}
	}
	// Merged notes keep the cosignatures: attach to the node-signed note.
	cs, err := VerifyCosignatures(c.Text(), []byte(line(1)+line(0)), ws)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := AttachCosignatures(nodes, cs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(merged); err != nil {
		t.Fatalf("attached: %v", err)
	}
	// Without a witness quorum the lines are ignored, as before witnesses.
	if _, err := OpenCheckpoint(merged, c.Origin, el.nodes, 2); err != nil {
		t.Fatal(err)
	}
	b.WitnessQuorum = 4
	if _, err := b.Open(merged); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("witness quorum above the witness count: %v", err)
	}
}
