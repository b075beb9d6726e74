package keyindex

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

func key(i int) [32]byte { return sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i))) }

// TestIndexAgainstMap: numbers in order of first addition, membership and
// keys agree with a map through several growths and chunks.
func TestIndexAgainstMap(t *testing.T) {
	var x Index
	if _, ok := x.Find(key(0)); ok || x.Len() != 0 {
		t.Fatal("empty index finds a key")
	}
	want := map[[32]byte]uint32{}
	const n = 3<<chunkBits + 5
	for i := 0; i < n; i++ {
		k := key(i % (n - 1000)) // the last 1000 add keys again
		id, added := x.Add(k)
		w, had := want[k]
		if !had {
			w = uint32(len(want))
			want[k] = w
		}
		if id != w || added == had {
			t.Fatalf("Add #%d: id %d added %v, want %d %v", i, id, added, w, !had)
		}
	}
	if x.Len() != len(want) {
		t.Fatalf("Len %d, want %d", x.Len(), len(want))
	}
	for k, w := range want {
		if id, ok := x.Find(k); !ok || id != w || x.Key(id) != k {
			t.Fatalf("Find: %d %v, want %d", id, ok, w)
		}
	}
	for i := n; i < n+1000; i++ {
		if _, ok := x.Find(key(i)); ok {
			t.Fatalf("finds key %d, never added", i)
		}
	}
}

// TestAttackSameBucketKeys: keys that agree in every byte but the last
// (as a credential authority could choose them) still number correctly:
// the table hashes whole keys under a random seed.
func TestAttackSameBucketKeys(t *testing.T) {
	var x Index
	for i := 0; i < 256; i++ {
		var k [32]byte
		k[31] = byte(i)
		if id, added := x.Add(k); id != uint32(i) || !added {
			t.Fatalf("key %d: id %d added %v", i, id, added)
		}
	}
	for i := 0; i < 256; i++ {
		var k [32]byte
		k[31] = byte(i)
		if id, ok := x.Find(k); !ok || id != uint32(i) {
			t.Fatalf("key %d: Find %d %v", i, id, ok)
		}
	}
}

func BenchmarkAdd1M(b *testing.B) {
	for range b.N {
		var x Index
		for i := range 1 << 20 {
			x.Add(key(i))
		}
	}
}
