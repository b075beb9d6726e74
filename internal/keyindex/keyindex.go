// Package keyindex numbers 32-byte keys (credentials, trackers, entry
// ids) in the order they are added, in about 45 bytes a key and without
// pointers per key: the verifier's per-voter state at a million voters
// (bulletin.MemIndex, ballot.Counter). A Go map of [32]byte keys costs
// 35 to 80 bytes a key before its values (it doubles by powers of two),
// and every map keyed by the same credentials stores the keys again;
// with an Index, the values live in slices indexed by the key's number.
//
// Keys may be chosen by an adversary (a credential authority chooses the
// credentials, voters grind trackers): the table hashes them with a
// random seed (hash/maphash), so no set of keys makes the probing slow
// except by chance. Lookups are variable time; keys are public.
package keyindex

import (
	"hash/maphash"
	"math"
)

// chunkBits sets the keys per storage chunk (2^14 keys, 512 KiB): growing
// never copies the keys.
const chunkBits = 14

// Index is a set of 32-byte keys, each numbered 0, 1, 2, … in the order
// it was first added. The zero value is an empty index ready to use. An
// Index is not safe for concurrent use.
type Index struct {
	seed   maphash.Seed
	seeded bool
	n      int
	// slots is the open-addressing table (linear probing, at most 3/4
	// full): 0 for empty, else the key's hash in the high 32 bits and its
	// number + 1 in the low 32.
	slots  []uint64
	chunks []*[1 << chunkBits][32]byte
}

// Len returns the number of keys.
func (x *Index) Len() int { return x.n }

// Key returns key number id; id MUST be less than Len.
func (x *Index) Key(id uint32) [32]byte {
	return x.chunks[id>>chunkBits][id&(1<<chunkBits-1)]
}

func (x *Index) hash(k *[32]byte) uint64 {
	if !x.seeded {
		x.seed, x.seeded = maphash.MakeSeed(), true
	}
	return maphash.Comparable(x.seed, *k)
}

// find returns the slot of k, or of the empty slot where it belongs, and
// whether k is there.
func (x *Index) find(k *[32]byte, h uint64) (int, bool) {
	mask := len(x.slots) - 1
	tag := h >> 32
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return i, false
		}
		if s>>32 == tag && x.Key(uint32(s)-1) == *k {
			return i, true
		}
	}
}

// Find returns k's number and whether k is in the index.
func (x *Index) Find(k [32]byte) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	i, ok := x.find(&k, x.hash(&k))
	if !ok {
		return 0, false
	}
	return uint32(x.slots[i]) - 1, true
}

// Add adds k if it is not in the index yet and returns its number, and
// whether it was added now. It panics beyond 2^32 - 1 keys.
func (x *Index) Add(k [32]byte) (id uint32, added bool) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	h := x.hash(&k)
	i, ok := x.find(&k, h)
	if ok {
		return uint32(x.slots[i]) - 1, false
	}
	if x.n == math.MaxUint32-1 {
		panic("keyindex: too many keys")
	}
	id = uint32(x.n)
	if int(id>>chunkBits) == len(x.chunks) {
		x.chunks = append(x.chunks, new([1 << chunkBits][32]byte))
	}
	x.chunks[id>>chunkBits][id&(1<<chunkBits-1)] = k
	x.slots[i] = h>>32<<32 | uint64(id+1)
	x.n++
	return id, true
}

// grow doubles the table (at least 16 slots) and places every key again.
func (x *Index) grow() {
	old := x.slots
	x.slots = make([]uint64, max(16, 2*len(old)))
	mask := len(x.slots) - 1
	for id := 0; id < x.n; id++ {
		k := x.Key(uint32(id))
		h := x.hash(&k)
		i := int(h) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = h>>32<<32 | uint64(id+1)
	}
}
