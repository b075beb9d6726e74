//go:build officials || !(js && wasm)

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/internal/wire"
)

func TestTrusteeKeyRoundTrip(t *testing.T) {
	v, err := trusteeNew(rand.Reader, " alice ")
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "alice" || len(v.Dealt) != 0 {
		t.Fatalf("new key: %+v", v)
	}
	// The CLI reads the key file the page saves, and derives the same
	// public file.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, roles.TrusteeKeyFile), []byte(v.KeyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	cli, err := roles.LoadTrustee(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cli.Name != "alice" || cli.Public().SigningKey != v.SigningKey {
		t.Fatalf("the CLI reads %+v from the page's key file", cli.Public())
	}
	again, err := trusteeLoad(rand.Reader, []string{v.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	if again.SigningKey != v.SigningKey || again.KeyFile != v.KeyFile || again.Handle == v.Handle {
		t.Fatalf("loaded again: %+v, made: %+v", again, v)
	}
	trusteeForget(again.Handle)
	if _, err := trusteeAct(again.Handle, "status", nil, nil, false); err == nil {
		t.Fatal("a forgotten key still acts")
	} else {
		codeIs(t, "forgotten key", err, "trustee_no_key")
	}

	for name, files := range map[string][]string{
		"nothing":         nil,
		"not JSON":        {"alice"},
		"a public file":   {v.PublicFile},
		"two keys":        {v.KeyFile, v.KeyFile},
		"unknown field":   {strings.Replace(v.KeyFile, `"name"`, `"extra": 1, "name"`, 1)},
		"trailing data":   {v.KeyFile + "{}"},
		"bad secret":      {strings.Replace(v.KeyFile, `"secret": "`, `"secret": "AAAA`, 1)},
		"another version": {strings.Replace(v.KeyFile, `"version": 1`, `"version": 2`, 1)},
		"seed only":       {string((&trustee.Seed{Bytes: make([]byte, 32)}).File())},
	} {
		_, err := trusteeLoad(rand.Reader, files)
		codeIs(t, "loading "+name, err, "trustee_key_file")
	}
	for _, name := range []string{"", strings.Repeat("x", 65)} {
		_, err := trusteeNew(rand.Reader, name)
		codeIs(t, "name "+name, err, "trustee_name")
	}
}

// TestTrusteeLoadsCLIDirectory: the page reads a CLI trustee's directory
// (trustee.key, trustee.dealer-seed, board-memory.json) into one key file.
func TestTrusteeLoadsCLIDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := roles.InitTrustee(rand.Reader, dir, "bob"); err != nil {
		t.Fatal(err)
	}
	fp := [32]byte{1, 2, 3}
	seed, err := trustee.NewSeed(rand.Reader, fp)
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := json.Marshal(&trustee.BoardMemory{Kind: trustee.KindBoardMemory, Elections: map[string]string{hex.EncodeToString(fp[:]): "a note"}})
	key, err := os.ReadFile(filepath.Join(dir, roles.TrusteeKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := trusteeLoad(rand.Reader, []string{string(mem), string(seed.File()), string(key)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Dealt, []string{hex.EncodeToString(fp[:])}) {
		t.Fatalf("dealt %v", v.Dealt)
	}
	k, err := trustee.ParseKeyFile([]byte(v.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if k.Seed == nil || string(k.Seed.Bytes) != string(seed.Bytes) || k.Memory[hex.EncodeToString(fp[:])] != "a note" {
		t.Fatalf("the key file lost the directory's state: %s", v.KeyFile)
	}
	// A seed file that contradicts the key file's seed is refused.
	other, _ := trustee.NewSeed(rand.Reader, fp)
	_, err = trusteeLoad(rand.Reader, []string{v.KeyFile, string(other.File())})
	codeIs(t, "two seeds", err, "trustee_key_file")
}

// trusteeOfElection loads trustee i (1-based) of a testonly election.
func trusteeOfElection(t *testing.T, e *testonly.Election, i int) int {
	t.Helper()
	k := &trustee.Keys{Name: e.Manifest.Trustees[i-1].Name, Secret: e.Trustees[i-1], Memory: map[string]string{}}
	v, err := trusteeLoad(rand.Reader, []string{string(k.KeyFile())})
	if err != nil {
		t.Fatal(err)
	}
	return v.Handle
}

func TestTrusteeActOnVerifiedRecord(t *testing.T) {
	e := testonly.Build(t, "trustee page", testonly.SmallConfig())
	full := e.Seal(e.Entries)
	h := trusteeOfElection(t, e, 1)
	v, err := trusteeAct(h, "status", full.Encode(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if v.Me != 1 || !v.IDealt || !v.IChecked || !v.Open || !v.Closed || !v.HasResult || len(v.Entries) != 0 {
		t.Fatalf("status of the whole record: %+v", v)
	}
	// The newest checkpoint is remembered in the key file.
	k, _ := trustee.ParseKeyFile([]byte(v.KeyFile))
	if got := trustee.Known(k.Memory, e.Fingerprint()); len(got) != 1 || string(got[0]) != string(full.Notes[len(full.Notes)-1]) {
		t.Fatalf("remembered %q", got)
	}
	_, err = trusteeAct(h, "deal", full.Encode(), nil, false)
	codeIs(t, "dealing again", err, "trustee_exists")

	// The record up to the credential list: trustee 2 deals, with a new
	// dealer seed the key file now holds.
	early := e.Seal(e.Entries[:e.SeqCredentials+1])
	h2 := trusteeOfElection(t, e, 2)
	v, err = trusteeAct(h2, "deal", early.Encode(), []string{string(early.Notes[len(early.Notes)-1])}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !v.SeedMade || len(v.Entries) != 1 || !strings.Contains(v.KeyFile, `"dealer_seed"`) {
		t.Fatalf("deal: %+v", v)
	}
	raw, _ := wire.DecodeB64(v.Entries[0])
	en, err := bulletin.ParseEntry(raw)
	if err != nil || en.Type != bulletin.TypeDKGDeal || !en.Author.Equal(e.Trustees[1].SigningKey().Public()) {
		t.Fatalf("the deal entry: %v, %v", en, err)
	}
	// The same key file again: the seed is reused, not drawn anew.
	v2, err := trusteeAct(h2, "deal", early.Encode(), nil, false)
	if err != nil || v2.SeedMade || v2.Entries[0] == "" {
		t.Fatalf("dealing again before posting: %+v, %v", v2, err)
	}

	// Every deal on the board: trustee 2 finds dealer 1's share bad
	// (Config.Complaint), complains and accepts dealer 3's.
	dealt := e.Seal(e.Entries[:e.SeqDeals[len(e.SeqDeals)-1]+1])
	v, err = trusteeAct(h2, "check", dealt.Encode(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Complaints, []int{1}) || !slices.Equal(v.Accepted, []int{3}) || len(v.Entries) != 2 {
		t.Fatalf("check: complaints %v, accepted %v, %d entries", v.Complaints, v.Accepted, len(v.Entries))
	}
	for i, want := range []bulletin.EntryType{bulletin.TypeDKGComplaint, bulletin.TypeDKGConfirmation} {
		raw, _ := wire.DecodeB64(v.Entries[i])
		if en, err := bulletin.ParseEntry(raw); err != nil || en.Type != want {
			t.Fatalf("check entry %d: %v, %v; want a %s", i, en, err, want)
		}
	}

	// A record older than a checkpoint shown or remembered: refused.
	_, err = trusteeAct(h, "status", early.Encode(), nil, false)
	codeIs(t, "a record older than the remembered checkpoint", err, "trustee_stale")
	h3 := trusteeOfElection(t, e, 3)
	_, err = trusteeAct(h3, "status", early.Encode(), []string{string(full.Notes[len(full.Notes)-1])}, false)
	codeIs(t, "a record older than the checkpoint shown", err, "trustee_stale")

	// A tampered record: refused, nothing signed.
	rec := full.Encode()
	bad := slices.Clone(rec)
	bad[len(bad)/2] ^= 1
	if _, err = trusteeAct(h3, "decrypt", bad, nil, false); err == nil {
		t.Fatal("acted on a tampered record")
	}
	var be *bridgeError
	if !errors.As(err, &be) || (be.Code != "trustee_refused" && be.Code != "malformed") {
		t.Fatalf("tampered record: %v", err)
	}

	// A key that is not a trustee of the election.
	stranger, _ := trusteeNew(rand.Reader, "mallory")
	_, err = trusteeAct(stranger.Handle, "status", rec, nil, false)
	codeIs(t, "a stranger's key", err, "trustee_not_ours")
	_, err = trusteeAct(h3, "vote", rec, nil, false)
	codeIs(t, "an unknown step", err, "usage")
}

// TestAttackTrusteeHostileRecord: a node serving a forged record to the
// trustee's page gets no signature: the page refuses before deciding
// anything, and only an honest board is acted on.
func TestAttackTrusteeHostileRecord(t *testing.T) {
	e := testonly.Build(t, "trustee page attack", testonly.SmallConfig())
	honest := e.Seal(e.Entries).Encode()
	refused := func(what string, rec []byte, notes []string, h int, codes ...string) {
		t.Helper()
		v, err := trusteeAct(h, "decrypt", rec, notes, false)
		var be *bridgeError
		if !errors.As(err, &be) || !slices.Contains(codes, be.Code) {
			t.Fatalf("%s: %+v, %v; want a refusal %v", what, v, err, codes)
		}
		t.Logf("%s: %s", what, err)
	}
	h := trusteeOfElection(t, e, 1)

	// Another election key in the open entry (someone knows its secret).
	jk := e.JointKey.Bytes()
	if !bytes.Contains(honest, jk) {
		t.Fatal("the joint key is not in the record's bytes")
	}
	refused("another election key", bytes.ReplaceAll(honest, jk, e.Stranger().Public().Bytes()), nil, h, "trustee_refused", "malformed")

	// A ballot cut out of its block.
	ballot := e.Entries[e.SeqBallots[len(e.SeqBallots)-1]]
	i := bytes.Index(honest, ballot)
	if i < 0 {
		t.Fatal("the ballot is not in the record's bytes")
	}
	refused("a ballot cut out", append(honest[:i:i], honest[i+len(ballot):]...), nil, h, "trustee_refused", "malformed")

	// A quorum of nodes rewrites history after the trustee saw it: its key
	// file remembers the honest checkpoint of the board while voting.
	last := e.SeqBallots[len(e.SeqBallots)-1]
	voting := e.Seal(e.Entries[:last+1])
	if _, err := trusteeAct(h, "status", voting.Encode(), nil, false); err != nil {
		t.Fatal(err)
	}
	// Without the newest ballot (a smaller board): a stale view.
	hidden := e.Seal(e.Entries[:last])
	refused("a board without its newest ballot", hidden.Encode(), nil, h, "trustee_stale")
	// With that ballot replaced by another of the same voter (a board of
	// the same size, another history): a fork, with its evidence.
	forged := slices.Clone(e.Entries[:last+1])
	forged[last], _, _ = e.BallotEntry(0, testonly.Pick(0, 1))
	_, err := trusteeAct(h, "decrypt", e.Seal(forged).Encode(), nil, false)
	codeIs(t, "a rewritten history", err, "trustee_fork")
	ev := err.Error()[strings.Index(err.Error(), "{"):]
	if _, err := client.CheckEvidence([]byte(ev)); err != nil {
		t.Fatalf("the page's evidence of the fork is not an evidence file: %v\n%s", err, ev)
	}
}
