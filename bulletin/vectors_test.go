package bulletin

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/golden"
)

// vectors are pinned encodings that independent verifiers must reproduce
// bit for bit (SPEC.md §3). Regenerate with: go test ./bulletin -run Vectors -update
type vectors struct {
	Entries []struct {
		Name string `json:"name"`
		Hex  string `json:"hex"`
		ID   string `json:"id"`
	} `json:"entries"`
	Blocks []struct {
		Hex  string `json:"hex"`
		Hash string `json:"hash"`
	} `json:"blocks"`
	Log struct {
		Leaves      []string `json:"leaves"` // hex of leaf data
		Roots       []string `json:"roots"`  // root of size 1..n
		Inclusion   string   `json:"inclusion_3_of_7"`
		Consistency string   `json:"consistency_3_to_7"`
	} `json:"log"`
	Checkpoint struct {
		Note   string    `json:"note"`
		Origin string    `json:"origin"`
		Nodes  []NodeKey `json:"nodes"`
	} `json:"checkpoint"`
	Receipt    string `json:"receipt"`
	BadEntries []struct {
		Name string `json:"name"`
		Hex  string `json:"hex"`
	} `json:"bad_entries"`
}

func makeVectors(t *testing.T) *vectors {
	el := newElection(t, "vectors")
	v := &vectors{}
	// open and close carry their real bodies; the ballot's body is an opaque test body
	es := []*Entry{el.openE(t, 1, 2, 3), el.closeE(t), el.ballotE(t, 0, "vector")}
	for _, e := range es {
		id := e.ID()
		v.Entries = append(v.Entries, struct {
			Name string `json:"name"`
			Hex  string `json:"hex"`
			ID   string `json:"id"`
		}{e.Type.String() + map[bool]string{true: " (opaque test body)"}[e.Type == TypeBallot], hex.EncodeToString(e.Bytes()), hex.EncodeToString(id[:])})
	}
	var prev *BlockHeader
	for i := 0; i < 2; i++ {
		h, _ := NextBlock(prev, 1_767_225_600_000+uint64(i)*250, uint32(2+i), [32]byte{0xaa, byte(i)})
		v.Blocks = append(v.Blocks, struct {
			Hex  string `json:"hex"`
			Hash string `json:"hash"`
		}{hex.EncodeToString(h.Bytes()), fmt.Sprintf("%x", h.Hash())})
		prev = h
	}
	m, leaves := memLog(t, 7)
	for i, l := range leaves {
		v.Log.Leaves = append(v.Log.Leaves, hex.EncodeToString(l))
		r, _ := m.Root(uint64(i + 1))
		v.Log.Roots = append(v.Log.Roots, hex.EncodeToString(r[:]))
	}
	ip, _ := ProveInclusion(3, 7, m)
	cp, _ := ProveConsistency(3, 7, m)
	v.Log.Inclusion, v.Log.Consistency = hex.EncodeToString(ip.Bytes()), hex.EncodeToString(cp.Bytes())
	root7, _ := m.Root(7)
	c := &Checkpoint{Origin: Origin("test-2026", el.fp), Size: 7, Root: root7, Height: 1, BlockHash: [32]byte{0xbb}}
	ss := signers(t, el)
	v.Checkpoint.Note = string(signedBy(t, c, ss[0], ss[1]))
	v.Checkpoint.Origin, v.Checkpoint.Nodes = c.Origin, el.nodes
	// a receipt needs a real entry as leaf: use the log of the entries above
	var em MemoryLog
	for _, e := range es {
		em.Append(e.Bytes())
	}
	er, _ := em.Root(3)
	rc := &Checkpoint{Origin: c.Origin, Size: 3, Root: er, Height: 0, BlockHash: [32]byte{0xcc}}
	rp, _ := ProveInclusion(2, 3, &em)
	v.Receipt = hex.EncodeToString((&Receipt{Entry: es[2].Bytes(), Seq: 2, Checkpoint: signedBy(t, rc, ss...), Proof: rp.Hashes}).Bytes())
	raw := es[1].Bytes()
	bad := map[string][]byte{
		"version 2":            set(offVersion, 2)(bytes.Clone(raw)),
		"type 0":               set(offType, 0)(bytes.Clone(raw)),
		"role 0":               set(offRole, 0)(bytes.Clone(raw)),
		"author identity":      func() []byte { b := bytes.Clone(raw); copy(b[offAuthor:], make([]byte, 32)); return b }(),
		"author non-canonical": func() []byte { b := bytes.Clone(raw); copy(b[offAuthor:], bytes.Repeat([]byte{0xff}, 32)); return b }(),
		"body length overrun":  flip(offBodyLen + 3)(bytes.Clone(raw)),
		"sig R identity":       func() []byte { b := bytes.Clone(raw); copy(b[len(b)-64:], make([]byte, 32)); return b }(),
		"sig s >= l":           func() []byte { b := bytes.Clone(raw); copy(b[len(b)-32:], bytes.Repeat([]byte{0xff}, 32)); return b }(),
		"trailing byte":        append(bytes.Clone(raw), 0),
	}
	for _, name := range []string{"version 2", "type 0", "role 0", "author identity", "author non-canonical", "body length overrun", "sig R identity", "sig s >= l", "trailing byte"} {
		v.BadEntries = append(v.BadEntries, struct {
			Name string `json:"name"`
			Hex  string `json:"hex"`
		}{name, hex.EncodeToString(bad[name])})
	}
	return v
}

func TestVectors(t *testing.T) {
	want := golden.JSON(t, filepath.Join("testdata", "vectors.json"), makeVectors(t), *update)
	// check the pinned bytes independently of their generation
	var v vectors
	if err := json.Unmarshal(want, &v); err != nil {
		t.Fatal(err)
	}
	for _, e := range v.Entries {
		b, _ := hex.DecodeString(e.Hex)
		p, err := ParseEntry(b)
		if err != nil || p.VerifySignature() != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		id := p.ID()
		if hex.EncodeToString(id[:]) != e.ID {
			t.Fatalf("%s: id", e.Name)
		}
	}
	var prev *BlockHeader
	for _, bh := range v.Blocks {
		b, _ := hex.DecodeString(bh.Hex)
		h, err := ParseBlockHeader(b)
		if err != nil || CheckLink(prev, h) != nil || fmt.Sprintf("%x", h.Hash()) != bh.Hash {
			t.Fatalf("block: %v", err)
		}
		prev = h
	}
	var m MemoryLog
	for i, l := range v.Log.Leaves {
		b, _ := hex.DecodeString(l)
		m.Append(b)
		r, _ := m.Root(uint64(i + 1))
		if hex.EncodeToString(r[:]) != v.Log.Roots[i] {
			t.Fatalf("root %d", i+1)
		}
	}
	nc, err := OpenCheckpoint([]byte(v.Checkpoint.Note), v.Checkpoint.Origin, v.Checkpoint.Nodes, 2)
	if err != nil || hex.EncodeToString(nc.Root[:]) != v.Log.Roots[6] {
		t.Fatalf("checkpoint: %v", err)
	}
	rb, _ := hex.DecodeString(v.Receipt)
	r, err := ParseReceipt(rb)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&Board{Origin: v.Checkpoint.Origin, Nodes: v.Checkpoint.Nodes, Quorum: 3}).VerifyReceipt(r); err != nil {
		t.Fatal(err)
	}
	for _, be := range v.BadEntries {
		b, _ := hex.DecodeString(be.Hex)
		if _, err := ParseEntry(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("bad entry %q: %v", be.Name, err)
		}
	}
}
