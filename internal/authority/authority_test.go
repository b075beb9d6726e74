package authority_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/authority"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

func TestKeyFileRoundTrip(t *testing.T) {
	e := testonly.NewElection(t, "authority keys", testonly.Config{Voters: 1})
	file := keyfile.Marshal(authority.NewKeyFile(e.EA, authority.KindAuthorityKey))
	sk, err := authority.ParseKeyFile(file, authority.KindAuthorityKey)
	if err != nil || !sk.Public().Equal(e.EA.Public()) {
		t.Fatalf("round trip: %v", err)
	}
	bad := map[string][]byte{
		"another kind":  file,
		"unknown field": bytes.Replace(file, []byte(`"version"`), []byte(`"x": 1, "version"`), 1),
		"trailing data": append(bytes.Clone(file), []byte("{}")...),
		"public differs": bytes.Replace(file, []byte(wire.EncodeB64(e.EA.Public().Bytes())),
			[]byte(wire.EncodeB64(e.CA.Public().Bytes())), 1),
		"not JSON": []byte("secret"),
	}
	for name, data := range bad {
		kind := authority.KindAuthorityKey
		if name == "another kind" {
			kind = authority.KindCAKey
		}
		if _, err := authority.ParseKeyFile(data, kind); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestComplete(t *testing.T) {
	e := testonly.NewElection(t, "authority complete", testonly.Config{Voters: 1})
	j := e.Manifest.JSON()
	j.Version, j.Authority, j.BoardQuorum = 0, "", 0
	m, err := authority.Complete(j, e.EA.Public())
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != ballot.ManifestVersion || !m.Authority.Equal(e.EA.Public()) || m.BoardQuorum != uint32(len(m.BoardNodes)/2+1) {
		t.Fatalf("completed: version %d, quorum %d", m.Version, m.BoardQuorum)
	}
	if m.Fingerprint() != e.Fingerprint() {
		t.Fatal("the completed manifest is another election")
	}
	j = e.Manifest.JSON()
	if _, err := authority.Complete(j, e.CA.Public()); err == nil || !strings.Contains(err.Error(), "another authority") {
		t.Fatalf("another authority's manifest: %v", err)
	}
	if _, err := authority.DecodeTemplate([]byte(`{"title":"x","titel":"y"}`)); err == nil {
		t.Fatal("an unknown field was ignored")
	}
}

// TestOpenWaitsForTheCeremony: opening is refused, naming whom it waits
// for, until every trustee dealt and checked its shares; then QUAL and the
// key are the ceremony's.
func TestOpenWaitsForTheCeremony(t *testing.T) {
	e := testonly.Build(t, "authority open", testonly.Config{Voters: 2, Ballots: 2})
	follow := func(n int) *client.Verified {
		t.Helper()
		s, err := client.FollowRecord(bytes.NewReader(e.Seal(e.Entries[:n]).Encode()), client.FollowOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := authority.Open(follow(e.SeqCredentials), false); !errors.Is(err, authority.ErrNotReady) {
		t.Fatalf("open before the credentials: %v", err)
	}
	_, err := authority.Open(follow(e.SeqDeals[1]), false)
	if !errors.Is(err, authority.ErrNotReady) || !strings.Contains(err.Error(), "trustee 2 (trustee-2) has not dealt") {
		t.Fatalf("open with trustee 2 missing: %v", err)
	}
	op, err := authority.Open(follow(e.SeqOpen), false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := bulletin.ParseOpenBody(testonly.ParseEntry(t, e.Entries[e.SeqOpen]).Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(op.Body.Bytes(), want.Bytes()) {
		t.Fatal("QUAL or the joint key differ from the ceremony's")
	}
	if _, err := authority.Result(follow(e.SeqOpen)); !errors.Is(err, authority.ErrNotReady) {
		t.Fatalf("result before the close: %v", err)
	}
	if _, err := authority.Result(follow(len(e.Entries))); !errors.Is(err, authority.ErrExists) {
		t.Fatalf("a second result: %v", err)
	}
}
