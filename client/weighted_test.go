package client_test

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

// TestVerifyWeightedRecord: a weighted election with a late voter
// verifies, its result is the weighted count, and the report carries N,
// the total weight and maxCount (SPEC.md V6.3, V10.6).
func TestVerifyWeightedRecord(t *testing.T) {
	e := testonly.Build(t, "weighted", testonly.WeightedConfig())
	rep, err := client.VerifyElectionRecord(bytes.NewReader(e.Record()), client.VerifyOptions{})
	if err != nil {
		t.Fatalf("%v: %v", err, rep.Steps)
	}
	if !slices.EqualFunc(rep.Counts, e.Result.Counts, slices.Equal) {
		t.Fatalf("counts %v, want %v", rep.Counts, e.Result.Counts)
	}
	var want uint64
	for _, seq := range e.SeqCounted {
		b, _ := ballot.ParseBallot(e.Body(seq))
		for v, k := range e.Voters {
			if k.Public().Equal(b.Credential()) {
				want += uint64(e.Weight(v))
			}
		}
	}
	v, err := client.FollowRecord(bytes.NewReader(e.Record()), client.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Credentials != 6 || v.Report.Weight != 1+3+1000+1+7+2 || v.MaxCount != want || v.Report.MaxCount != want {
		t.Fatalf("credentials %d, weight %d, maxCount %d (report %d), want 6, 1014, %d", v.Credentials, v.Report.Weight, v.MaxCount, v.Report.MaxCount, want)
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
	lateBody := func(pub *group.Element, w uint32) []byte {
		l, err := ballot.NewWeightedCredentialList(testonly.Roll, []*group.Element{pub}, []uint32{w})
		if err != nil {
			t.Fatal(err)
		}
		return l.Bytes()
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
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, lateBody(fresh("after-close"), 5))
		rep := verify(t, e.Seal(insert(e.Entries, e.SeqClose+1, late)).Encode())
		expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqClose+1))
	})
	t.Run("late voter added by another key", func(t *testing.T) {
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.EA, lateBody(fresh("by-ea"), 5))
		rep := verify(t, e.Seal(insert(e.Entries, e.SeqLate+1, late)).Encode())
		expectFailures(t, rep, client.StepV5, at(client.StepV5, e.SeqLate+1))
	})
	t.Run("a registered credential added again with another weight", func(t *testing.T) {
		late := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, lateBody(e.Voters[0].Public(), ballot.MaxWeight))
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
