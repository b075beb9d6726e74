package bulletin

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func testCheckpoint(el *election, size uint64) *Checkpoint {
	return &Checkpoint{Origin: Origin("test-2026", el.fp), Size: size, Root: [32]byte{1, 2, 3}, Height: 4, BlockHash: [32]byte{9}}
}

func signers(t testing.TB, el *election) []note.Signer {
	var out []note.Signer
	for i, k := range el.nodeKeys {
		s, err := NodeSigner(el.nodes[i].ID, k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func signedBy(t testing.TB, c *Checkpoint, ss ...note.Signer) []byte {
	t.Helper()
	var notes [][]byte
	for _, s := range ss {
		n, err := SignCheckpoint(c, s)
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	m, err := MergeCheckpointSignatures(notes...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckpointText(t *testing.T) {
	el := newElection(t, "cp")
	c := testCheckpoint(el, 10)
	p, err := ParseCheckpointText(c.Text())
	if err != nil || *p != *c {
		t.Fatalf("round trip: %v", err)
	}
	good := string(c.Text())
	lines := strings.Split(good, "\n")
	bad := map[string]string{
		"no newline":    strings.TrimSuffix(good, "\n"),
		"extra line":    good + "x\n",
		"leading zero":  strings.Replace(good, "\n10\n", "\n010\n", 1),
		"plus sign":     strings.Replace(good, "\n10\n", "\n+10\n", 1),
		"size 0":        strings.Replace(good, "\n10\n", "\n0\n", 1),
		"empty origin":  strings.Replace(good, lines[0], "", 1),
		"origin space":  strings.Replace(good, lines[0], "a b", 1),
		"root unpadded": strings.Replace(good, lines[2], strings.TrimRight(lines[2], "="), 1),
		"root url b64":  strings.Replace(good, lines[2], strings.ReplaceAll(lines[2], "/", "_")+"", 1) + "x",
		"short root":    strings.Replace(good, lines[2], "AQID", 1),
		"block keyword": strings.Replace(good, "block ", "blocks ", 1),
		"block height":  strings.Replace(good, "block 4 ", "block -4 ", 1),
		"block hash":    strings.Replace(good, lines[3], "block 4 AQID", 1),
		"missing block": strings.Join(lines[:3], "\n") + "\n",
	}
	for name, s := range bad {
		if _, err := ParseCheckpointText([]byte(s)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOpenCheckpoint(t *testing.T) {
	el := newElection(t, "open-cp")
	c := testCheckpoint(el, 10)
	ss := signers(t, el)
	origin := c.Origin
	ok := signedBy(t, c, ss[0], ss[2])
	got, err := OpenCheckpoint(ok, origin, el.nodes, 2)
	if err != nil || *got != *c {
		t.Fatalf("open: %v", err)
	}
	if _, err := OpenCheckpoint(signedBy(t, c, ss...), origin, el.nodes, 3); err != nil {
		t.Fatal(err)
	}
	// an unknown node's signature is ignored, and does not count
	_, stranger, _ := ed25519.GenerateKey(seeded.Raw("stranger"))
	ssx, _ := NodeSigner("node-x", stranger)
	impostor, _ := NodeSigner("node-b", stranger) // known name, unknown key
	forged := bytes.Replace(ok, []byte("— node-a "), []byte("— node-a A"), 1)
	one := signedBy(t, c, ss[0])
	sigLine := one[bytes.Index(one, []byte("\n\n"))+2:]
	dup := append(bytes.Clone(one), sigLine...) // node-a's signature line twice
	cases := map[string][]byte{
		"below quorum":            signedBy(t, c, ss[1]),
		"unknown node only":       signedBy(t, c, ssx),
		"unknown node for quorum": signedBy(t, c, ss[1], ssx),
		"impostor key":            signedBy(t, c, ss[0], impostor),
		"forged signature":        forged,
		"duplicate signature":     signedBy(t, c, ss[0], ss[0]),
		"duplicate lines":         dup,
		"other origin":            signedBy(t, &Checkpoint{Origin: "urna/other/0011223344556677", Size: 10, Root: c.Root, Height: 4}, ss[0], ss[1]),
		"no signatures":           c.Text(),
		"not a note":              []byte("hello"),
	}
	for name, n := range cases {
		if _, err := OpenCheckpoint(n, origin, el.nodes, 2); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrCheckpoint) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// a tampered text invalidates every signature
	tampered := bytes.Replace(ok, []byte("\n10\n"), []byte("\n11\n"), 1)
	if _, err := OpenCheckpoint(tampered, origin, el.nodes, 1); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("tampered text: %v", err)
	}
	if _, err := OpenCheckpoint(ok, origin, el.nodes, 4); !errors.Is(err, ErrCheckpoint) {
		t.Error("quorum above node count accepted")
	}
	if _, err := OpenCheckpoint(ok, origin, append(el.nodes, el.nodes[0]), 2); !errors.Is(err, ErrCheckpoint) {
		t.Error("node listed twice accepted")
	}
	if _, err := MergeCheckpointSignatures(signedBy(t, c, ss[0]), signedBy(t, testCheckpoint(el, 11), ss[1])); err == nil {
		t.Error("merged notes with different texts")
	}
}
