package bulletin

import (
	"errors"
	"fmt"
	"testing"
)

func memLog(t testing.TB, n int) (*MemoryLog, [][]byte) {
	var m MemoryLog
	var leaves [][]byte
	for i := 0; i < n; i++ {
		l := []byte(fmt.Sprintf("entry %d", i))
		leaves = append(leaves, l)
		if err := m.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	return &m, leaves
}

// encoded fails t unless a proof was made (err nil) and parses back from
// its encoding, and returns the parsed proof.
func encoded[P interface{ Bytes() []byte }](t *testing.T, p P, err error, parse func([]byte) (P, error)) P {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	q, err := parse(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestInclusionProofs(t *testing.T) {
	m, leaves := memLog(t, 13)
	for size := uint64(1); size <= 13; size++ {
		root, _ := m.Root(size)
		for seq := uint64(0); seq < size; seq++ {
			p, err := ProveInclusion(seq, size, m)
			q := encoded(t, p, err, ParseInclusionProof)
			if err := q.Check(root, leaves[seq]); err != nil {
				t.Fatalf("seq %d size %d: %v", seq, size, err)
			}
			other := leaves[(seq+1)%13]
			if err := q.Check(root, other); !errors.Is(err, ErrInvalidProof) && size > 1 {
				t.Fatalf("wrong entry accepted at %d/%d", seq, size)
			}
			if len(q.Hashes) > 0 {
				q.Hashes[0][0] ^= 1
				if err := q.Check(root, leaves[seq]); !errors.Is(err, ErrInvalidProof) {
					t.Fatal("tampered proof accepted")
				}
			}
		}
	}
	if _, err := ProveInclusion(5, 5, m); err == nil {
		t.Fatal("proof beyond the tree")
	}
	p, _ := ProveInclusion(2, 8, m)
	p.Seq = 3
	root, _ := m.Root(8)
	if p.Check(root, leaves[2]) == nil {
		t.Fatal("proof for another position accepted")
	}
}

func TestConsistencyProofs(t *testing.T) {
	m, _ := memLog(t, 13)
	for old := uint64(1); old <= 13; old++ {
		for nw := old; nw <= 13; nw++ {
			p, err := ProveConsistency(old, nw, m)
			q := encoded(t, p, err, ParseConsistencyProof)
			or, _ := m.Root(old)
			nr, _ := m.Root(nw)
			if err := q.Check(or, nr); err != nil {
				t.Fatalf("%d→%d: %v", old, nw, err)
			}
			or[0] ^= 1
			if q.Check(or, nr) == nil {
				t.Fatalf("%d→%d: wrong old root accepted", old, nw)
			}
		}
	}
	for _, b := range [][]byte{
		(&ConsistencyProof{OldSize: 0, NewSize: 3}).Bytes(),
		(&ConsistencyProof{OldSize: 4, NewSize: 3}).Bytes(),
		append((&ConsistencyProof{OldSize: 1, NewSize: 3}).Bytes(), 0),
		{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 7}, // short hash
		{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0},    // 256 hashes
	} {
		if _, err := ParseConsistencyProof(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("bad proof %x: %v", b, err)
		}
	}
	if _, err := ParseInclusionProof((&InclusionProof{Seq: 3, Size: 3}).Bytes()); err == nil {
		t.Error("inclusion proof beyond size accepted")
	}
}
