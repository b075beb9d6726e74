package roles

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/tally"
)

func TestKeyFilesAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ea")
	pub, err := InitAuthority(rand.Reader, dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, AuthorityKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode(), err)
	}
	sk, err := LoadAuthority(dir)
	if err != nil || !sk.Public().Equal(pub) {
		t.Fatalf("LoadAuthority: %v", err)
	}
	if p, err := LoadPublicKey(filepath.Join(dir, AuthorityPublicFile), kindAuthorityPublic); err != nil || !p.Equal(pub) {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	// A second init never replaces the secret.
	if _, err := InitAuthority(rand.Reader, dir); !errors.Is(err, keyfile.ErrExists) {
		t.Fatalf("second init: %v, want keyfile.ErrExists", err)
	}
	// A key others can read is refused.
	if err := os.Chmod(filepath.Join(dir, AuthorityKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAuthority(dir); !errors.Is(err, keyfile.ErrPermissions) {
		t.Fatalf("world-readable key: %v, want keyfile.ErrPermissions", err)
	}
	// A file of another kind is refused.
	if _, err := LoadPublicKey(filepath.Join(dir, AuthorityPublicFile), kindCAPublic); err == nil {
		t.Fatal("an authority public file was accepted as the credential authority's")
	}
}

func TestTrusteeKeysRoundTrip(t *testing.T) {
	dir := t.TempDir()
	pub, err := InitTrustee(rand.Reader, dir, "alice")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrustee(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "alice" || *tr.Public() != *pub {
		t.Fatalf("loaded %+v, want %+v", tr.Public(), pub)
	}
	bt, err := LoadTrusteePublic(filepath.Join(dir, TrusteePublicFile))
	if err != nil || !bt.SigningKey.Equal(tr.Secret.SigningKey().Public()) || bt.Name != "alice" {
		t.Fatalf("LoadTrusteePublic: %v", err)
	}
	if _, err := InitTrustee(rand.Reader, t.TempDir(), ""); err == nil {
		t.Fatal("empty trustee name accepted")
	}
}

// testManifest builds a manifest through BuildManifest, as `urna authority create` does.
func testManifest(t *testing.T) (*ballot.Manifest, []*Trustee) {
	t.Helper()
	root := t.TempDir()
	if _, err := InitAuthority(rand.Reader, filepath.Join(root, "ea")); err != nil {
		t.Fatal(err)
	}
	if _, err := InitCredentialAuthority(rand.Reader, filepath.Join(root, "ca")); err != nil {
		t.Fatal(err)
	}
	var pubs []string
	var ts []*Trustee
	for _, n := range []string{"t1", "t2", "t3"} {
		if _, err := InitTrustee(rand.Reader, filepath.Join(root, n), n); err != nil {
			t.Fatal(err)
		}
		tr, err := LoadTrustee(filepath.Join(root, n))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tr)
		pubs = append(pubs, filepath.Join(root, n, TrusteePublicFile))
	}
	tmpl := []byte(`{"election_id":"test-1","title":"T","threshold":2,"questions":[
		{"text":"Q1","options":["a","b","c","d"],"min":1,"max":1},
		{"text":"Q2","options":["a","b","c","d","e"],"min":2,"max":2}]}`)
	m, err := BuildManifest(filepath.Join(root, "ea"), &ElectionSpec{
		Template: tmpl, CredentialAuthority: filepath.Join(root, "ca", CAPublicFile), Trustees: pubs,
		BoardNodes: []ballot.BoardNode{{ID: "n1", Key: nodeKey(1)}, {ID: "n2", Key: nodeKey(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	return m, ts
}

func TestBuildManifest(t *testing.T) {
	m, ts := testManifest(t)
	if m.BoardQuorum != 2 || m.Threshold != 2 || len(m.Trustees) != 3 || m.Version != ballot.ManifestVersion {
		t.Fatalf("manifest: quorum %d threshold %d trustees %d", m.BoardQuorum, m.Threshold, len(m.Trustees))
	}
	for i, tr := range ts {
		if m.TrusteeIndex(tr.Secret.SigningKey().Public()) != i+1 {
			t.Errorf("trustee %d not at its position", i+1)
		}
	}
	// Unknown fields in the template are mistakes.
	if _, err := BuildManifest(t.TempDir(), &ElectionSpec{Template: []byte(`{"titel":"x"}`)}); err == nil {
		t.Fatal("template with an unknown field accepted")
	}
}

func TestParseChoices(t *testing.T) {
	m, _ := testManifest(t)
	got, err := ParseChoices(m, "1; 2,4")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != 1 || got[0][0] != 0 || len(got[1]) != 2 || got[1][0] != 1 || got[1][1] != 3 {
		t.Fatalf("ParseChoices = %v", got)
	}
	for _, bad := range []string{"", "1", "1;2", "5;1,2", "0;1,2", "1;1,2,3", "x;1,2", "1;1,2;3"} {
		if _, err := ParseChoices(m, bad); err == nil {
			t.Errorf("ParseChoices(%q) accepted", bad)
		}
	}
}

func TestCredentialsFile(t *testing.T) {
	var creds []ballot.Credential
	for range 3 {
		c, err := ballot.GenerateCredential(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, c)
	}
	data := FormatCredentials("e1", [32]byte{1, 2, 3}, creds)
	if !strings.Contains(string(data), "# Election fingerprint (print it on every voter's letter): 010203") {
		t.Fatalf("the credentials file does not carry the fingerprint:\n%s", data)
	}
	got, order, err := ParseCredentials(data)
	if err != nil || len(order) != 3 {
		t.Fatalf("ParseCredentials: %v, %v", order, err)
	}
	for i, c := range creds {
		if got[i+1].Text() != c.Text() {
			t.Errorf("voter %d: credential differs", i+1)
		}
	}
	path := filepath.Join(t.TempDir(), "c.txt")
	if err := writeSecret(path, data); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadCredential(path, 2); err != nil || c.Text() != creds[1].Text() {
		t.Fatalf("LoadCredential(2): %v", err)
	}
	if _, err := LoadCredential(path, 0); err == nil {
		t.Fatal("LoadCredential without a voter number on a file of 3 accepted")
	}
	if _, err := LoadCredential(path, 9); err == nil {
		t.Fatal("LoadCredential of a missing voter accepted")
	}
	// A typo (one symbol changed: the check symbol catches every such
	// change, SPEC.md §5.1) is caught, and the error shows no secret.
	// Three changed symbols, as this test once used, collide with the
	// check symbol for about one credential in 32.
	typo := []byte(creds[0].Text())
	if typo[0] == '0' {
		typo[0] = '1'
	} else {
		typo[0] = '0'
	}
	bad := []byte(strings.Replace(string(data), creds[0].Text(), string(typo), 1))
	_, _, err = ParseCredentials(bad)
	if err == nil || strings.Contains(err.Error(), creds[0].Text()[5:]) {
		t.Fatalf("typo: %v", err)
	}
	l, err := PublicCredentials("e1", creds)
	if err != nil || l.Len() != 3 {
		t.Fatalf("PublicCredentials: %v", err)
	}
}

// The dealer seed re-derives the same polynomial: the same post, so the
// same commitments, in every later process.
func TestDealerStreamIsDeterministic(t *testing.T) {
	m, ts := testManifest(t)
	p := tally.ManifestParams(m)
	seed := bytes.Repeat([]byte{7}, trustee.SeedSize)
	a, _, err := tally.Deal(dealerStream(seed, m.Fingerprint(), 1), p, 1, ts[0].Secret)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := tally.Deal(dealerStream(seed, m.Fingerprint(), 1), p, 1, ts[0].Secret)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a.Commitments {
		if !a.Commitments[k].Equal(b.Commitments[k]) {
			t.Fatal("the same seed gave another polynomial")
		}
	}
	other := bytes.Repeat([]byte{8}, trustee.SeedSize)
	c, _, err := tally.Deal(dealerStream(other, m.Fingerprint(), 1), p, 1, ts[0].Secret)
	if err != nil {
		t.Fatal(err)
	}
	if c.Commitments[0].Equal(a.Commitments[0]) {
		t.Fatal("another seed gave the same polynomial")
	}
}

// nodeKey is a valid board-node public key (a prime-order point, SPEC.md
// §4.1) derived from one seed byte.
func nodeKey(b byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
}
