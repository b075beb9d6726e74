package tally

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.txt")

const vectorsFile = "testdata/vectors.txt"

// vectors regenerates the known-answer vectors: a 3-trustee, threshold-2
// ceremony and tally driven by a seeded reader (SPEC.md §8, §9). Every
// line is "name hex".
func vectors(t *testing.T) []byte {
	rng := seeded.New("urna/v1 tally known-answer vectors")
	var out bytes.Buffer
	put := func(name string, b []byte) { fmt.Fprintf(&out, "%s %x\n", name, b) }
	params, secrets := newParams(t, rng, 3, 2)
	put("fingerprint", params.Fingerprint[:])
	for i, s := range secrets {
		put(fmt.Sprintf("trustee-secret-%d", i+1), s.Bytes())
		put(fmt.Sprintf("trustee-public-%d", i+1), s.Public().Bytes())
	}
	c := &ceremony{params: params, secrets: secrets}
	c.deal(t, rng)
	for i, post := range c.posts {
		put(fmt.Sprintf("dealer-post-%d", i+1), post.Bytes())
	}
	put("encrypted-share-1-2", c.posts[0].Shares[0].Bytes())
	// Dealer 3 sends trustee 1 a bad share, is complained against and reveals.
	badShare(t, c, rng, 3, 1)
	put("dealer-post-3-bad", c.posts[2].Bytes())
	rep, err := ReceiveShares(params, 1, secrets[0], c.posts)
	if err != nil || len(rep.Complaints) != 1 {
		t.Fatal("expected one complaint", err)
	}
	put("confirmation-1", rep.Confirmation.Bytes())
	put("complaint-3-1", rep.Complaints[0].Bytes())
	rv, err := c.states[2].Reveal(rep.Complaints[0])
	if err != nil {
		t.Fatal(err)
	}
	put("reveal-3-1", rv.Bytes())
	c.finish(t, nil, []*Reveal{rv})
	put("joint-key", c.key.Bytes())
	for j, x := range c.vk {
		put(fmt.Sprintf("verification-key-%d", j+1), x.Bytes())
	}
	put("key-share-2", c.shares[1].Bytes())
	agg := encryptAgg(t, rng, c.key, [][]uint64{{2, 5}, {0}})
	for q, row := range agg {
		for o, ct := range row {
			put(fmt.Sprintf("aggregate-%d-%d", q, o), ct.Bytes())
		}
	}
	parts := c.decrypt(t, rng, agg, 2, 3)
	for _, j := range []int{2, 3} {
		put(fmt.Sprintf("partial-decryption-%d", j), parts[j].Bytes())
	}
	res, _, err := Combine(params, c.vk, agg, parts, 10)
	if err != nil {
		t.Fatal(err)
	}
	put("result", res.Bytes())
	d := res.Digest(params.Fingerprint)
	put("result-digest", d[:])
	return out.Bytes()
}

func TestVectors(t *testing.T) {
	golden.Check(t, vectorsFile, vectors(t), *update)
}

// TestVectorsDecode re-parses every pinned object and checks it re-encodes
// to the same bytes, so the file also pins the decoders.
func TestVectorsDecode(t *testing.T) {
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Skip("no vectors yet")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		name, hx, _ := strings.Cut(sc.Text(), " ")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(name, "dealer-post-"):
			mustReencode(t, name, b, ParseDealerPost)
		case strings.HasPrefix(name, "partial-decryption-"):
			mustReencode(t, name, b, ParsePartialDecryption)
		case name == "result":
			mustReencode(t, name, b, ParseResult)
		case strings.HasPrefix(name, "reveal-"):
			mustReencode(t, name, b, ParseReveal)
		case strings.HasPrefix(name, "complaint-"):
			mustReencode(t, name, b, ParseComplaint)
		case strings.HasPrefix(name, "key-share-"):
			mustReencode(t, name, b, ParseKeyShare)
		default:
			continue
		}
		n++
	}
	if n < 8 {
		t.Fatalf("only %d objects checked", n)
	}
}

// mustReencode fails t unless parse accepts b and encodes it back to b.
func mustReencode[T interface{ Bytes() []byte }](t *testing.T, name string, b []byte, parse func([]byte) (T, error)) {
	t.Helper()
	p, err := parse(b)
	if err != nil {
		t.Fatal(name, err)
	}
	if !bytes.Equal(p.Bytes(), b) {
		t.Fatalf("%s does not re-encode", name)
	}
}
