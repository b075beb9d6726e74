package client_test

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// where is an expected failure: step id and entry seq (or block height).
type where struct {
	step  string
	entry int64 // client.NoEntry to ignore
	block int64 // client.NoEntry to ignore
}

func at(step string, seq int) where    { return where{step, int64(seq), client.NoEntry} }
func atBlock(step string, h int) where { return where{step, client.NoEntry, int64(h)} }
func anywhere(step string) where       { return where{step, client.NoEntry, client.NoEntry} }

func (w where) match(f client.Failure) bool {
	return (w.entry == client.NoEntry || f.Entry == w.entry) && (w.block == client.NoEntry || f.Block == w.block)
}

func expectFailures(t *testing.T, rep *client.Report, first string, want ...where) {
	t.Helper()
	if rep.OK() {
		t.Fatal("tampered record verifies")
	}
	if step, f, _ := rep.FirstFailure(); step != first {
		dump(t, rep)
		t.Fatalf("first failing step %s (%s), want %s", step, f, first)
	}
	for _, w := range want {
		s := rep.Step(w.step)
		found := false
		for _, f := range s.Failures {
			if w.match(f) {
				found = true
			}
		}
		if !found {
			dump(t, rep)
			t.Errorf("no %s failure at entry %d / block %d", w.step, w.entry, w.block)
		}
	}
}

func insert(entries [][]byte, at int, entry []byte) [][]byte {
	out := append([][]byte(nil), entries[:at]...)
	out = append(out, entry)
	return append(out, entries[at:]...)
}

func mustBallot(t *testing.T, e *testonly.Election, key *schnorr.PrivateKey, choices [][]uint32) []byte {
	b, _, err := ballot.EncryptBallot(e.Rand, e.Manifest, e.JointKey, ballot.NewCredentialKey(key), choices)
	if err != nil {
		t.Fatal(err)
	}
	en := e.EntryFor(e.Manifest.Fingerprint(), bulletin.TypeBallot, bulletin.RoleVoter, key, b.Bytes())
	return en
}

func TestTamperBallotProof(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqCounted[0]
	body := e.Body(seq)
	body[len(body)-32] ^= 1 // low byte of the last range-proof response: still canonical
	rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, e.VoterKey(seq), body))).Encode())
	expectFailures(t, rep, "V8", at("V8", seq))
	if f := rep.Step("V8").Failures[0]; f.Field[:4] != "V8.7" {
		t.Errorf("field %q, want the range proof V8.7", f.Field)
	}
	// The tampered ballot no longer counts, so the result no longer matches.
	expectFailures(t, rep, "V8", anywhere("V12"))
}

func TestTamperBallotProofUnsigned(t *testing.T) {
	// The same flip without re-signing: the envelope signature fails (V8.4)
	// and the block's Merkle root no longer matches (V3).
	e := smallElection(t)
	seq := e.SeqCounted[1]
	en := append([]byte(nil), e.Entries[seq]...)
	en[len(en)-64-32] ^= 1
	s := e.Seal(e.Entries)
	for bi := range s.Blocks {
		for k := range s.Blocks[bi].Entries {
			if int(s.Blocks[bi].Header.FirstSeq)+k == seq {
				s.Blocks[bi].Entries = append([][]byte(nil), s.Blocks[bi].Entries...)
				s.Blocks[bi].Entries[k] = en
			}
		}
	}
	rep := verify(t, s.Encode())
	expectFailures(t, rep, "V3", at("V8", seq), anywhere("V3"))
}

func TestTamperSwapCredential(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqCounted[0]
	other := e.Voters[len(e.Voters)-1] // the abstaining voter
	t.Run("envelope", func(t *testing.T) {
		// Another registered credential signs A's ballot.
		rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, other.PrivateKey(), e.Body(seq)))).Encode())
		expectFailures(t, rep, "V5", at("V5", seq), at("V8", seq))
	})
	t.Run("body", func(t *testing.T) {
		// The credential inside the ballot is swapped too: the proofs,
		// which hash the credential, fail.
		body := e.Body(seq)
		copy(body[33:65], other.Public().Bytes())
		rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, other.PrivateKey(), body))).Encode())
		expectFailures(t, rep, "V8", at("V8", seq))
	})
}

func TestTamperRemoveEntry(t *testing.T) {
	e := smallElection(t)
	s := e.Seal(e.Entries)
	k := 3 // a middle block
	b := &s.Blocks[k]
	b.Entries = b.Entries[1:]
	h := *b.Header
	h.Count--
	h.LogSize--
	b.Header = &h
	rep := verify(t, s.Encode())
	expectFailures(t, rep, "V2", atBlock("V2", k+1), atBlock("V3", k))
}

func TestTamperReorderBlocks(t *testing.T) {
	e := smallElection(t)
	s := e.Seal(e.Entries)
	s.Blocks[2], s.Blocks[3] = s.Blocks[3], s.Blocks[2]
	rep := verify(t, s.Encode())
	expectFailures(t, rep, "V2", atBlock("V2", 3))
}

func TestTamperBlockHeader(t *testing.T) {
	e := smallElection(t)
	t.Run("time", func(t *testing.T) {
		s := e.Seal(e.Entries)
		h := *s.Blocks[2].Header
		h.Time += 7
		s.Blocks[2].Header = &h
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V2", atBlock("V2", 3))
	})
	t.Run("time-backwards", func(t *testing.T) {
		s := e.Seal(e.Entries)
		h := *s.Blocks[5].Header
		h.Time = s.Blocks[4].Header.Time - 1
		s.Blocks[5].Header = &h
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V2", atBlock("V2", 5))
	})
	t.Run("prev", func(t *testing.T) {
		s := e.Seal(e.Entries)
		h := *s.Blocks[4].Header
		h.Prev[0] ^= 1
		s.Blocks[4].Header = &h
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V2", atBlock("V2", 4))
	})
	t.Run("root", func(t *testing.T) {
		s := e.Seal(e.Entries)
		h := *s.Blocks[1].Header
		h.LogRoot[0] ^= 1
		s.Blocks[1].Header = &h
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V2", atBlock("V3", 1), atBlock("V2", 2))
	})
}

func TestTamperCheckpoint(t *testing.T) {
	e := smallElection(t)
	t.Run("forged-signature", func(t *testing.T) {
		s := e.Seal(e.Entries)
		n := s.Notes[len(s.Notes)-1]
		n = append([]byte(nil), n...)
		n[len(n)-5] ^= 1 // inside the last signature's base64
		if n[len(n)-5] == '\n' || n[len(n)-5] == '=' {
			n[len(n)-6] ^= 1
		}
		s.Notes[len(s.Notes)-1] = n
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V3", anywhere("V3"))
	})
	t.Run("forged-by-unknown-key", func(t *testing.T) {
		// Quorum reached only with a node that is not in the manifest.
		s, err := e.SealWith(e.Entries, e.Config.BlockSize, []int{0})
		if err != nil {
			t.Fatal(err)
		}
		_, priv, _ := ed25519.GenerateKey(seeded.New("mallory"))
		c := s.Blocks[len(s.Blocks)-1].Header
		sg, _ := bulletin.NodeSigner("n2", priv) // claims the name of a real node
		cp := &bulletin.Checkpoint{Origin: bulletin.Origin(e.Manifest.ElectionID, e.Manifest.Fingerprint()), Size: c.LogSize, Root: c.LogRoot, Height: c.Height, BlockHash: c.Hash()}
		forged, _ := bulletin.SignCheckpoint(cp, sg)
		merged, err := bulletin.MergeCheckpointSignatures(s.Notes[len(s.Notes)-1], forged)
		if err != nil {
			t.Fatal(err)
		}
		s.Notes[len(s.Notes)-1] = merged
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V3", anywhere("V3"))
	})
	t.Run("below-quorum", func(t *testing.T) {
		s, err := e.SealWith(e.Entries, e.Config.BlockSize, []int{1})
		if err != nil {
			t.Fatal(err)
		}
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V3", anywhere("V3"))
	})
	t.Run("wrong-root", func(t *testing.T) {
		s := e.Seal(e.Entries)
		h := *s.Blocks[len(s.Blocks)-1].Header
		h.LogRoot[3] ^= 1
		n, err := e.Checkpoint(&h, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Notes[len(s.Notes)-1] = n
		rep := verify(t, s.Encode())
		expectFailures(t, rep, "V3", atBlock("V3", int(h.Height)))
	})
}

func TestTamperManifestTitle(t *testing.T) {
	e := smallElection(t)
	m := *e.Manifest
	m.Title = "Another election"
	// Every later entry carries the old fingerprint.
	want := []where{}
	for seq := 1; seq < len(e.Entries); seq++ {
		want = append(want, at("V4", seq))
	}
	t.Run("old-envelope", func(t *testing.T) {
		rep := verify(t, e.Seal(e.WithEntry(0, e.Resign(0, e.EA, m.Bytes()))).Encode())
		// The checkpoints' origin names the old fingerprint: V3 fails first.
		expectFailures(t, rep, "V3", append(want, at("V4", 0))...)
	})
	t.Run("new-envelope", func(t *testing.T) {
		en := e.EntryFor(m.Fingerprint(), bulletin.TypeManifest, bulletin.RoleAuthority, e.EA, m.Bytes())
		rep := verify(t, e.Seal(e.WithEntry(0, en)).Encode())
		expectFailures(t, rep, "V3", want...)
	})
	t.Run("unsigned", func(t *testing.T) {
		// Only the body changes: the authority's signature fails.
		en, _ := bulletin.ParseEntry(e.Entries[0])
		en.Body = m.Bytes()
		rep := verify(t, e.Seal(e.WithEntry(0, en.Bytes())).Encode())
		expectFailures(t, rep, "V3", at("V4", 0))
		if f := rep.Step("V4").Failures[0]; f.Field != "V4.4 signature" {
			t.Errorf("field %q", f.Field)
		}
	})
}

func TestTamperBallotAfterClose(t *testing.T) {
	e := smallElection(t)
	late := mustBallot(t, e, e.Voters[0].PrivateKey(), [][]uint32{{2}, {}})
	entries := insert(e.Entries, e.SeqClose+1, late)
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, "V5", at("V5", e.SeqClose+1))
	if len(rep.Step("V5").Failures) != 1 || !rep.Step("V13").OK {
		dump(t, rep)
		t.Error("a rejected late ballot must not change the result")
	}
}

func TestTamperUnknownCredential(t *testing.T) {
	e := smallElection(t)
	sk, _ := schnorr.GenerateKey(seeded.New("stranger"))
	b := mustBallot(t, e, sk, [][]uint32{{1}, {0}})
	entries := insert(e.Entries, e.SeqClose, b)
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, "V5", at("V5", e.SeqClose))
	if !rep.Step("V13").OK {
		t.Error("an unknown credential's ballot must not count")
	}
}

func TestTamperBadReveal(t *testing.T) {
	e := smallElection(t)
	rv, err := tally.ParseReveal(e.Body(e.SeqReveal))
	if err != nil {
		t.Fatal(err)
	}
	rv.Share = group.NewScalar().Add(rv.Share, group.ScalarFromUint64(1))
	rep := verify(t, e.Seal(e.WithEntry(e.SeqReveal, e.Resign(e.SeqReveal, e.Trustees[rv.Dealer-1].SigningKey(), rv.Bytes()))).Encode())
	expectFailures(t, rep, "V7", at("V7", e.SeqReveal), at("V7", e.SeqOpen))
}

func TestTamperJointKey(t *testing.T) {
	e := smallElection(t)
	ob, err := bulletin.ParseOpenBody(e.Body(e.SeqOpen))
	if err != nil {
		t.Fatal(err)
	}
	ob.JointKey = group.NewElement().Add(ob.JointKey, group.Generator())
	rep := verify(t, e.Seal(e.WithEntry(e.SeqOpen, e.Resign(e.SeqOpen, e.EA, ob.Bytes()))).Encode())
	expectFailures(t, rep, "V5", at("V7", e.SeqOpen))
}

func TestTamperAuditOpening(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqAudited[0]
	a, err := ballot.ParseAuditedBallot(e.Body(seq))
	if err != nil {
		t.Fatal(err)
	}
	r := a.Opening.Randomness[0][1]
	a.Opening.Randomness[0][1] = group.NewScalar().Add(r, group.ScalarFromUint64(1))
	rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, e.VoterKey(seq), a.Bytes()))).Encode())
	expectFailures(t, rep, "V9", at("V9", seq))
	// An opening claiming other choices fails too.
	a, _ = ballot.ParseAuditedBallot(e.Body(seq))
	a.Opening.Choices[0] = []uint32{(a.Opening.Choices[0][0] + 1) % 3}
	rep = verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, e.VoterKey(seq), a.Bytes()))).Encode())
	expectFailures(t, rep, "V9", at("V9", seq))
}

func TestTamperCountSuperseded(t *testing.T) {
	// The EA's result also counts a superseded ballot.
	e := smallElection(t)
	res := &tally.Result{Trustees: e.Result.Trustees}
	for _, row := range e.Result.Counts {
		res.Counts = append(res.Counts, append([]uint64(nil), row...))
	}
	for q, ch := range e.Choices[e.SeqSuperseded[0]] {
		for _, o := range ch {
			res.Counts[q][o]++
		}
	}
	rep := verify(t, e.Seal(e.WithEntry(e.SeqResult, e.Resign(e.SeqResult, e.EA, res.Bytes()))).Encode())
	expectFailures(t, rep, "V13", at("V13", e.SeqResult))
}

func TestTamperPartialDecryption(t *testing.T) {
	e := smallElection(t)
	j := e.Config.Decrypt[0]
	seq := e.SeqPartials[j]
	pd, err := tally.ParsePartialDecryption(e.Body(seq))
	if err != nil {
		t.Fatal(err)
	}
	d := &pd.Shares[1][2].D
	*d = group.NewElement().Add(*d, group.Generator())
	rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, e.Trustees[j-1].SigningKey(), pd.Bytes()))).Encode())
	expectFailures(t, rep, "V12", at("V12", seq), at("V13", e.SeqResult))
	if f := rep.Step("V12").Failures[0]; f.Field != "V12.3 question 1 option 2" {
		t.Errorf("field %q", f.Field)
	}
}

func TestTamperResult(t *testing.T) {
	e := smallElection(t)
	for q := range e.Result.Counts {
		for o := range e.Result.Counts[q] {
			t.Run(fmt.Sprintf("q%do%d", q, o), func(t *testing.T) {
				if q+o > 2 && testing.Short() {
					t.Skip("short")
				}
				res := &tally.Result{Trustees: e.Result.Trustees}
				for _, row := range e.Result.Counts {
					res.Counts = append(res.Counts, append([]uint64(nil), row...))
				}
				res.Counts[q][o]++
				rep := verify(t, e.Seal(e.WithEntry(e.SeqResult, e.Resign(e.SeqResult, e.EA, res.Bytes()))).Encode())
				expectFailures(t, rep, "V13", at("V13", e.SeqResult))
				if f := rep.Step("V13").Failures[0]; f.Field != fmt.Sprintf("V13.4 question %d option %d", q, o) {
					t.Errorf("field %q", f.Field)
				}
			})
		}
	}
	t.Run("trustees", func(t *testing.T) {
		res := &tally.Result{Trustees: []int{1, 3}, Counts: e.Result.Counts}
		rep := verify(t, e.Seal(e.WithEntry(e.SeqResult, e.Resign(e.SeqResult, e.EA, res.Bytes()))).Encode())
		expectFailures(t, rep, "V13", at("V13", e.SeqResult))
	})
}

func TestTruncatedRecord(t *testing.T) {
	e := smallElection(t)
	rec := e.Record()
	for _, n := range []int{0, 5, 100, len(rec) / 2, len(rec) - 1} {
		rep := verify(t, rec[:n])
		if step, _, _ := rep.FirstFailure(); step != "V1" {
			dump(t, rep)
			t.Errorf("truncated to %d bytes: first failure %s, want V1", n, step)
		}
	}
}

func TestIncompleteElection(t *testing.T) {
	// A record of an election still open verifies, and says it is not complete.
	e := smallElection(t)
	rep := verify(t, e.Seal(e.Entries[:e.SeqClose]).Encode())
	if !rep.OK() || rep.Complete {
		dump(t, rep)
		t.Fatalf("open election: OK=%v complete=%v", rep.OK(), rep.Complete)
	}
	if rep.Step("V13").Ran || !rep.Step("V8").Ran {
		t.Error("steps run on an open election")
	}
}

func TestTamperDealerProof(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqDeals[2]
	p, err := tally.ParseDealerPost(e.Body(seq))
	if err != nil {
		t.Fatal(err)
	}
	p.Proof.Z = group.NewScalar().Add(p.Proof.Z, group.ScalarFromUint64(1))
	rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, e.Trustees[2].SigningKey(), p.Bytes()))).Encode())
	// The rules (V5) do not check proofs, so they accept the open that
	// names dealer 3; V7 recomputes QUAL without it.
	expectFailures(t, rep, "V7", at("V7", seq), at("V7", e.SeqOpen))
}

func TestTamperDecryptSuperseded(t *testing.T) {
	// The trustees decrypt an aggregate that also contains a superseded
	// ballot, and the EA publishes what it decrypts to.
	e := smallElection(t)
	params := e.Params()
	seqs := append(append([]int(nil), e.SeqCounted...), e.SeqSuperseded[0])
	var cts [][][]*ballot.Ciphertext
	for _, s := range seqs {
		b, err := ballot.ParseBallot(e.Body(s))
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, b.Ciphertexts())
	}
	agg, err := tally.Aggregate([]int{3, 4}, cts)
	if err != nil {
		t.Fatal(err)
	}
	entries := append([][]byte(nil), e.Entries...)
	partials := map[int]*tally.PartialDecryption{}
	for _, j := range e.Config.Decrypt {
		pd, err := tally.PartialDecrypt(e.Rand, params, e.Shares[j-1], agg)
		if err != nil {
			t.Fatal(err)
		}
		partials[j] = pd
		entries[e.SeqPartials[j]] = e.Resign(e.SeqPartials[j], e.Trustees[j-1].SigningKey(), pd.Bytes())
	}
	res, _, err := tally.Combine(params, e.VerificationKeys, agg, partials, uint64(len(seqs)))
	if err != nil {
		t.Fatal(err)
	}
	entries[e.SeqResult] = e.Resign(e.SeqResult, e.EA, res.Bytes())
	rep := verify(t, e.Seal(entries).Encode())
	want := []where{at("V13", e.SeqResult)}
	for _, j := range e.Config.Decrypt {
		want = append(want, at("V12", e.SeqPartials[j]))
	}
	expectFailures(t, rep, "V12", want...)
}
