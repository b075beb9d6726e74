package transcript

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/urna-vote/urna/internal/group"
)

func TestEncodingIsLengthPrefixed(t *testing.T) {
	// "ab","c" and "a","bc" must differ: items are length-prefixed.
	a := New(DLogProof).String("ab").String("c").Encoding()
	b := New(DLogProof).String("a").String("bc").Encoding()
	if hex.EncodeToString(a) == hex.EncodeToString(b) {
		t.Fatal("item boundaries are not encoded")
	}
	want := "00000002616200000001" + "63"
	if got := hex.EncodeToString(a); got != want {
		t.Fatalf("encoding = %s, want %s", got, want)
	}
}

func TestChallengeDomainSeparated(t *testing.T) {
	x := New(DLogProof).Uint64(7).Challenge()
	y := New(DecryptionProof).Uint64(7).Challenge()
	if x.Equal(y) {
		t.Fatal("two labels gave the same challenge")
	}
	want := group.HashToScalar([]byte{0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7}, []byte("urna/v1/dlog-proof"))
	if !x.Equal(want) {
		t.Fatal("challenge does not follow SPEC.md §2.3")
	}
}

func TestDigest(t *testing.T) {
	d := New(BallotTracker).String("x").Digest()
	tag := "urna/v1/ballot-tracker"
	msg := append([]byte{0, 0, 0, byte(len(tag))}, tag...)
	msg = append(msg, 0, 0, 0, 1, 'x')
	if want := sha256.Sum256(msg); d != want {
		t.Fatal("digest does not follow SPEC.md §2.3")
	}
	if New(EntryHash).String("x").Digest() == d {
		t.Fatal("digest labels not separated")
	}
}

// TestDigestOf: DigestOf is the Digest of a transcript of the same items,
// for none, one (empty or long) and several items.
func TestDigestOf(t *testing.T) {
	long := make([]byte, 5000)
	for i := range long {
		long[i] = byte(i * 7)
	}
	for _, items := range [][][]byte{nil, {{}}, {[]byte("x")}, {long}, {[]byte("ab"), []byte("c"), long}} {
		tr := New(EntryHash)
		for _, it := range items {
			tr.Bytes(it)
		}
		if got, want := DigestOf(EntryHash, items...), tr.Digest(); got != want {
			t.Fatalf("%d items: DigestOf = %x, the transcript's Digest = %x", len(items), got, want)
		}
	}
	if DigestOf(EntryHash, []byte("x")) == DigestOf(BallotTracker, []byte("x")) {
		t.Fatal("DigestOf ignores the label")
	}
}

// TestDigestOfJoined: DigestOfJoined is the DigestOf of the one item its
// parts make, however they are cut (none, empty parts, one long part).
func TestDigestOfJoined(t *testing.T) {
	long := make([]byte, 5000)
	for i := range long {
		long[i] = byte(i * 13)
	}
	for _, parts := range [][][]byte{nil, {{}}, {{}, {}}, {long}, {long[:1], long[1:4000], {}, long[4000:]}, {[]byte("ab"), []byte("c")}} {
		var item []byte
		for _, p := range parts {
			item = append(item, p...)
		}
		if got, want := DigestOfJoined(ChoicesTracker, parts...), DigestOf(ChoicesTracker, item); got != want {
			t.Fatalf("%d parts: DigestOfJoined = %x, DigestOf of the joined item = %x", len(parts), got, want)
		}
	}
	if DigestOfJoined(ChoicesTracker, []byte("a"), []byte("b")) == DigestOf(ChoicesTracker, []byte("a"), []byte("b")) {
		t.Fatal("DigestOfJoined length-prefixes each part")
	}
}
