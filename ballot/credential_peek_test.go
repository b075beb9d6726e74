package ballot

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestPeekCredentialList: on every list ParseCredentialList reads, the
// peek gives the same credentials (bytes) and weights, and it refuses
// every framing fault the parser refuses; only the elements' decoding is
// left out (a non-canonical element passes the peek, not the parser).
func TestPeekCredentialList(t *testing.T) {
	pts := pointsFrom(t, seeded.Raw("peek-list"), 5)
	w, _ := NewWeightedCredentialList([32]byte{7}, pts, []uint32{1, 2, 3, 4, MaxWeight})
	u, _ := NewCredentialList(pts)
	for _, l := range []*CredentialList{w, u} {
		b := l.Bytes()
		p, err := ParseCredentialList(b)
		if err != nil {
			t.Fatal(err)
		}
		creds, weights, err := PeekCredentialList(b)
		if err != nil || len(creds) != p.Len() || !slices.Equal(weights, p.Weights) {
			t.Fatalf("version %d: peek %d credentials, weights %v, %v; parse %d, %v", l.Version(), len(creds), weights, err, p.Len(), p.Weights)
		}
		for i, c := range creds {
			if !bytes.Equal(c, p.Credentials[i].Bytes()) {
				t.Fatalf("version %d: credential %d differs", l.Version(), i)
			}
		}
		item := 32
		if l.Version() == CredentialListWeighted {
			item = 36
		}
		swapped := bytes.Clone(b)
		first := len(b) - 5*item
		copy(swapped[first:], b[first+item:first+2*item])
		copy(swapped[first+item:], b[first:first+item])
		zeroCount := bytes.Clone(b)
		binary.BigEndian.PutUint32(zeroCount[first-4:], 0)
		for name, bad := range map[string][]byte{
			"trailing byte": append(bytes.Clone(b), 0),
			"cut short":     b[:len(b)-1],
			"not sorted":    swapped,
			"count 0":       zeroCount[:first],
			"empty":         nil,
			"unknown first": append([]byte{9}, b[1:]...),
		} {
			_, perr := ParseCredentialList(bad)
			_, _, kerr := PeekCredentialList(bad)
			if perr == nil || kerr == nil || perr.Error() != kerr.Error() {
				t.Errorf("version %d, %s: parse %v, peek %v; want the same refusal", l.Version(), name, perr, kerr)
			}
		}
		ff := bytes.Clone(b)
		copy(ff[len(b)-item:], bytes.Repeat([]byte{0xff}, 32))
		if _, err := ParseCredentialList(ff); err == nil {
			t.Fatal("a non-canonical credential parses")
		}
		if _, _, err := PeekCredentialList(ff); err != nil {
			t.Fatalf("the peek decoded an element: %v", err)
		}
	}
}
