package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

// fixture is an election with real keys: a manifest, a joint key, a
// registered credential, and board nodes that sign checkpoints.
type fixture struct {
	m        *ballot.Manifest
	mb64     string
	key      *group.Element // the joint key
	jointKey string         // its hex
	cred     ballot.Credential
	credList []byte // signed credentials entry
	nodes    []testonly.Node
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	qs := []ballot.Question{
		{Text: "Colour", Options: []string{"Red", "Green", "Blue", "Gold", "Grey"}, Min: 1, Max: 1},
		{Text: "Two", Options: []string{"a", "b", "c", "d", "e"}, Min: 0, Max: 2},
	}
	return fixtureOf(testonly.NewElection(t, "web bridge", testonly.Config{Voters: 2, Questions: qs}))
}

// fixtureOf is the fixture of e for its first voter.
func fixtureOf(e *testonly.Election) *fixture {
	// The booth needs only a valid point: no key ceremony.
	K := e.Stranger().Public()
	return &fixture{m: e.Manifest, mb64: wire.EncodeB64(e.Manifest.Bytes()), key: K, jointKey: hex.EncodeToString(K.Bytes()),
		cred: e.Credentials[0], credList: e.CredentialsEntry(), nodes: e.Nodes}
}

func (f *fixture) booth(t *testing.T) *booth {
	t.Helper()
	b, err := newBooth(rand.Reader, f.mb64, f.jointKey, strings.ToLower(f.cred.Text()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkpoint signs the checkpoint of the first size leaves of log by the
// given nodes.
func (f *fixture) checkpoint(t *testing.T, log *bulletin.MemoryLog, size, height uint64, signers ...int) string {
	t.Helper()
	root, err := log.Root(size)
	if err != nil {
		t.Fatal(err)
	}
	c := &bulletin.Checkpoint{Origin: bulletin.Origin(f.m.ElectionID, f.m.Fingerprint()), Size: size, Root: root, Height: height}
	c.BlockHash[0] = byte(height)
	var notes [][]byte
	for _, i := range signers {
		s, err := bulletin.NodeSigner(f.nodes[i].ID, f.nodes[i].Key)
		if err != nil {
			t.Fatal(err)
		}
		n, err := bulletin.SignCheckpoint(c, s)
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	merged, err := bulletin.MergeCheckpointSignatures(notes...)
	if err != nil {
		t.Fatal(err)
	}
	return string(merged)
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want code %s", what, code)
	}
	if got, _ := codeOf(err); got != code {
		t.Fatalf("%s: code %q (%v), want %q", what, got, err, code)
	}
}

func TestManifestView(t *testing.T) {
	f := newFixture(t)
	v, err := parseManifest(f.mb64)
	if err != nil {
		t.Fatal(err)
	}
	fp := f.m.Fingerprint()
	if v.ElectionID != "test-election" || v.Title != "Test election" || v.Fingerprint != hex.EncodeToString(fp[:]) ||
		len(v.Questions) != 2 || v.Questions[1].Max != 2 || v.Questions[1].Min != 0 || v.Quorum != 2 ||
		!slices.Equal(v.Nodes, []string{"n1", "n2", "n3"}) || !slices.Equal(v.Trustees, []string{"trustee-1", "trustee-2", "trustee-3"}) {
		t.Fatalf("manifest view %+v", v)
	}
	// The size the view gives is that of a real ballot of this election.
	s, err := f.booth(t).Encrypt([][]uint32{{2}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if body := parseEntryB64(t, s.Entry).Body; v.BallotSize != len(body) || v.BallotSize == 0 {
		t.Fatalf("manifest view: ballot size %d, a ballot's body is %d bytes", v.BallotSize, len(body))
	}
	_, err = parseManifest("not base64!")
	wantCode(t, "bad base64", err, "malformed")
	_, err = parseManifest(wire.EncodeB64([]byte("garbage")))
	wantCode(t, "bad manifest", err, "malformed")
}

func TestCredentialErrors(t *testing.T) {
	f := newFixture(t)
	text := f.cred.Text()
	if err := checkCredential(text); err != nil {
		t.Fatalf("valid credential: %v", err)
	}
	if err := checkCredential(strings.ReplaceAll(strings.ToLower(text), "-", " ")); err != nil {
		t.Fatalf("lower case with spaces: %v", err)
	}
	sym := byte('0')
	if text[3] == '0' {
		sym = '1'
	}
	wantCode(t, "typo", checkCredential(text[:3]+string(sym)+text[4:]), "credential_checksum")
	// The look-alikes stand for the symbols (ballot.ParseCredential):
	// what a voter types with O for 0 opens the same booth.
	look := strings.NewReplacer("0", "O", "1", "l", "-", "\u2013").Replace(text)
	lb, err := newBooth(rand.Reader, f.mb64, f.jointKey, look)
	if err != nil || lb.PublicCredential() != f.booth(t).PublicCredential() {
		t.Fatalf("credential typed with look-alikes and en dashes %q: %v", look, err)
	}
	wantCode(t, "letter U", checkCredential("U"+text[1:]), "credential_char")
	if _, params := codeOf(checkCredential(text[:7] + "#" + text[8:])); params["char"] != "#" || params["pos"] != 8 {
		t.Errorf("a bad character: params %v, want the character # at 8", params)
	}
	wantCode(t, "short", checkCredential("ABC"), "credential_length")
	if _, params := codeOf(checkCredential("ABC")); params["n"] != 3 || params["want"] != 25 {
		t.Errorf("a short credential: params %v", params)
	}
	_, err = newBooth(rand.Reader, f.mb64, f.jointKey, "ABC")
	wantCode(t, "booth with bad credential", err, "credential_length")
	_, err = newBooth(rand.Reader, f.mb64, "", text)
	wantCode(t, "booth before open", err, "no_key")
	_, err = newBooth(rand.Reader, f.mb64, strings.Repeat("00", 32), text)
	wantCode(t, "identity key", err, "no_key")
}

func TestRegistered(t *testing.T) {
	f := newFixture(t)
	b := f.booth(t)
	r, err := b.Registered([][]byte{f.credList})
	if err != nil || !r.Registered || r.Weight != 1 || r.Late {
		t.Fatalf("registered credential: %+v %v", r, err)
	}
	other, _ := ballot.GenerateCredential(rand.Reader)
	b2, err := newBooth(rand.Reader, f.mb64, f.jointKey, other.Text())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := b2.Registered([][]byte{f.credList}); err != nil || r.Registered || r.Weight != 0 {
		t.Fatalf("unregistered credential: %+v %v", r, err)
	}
	_, err = b.Registered([][]byte{[]byte("junk")})
	wantCode(t, "junk list", err, "malformed")
}

func TestEncryptChallenge(t *testing.T) {
	f := newFixture(t)
	b := f.booth(t)
	pk, _ := hex.DecodeString(f.jointKey)
	K, _ := group.DecodeNonIdentity(pk)

	_, err := b.Encrypt([][]uint32{{0, 1}, {}})
	wantCode(t, "two options in a 1-of-5", err, "invalid_choice")
	_, err = b.Encrypt([][]uint32{{2}})
	if err == nil {
		t.Fatal("one question answered of two: no error")
	}
	_, err = b.Challenge()
	wantCode(t, "challenge with nothing pending", err, "no_ballot")

	s, err := b.Encrypt([][]uint32{{2}, {}}) // Blue; blank
	if err != nil {
		t.Fatal(err)
	}
	e := parseEntryB64(t, s.Entry)
	if e.Type != bulletin.TypeBallot || e.Role != bulletin.RoleVoter || e.VerifySignature() != nil {
		t.Fatalf("ballot entry: type %v role %v", e.Type, e.Role)
	}
	bl, err := ballot.ParseBallot(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := bl.Verify(f.m, K); err != nil {
		t.Fatalf("the booth's ballot does not verify: %v", err)
	}
	if tr := bl.Tracker(); tr.Short() != s.Tracker || tr.Hex() != s.TrackerHex {
		t.Fatalf("tracker %s/%s, ballot has %s", s.Tracker, s.TrackerHex, tr.Short())
	}
	if !e.Author.Equal(bl.Credential()) || hex.EncodeToString(e.Author.Bytes()) != b.PublicCredential() {
		t.Fatal("the entry is not signed by the ballot's credential")
	}

	c, err := b.Challenge()
	if err != nil {
		t.Fatal(err)
	}
	if !c.Verified || c.Tracker != s.Tracker || !slices.Equal(c.Selections[0], []string{"Blue"}) || len(c.Selections[1]) != 0 {
		t.Fatalf("challenge %+v", c)
	}
	araw, _ := wire.DecodeB64(c.Entry)
	ae, err := bulletin.ParseEntry(araw)
	if err != nil || ae.Type != bulletin.TypeAudit || ae.Role != bulletin.RoleAuditor || ae.VerifySignature() != nil {
		t.Fatalf("audit entry: %v", err)
	}
	// Unlinkable: signed by a one-time key, the credential nowhere in it.
	if ae.Author.Equal(bl.Credential()) || bytes.Contains(araw, bl.Credential().Bytes()) {
		t.Fatal("the audit names the voter's credential")
	}
	ab, err := ballot.ParseAudit(ae.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := ballot.VerifyAudit(f.m, K, ab); err != nil || ab.Tracker() != bl.Tracker() {
		t.Fatalf("posted opening: %v", err)
	}
	_, err = b.Challenge()
	wantCode(t, "second challenge of the same ballot", err, "no_ballot")

	// After a cast, nothing can be opened any more.
	if _, err := b.Encrypt([][]uint32{{0}, {1, 4}}); err != nil {
		t.Fatal(err)
	}
	b.Forget()
	_, err = b.Challenge()
	wantCode(t, "challenge after cast", err, "no_ballot")
	b.Close()
	if b.key != nil || b.secrets != nil {
		t.Fatal("Close kept secrets")
	}
}

func TestProofs(t *testing.T) {
	f := newFixture(t)
	b := f.booth(t)
	var entries [][]byte
	for _, ch := range [][][]uint32{{{0}, {}}, {{1}, {2}}, {{3}, {0, 1}}} {
		s, err := b.Encrypt(ch)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := wire.DecodeB64(s.Entry)
		entries = append(entries, raw)
	}
	log := testonly.MemLog(t, entries)
	cp2 := f.checkpoint(t, log, 2, 1, 0, 2)
	cp3 := f.checkpoint(t, log, 3, 2, 0, 1, 2)

	p, err := bulletin.ProveInclusion(1, 3, log)
	if err != nil {
		t.Fatal(err)
	}
	proof := hexHashes(p.Hashes)
	facts, err := verifyInclusion(f.mb64, cp3, entries[1], 1, 3, proof)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ballot.ParseBallot(testonly.ParseEntry(t, entries[1]).Body)
	if facts.Seq != 1 || facts.Type != "ballot" || facts.TrackerHex != want.Tracker().Hex() || facts.Checkpoint.Size != 3 {
		t.Fatalf("inclusion facts %+v", facts)
	}
	_, err = verifyInclusion(f.mb64, cp3, entries[0], 1, 3, proof)
	wantCode(t, "another entry", err, "invalid_proof")
	bad := slices.Clone(proof)
	bad[0] = strings.Repeat("ab", 32)
	_, err = verifyInclusion(f.mb64, cp3, entries[1], 1, 3, bad)
	wantCode(t, "tampered proof", err, "invalid_proof")
	one := f.checkpoint(t, log, 3, 2, 1)
	_, err = verifyInclusion(f.mb64, one, entries[1], 1, 3, proof)
	wantCode(t, "checkpoint without quorum", err, "bad_checkpoint")

	v, err := openCheckpoint(f.mb64, one)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || v.Valid != 1 || v.Signers[0].Valid || !v.Signers[1].Valid || v.Signers[2].Valid {
		t.Fatalf("one signature: %+v", v)
	}
	if v, err = openCheckpoint(f.mb64, cp3); err != nil || !v.OK || v.Valid != 3 || v.Size != 3 {
		t.Fatalf("full checkpoint: %+v %v", v, err)
	}

	cons := testonly.Consistency(t, entries, 2, 3)
	if err := checkConsistency(f.mb64, cp2, cp3, 2, 3, hexHashes(cons.Hashes)); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	if err := checkConsistency(f.mb64, cp3, cp3, 3, 3, nil); err != nil {
		t.Fatalf("same checkpoint: %v", err)
	}
	// A fork: another log of the same size, signed by a quorum.
	fork := testonly.MemLog(t, [][]byte{entries[0], entries[2]})
	forked := f.checkpoint(t, fork, 2, 1, 0, 1)
	err = checkConsistency(f.mb64, forked, cp3, 2, 3, hexHashes(cons.Hashes))
	wantCode(t, "fork", err, "inconsistent")
	var inc *bulletin.InconsistencyError
	if !errors.As(err, &inc) || string(inc.Old) != forked {
		t.Fatalf("fork evidence: %v", err)
	}

	// A receipt for entry 2 in the checkpoint of size 3.
	r := testonly.Receipt(t, entries, 2, []byte(cp3), 3)
	rf, err := verifyReceipt(f.mb64, r.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if rf.Seq != 2 || rf.Tracker == "" || rf.Checkpoint.Size != 3 {
		t.Fatalf("receipt facts %+v", rf)
	}
	r.Seq = 1
	_, err = verifyReceipt(f.mb64, r.Bytes())
	wantCode(t, "receipt with the wrong seq", err, "invalid_proof")
	_, err = verifyReceipt(f.mb64, []byte("not a receipt"))
	wantCode(t, "junk receipt", err, "malformed")
}

func hexHashes(hs []tlog.Hash) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, hex.EncodeToString(h[:]))
	}
	return out
}

func TestVerifyElectionRecordRejectsJunk(t *testing.T) {
	v, err := verifyElectionRecord(rand.Reader, []byte("URNAREC but not really"), nil)
	if err == nil && (v.OK || !strings.HasPrefix(v.Failure, "V1")) {
		t.Fatalf("junk record: %+v", v)
	}
}

// TestReadCheckInput: what people paste into "check my ballot".
func TestReadCheckInput(t *testing.T) {
	f := newFixture(t)
	b := f.booth(t)
	s, err := b.Encrypt([][]uint32{{1}, {}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := wire.DecodeB64(s.Entry)
	cp := f.checkpoint(t, testonly.MemLog(t, [][]byte{raw}), 1, 0, 0, 1, 2)
	receipt := wire.EncodeB64(testonly.Receipt(t, [][]byte{raw}, 0, []byte(cp), 1).Bytes())

	look := strings.NewReplacer("0", "O", "1", "I", "-", " \u2013 ").Replace(strings.ToLower(s.Tracker))
	for name, in := range map[string]string{
		"short":       s.Tracker,
		"look-alikes": look,
		"no dash":     strings.ReplaceAll(s.Tracker, "-", ""),
	} {
		got, err := readCheckInput(in)
		if err != nil || got.Kind != "tracker" || got.Tracker != s.Tracker || got.TrackerHex != "" {
			t.Errorf("%s %q: %+v %v", name, in, got, err)
		}
	}
	if got, err := readCheckInput(" " + strings.ToUpper(s.TrackerHex) + "\n"); err != nil || got.TrackerHex != s.TrackerHex || got.Tracker != s.Tracker {
		t.Errorf("full tracker: %+v %v", got, err)
	}
	wrapped := receipt[:40] + "\n" + receipt[40:80] + "\r\n" + receipt[80:]
	jsonFile := `{"kind":"urna-receipt","election_id":"e","tracker":"` + s.Tracker + `","seq":0,"receipt":"` + receipt + `"}`
	for name, in := range map[string]string{"receipt": receipt, "wrapped": wrapped, "JSON file of urna vote": jsonFile} {
		got, err := readCheckInput(in)
		if err != nil || got.Kind != "receipt" || got.Receipt != receipt {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	for name, tc := range map[string]struct{ in, code string }{
		"U in a tracker":      {"K7QF-2MZU", "tracker_char"},
		"7 symbols":           {"K7QF-2MZ", "tracker_length"},
		"JSON without":        {`{"tracker":"K7QF-2MZX"}`, "not_receipt"},
		"long junk":           {strings.Repeat("A", 100), "not_receipt"},
		"long with bad chars": {strings.Repeat("é", 70), "not_receipt"},
	} {
		_, err := readCheckInput(tc.in)
		wantCode(t, name, err, tc.code)
	}
}

// TestOpenAudited: the opening of a challenged ballot, as another device
// reads it from the board.
func TestOpenAudited(t *testing.T) {
	f := newFixture(t)
	b := f.booth(t)
	if _, err := b.Encrypt([][]uint32{{2}, {}}); err != nil { // Blue; blank
		t.Fatal(err)
	}
	c, err := b.Challenge()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := wire.DecodeB64(c.Entry)
	o, err := openAudited(f.mb64, f.jointKey, raw)
	if err != nil || !o.Verified || o.Tracker != c.Tracker || !slices.Equal(o.Selections[0], []string{"Blue"}) || len(o.Selections[1]) != 0 {
		t.Fatalf("opened %+v, %v", o, err)
	}
	// Under another key the opening does not re-encrypt to the ballot.
	other := hex.EncodeToString(group.Generator().Bytes())
	if o, err := openAudited(f.mb64, other, raw); err != nil || o.Verified || o.Problem == "" {
		t.Fatalf("under another key: %+v, %v", o, err)
	}
	if o, err := openAudited(f.mb64, "", raw); err != nil || o.Verified || o.Problem == "" {
		t.Fatalf("without a key: %+v, %v", o, err)
	}
	s, _ := b.Encrypt([][]uint32{{0}, {}})
	braw, _ := wire.DecodeB64(s.Entry)
	_, err = openAudited(f.mb64, f.jointKey, braw)
	wantCode(t, "a cast ballot", err, "malformed")
}

// parseEntry parses an entry the module made.
func parseEntry(t *testing.T, raw []byte) *bulletin.Entry {
	t.Helper()
	en, err := bulletin.ParseEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// parseEntryB64 parses an entry the module made, as it hands it out
// (base64url).
func parseEntryB64(t *testing.T, b64 string) *bulletin.Entry {
	t.Helper()
	raw, err := wire.DecodeB64(b64)
	if err != nil {
		t.Fatal(err)
	}
	return parseEntry(t, raw)
}
