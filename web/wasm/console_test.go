//go:build officials || !(js && wasm)

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/authority"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/internal/wire"
)

func codeIs(t *testing.T, what string, err error, code string) {
	t.Helper()
	var be *bridgeError
	if !errors.As(err, &be) || be.Code != code {
		t.Fatalf("%s: error %v, want code %s", what, err, code)
	}
}

// signed decodes a console's entry and checks its signature, type and
// author.
func signed(t *testing.T, e *testonly.Election, b64 string, typ bulletin.EntryType) *bulletin.Entry {
	t.Helper()
	en := parseEntryB64(t, b64)
	if err := en.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	if en.Type != typ || !en.Author.Equal(e.EA.Public()) || en.Election != e.Fingerprint() {
		t.Fatalf("entry %s by %x for %x, want %s by the authority for the election", en.Type, en.Author.Bytes(), en.Election, typ)
	}
	return en
}

func loadEA(t *testing.T, e *testonly.Election) int {
	t.Helper()
	k, err := consoleLoadKey(rand.Reader, string(keyfile.Marshal(authority.NewKeyFile(e.EA, authority.KindAuthorityKey))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { consoleForget(k.Handle) })
	return k.Handle
}

func TestConsoleKeys(t *testing.T) {
	k, err := consoleNewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := authority.ParseKeyFile([]byte(k.KeyFile), authority.KindAuthorityKey)
	if err != nil || wire.EncodeB64(sk.Public().Bytes()) != k.Public {
		t.Fatalf("the new key file does not load as the CLI's: %v", err)
	}
	pub, err := authority.ParsePublicFile([]byte(k.PublicFile), authority.KindAuthorityPublic)
	if err != nil || !pub.Equal(sk.Public()) {
		t.Fatalf("the public file: %v", err)
	}
	again, err := consoleLoadKey(rand.Reader, k.KeyFile)
	if err != nil || again.Public != k.Public || again.KeyFile != "" {
		t.Fatalf("loading the saved key: %+v, %v", again, err)
	}
	for _, bad := range []string{"", "{}", k.PublicFile, strings.Replace(k.KeyFile, `"version"`, `"extra": 1, "version"`, 1),
		strings.Replace(k.KeyFile, k.Public, strings.Repeat("A", len(k.Public)), 1), k.KeyFile + "{}"} {
		_, err := consoleLoadKey(rand.Reader, bad)
		codeIs(t, "bad key file", err, "bad_key_file")
	}
	consoleForget(again.Handle)
	_, err = consoleManifest(again.Handle, "{}")
	codeIs(t, "forgotten key", err, "no_key")
}

func TestConsoleManifest(t *testing.T) {
	e := testonly.NewElection(t, "console manifest", testonly.Config{Voters: 2})
	h := loadEA(t, e)
	j, err := ballot.MarshalManifestJSON(e.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	authoring := strings.Replace(string(j), wire.EncodeB64(e.EA.Public().Bytes()), "", 1)
	d, err := consoleManifest(h, authoring)
	if err != nil {
		t.Fatal(err)
	}
	fp := e.Fingerprint()
	if d.Fingerprint != hex.EncodeToString(fp[:]) {
		t.Fatalf("fingerprint %s, want %x", d.Fingerprint, fp)
	}
	en := signed(t, e, must(consoleSignManifest(h, d.Manifest)), bulletin.TypeManifest)
	if !bytes.Equal(en.Body, e.Manifest.Bytes()) {
		t.Fatal("the signed manifest entry holds another manifest")
	}
	// Another authority's manifest is neither completed nor signed.
	other := strings.Replace(string(j), wire.EncodeB64(e.EA.Public().Bytes()), wire.EncodeB64(e.Stranger().Public().Bytes()), 1)
	_, err = consoleManifest(h, other)
	codeIs(t, "another authority", err, "bad_manifest")
	oh := loadEA(t, &testonly.Election{EA: e.Stranger()})
	_, err = consoleSignManifest(oh, d.Manifest)
	codeIs(t, "sign another's manifest", err, "bad_manifest")
	for _, bad := range []string{"", "[]", `{"election_id":"x","unknown":1}`, strings.Replace(authoring, `"threshold": 2`, `"threshold": 9`, 1)} {
		_, err := consoleManifest(h, bad)
		codeIs(t, "bad manifest "+bad, err, "bad_manifest")
	}
	// The parties' public files, as the CLI writes them.
	p := e.Trustees[0].Public()
	tj, err := consoleTrustee(string(keyfile.Marshal(&trustee.PublicFile{Kind: trustee.KindPublic, Name: "alice",
		SigningKey: wire.EncodeB64(p.SigningKey.Bytes()), ShareKey: wire.EncodeB64(p.ShareKey)})))
	if err != nil || tj.Name != "alice" || tj.SigningKey != wire.EncodeB64(p.SigningKey.Bytes()) {
		t.Fatalf("trustee file: %+v %v", tj, err)
	}
	_, err = consoleTrustee(string(keyfile.Marshal(&authority.PublicFile{Kind: authority.KindCAPublic, Public: "x"})))
	codeIs(t, "not a trustee file", err, "bad_public_file")
	ca := wire.EncodeB64(e.CA.Public().Bytes())
	for _, in := range []string{ca, " " + ca + "\n", string(keyfile.Marshal(&authority.PublicFile{Kind: authority.KindCAPublic, Public: ca}))} {
		if got, err := consoleCAKey(in); err != nil || got != ca {
			t.Fatalf("credential authority key %q: %s %v", in, got, err)
		}
	}
	_, err = consoleCAKey(string(keyfile.Marshal(&authority.PublicFile{Kind: authority.KindAuthorityPublic, Public: ca})))
	codeIs(t, "authority file for the CA", err, "bad_public_file")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestConsoleAct: the console signs what `urna authority` would, on the
// verified record only.
func TestConsoleAct(t *testing.T) {
	e := testonly.Build(t, "console act", testonly.Config{Voters: 3, Ballots: 3})
	h := loadEA(t, e)
	fp := e.Fingerprint()
	fpHex := hex.EncodeToString(fp[:])
	upTo := func(n int) []byte { return e.Seal(e.Entries[:n]).Encode() }

	v, err := consoleAct(h, "open", upTo(e.SeqOpen), nil, fpHex, "")
	if err != nil {
		t.Fatal(err)
	}
	if en := signed(t, e, v.Entry, bulletin.TypeOpen); !bytes.Equal(en.Body, testonly.ParseEntry(t, e.Entries[e.SeqOpen]).Body) {
		t.Fatal("the open entry's QUAL and key differ from the ones the ceremony gives")
	}
	if v.Newest == "" || v.Size != uint64(e.SeqOpen) {
		t.Fatalf("verified view %+v", v)
	}
	_, err = consoleAct(h, "open", upTo(e.SeqCredentials), nil, fpHex, "")
	codeIs(t, "open before the credentials", err, "not_ready")
	_, err = consoleAct(h, "close", upTo(e.SeqOpen), nil, fpHex, "")
	codeIs(t, "close before open", err, "not_ready")
	v, err = consoleAct(h, "close", upTo(e.SeqClose), nil, fpHex, "end")
	if err != nil {
		t.Fatal(err)
	}
	if en := signed(t, e, v.Entry, bulletin.TypeClose); !bytes.Equal(en.Body, (&bulletin.CloseBody{Reason: "end"}).Bytes()) {
		t.Fatal("close body")
	}
	v, err = consoleAct(h, "result", upTo(e.SeqResult), nil, fpHex, "")
	if err != nil {
		t.Fatal(err)
	}
	signed(t, e, v.Entry, bulletin.TypeResult)
	for q := range e.Result.Counts {
		for o := range e.Result.Counts[q] {
			if v.Counts[q][o] != e.Result.Counts[q][o] {
				t.Fatalf("counts %v, want %v", v.Counts, e.Result.Counts)
			}
		}
	}
	_, err = consoleAct(h, "result", e.Record(), nil, fpHex, "")
	codeIs(t, "a second result", err, "exists")
	if _, err := consoleAct(h, "check", e.Record(), nil, "", ""); err != nil {
		t.Fatal(err)
	}
	_, err = consoleAct(h, "launch", e.Record(), nil, "", "")
	codeIs(t, "unknown action", err, "usage")
}

// TestAttackConsoleAct: a hostile node's record, another election, a
// node hiding entries behind an older record, or another authority's
// board: the console signs nothing.
func TestAttackConsoleAct(t *testing.T) {
	e := testonly.Build(t, "console attack", testonly.Config{Voters: 3, Ballots: 3})
	h := loadEA(t, e)
	rec := e.Seal(e.Entries[:e.SeqResult]).Encode()
	for i := len(rec) / 3; i < len(rec); i += len(rec) / 7 {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x40
		v, err := consoleAct(h, "result", bad, nil, "", "")
		if err == nil {
			t.Fatalf("byte %d flipped: signed %+v", i, v)
		}
		// A lie is never "lagging" (which the page reads again and
		// reports as a board to wait for): only a record that no
		// checkpoint covers yet (V3.6) is.
		var be *bridgeError
		if errors.As(err, &be) && be.Code == "lagging" {
			t.Errorf("byte %d flipped: reported as lagging: %v", i, err)
		}
	}
	// The newest block's log root is not the Merkle root of its entries
	// (V3.5): a lie, not a record to wait for.
	sealed := e.Seal(e.Entries[:e.SeqResult])
	sealed.Blocks[len(sealed.Blocks)-1].Header.LogRoot[0] ^= 1
	_, err := consoleAct(h, "result", sealed.Encode(), nil, "", "")
	codeIs(t, "a wrong log root", err, "not_verified")
	// The node showed a newer checkpoint, then serves an older record.
	full := e.Seal(e.Entries)
	_, err = consoleAct(h, "result", rec, []string{string(full.Notes[len(full.Notes)-1])}, "", "")
	codeIs(t, "older record than a checkpoint shown", err, "lagging")
	// Another election pinned.
	_, err = consoleAct(h, "result", rec, nil, strings.Repeat("ab", 32), "")
	codeIs(t, "another fingerprint", err, "not_verified")
	// Another authority's key.
	oh := loadEA(t, &testonly.Election{EA: e.Stranger()})
	_, err = consoleAct(oh, "result", rec, nil, "", "")
	codeIs(t, "another authority", err, "not_ours")
}
