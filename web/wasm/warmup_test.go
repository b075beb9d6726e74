package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// edgeQuestions have the answers warmAnswers must get right: a selection
// that needs two at least, a ranking that may be empty, scores from 1.
var edgeQuestions = []ballot.Question{
	{Text: "Two or three", Options: []string{"a", "b", "c", "d"}, Min: 2, Max: 3},
	{Text: "Rank", Kind: ballot.KindRanked, Options: []string{"Ann", "Bo", "Cy"}, Min: 0, Max: 2},
	{Text: "Grade", Kind: ballot.KindScore, Options: []string{"X", "Y"}, Min: 1, Max: 4},
	{Text: "Name", Kind: ballot.KindWriteIn, Min: 0, Max: 1},
}

// TestWarmUp: the booth's throw-away ballot is a real ballot of the
// election, encrypted to its key and verifiable, so that warming up runs
// the voter's code; it is signed by a fresh credential that no one
// registered, a new one each time, never the voter's.
func TestWarmUp(t *testing.T) {
	for _, c := range []struct {
		name string
		f    *fixture
	}{
		{"two selection questions", newFixture(t)},
		{"ranked, score and write-in", kindsFixture(t)},
		{"edge rules", fixtureOf(testonly.NewElection(t, "web warm-up", testonly.Config{Voters: 1, Questions: edgeQuestions}))},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			registered, err := electorateOf(&election{m: f.m, fp: f.m.Fingerprint()}, [][]byte{f.credList}, nil)
			if err != nil {
				t.Fatal(err)
			}
			voter := f.booth(t).PublicCredential()
			authors := map[string]bool{}
			for i := 0; i < 2; i++ {
				s, out, err := warmUp(rand.Reader, f.mb64, f.jointKey)
				if err != nil {
					t.Fatalf("warm-up %d: %v", i, err)
				}
				e := parseEntryB64(t, s.Entry)
				if e.Type != bulletin.TypeBallot || e.Role != bulletin.RoleVoter || e.Election != f.m.Fingerprint() || e.VerifySignature() != nil {
					t.Fatalf("warm-up %d: entry of type %v, role %v", i, e.Type, e.Role)
				}
				bl, err := ballot.ParseBallot(e.Body)
				if err != nil {
					t.Fatal(err)
				}
				if err := bl.Verify(f.m, f.key); err != nil {
					t.Fatalf("warm-up %d: the throw-away ballot does not verify: %v", i, err)
				}
				if !e.Author.Equal(bl.Credential()) || bl.Tracker().Hex() != s.TrackerHex {
					t.Fatalf("warm-up %d: the entry does not carry its own ballot", i)
				}
				if _, ok := registered.Weight([32]byte(e.Author.Bytes())); ok {
					t.Fatalf("warm-up %d: signed by a registered credential", i)
				}
				if hex.EncodeToString(e.Author.Bytes()) == voter || authors[string(e.Author.Bytes())] {
					t.Fatalf("warm-up %d: signed by the voter's credential or one used before", i)
				}
				authors[string(e.Author.Bytes())] = true
				// The reply the page would have had (and never gets).
				var r struct{ OK Sealed }
				if err := json.Unmarshal(out, &r); err != nil || r.OK != *s {
					t.Fatalf("warm-up %d: reply %s: %v", i, out, err)
				}
			}
			// The voter's ballot after it: encrypted and signed as ever.
			b := f.booth(t)
			s, err := b.EncryptAnswers(warmAnswers(f.m))
			if err != nil {
				t.Fatal(err)
			}
			e := parseEntryB64(t, s.Entry)
			bl, err := ballot.ParseBallot(e.Body)
			if err != nil {
				t.Fatal(err)
			}
			if e.VerifySignature() != nil || bl.Verify(f.m, f.key) != nil || hex.EncodeToString(e.Author.Bytes()) != voter {
				t.Fatal("the voter's ballot after a warm-up does not verify or is not signed by the voter's credential")
			}
		})
	}
}

// TestWarmUpRefuses: without a valid election key or manifest there is
// nothing to warm up, and it says why as the booth would.
func TestWarmUpRefuses(t *testing.T) {
	f := newFixture(t)
	_, _, err := warmUp(rand.Reader, f.mb64, "")
	wantCode(t, "no key", err, "no_key")
	_, _, err = warmUp(rand.Reader, "not base64!", f.jointKey)
	wantCode(t, "bad manifest", err, "malformed")
}

// TestWarmUpSteps: the page runs steps 0, 1, 2 and stops when told no
// more follow; a step beyond is refused.
func TestWarmUpSteps(t *testing.T) {
	f := newFixture(t)
	for step, want := range []bool{true, true, false} {
		more, err := warmUpStep(rand.Reader, f.mb64, f.jointKey, step)
		if err != nil || more != want {
			t.Fatalf("step %d: more %v, %v; want %v", step, more, err, want)
		}
	}
	_, err := warmUpStep(rand.Reader, f.mb64, f.jointKey, 3)
	wantCode(t, "step 3", err, "usage")
	_, err = warmUpStep(rand.Reader, f.mb64, "", 0)
	wantCode(t, "step 0 without a key", err, "no_key")
}
