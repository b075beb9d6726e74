package ballot

import (
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestBallotSizeIsExact pins Manifest.BallotSize to real encodings, and the
// manifest rule that keeps every ballot within the board's entry limit.
func TestBallotSizeIsExact(t *testing.T) {
	e := newTestElection(t, "size", shapes, 1)
	b, _ := e.encrypt(t, seeded.Raw("size-enc"), 0, [][]uint32{{0}, {1, 3}, {}, {2}})
	if got, want := len(b.Bytes()), e.m.BallotSize(); got != want {
		t.Fatalf("ballot is %d bytes, BallotSize says %d", got, want)
	}
	big := *e.m
	big.Questions = nil
	for i := 0; i < 8; i++ {
		q := Question{Text: "q", Min: 0, Max: 64}
		for o := 0; o < 64; o++ {
			q.Options = append(q.Options, strings.Repeat("o", o+1))
		}
		big.Questions = append(big.Questions, q)
	}
	if err := big.Validate(); !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), "board's limit") {
		t.Fatalf("oversized ballots accepted: %v", err)
	}
}

func TestBoardNodeIDs(t *testing.T) {
	e := newTestElection(t, "ids", shapes[:1], 0)
	for _, id := range []string{"", "a b", "n+1", "ü", strings.Repeat("x", MaxName+1)} {
		m := *e.m
		m.BoardNodes = append([]BoardNode{}, e.m.BoardNodes...)
		m.BoardNodes[0].ID = id
		if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("node id %q accepted: %v", id, err)
		}
	}
}

func TestPeekCredential(t *testing.T) {
	e := newTestElection(t, "peek", shapes[:1], 2)
	b, _ := e.encrypt(t, seeded.Raw("peek-enc"), 1, [][]uint32{{2}})
	got, err := PeekCredential(b.Bytes())
	if err != nil || got != [32]byte(e.creds[1].Public().Bytes()) {
		t.Fatalf("PeekCredential = %x, %v", got, err)
	}
	// Version 2 is BallotVersionKinds (docs/spec/kinds.md), so 0 and 3
	// are the unknown versions here.
	for _, bad := range [][]byte{nil, b.Bytes()[:64], append([]byte{0}, b.Bytes()[1:]...), append([]byte{3}, b.Bytes()[1:]...)} {
		if _, err := PeekCredential(bad); !errors.Is(err, ErrShape) {
			t.Errorf("PeekCredential(%d bytes) = %v, want ErrShape", len(bad), err)
		}
	}
}
