package client_test

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// where is an expected failure: step id and entry seq (or block height).
type where struct {
	step  client.Step
	entry int64 // client.NoEntry to ignore
	block int64 // client.NoEntry to ignore
}

func at(step client.Step, seq int) where    { return where{step, int64(seq), client.NoEntry} }
func atBlock(step client.Step, h int) where { return where{step, client.NoEntry, int64(h)} }
func anywhere(step client.Step) where       { return where{step, client.NoEntry, client.NoEntry} }

func (w where) match(f client.Failure) bool {
	return (w.entry == client.NoEntry || f.Entry == w.entry) && (w.block == client.NoEntry || f.Block == w.block)
}

func expectFailures(t *testing.T, rep *client.Report, first client.Step, want ...where) {
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
	expectFailures(t, rep, client.StepV8, at(client.StepV8, seq))
	if f := rep.Step(client.StepV8).Failures[0]; f.Field[:4] != "V8.7" {
		t.Errorf("field %q, want the range proof V8.7", f.Field)
	}
	// The tampered ballot no longer counts, so the result no longer matches.
	expectFailures(t, rep, client.StepV8, anywhere(client.StepV12))
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
	expectFailures(t, rep, client.StepV3, at(client.StepV8, seq), anywhere(client.StepV3))
}

func TestTamperSwapCredential(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqCounted[0]
	other := e.Voters[len(e.Voters)-1] // the abstaining voter
	t.Run("envelope", func(t *testing.T) {
		// Another registered credential signs A's ballot.
		rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, other.PrivateKey(), e.Body(seq)))).Encode())
		expectFailures(t, rep, client.StepV5, at(client.StepV5, seq), at(client.StepV8, seq))
	})
	t.Run("body", func(t *testing.T) {
		// The credential inside the ballot is swapped too: the proofs,
		// which hash the credential, fail.
		body := e.Body(seq)
		copy(body[33:65], other.Public().Bytes())
		rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, other.PrivateKey(), body))).Encode())
		expectFailures(t, rep, client.StepV8, at(client.StepV8, seq))
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
	expectFailures(t, rep, client.StepV2, atBlock(client.StepV2, k+1), atBlock(client.StepV3, k))
}

func TestTamperReorderBlocks(t *testing.T) {
	e := smallElection(t)
	s := e.Seal(e.Entries)
	s.Blocks[2], s.Blocks[3] = s.Blocks[3], s.Blocks[2]
	rep := verify(t, s.Encode())
	expectFailures(t, rep, client.StepV2, atBlock(client.StepV2, 3))
}

func TestTamperBlockHeader(t *testing.T) {
	e := smallElection(t)
	cases := []struct {
		name  string
		block int
		mut   func(h *bulletin.BlockHeader, s *testonly.Sealed)
		first client.Step
		want  []where
	}{
		{"time", 2, func(h *bulletin.BlockHeader, _ *testonly.Sealed) { h.Time += 7 },
			client.StepV2, []where{atBlock(client.StepV2, 3)}},
		{"time-backwards", 5, func(h *bulletin.BlockHeader, s *testonly.Sealed) { h.Time = s.Blocks[4].Header.Time - 1 },
			client.StepV2, []where{atBlock(client.StepV2, 5)}},
		{"prev", 4, func(h *bulletin.BlockHeader, _ *testonly.Sealed) { h.Prev[0] ^= 1 },
			client.StepV2, []where{atBlock(client.StepV2, 4)}},
		{"root", 1, func(h *bulletin.BlockHeader, _ *testonly.Sealed) { h.LogRoot[0] ^= 1 },
			client.StepV2, []where{atBlock(client.StepV3, 1), atBlock(client.StepV2, 2)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := e.Seal(e.Entries)
			h := *s.Blocks[c.block].Header
			c.mut(&h, s)
			s.Blocks[c.block].Header = &h
			rep := verify(t, s.Encode())
			expectFailures(t, rep, c.first, c.want...)
		})
	}
	t.Run("root-sub-step", func(t *testing.T) {
		// A block whose log root is wrong but that links (V2 passes): V3.5.
		s := e.Seal(e.Entries)
		last := len(s.Blocks) - 1
		h := *s.Blocks[last].Header
		h.LogRoot[0] ^= 1
		s.Blocks[last].Header = &h
		s.Notes = s.Notes[:1]
		rep := verify(t, s.Encode())
		expectFailures(t, rep, client.StepV3, atBlock(client.StepV3, last))
		expectField(t, rep, client.StepV3, "V3.5 log_root")
	})
}

// expectField checks that the first failure of step s names the sub-step field.
func expectField(t *testing.T, rep *client.Report, s client.Step, field string) {
	t.Helper()
	fs := rep.Step(s).Failures
	if len(fs) == 0 || !strings.HasPrefix(fs[0].Field, field) {
		dump(t, rep)
		t.Fatalf("%s failures %v, want the first in field %q", s, fs, field)
	}
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
		expectFailures(t, rep, client.StepV3, anywhere(client.StepV3))
	})
	t.Run("forged-by-unknown-key", func(t *testing.T) {
		// Quorum reached only with a node that is not in the manifest.
		s := e.SealWith(e.Entries, e.Config.BlockSize, []int{0})
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
		expectFailures(t, rep, client.StepV3, anywhere(client.StepV3))
	})
	t.Run("below-quorum", func(t *testing.T) {
		s := e.SealWith(e.Entries, e.Config.BlockSize, []int{1})
		rep := verify(t, s.Encode())
		expectFailures(t, rep, client.StepV3, anywhere(client.StepV3))
		expectField(t, rep, client.StepV3, "V3.1–V3.4 checkpoint")
	})
	t.Run("no-checkpoint-of-the-whole-record", func(t *testing.T) {
		s := e.Seal(e.Entries)
		s.Notes = s.Notes[:1] // the middle block's checkpoint only
		rep := verify(t, s.Encode())
		expectFailures(t, rep, client.StepV3, anywhere(client.StepV3))
		expectField(t, rep, client.StepV3, "V3.6 checkpoint")
	})
	t.Run("checkpoint-of-another-block", func(t *testing.T) {
		// size and root of the last block, but the height of the one before
		s := e.Seal(e.Entries)
		h := *s.Blocks[len(s.Blocks)-1].Header
		h.Height--
		n := e.Checkpoint(&h, nil)
		s.Notes[len(s.Notes)-1] = n
		rep := verify(t, s.Encode())
		expectFailures(t, rep, client.StepV3, atBlock(client.StepV3, int(h.Height)))
		expectField(t, rep, client.StepV3, "V3.5 checkpoint 1 block")
	})
	t.Run("wrong-root", func(t *testing.T) {
		s := e.Seal(e.Entries)
		h := *s.Blocks[len(s.Blocks)-1].Header
		h.LogRoot[3] ^= 1
		n := e.Checkpoint(&h, nil)
		s.Notes[len(s.Notes)-1] = n
		rep := verify(t, s.Encode())
		expectFailures(t, rep, client.StepV3, atBlock(client.StepV3, int(h.Height)))
	})
}

func TestTamperManifestTitle(t *testing.T) {
	e := smallElection(t)
	m := *e.Manifest
	m.Title = "Another election"
	// Every later entry carries the old fingerprint.
	want := []where{}
	for seq := 1; seq < len(e.Entries); seq++ {
		want = append(want, at(client.StepV4, seq))
	}
	t.Run("old-envelope", func(t *testing.T) {
		rep := verify(t, e.Seal(e.WithEntry(0, e.Resign(0, e.EA, m.Bytes()))).Encode())
		// The checkpoints' origin names the old fingerprint: V3 fails first.
		expectFailures(t, rep, client.StepV3, append(want, at(client.StepV4, 0))...)
	})
	t.Run("new-envelope", func(t *testing.T) {
		en := e.EntryFor(m.Fingerprint(), bulletin.TypeManifest, bulletin.RoleAuthority, e.EA, m.Bytes())
		rep := verify(t, e.Seal(e.WithEntry(0, en)).Encode())
		expectFailures(t, rep, client.StepV3, want...)
	})
	t.Run("unsigned", func(t *testing.T) {
		// Only the body changes: the authority's signature fails.
		en, _ := bulletin.ParseEntry(e.Entries[0])
		en.Body = m.Bytes()
		rep := verify(t, e.Seal(e.WithEntry(0, en.Bytes())).Encode())
		expectFailures(t, rep, client.StepV3, at(client.StepV4, 0))
		if f := rep.Step(client.StepV4).Failures[0]; f.Field != "V4.4 signature" {
			t.Errorf("field %q", f.Field)
		}
	})
}

func TestTamperBallotAfterClose(t *testing.T) {
	e := smallElection(t)
	late := mustBallot(t, e, e.Voters[0].PrivateKey(), [][]uint32{{2}, {}})
	entries := insert(e.Entries, e.SeqClose+1, late)
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose+1))
	if len(rep.Step(client.StepV5).Failures) != 1 || !rep.Step(client.StepV13).OK {
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
	expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose))
	if !rep.Step(client.StepV13).OK {
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
	expectFailures(t, rep, client.StepV7, at(client.StepV7, e.SeqReveal), at(client.StepV7, e.SeqOpen))
}

func TestTamperJointKey(t *testing.T) {
	e := smallElection(t)
	open := e.ResignedOpen(func(ob *bulletin.OpenBody) { ob.JointKey = group.NewElement().Add(ob.JointKey, group.Generator()) })
	rep := verify(t, e.Seal(e.WithEntry(e.SeqOpen, open)).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV7, e.SeqOpen))
}

func TestTamperAuditOpening(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqAudited[0]
	a, err := ballot.ParseAudit(e.Body(seq))
	if err != nil {
		t.Fatal(err)
	}
	// Anyone can sign an audit (a one-time key), so a forger re-signs it.
	forger, err := schnorr.GenerateKey(e.Rand)
	if err != nil {
		t.Fatal(err)
	}
	r := a.Opening.Randomness[0][1]
	a.Opening.Randomness[0][1] = group.NewScalar().Add(r, group.ScalarFromUint64(1))
	rep := verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, forger, a.Bytes()))).Encode())
	expectFailures(t, rep, client.StepV9, at(client.StepV9, seq))
	if f := rep.Step(client.StepV9).Failures[0]; f.Field != "V9.2–V9.3 opening" {
		t.Errorf("field %q", f.Field)
	}
	// An opening claiming other choices fails too.
	a, _ = ballot.ParseAudit(e.Body(seq))
	a.Opening.Choices[0] = []uint32{(a.Opening.Choices[0][0] + 1) % 3}
	rep = verify(t, e.Seal(e.WithEntry(seq, e.Resign(seq, forger, a.Bytes()))).Encode())
	expectFailures(t, rep, client.StepV9, at(client.StepV9, seq))
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
	expectFailures(t, rep, client.StepV13, at(client.StepV13, e.SeqResult))
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
	expectFailures(t, rep, client.StepV12, at(client.StepV12, seq), at(client.StepV13, e.SeqResult))
	if f := rep.Step(client.StepV12).Failures[0]; f.Field != "V12.3 question 1 option 2" {
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
				expectFailures(t, rep, client.StepV13, at(client.StepV13, e.SeqResult))
				if f := rep.Step(client.StepV13).Failures[0]; f.Field != fmt.Sprintf("V13.4 question %d option %d", q, o) {
					t.Errorf("field %q", f.Field)
				}
			})
		}
	}
	t.Run("trustees", func(t *testing.T) {
		res := &tally.Result{Trustees: []int{1, 3}, Counts: e.Result.Counts}
		rep := verify(t, e.Seal(e.WithEntry(e.SeqResult, e.Resign(e.SeqResult, e.EA, res.Bytes()))).Encode())
		expectFailures(t, rep, client.StepV13, at(client.StepV13, e.SeqResult))
	})
}

func TestTruncatedRecord(t *testing.T) {
	e := smallElection(t)
	rec := e.Record()
	for _, n := range []int{0, 5, 100, len(rec) / 2, len(rec) - 1} {
		rep := verify(t, rec[:n])
		if step, _, _ := rep.FirstFailure(); step != client.StepV1 {
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
	if rep.Step(client.StepV13).Ran || !rep.Step(client.StepV8).Ran {
		t.Error("steps run on an open election")
	}
}

// forgedDealerProof returns dealer 3's deal with a wrong proof response,
// signed again by the dealer, and its sequence number.
func forgedDealerProof(t *testing.T, e *testonly.Election) (int, []byte) {
	t.Helper()
	seq := e.SeqDeals[2]
	p, err := tally.ParseDealerPost(e.Body(seq))
	if err != nil {
		t.Fatal(err)
	}
	p.Proof.Z = group.NewScalar().Add(p.Proof.Z, group.ScalarFromUint64(1))
	return seq, e.Resign(seq, e.Trustees[2].SigningKey(), p.Bytes())
}

func TestTamperDealerProof(t *testing.T) {
	e := smallElection(t)
	seq, forged := forgedDealerProof(t, e)
	rep := verify(t, e.Seal(e.WithEntry(seq, forged)).Encode())
	// The rules (V5) do not check proofs, so they accept the open that
	// names dealer 3; V7 recomputes QUAL without it.
	expectFailures(t, rep, client.StepV7, at(client.StepV7, seq), at(client.StepV7, e.SeqOpen))
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
	want := []where{at(client.StepV13, e.SeqResult)}
	for _, j := range e.Config.Decrypt {
		want = append(want, at(client.StepV12, e.SeqPartials[j]))
	}
	expectFailures(t, rep, client.StepV12, want...)
}

// TestTamperEntrySignature gives a key-ceremony entry another entry's
// signature: V1.4, reported under V5 for entries that are not ballots or
// the manifest (SPEC.md §10.3).
func TestTamperEntrySignature(t *testing.T) {
	e := smallElection(t)
	seq := e.SeqReveal
	en, err := bulletin.ParseEntry(e.Entries[seq])
	if err != nil {
		t.Fatal(err)
	}
	other, err := bulletin.ParseEntry(e.Entries[seq-1])
	if err != nil {
		t.Fatal(err)
	}
	en.Sig = other.Sig
	rep := verify(t, e.Seal(e.WithEntry(seq, en.Bytes())).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, seq))
	for _, f := range rep.Step(client.StepV5).Failures {
		if f.Entry == int64(seq) && f.Field != "V1.4 signature" {
			t.Errorf("failure %s, want field V1.4 signature", f)
		}
	}
}

// TestAttackWeightedRecord: what a hostile credential authority, node or
// man in the middle would change in a weighted election with a late voter
// fails verification at the step SPEC.md §10.4 names.
func TestAttackWeightedRecord(t *testing.T) {
	e := testonly.Build(t, "weighted-attack", testonly.WeightedConfig())
	fresh := func(seed string) *group.Element {
		k, err := schnorr.GenerateKey(seeded.Raw(seed))
		if err != nil {
			t.Fatal(err)
		}
		return k.Public()
	}

	t.Run("weight changed in the list, re-signed by the CA", func(t *testing.T) {
		// Voter 2 (weight 1000) now weighs 1: the verifier's aggregate is
		// not the one the trustees decrypted.
		body := e.Body(e.SeqCredentials)
		l, err := ballot.ParseCredentialList(body)
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Weights {
			if l.Weights[i] == ballot.MaxWeight {
				l.Weights[i] = 1
			}
		}
		l2, err := ballot.NewWeightedCredentialList(l.Roll, l.Credentials, l.Weights)
		if err != nil {
			t.Fatal(err)
		}
		rep := verify(t, e.Seal(e.WithEntry(e.SeqCredentials, e.Resign(e.SeqCredentials, e.CA, l2.Bytes()))).Encode())
		expectFailures(t, rep, client.StepV12, anywhere(client.StepV12), anywhere(client.StepV13))
	})
	t.Run("weight above the bound", func(t *testing.T) {
		body := e.Body(e.SeqCredentials)
		// §5.3 version 2: u8 2, [32] roll, u32 N, then (element, u32 weight).
		binary.BigEndian.PutUint32(body[1+32+4+32:], ballot.MaxWeight+1)
		rep := verify(t, e.Seal(e.WithEntry(e.SeqCredentials, e.Resign(e.SeqCredentials, e.CA, body))).Encode())
		expectFailures(t, rep, client.StepV1, at(client.StepV1, e.SeqCredentials))
	})
	t.Run("late voter added after the close", func(t *testing.T) {
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, e.LateCredentialsBody(fresh("after-close"), 5))
		rep := verify(t, e.Seal(insert(e.Entries, e.SeqClose+1, late)).Encode())
		expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose+1))
	})
	t.Run("late voter added by another key", func(t *testing.T) {
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.EA, e.LateCredentialsBody(fresh("by-ea"), 5))
		rep := verify(t, e.Seal(insert(e.Entries, e.SeqLate+1, late)).Encode())
		expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqLate+1))
	})
	t.Run("a registered credential added again with another weight", func(t *testing.T) {
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, e.LateCredentialsBody(e.Voters[0].Public(), ballot.MaxWeight))
		rep := verify(t, e.Seal(insert(e.Entries, e.SeqLate+1, late)).Encode())
		expectFailures(t, rep, client.StepV6, at(client.StepV6, e.SeqLate+1))
	})
	t.Run("late entry's weight changed without the CA's signature", func(t *testing.T) {
		en, err := bulletin.ParseEntry(e.Entries[e.SeqLate])
		if err != nil {
			t.Fatal(err)
		}
		body := slices.Clone(en.Body)
		body[len(body)-1] ^= 3 // the late voter's weight 2 → 1
		forged, err := bulletin.NewEntry(en.Type, en.Election, en.Role, en.Author, body)
		if err != nil {
			t.Fatal(err)
		}
		forged.Sig = en.Sig
		rep := verify(t, e.Seal(e.WithEntry(e.SeqLate, forged.Bytes())).Encode())
		expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqLate))
	})
}

// Records of elections with mixed questions (SPEC.md §11–§12): a hostile
// mixer, trustee, device or board.

// TestAttackShuffle: a hostile mixer at position 2 of the first mixed
// question (the ranking) posts, signed with its own key, a shuffle whose
// rows or proof were changed. The node refuses each before proposing it,
// and the verifier reports it at its numbered step on a record that holds
// it anyway (a faulty node quorum).
func TestAttackShuffle(t *testing.T) {
	type attack struct {
		testonly.ShuffleAttack
		nodeErr error
	}
	var cases []attack
	for _, a := range testonly.ShuffleAttacks() {
		cases = append(cases, attack{a, bulletin.ErrInvalidProof})
	}
	cases = append(cases, attack{testonly.ShuffleAttack{Name: "replay-from-another-question", Step: "V5",
		Tamper: func(e *testonly.KindElection, in []shuffle.Row, ms *tally.MixShuffle) *tally.MixShuffle {
			// the same mixer's honest shuffle, posted for the score question
			bad := *ms
			bad.Question = e.MixQuestions()[1]
			return &bad
		}}, bulletin.ErrInvalidBody})
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			e := testonly.BuildKinds(t, "attack-shuffle", testonly.MixedConfig(), nil)
			badSeq := e.TallyMixedTampered(c.Tamper)
			if err := e.NodeCheck(t, badSeq); !errors.Is(err, c.nodeErr) {
				t.Errorf("node: %v, want %v", err, c.nodeErr)
			}
			rep := verify(t, e.Record())
			if c.nodeErr == bulletin.ErrInvalidBody {
				// the score question's cascade is at position 0: the rules
				// refuse a position-2 shuffle there (V5, as the node did)
				expectFailures(t, rep, client.StepV5, at(client.StepV5, badSeq))
				return
			}
			expectFailures(t, rep, client.StepV14, at(client.StepV14, badSeq))
			if f := rep.Step(client.StepV14).Failures[0]; !strings.HasPrefix(f.Field, c.Step) {
				t.Errorf("V14 failure %q, want %s", f.Field, c.Step)
			}
		})
	}
}

// TestAttackMixDecryptionForOtherRows: a trustee's decryption shares of
// the cascade's input instead of its last output are refused by the node
// and reported at V15.2 (with V16 then failing for lack of T valid ones).
func TestAttackMixDecryptionForOtherRows(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-decryption", testonly.MixedConfig(), nil)
	seq := e.DecryptInputs(e.TallyMixed(testonly.Mixers()), 3)
	if err := e.NodeCheck(t, seq); !errors.Is(err, bulletin.ErrInvalidProof) {
		t.Errorf("node: %v, want an invalid proof", err)
	}
	rep := verify(t, e.Record())
	expectFailures(t, rep, client.StepV15, at(client.StepV15, seq), at(client.StepV16, e.SeqResult))
}

// TestAttackShuffleBeforeClose: a trustee's shuffle posted while the
// election is open is refused by the rules (wrong phase) on the node and
// reported by V5.
func TestAttackShuffleBeforeClose(t *testing.T) {
	e := testonly.BuildKinds(t, "attack-early", testonly.MixedConfig(), nil)
	q := e.MixQuestions()[0]
	in, err := tally.MixInput(e.Manifest, q, e.Counted)
	if err != nil {
		t.Fatal(err)
	}
	early, _ := e.ShuffleEntry(q, 1, 1, in)
	entries := slices.Insert(slices.Clone(e.Entries), e.SeqClose, early)
	rep := verify(t, e.Seal(entries).Encode())
	expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose))
	if f := rep.Step(client.StepV5).Failures[0]; !strings.Contains(f.Detail, "phase") {
		t.Errorf("V5 says %q, want a phase error", f.Detail)
	}
	e.Entries = entries
	if err := e.NodeCheck(t, e.SeqClose); !errors.Is(err, bulletin.ErrWrongPhase) {
		t.Errorf("node: %v, want wrong phase", err)
	}
}

// Audits of version-2 ballots (SPEC.md §12.10) in a whole record.

// withEntry returns e with entry seq replaced (e's own entries unchanged).
func withEntry(e *testonly.KindElection, seq int, entry []byte) *testonly.KindElection {
	el := *e.Election
	el.Entries = e.WithEntry(seq, entry)
	out := *e
	out.Election = &el
	return &out
}

// TestAttackKindsAudit: what a hostile device, voter or board posts as
// the audit of a version-2 ballot, or after it. A node refuses each
// before proposing it (the rules, then the proof check); `urna verify`
// reports each at its step on a record that holds it anyway.
func TestAttackKindsAudit(t *testing.T) {
	e := auditedKinds(t, "audit2-attack")
	seq := e.SeqAudited[0]
	audit := func() *ballot.Audit {
		a, err := ballot.ParseAudit(e.Body(seq))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	castSeq := e.SeqBallots[0] // voter 0's first ballot, after the audits
	cases := []struct {
		name    string
		at      int
		entry   func() []byte
		nodeErr error
		step    client.Step // the first failing step
		others  []client.Step
		detail  string // in the failure at step
	}{
		{"opening for another ranking", seq, func() []byte {
			a := audit()
			a.Opening.Answers[1].Ranking = []uint32{3, 2, 1, 0}
			return e.ForgedAudit(a.Bytes())
		}, bulletin.ErrInvalidProof, client.StepV9, nil, "V9.3"},
		{"opening for other scores and another text", seq, func() []byte {
			a := audit()
			a.Opening.Answers[2].Scores = []uint32{5, 5, 5}
			a.Opening.Answers[3].Text = "More is more"
			return e.ForgedAudit(a.Bytes())
		}, bulletin.ErrInvalidProof, client.StepV9, nil, "V9.3"},
		{"choices copied from another voter's ballot, with a wrong opening", seq, func() []byte {
			// Front-running: voter 0's ballot (posted later) has its
			// choices audited first, to burn its tracker.
			victim, err := ballot.ParseBallot(e.Body(castSeq))
			if err != nil {
				t.Fatal(err)
			}
			return e.ForgedAudit(append(victim.ChoicesBytes(), audit().Opening.Bytes()...))
		}, bulletin.ErrInvalidProof, client.StepV5, []client.Step{client.StepV9}, "audited"},
		{"a version-1 audit in a version-3 election", seq, func() []byte {
			return e.ForgedAudit(e.V1AuditBody())
		}, bulletin.ErrInvalidBody, client.StepV5, []client.Step{client.StepV9}, ""},
		{"the audited ballot cast afterwards (V10)", castSeq, func() []byte {
			return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[0].PrivateKey(), e.Audited[0].Bytes())
		}, bulletin.ErrAudited, client.StepV5, nil, "audited"},
		{"audit truncated by one byte", seq, func() []byte {
			b := e.Body(seq)
			return e.ForgedAudit(b[:len(b)-1])
		}, bulletin.ErrMalformed, client.StepV1, nil, ""},
		{"audit with a trailing byte", seq, func() []byte {
			return e.ForgedAudit(append(slices.Clone(e.Body(seq)), 0))
		}, bulletin.ErrMalformed, client.StepV1, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := withEntry(e, c.at, c.entry())
			if err := bad.NodeCheck(t, c.at); !errors.Is(err, c.nodeErr) {
				t.Errorf("node: %v, want %v", err, c.nodeErr)
			}
			rep := verify(t, bad.Record())
			if rep.OK() {
				t.Fatal("the record verifies")
			}
			step, f, _ := rep.FirstFailure()
			if step != c.step {
				dump(t, rep)
				t.Fatalf("first failure %s (%s), want %s", step, f, c.step)
			}
			for _, s := range c.others {
				if len(rep.Step(s).Failures) == 0 {
					dump(t, rep)
					t.Errorf("no failure at %s", s)
				}
			}
			if c.detail != "" && !strings.Contains(failuresAt(rep, c.step), c.detail) {
				dump(t, rep)
				t.Errorf("no failure at %s names %q", c.step, c.detail)
			}
		})
	}
}

// failuresAt returns the failures at step, one a line.
func failuresAt(rep *client.Report, step client.Step) string {
	var b strings.Builder
	for _, f := range rep.Step(step).Failures {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}
