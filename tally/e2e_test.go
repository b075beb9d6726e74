package tally

import (
	"errors"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// TestEndToEnd runs a whole election in process: a 5-trustee, threshold-3
// key ceremony in which dealer 2 cheats and is excluded, 200 ballots with
// revotes and challenged ballots, and a tally with 4 trustees present, one
// of whom posts a bad partial decryption.
//
// TODO(lead): encrypt with ballot.EncryptBallot once package ballot is
// stable; this test encrypts option ciphertexts with plain exponential
// ElGamal (SPEC.md §4.1), which is what the tally sees.
func TestEndToEnd(t *testing.T) {
	const n, th = 5, 3
	rng := newSeeded("e2e")
	params, secrets := newParams(t, rng, n, th)

	// Key ceremony, round 1: every trustee deals.
	posts := make([]*DealerPost, n)
	states := make([]*DealerState, n)
	for i := 1; i <= n; i++ {
		var err error
		if posts[i-1], states[i-1], err = Deal(rng, params, i, secrets[i-1]); err != nil {
			t.Fatal(err)
		}
	}
	// Dealer 2 sends trustee 4 a share off its polynomial.
	c := &ceremony{params: params, secrets: secrets, posts: posts, states: states}
	badShare(t, c, rng, 2, 4)

	// Round 2: every trustee checks its shares; trustee 4 complains about 2.
	var complaints []*Complaint
	reports := make([]*ReceiverReport, n)
	for j := 1; j <= n; j++ {
		rep, err := ReceiveShares(params, j, secrets[j-1], posts)
		if err != nil {
			t.Fatal(err)
		}
		reports[j-1] = rep
		complaints = append(complaints, rep.Complaints...)
	}
	if len(complaints) != 1 || *complaints[0] != (Complaint{Dealer: 2, Complainer: 4}) {
		t.Fatalf("complaints = %v", complaints)
	}
	// Round 3: dealer 2 answers with a share that is still wrong.
	rv, err := states[1].Reveal(complaints[0])
	if err != nil {
		t.Fatal(err)
	}
	rv.Share.Add(rv.Share, group.ScalarFromUint64(7))
	reveals := []*Reveal{rv}

	qual, err := Qualified(params, posts, complaints, reveals)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(qual, []int{1, 3, 4, 5}) {
		t.Fatalf("QUAL = %v", qual)
	}
	dq, _ := Disqualifications(params, posts, complaints, reveals)
	if len(dq) != 1 || dq[0].Dealer != 2 {
		t.Fatalf("disqualifications %v", dq)
	}
	key, err := JointKey(params, posts, qual)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := VerificationKeys(params, posts, qual)
	if err != nil {
		t.Fatal(err)
	}
	shares := make([]*KeyShare, n)
	for j := 1; j <= n; j++ {
		if shares[j-1], err = states[j-1].Finish(params, reports[j-1], posts, reveals, qual); err != nil {
			t.Fatalf("trustee %d: %v", j, err)
		}
	}

	// Voting: 2 questions (3 options, 2 options), one selection each;
	// 150 credentials, 200 ballots: revotes replace, challenged ballots
	// are audited and never counted.
	options := []int{3, 2}
	type entry struct {
		cred       int
		cts        [][]*ballot.Ciphertext
		choice     []int
		challenged bool
	}
	var board []entry
	buf := make([]byte, 4)
	for b := 0; b < 200; b++ {
		rng.Read(buf)
		e := entry{cred: b % 150, choice: []int{int(buf[0]) % 3, int(buf[1]) % 2}, challenged: buf[2]%10 == 0}
		for q, no := range options {
			var row []*ballot.Ciphertext
			for o := 0; o < no; o++ {
				r, _ := group.RandomScalar(rng)
				m := uint64(0)
				if o == e.choice[q] {
					m = 1
				}
				row = append(row, elgamal(key, m, r))
			}
			e.cts = append(e.cts, row)
		}
		board = append(board, e)
	}
	// V10: the last non-challenged ballot of every credential counts.
	last := map[int]int{}
	for k, e := range board {
		if !e.challenged {
			last[e.cred] = k
		}
	}
	want := [][]uint64{make([]uint64, 3), make([]uint64, 2)}
	var counted [][][]*ballot.Ciphertext
	revotes, challenged := 0, 0
	for k, e := range board {
		if e.challenged {
			challenged++
		}
		if last[e.cred] != k {
			if !e.challenged {
				revotes++
			}
			continue
		}
		counted = append(counted, e.cts)
		for q, o := range e.choice {
			want[q][o]++
		}
	}
	if revotes == 0 || challenged == 0 {
		t.Fatalf("scenario lacks revotes (%d) or challenges (%d)", revotes, challenged)
	}
	agg, err := Aggregate(options, counted)
	if err != nil {
		t.Fatal(err)
	}

	// Tally: trustees 2, 3, 4, 5 are present; 3 posts a bad factor.
	partials := map[int]*PartialDecryption{}
	for _, j := range []int{2, 3, 4, 5} {
		pd, err := PartialDecrypt(rng, params, shares[j-1], agg)
		if err != nil {
			t.Fatal(err)
		}
		if j == 3 {
			pd.Shares[0][1].D.Add(pd.Shares[0][1].D, group.Generator())
		}
		b, err := ParsePartialDecryption(pd.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		partials[j] = b
	}
	if err := VerifyPartial(params, vk[2], agg, partials[3]); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("bad partial decryption accepted: %v", err)
	}
	maxCount := uint64(len(last))
	res, rejected, err := Combine(params, vk, agg, partials, maxCount)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rejected, []int{3}) || !slices.Equal(res.Trustees, []int{2, 4, 5}) {
		t.Fatalf("rejected %v, trustees %v", rejected, res.Trustees)
	}
	for q := range want {
		if !slices.Equal(res.Counts[q], want[q]) {
			t.Fatalf("question %d: counts %v, want %v", q, res.Counts[q], want[q])
		}
	}
	// The observer's V13 on the decoded result.
	res2, err := ParseResult(res.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyResult(params, vk, agg, partials, maxCount, res2); err != nil {
		t.Fatal(err)
	}
	t.Logf("counted %d of 200 ballots (%d revotes replaced, %d challenged): %v", len(counted), revotes, challenged, res.Counts)
}
