package tally

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestEndToEnd runs a whole election in process: a 5-trustee, threshold-3
// key ceremony in which dealer 2 cheats and is excluded by complaint, 200
// ballots with revotes and challenged ballots, and a tally with only 3
// trustees present, one of whom first posts a bad partial decryption that
// is rejected.
// The ballots are real: encrypted with ballot.EncryptBallot under the joint
// key, batch-verified, audited with ballot.VerifyOpening, and selected by
// ballot.SelectCounted.
func TestEndToEnd(t *testing.T) {
	const n, th = 5, 3
	rng := seeded.New("e2e")
	_, secrets := newParams(t, rng, n, th)
	m := e2eManifest(t, rng, secrets, th)
	params := ManifestParams(m) // every proof below binds this election

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

	// Voting with real ballots (package ballot): 2 questions (1-of-3,
	// 1-of-2), 150 credentials, 200 ballots. Revotes replace earlier
	// ballots; challenged ballots are opened, checked and never counted.
	options := []int{3, 2}
	creds := make([]*ballot.CredentialKey, 150)
	for i := range creds {
		c, err := ballot.GenerateCredential(rng)
		if err != nil {
			t.Fatal(err)
		}
		if creds[i], err = c.Key(m.ElectionID); err != nil {
			t.Fatal(err)
		}
	}
	var (
		entries []ballot.CountEntry
		cast    []*ballot.Ballot
		choices [][]int // per entry
	)
	buf := make([]byte, 4)
	for b := 0; b < 200; b++ {
		rng.Read(buf)
		choice := []int{int(buf[0]) % 3, int(buf[1]) % 2}
		sel := [][]uint32{{uint32(choice[0])}, {uint32(choice[1])}}
		bl, sec, err := ballot.EncryptBallot(rng, m, key, creds[b%150], sel)
		if err != nil {
			t.Fatal(err)
		}
		wire, err := ballot.ParseBallot(bl.Bytes()) // what the board would hold
		if err != nil {
			t.Fatal(err)
		}
		if buf[2]%10 == 0 { // Benaloh challenge: open, check, discard
			op, err := bl.Open(sec)
			if err != nil {
				t.Fatal(err)
			}
			a, err := ballot.ParseAuditedBallot((&ballot.AuditedBallot{Ballot: bl, Opening: op}).Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if err := ballot.VerifyOpening(m, key, a.Ballot, a.Opening); err != nil {
				t.Fatalf("audit of ballot %d: %v", b, err)
			}
			if got := a.Opening.Choices; got[0][0] != sel[0][0] || got[1][0] != sel[1][0] {
				t.Fatalf("audit of ballot %d opened %v, voter chose %v", b, got, sel)
			}
			entries = append(entries, ballot.AuditEntry(a, true))
		} else {
			entries = append(entries, ballot.CastEntry(wire, true))
			cast = append(cast, wire)
		}
		choices = append(choices, choice)
	}
	if bad, err := ballot.VerifyBatch(rng, m, key, cast, nil); err != nil || len(bad) != 0 {
		t.Fatalf("VerifyBatch: bad %v, err %v", bad, err)
	}

	// V10 by the ballot package's counting rule, cross-checked against an
	// independent "last cast ballot per credential" computation.
	status := ballot.SelectCounted(entries)
	last := map[[32]byte]int{}
	for k, e := range entries {
		if !e.Audited {
			last[e.Credential] = k
		}
	}
	want := [][]uint64{make([]uint64, 3), make([]uint64, 2)}
	var counted [][][]*ballot.Ciphertext
	revotes, challenged := 0, 0
	for k, e := range entries {
		isLast := !e.Audited && last[e.Credential] == k
		if (status[k] == ballot.Counted) != isLast {
			t.Fatalf("entry %d: counting rule says %v, last-per-credential says %v", k, status[k], isLast)
		}
		switch {
		case e.Audited:
			challenged++
		case !isLast:
			revotes++
		default:
			b, err := ballot.ParseBallot(cast[castIndex(entries, k)].Bytes())
			if err != nil {
				t.Fatal(err)
			}
			counted = append(counted, b.Ciphertexts())
			for q, o := range choices[k] {
				want[q][o]++
			}
		}
	}
	if revotes == 0 || challenged == 0 {
		t.Fatalf("scenario lacks revotes (%d) or challenges (%d)", revotes, challenged)
	}
	agg, err := Aggregate(options, counted)
	if err != nil {
		t.Fatal(err)
	}

	// Tally with only 3 trustees present (2, 3, 4; threshold 3). Trustee 3
	// first posts a partial decryption with one bad factor: it is rejected,
	// and 2 valid partials are not enough. Trustee 3 then posts a correct
	// one and the three decrypt.
	partials := map[int]*PartialDecryption{}
	for _, j := range []int{2, 3, 4} {
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
	if _, rejected, err := Combine(params, vk, agg, partials, maxCount); !errors.Is(err, ErrTooFewTrustees) || !slices.Equal(rejected, []int{3}) {
		t.Fatalf("combining with a bad partial among 3: err %v, rejected %v", err, rejected)
	}
	pd3, err := PartialDecrypt(rng, params, shares[2], agg)
	if err != nil {
		t.Fatal(err)
	}
	partials[3] = pd3
	res, rejected, err := Combine(params, vk, agg, partials, maxCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 0 || !slices.Equal(res.Trustees, []int{2, 3, 4}) {
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
	if len(counted) != len(last) {
		t.Fatalf("counted %d ballots for %d credentials", len(counted), len(last))
	}
	t.Logf("counted %d of 200 ballots (%d revotes replaced, %d challenged): %v", len(counted), revotes, challenged, res.Counts)
}

// castIndex maps board entry k (a cast ballot) to its position among cast ballots.
func castIndex(entries []ballot.CountEntry, k int) int {
	n := 0
	for _, e := range entries[:k] {
		if !e.Audited {
			n++
		}
	}
	return n
}

// e2eManifest builds the election manifest for the trustees of params.
func e2eManifest(t *testing.T, rng *seeded.Reader, secrets []*TrusteeSecret, th int) *ballot.Manifest {
	t.Helper()
	ea, err := schnorr.GenerateKey(rng)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := schnorr.GenerateKey(rng)
	if err != nil {
		t.Fatal(err)
	}
	var trustees []ballot.Trustee
	for i, s := range secrets {
		p := s.Public()
		trustees = append(trustees, ballot.Trustee{Name: fmt.Sprintf("trustee-%d", i+1), SigningKey: p.SigningKey, ShareKey: p.ShareKey})
	}
	node := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	m, err := ballot.NewManifest("tally-e2e", "Tally end to end",
		[]ballot.Question{
			{Text: "Q1", Options: []string{"a", "b", "c"}, Min: 1, Max: 1},
			{Text: "Q2", Options: []string{"x", "y"}, Min: 1, Max: 1},
		}, ea.Public(), ca.Public(), trustees, uint32(th),
		[]ballot.BoardNode{{ID: "n1", Key: node}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
