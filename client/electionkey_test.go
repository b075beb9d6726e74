package client_test

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly"
)

// upToOpen returns a copy of the election's entries 0 … open.
func upToOpen(e *testonly.Election) [][]byte {
	return append([][]byte(nil), e.Entries[:e.SeqOpen+1]...)
}

// verifyKey runs VerifyElectionKey and checks that its error and report agree.
func verifyKey(t *testing.T, entries [][]byte, opts client.KeyOptions) (*client.ElectionKey, *client.Report) {
	t.Helper()
	k, rep, err := client.VerifyElectionKey(entries, opts)
	switch {
	case rep == nil:
		t.Fatalf("VerifyElectionKey: no report (err %v)", err)
	case err != nil && !errors.Is(err, client.ErrFailed):
		t.Fatalf("VerifyElectionKey: %v", err)
	case (err == nil) != rep.OK(), (err == nil) != (k != nil):
		t.Fatalf("VerifyElectionKey returned key %v, err %v, but report OK = %v", k != nil, err, rep.OK())
	}
	return k, rep
}

// consistency returns the board's proof from the first n entries to all of them.
func consistency(t *testing.T, entries [][]byte, n int) []tlog.Hash {
	t.Helper()
	return testonly.Consistency(t, entries, uint64(n), uint64(len(entries))).Hashes
}

func TestElectionKeyValid(t *testing.T) {
	e := smallElection(t)
	k, rep := verifyKey(t, upToOpen(e), client.KeyOptions{Fingerprint: e.Manifest.Fingerprint()})
	if k == nil {
		dump(t, rep)
		t.Fatal("the entries up to open do not verify")
	}
	if !k.JointKey.Equal(e.JointKey) {
		t.Error("the key is not the open entry's joint key")
	}
	ob, err := bulletin.ParseOpenBody(e.Body(e.SeqOpen))
	if err != nil {
		t.Fatal(err)
	}
	if !k.JointKey.Equal(ob.JointKey) || len(k.Qualified) != len(ob.Qualified) {
		t.Errorf("key or QUAL %v differ from the open entry's %v", k.Qualified, ob.Qualified)
	}
	if !slices.Equal(k.Qualified, []int{1, 2, 3}) {
		t.Errorf("QUAL %v, want [1 2 3] (dealer 1 answered the complaint)", k.Qualified)
	}
	if k.Fingerprint != e.Manifest.Fingerprint() || k.Manifest.ElectionID != e.Manifest.ElectionID || k.OpenSeq != uint64(e.SeqOpen) {
		t.Errorf("fingerprint %x…, election %q, open %d", k.Fingerprint[:4], k.Manifest.ElectionID, k.OpenSeq)
	}
	if k.Credentials == nil || !k.Credentials.Contains(e.Voters[0].Public()) || k.Checkpoint != nil {
		t.Error("credential list missing, or a checkpoint nobody gave")
	}
	for _, s := range rep.Steps {
		want := map[string]bool{"V1": true, "V4": true, "V5": true, "V6": true, "V7": true}[s.ID]
		if s.Ran != want || !s.OK || (want && s.Checked == 0) {
			t.Errorf("%s: ran=%v ok=%v checked=%d skipped=%q; want ran=%v", s.ID, s.Ran, s.OK, s.Checked, s.Skipped, want)
		}
	}
	if rep.Complete {
		t.Error("report of the key check claims a complete election")
	}
}

func TestElectionKeyCheckpoint(t *testing.T) {
	e := smallElection(t)
	prefix := upToOpen(e)
	full := e.Seal(e.Entries)
	note := full.Notes[len(full.Notes)-1] // covers every entry
	proof := consistency(t, e.Entries, len(prefix))

	t.Run("later", func(t *testing.T) {
		k, rep := verifyKey(t, prefix, client.KeyOptions{Checkpoint: note, Proof: proof})
		if k == nil {
			dump(t, rep)
			t.Fatal("does not verify")
		}
		if k.Checkpoint == nil || k.Checkpoint.Size != uint64(len(e.Entries)) || !rep.Step(client.StepV3).Ran || rep.Checkpoints != 1 {
			t.Errorf("checkpoint %+v, V3 ran %v", k.Checkpoint, rep.Step(client.StepV3).Ran)
		}
	})
	t.Run("equal", func(t *testing.T) {
		s := e.SealWith(prefix, len(prefix), nil) // one block ending at open
		k, rep := verifyKey(t, prefix, client.KeyOptions{Checkpoint: s.Notes[0]})
		if k == nil {
			dump(t, rep)
			t.Fatal("does not verify")
		}
	})
	fail := func(t *testing.T, entries [][]byte, opts client.KeyOptions, field string) {
		t.Helper()
		_, rep := verifyKey(t, entries, opts)
		expectFailures(t, rep, client.StepV3, anywhere(client.StepV3))
		if f := rep.Step(client.StepV3).Failures[0]; f.Field != field {
			t.Errorf("field %q, want %q", f.Field, field)
		}
	}
	t.Run("bad-proof", func(t *testing.T) {
		bad := slices.Clone(proof)
		bad[0][0] ^= 1
		fail(t, prefix, client.KeyOptions{Checkpoint: note, Proof: bad}, "V3.5 consistency")
	})
	t.Run("forked", func(t *testing.T) {
		// A view without the last confirmation verifies on its own (QUAL
		// uses complaints only), but it is not the signed log's prefix.
		last := -1
		for seq, raw := range prefix {
			if en, err := bulletin.ParseEntry(raw); err == nil && en.Type == bulletin.TypeDKGConfirmation {
				last = seq
			}
		}
		forked := slices.Delete(slices.Clone(prefix), last, last+1)
		if k, rep := verifyKey(t, forked, client.KeyOptions{}); k == nil {
			dump(t, rep)
			t.Fatal("the view without a confirmation does not verify on its own")
		}
		fail(t, forked, client.KeyOptions{Checkpoint: note, Proof: consistency(t, e.Entries, len(forked))}, "V3.5 consistency")
	})
	t.Run("too-few-signers", func(t *testing.T) {
		s := e.SealWith(e.Entries, e.Config.BlockSize, []int{0})
		fail(t, prefix, client.KeyOptions{Checkpoint: s.Notes[len(s.Notes)-1], Proof: proof}, "V3.1–V3.4 checkpoint")
	})
	t.Run("too-small", func(t *testing.T) {
		s := e.SealWith(e.Entries[:e.SeqOpen], e.SeqOpen, nil)
		fail(t, prefix, client.KeyOptions{Checkpoint: s.Notes[0]}, "V3.5 checkpoint size")
	})
}

// TestElectionKeyOpenBodyAltered: an open entry re-signed with a body that
// is not the ceremony's fails V7 at that entry, on the field altered.
func TestElectionKeyOpenBodyAltered(t *testing.T) {
	for _, tt := range []struct {
		name  string
		alter func(*bulletin.OpenBody)
		field string
	}{
		// The authority (or whoever holds its key) names a key of its own.
		{"OpenNamesAnotherKey", func(ob *bulletin.OpenBody) { ob.JointKey = group.NewElement().Add(ob.JointKey, group.Generator()) }, "V7.7 joint key"},
		{"WrongQUAL", func(ob *bulletin.OpenBody) { ob.Qualified = ob.Qualified[:len(ob.Qualified)-1] }, "V7.6 qualified"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := smallElection(t)
			entries := upToOpen(e)
			entries[e.SeqOpen] = e.ResignedOpen(tt.alter)
			_, rep := verifyKey(t, entries, client.KeyOptions{})
			expectFailures(t, rep, client.StepV7, at(client.StepV7, e.SeqOpen))
			if f := rep.Step(client.StepV7).Failures[0]; f.Field != tt.field {
				t.Errorf("field %q, want %s", f.Field, tt.field)
			}
		})
	}
}

func TestElectionKeyDroppedDeal(t *testing.T) {
	// A node leaves out dealer 3's post: the confirmations that accepted it
	// break the rules (a key-ceremony body: reported under V7), and the open
	// entry's QUAL and K are not the ceremony's.
	e := smallElection(t)
	seq := e.SeqDeals[2]
	entries := slices.Delete(upToOpen(e), seq, seq+1)
	open := len(entries) - 1
	_, rep := verifyKey(t, entries, client.KeyOptions{})
	expectFailures(t, rep, client.StepV7, at(client.StepV7, open))
	var fields []string
	for _, f := range rep.Step(client.StepV7).Failures {
		if f.Entry == int64(open) {
			fields = append(fields, f.Field)
		}
	}
	if !slices.Contains(fields, "V7.6 qualified") || !slices.Contains(fields, "V7.7 joint key") {
		t.Errorf("failures at open: %v, want V7.6 qualified and V7.7 joint key", fields)
	}
}

func TestElectionKeyForgedDealerProof(t *testing.T) {
	e := smallElection(t)
	seq, forged := forgedDealerProof(t, e)
	entries := upToOpen(e)
	entries[seq] = forged
	_, rep := verifyKey(t, entries, client.KeyOptions{})
	// The rules accept the post and the open naming dealer 3; V7 does not.
	expectFailures(t, rep, client.StepV7, at(client.StepV7, seq), at(client.StepV7, e.SeqOpen))
}

func TestElectionKeyManifestOfAnotherElection(t *testing.T) {
	e := smallElection(t)
	m := *e.Manifest
	m.ElectionID = "another-election"
	m0 := e.EntryFor(m.Fingerprint(), bulletin.TypeManifest, bulletin.RoleAuthority, e.EA, m.Bytes())
	entries := upToOpen(e)
	entries[0] = m0
	var want []where
	for seq := 1; seq < len(entries); seq++ {
		want = append(want, at(client.StepV4, seq))
	}
	t.Run("no-fingerprint", func(t *testing.T) {
		_, rep := verifyKey(t, entries, client.KeyOptions{})
		expectFailures(t, rep, client.StepV4, want...)
	})
	t.Run("expected-fingerprint", func(t *testing.T) {
		_, rep := verifyKey(t, entries, client.KeyOptions{Fingerprint: e.Manifest.Fingerprint()})
		expectFailures(t, rep, client.StepV4, append(want, at(client.StepV4, 0))...)
		if f := rep.Step(client.StepV4).Failures[0]; f.Field != "V4.6 fingerprint" {
			t.Errorf("field %q, want V4.6 fingerprint", f.Field)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		en, _ := bulletin.ParseEntry(e.Entries[0])
		en.Body = m.Bytes()
		entries := upToOpen(e)
		entries[0] = en.Bytes()
		_, rep := verifyKey(t, entries, client.KeyOptions{})
		expectFailures(t, rep, client.StepV4, at(client.StepV4, 0))
	})
}

func TestElectionKeyInputs(t *testing.T) {
	e := smallElection(t)
	t.Run("no-open", func(t *testing.T) {
		_, rep := verifyKey(t, e.Entries[:e.SeqOpen], client.KeyOptions{})
		expectFailures(t, rep, client.StepV7, anywhere(client.StepV7))
	})
	t.Run("empty", func(t *testing.T) {
		_, rep := verifyKey(t, nil, client.KeyOptions{})
		expectFailures(t, rep, client.StepV7, anywhere(client.StepV7))
	})
	t.Run("undecodable", func(t *testing.T) {
		entries := upToOpen(e)
		entries[2] = entries[2][:len(entries[2])-1]
		_, rep := verifyKey(t, entries, client.KeyOptions{})
		expectFailures(t, rep, client.StepV1, at(client.StepV1, 2))
	})
	t.Run("after-open", func(t *testing.T) {
		k, rep, err := client.VerifyElectionKey(e.Entries[:e.SeqOpen+2], client.KeyOptions{})
		if err == nil || errors.Is(err, client.ErrFailed) || k != nil || rep != nil {
			t.Fatalf("entries after open: key %v, report %v, err %v; want a usage error", k != nil, rep != nil, err)
		}
	})
}
