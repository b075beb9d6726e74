package client

import (
	"fmt"
	"testing"

	"github.com/urna-vote/urna/bulletin"
)

// TestFrontierMatchesMemoryLog: the frontier's root is the MemoryLog's at
// every size, empty log included.
func TestFrontierMatchesMemoryLog(t *testing.T) {
	var f frontier
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
