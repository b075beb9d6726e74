package witness

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// fixture is an election with nodes n1..n3 (quorum 2) and two witnesses
// (quorum 2), and logs the board nodes can sign checkpoints of.
type fixture struct {
	t      *testing.T
	e      *testonly.Election
	m      *ballot.Manifest // version 2: names the witnesses
	origin string
	wkeys  []ed25519.PrivateKey
	wnames []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, e: testonly.NewElection(t, "witness test election", testonly.Config{Voters: 1})}
	var ws []ballot.Witness
	for _, n := range []string{"witness-a.example/urna", "witness-b.example:8443"} {
		s := sha256.Sum256([]byte(n))
		k := ed25519.NewKeyFromSeed(s[:])
		f.wkeys, f.wnames = append(f.wkeys, k), append(f.wnames, n)
		ws = append(ws, ballot.Witness{Name: n, Key: k.Public().(ed25519.PublicKey)})
	}
	var err error
	if f.m, err = f.e.Manifest.WithWitnesses(ws, 2); err != nil {
		t.Fatal(err)
	}
	f.origin = bulletin.Origin(f.m.ElectionID, f.m.Fingerprint())
	return f
}

// witness opens witness i on a fresh directory (or dir, if given).
func (f *fixture) witness(i int, dir string) *Witness {
	f.t.Helper()
	if dir == "" {
		dir = f.t.TempDir()
	}
	var clock uint64 = 1_767_225_600
	w, err := New(Config{Name: f.wnames[i], Key: f.wkeys[i], Dir: dir, Elections: []*ballot.Manifest{f.m},
		Now: func() time.Time { clock++; return time.Unix(int64(clock), 0) }})
	if err != nil {
		f.t.Fatal(err)
	}
	return w
}

// history is one version of the board's log: leaves named by a prefix,
// one block per checkpointed size.
type history struct {
	log    *bulletin.MemoryLog
	leaves []string
}

func newHistory(t *testing.T, leaves ...string) *history {
	t.Helper()
	h := &history{log: &bulletin.MemoryLog{}}
	h.add(t, leaves...)
	return h
}

func (h *history) add(t *testing.T, leaves ...string) {
	t.Helper()
	for _, l := range leaves {
		if err := h.log.Append([]byte(l)); err != nil {
			t.Fatal(err)
		}
		h.leaves = append(h.leaves, l)
	}
}

func leaves(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s entry %d", prefix, i))
	}
	return out
}

// checkpoint of size, as block height = size (one entry per block), signed
// by the given nodes.
func (f *fixture) checkpoint(h *history, size uint64, nodes ...string) []byte {
	f.t.Helper()
	root, err := h.log.Root(size)
	if err != nil {
		f.t.Fatal(err)
	}
	bh := sha256.Sum256(binary.BigEndian.AppendUint64(root[:], size))
	c := &bulletin.Checkpoint{Origin: f.origin, Size: size, Root: root, Height: size, BlockHash: bh}
	var notes [][]byte
	for _, id := range nodes {
		s, err := bulletin.NodeSigner(id, f.e.NodeKeys()[id])
		if err != nil {
			f.t.Fatal(err)
		}
		n, err := note.Sign(&note.Note{Text: string(c.Text())}, s)
		if err != nil {
			f.t.Fatal(err)
		}
		notes = append(notes, n)
	}
	m, err := bulletin.MergeCheckpointSignatures(notes...)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (h *history) proof(t *testing.T, from, to uint64) []tlog.Hash {
	t.Helper()
	if from == 0 || from == to {
		return nil
	}
	p, err := bulletin.ProveConsistency(from, to, h.log)
	if err != nil {
		t.Fatal(err)
	}
	return p.Hashes
}

// add submits the checkpoint of h at size to w with old size old.
func (f *fixture) add(w *Witness, h *history, old, size uint64) ([]byte, error) {
	return w.AddCheckpoint(&Request{OldSize: old, Proof: h.proof(f.t, old, size), Note: f.checkpoint(h, size, "n1", "n2")})
}

// board is a party's view of the checkpoint rules: nodes and witnesses.
// cosignedWitness returns a fresh witness that has cosigned the first n
// leaves of the honest history, and that history.
func (f *fixture) cosignedWitness(t *testing.T, n int) (*Witness, *history) {
	t.Helper()
	w := f.witness(0, "")
	h := newHistory(t, leaves("honest", 0, n)...)
	if _, err := f.add(w, h, 0, uint64(n)); err != nil {
		t.Fatal(err)
	}
	return w, h
}

func (f *fixture) board() *bulletin.Board { return bulletin.BoardFor(f.m) }

func toArr(hs []tlog.Hash) [][32]byte {
	var out [][32]byte
	for _, h := range hs {
		out = append(out, h)
	}
	return out
}

func fromArr(hs [][32]byte) []tlog.Hash {
	var out []tlog.Hash
	for _, h := range hs {
		out = append(out, h)
	}
	return out
}
