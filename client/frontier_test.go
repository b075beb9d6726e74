package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestFrontierMatchesMemoryLog: the frontier's root is the MemoryLog's at
// every size, empty log included.
func TestFrontierMatchesMemoryLog(t *testing.T) {
	var f client.Frontier
	var m bulletin.MemoryLog
	for n := 0; n <= 300; n++ {
		want, err := m.Root(m.Size())
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Root(f.Size())
		if err != nil || got != want || f.Size() != m.Size() {
			t.Fatalf("size %d: frontier root %x (%v), MemoryLog root %x", n, got, err, want)
		}
		leaf := []byte(fmt.Sprintf("entry %d", n))
		f.Append(leaf)
		if err := m.Append(leaf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Root(3); err == nil {
		t.Fatal("frontier gave the root of an earlier size")
	}
}

// TestFollowLean: FollowRecord with Lean gives the same verified state as
// without (report, counted ballots, covering checkpoint), accepts the
// record's own checkpoint, and refuses to save a state or to prove an
// earlier checkpoint, which it keeps no hashes for.
func TestFollowLean(t *testing.T) {
	e := testonly.Build(t, "lean", testonly.SmallConfig())
	sealed := e.Seal(e.Entries)
	rec := sealed.Encode()
	full, err := client.FollowRecord(bytes.NewReader(rec), client.FollowOptions{Rand: seeded.New("lean")})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := client.FollowRecord(bytes.NewReader(rec), client.FollowOptions{Rand: seeded.New("lean"), Lean: true})
	if err != nil {
		t.Fatal(err)
	}
	fj, _ := json.Marshal(full.Report)
	lj, _ := json.Marshal(lean.Report)
	if !bytes.Equal(fj, lj) || !bytes.Equal(full.Note, lean.Note) || full.Counted != lean.Counted {
		t.Fatalf("lean Follow differs:\n%s\n%s", fj, lj)
	}
	for _, seq := range e.SeqCounted {
		en := testonly.ParseEntry(t, e.Entries[seq])
		a, okA := full.CountedSeq(en.AuthorKey())
		b, okB := lean.CountedSeq(en.AuthorKey())
		if a != b || okA != okB || !okA {
			t.Fatalf("counted ballot of entry %d: %d %v (lean %d %v)", seq, a, okA, b, okB)
		}
	}
	if err := lean.Extends(context.Background(), lean.Note, nil); err != nil {
		t.Fatalf("lean state does not extend its own checkpoint: %v", err)
	}
	if err := full.Extends(context.Background(), sealed.Notes[0], nil); err != nil {
		t.Fatalf("full state: %v", err)
	}
	if err := lean.Extends(context.Background(), sealed.Notes[0], nil); err == nil {
		t.Fatal("lean state proves an earlier checkpoint it keeps no hashes for")
	}
	if _, err := lean.MarshalState(); err == nil {
		t.Fatal("lean state can be saved")
	}
}
