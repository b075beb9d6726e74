package board

import (
	"bytes"
	"errors"
	"testing"
)

func TestCommandRoundTrip(t *testing.T) {
	for _, entry := range [][]byte{[]byte("ccc"), {}} {
		c, err := decodeCommand(encodeEntryCmd(1700000000123, entry))
		if err != nil {
			t.Fatal(err)
		}
		got := c.(*entryCmd)
		if got.timeMillis != 1700000000123 || !bytes.Equal(got.entry, entry) {
			t.Fatalf("entry command decoded as %+v", got)
		}
	}
	cs := &cosignCmd{node: "n1", size: 42, root: [32]byte{1, 2, 3}, sig: bytes.Repeat([]byte{7}, 68)}
	c, err := decodeCommand(encodeCosignCmd(cs))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.(*cosignCmd); g.node != "n1" || g.size != 42 || g.root != cs.root || !bytes.Equal(g.sig, cs.sig) || g.election != nil {
		t.Fatalf("cosign command decoded as %+v", g)
	}
	// The same for another election than the default one (types 4, 5).
	fp := [32]byte{9, 8, 7}
	cs.election = &fp
	enc := encodeCosignCmd(cs)
	if enc[0] != cmdCosignIn || !bytes.Equal(enc[1:33], fp[:]) {
		t.Fatalf("cosign-in command encoded as %x", enc)
	}
	c, err = decodeCommand(enc)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.(*cosignCmd); g.election == nil || *g.election != fp || g.node != "n1" || g.size != 42 || !bytes.Equal(g.sig, cs.sig) {
		t.Fatalf("cosign-in command decoded as %+v", g)
	}
	w := &witnessCmd{cosignCmd{election: &fp, node: "w.example", size: 3, root: [32]byte{4}, sig: bytes.Repeat([]byte{5}, 76)}}
	enc = encodeWitnessCmd(w)
	if enc[0] != cmdWitnessIn {
		t.Fatalf("witness-in command type %d", enc[0])
	}
	c, err = decodeCommand(enc)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.(*witnessCmd); g.election == nil || *g.election != fp || g.node != "w.example" || g.size != 3 {
		t.Fatalf("witness-in command decoded as %+v", g)
	}
	c, err = decodeCommand(encodeArchiveCmd(fp))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.(*archiveCmd); g.election != fp {
		t.Fatalf("archive command decoded as %+v", g)
	}
}

func TestCommandRejects(t *testing.T) {
	good := encodeEntryCmd(1, []byte("x"))
	cosign := encodeCosignCmd(&cosignCmd{node: "n1", size: 1, sig: []byte{1}})
	for name, b := range map[string][]byte{
		"empty":              nil,
		"unknown type":       {9, 0, 0},
		"zero type":          {0},
		"entries short":      good[:5],
		"entries truncated":  good[:len(good)-1],
		"entries trailing":   append(bytes.Clone(good), 0),
		"entries count 0":    {cmdEntry, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		"entries huge count": {cmdEntry, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		"entries count 2":    {cmdEntry, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'b'},
		"entries long len":   {cmdEntry, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 'a'},
		"cosign trailing":    append(bytes.Clone(cosign), 0),
		"cosign truncated":   cosign[:len(cosign)-1],
		"cosign empty id":    encodeCosignCmd(&cosignCmd{node: "", size: 1, sig: []byte{1}}),
		"cosign space id":    encodeCosignCmd(&cosignCmd{node: "a b", size: 1, sig: []byte{1}}),
		"cosign no sig":      encodeCosignCmd(&cosignCmd{node: "n1", size: 1}),
		"cosign-in short":    {cmdCosignIn, 1, 2, 3},
		"cosign-in no body":  append([]byte{cmdCosignIn}, make([]byte, 32)...),
		"witness-in short":   {cmdWitnessIn, 1},
		"archive short":      {cmdArchive, 1, 2},
		"archive trailing":   append(encodeArchiveCmd([32]byte{1}), 0),
		"cosign-in trailing": append(encodeCosignCmd(&cosignCmd{election: &[32]byte{1}, node: "n1", size: 1, sig: []byte{1}}), 0),
	} {
		if _, err := decodeCommand(b); !errors.Is(err, errBadCommand) {
			t.Errorf("%s: got %v, want errBadCommand", name, err)
		}
	}
}

// FuzzCommandDecoder: the decoder never panics, and whatever it accepts
// re-encodes to the same bytes (one encoding per command).
func FuzzCommandDecoder(f *testing.F) {
	f.Add(encodeEntryCmd(5, []byte("entry")))
	f.Add(encodeCosignCmd(&cosignCmd{node: "n1", size: 9, sig: bytes.Repeat([]byte{3}, 68)}))
	f.Add(encodeCosignCmd(&cosignCmd{election: &[32]byte{1}, node: "n1", size: 9, sig: bytes.Repeat([]byte{3}, 68)}))
	f.Add(encodeWitnessCmd(&witnessCmd{cosignCmd{election: &[32]byte{2}, node: "w", size: 9, sig: bytes.Repeat([]byte{3}, 76)}}))
	f.Add(encodeArchiveCmd([32]byte{3}))
	f.Add([]byte{cmdEntry})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommand(b)
		if err != nil {
			return
		}
		var re []byte
		switch c := c.(type) {
		case *entryCmd:
			re = encodeEntryCmd(c.timeMillis, c.entry)
		case *cosignCmd:
			re = encodeCosignCmd(c)
		case *witnessCmd:
			re = encodeWitnessCmd(c)
		case *archiveCmd:
			re = encodeArchiveCmd(c.election)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, re)
		}
	})
}
