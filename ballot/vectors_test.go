package ballot

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/golden"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

const vectorsFile = "testdata/vectors.json"

type credentialVector struct {
	Text   string `json:"text"`
	Public string `json:"public"`
}

type ballotVector struct {
	Credential    int        `json:"credential"`
	Choices       [][]uint32 `json:"choices"`
	Ballot        string     `json:"ballot"`
	Tracker       string     `json:"tracker"`
	TrackerShort  string     `json:"tracker_short"`
	Opening       string     `json:"opening"`
	AuditedBallot string     `json:"audited_ballot"`
}

type vectors struct {
	Comment        string             `json:"comment"`
	Manifest       string             `json:"manifest"`
	Fingerprint    string             `json:"fingerprint"`
	ElectionKey    string             `json:"election_key"`
	Credentials    []credentialVector `json:"credentials"`
	CredentialList string             `json:"credential_list"`
	Ballots        []ballotVector     `json:"ballots"`
}

// generateVectors derives every object from the seed "urna ballot vectors"
// through the deterministic reader seeded.Raw.
func generateVectors(t *testing.T) *vectors {
	e := newTestElection(t, "vectors", shapes, 2)
	v := &vectors{
		Comment:     "SPEC.md §4–§7 known answers; randomness: SHA-256(seed || u64be counter) blocks, seeds \"vectors\" (election) and \"vectors-ballots\" (ballots). Regenerate: go test ./ballot -run TestVectors -update",
		Manifest:    hex.EncodeToString(e.m.Bytes()),
		ElectionKey: hex.EncodeToString(e.pk.Bytes()),
	}
	fp := e.m.Fingerprint()
	v.Fingerprint = hex.EncodeToString(fp[:])
	var pubs []*group.Element
	for i, k := range e.creds {
		v.Credentials = append(v.Credentials, credentialVector{Text: e.texts[i].Text(), Public: hex.EncodeToString(k.Public().Bytes())})
		pubs = append(pubs, k.Public())
	}
	l, err := NewCredentialList(pubs)
	if err != nil {
		t.Fatal(err)
	}
	v.CredentialList = hex.EncodeToString(l.Bytes())
	rng := seeded.Raw("vectors-ballots")
	for i, ch := range [][][]uint32{defaultChoices, {{0}, {3, 2}, {0, 1, 2, 3}, {}}} {
		b, s := e.encrypt(t, rng, i, ch)
		o, err := b.Open(s)
		if err != nil {
			t.Fatal(err)
		}
		tr := b.Tracker()
		v.Ballots = append(v.Ballots, ballotVector{
			Credential: i, Choices: o.Choices, Ballot: hex.EncodeToString(b.Bytes()),
			Tracker: tr.Hex(), TrackerShort: tr.Short(), Opening: hex.EncodeToString(o.Bytes()),
			AuditedBallot: hex.EncodeToString((&AuditedBallot{Ballot: b, Opening: o}).Bytes()),
		})
	}
	return v
}

// pinnedElection decodes a vectors file's hex manifest and election key.
func pinnedElection(t *testing.T, manifest, key string) (*Manifest, *group.Element) {
	t.Helper()
	m, err := ParseManifest(golden.Hex(t, manifest))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := group.DecodeNonIdentity(golden.Hex(t, key))
	if err != nil {
		t.Fatal(err)
	}
	return m, pk
}

// pinVectors pins the indented JSON of generated in file (rewriting it
// first with -update), then decodes the pinned bytes into v.
func pinVectors(t *testing.T, file string, generated, v any) {
	t.Helper()
	if err := json.Unmarshal(golden.JSON(t, file, generated, *update), v); err != nil {
		t.Fatal(err)
	}
}

// TestVectors fails if the generator's output differs from the pinned file,
// and checks the pinned objects with the verifier alone.
func TestVectors(t *testing.T) {
	var v vectors
	pinVectors(t, vectorsFile, generateVectors(t), &v)
	m, pk := pinnedElection(t, v.Manifest, v.ElectionKey)
	if fp := m.Fingerprint(); hex.EncodeToString(fp[:]) != v.Fingerprint {
		t.Fatal("fingerprint")
	}
	list, err := ParseCredentialList(golden.Hex(t, v.CredentialList))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Credentials {
		cr, err := ParseCredential(c.Text)
		if err != nil {
			t.Fatal(err)
		}
		k, err := cr.Key(m.ElectionID)
		if err != nil || hex.EncodeToString(k.Public().Bytes()) != c.Public || !list.Contains(k.Public()) {
			t.Fatalf("credential %s: derived public credential differs", c.Text)
		}
	}
	for i, bv := range v.Ballots {
		b, err := ParseBallot(golden.Hex(t, bv.Ballot))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Verify(m, pk); err != nil {
			t.Fatalf("ballot %d: %v", i, err)
		}
		if b.Tracker().Hex() != bv.Tracker || b.Tracker().Short() != bv.TrackerShort {
			t.Fatalf("ballot %d: tracker", i)
		}
		a, err := ParseAuditedBallot(golden.Hex(t, bv.AuditedBallot))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyOpening(m, pk, a.Ballot, a.Opening); err != nil {
			t.Fatalf("ballot %d: opening: %v", i, err)
		}
		if hex.EncodeToString(a.Opening.Bytes()) != bv.Opening {
			t.Fatalf("ballot %d: opening bytes", i)
		}
	}
}

// TestTrackerShortForm pins the short form's bit layout.
func TestTrackerShortForm(t *testing.T) {
	var tr Tracker
	copy(tr[:], []byte{0x00, 0x44, 0x32, 0x14, 0xc7})
	// 00000 00001 00010 00011 00100 00101 00110 00111
	if got := tr.Short(); got != "0123-4567" {
		t.Fatalf("Short = %s", got)
	}
	tr = Tracker{0xff, 0xff, 0xff, 0xff, 0xff}
	if got := tr.Short(); got != "ZZZZ-ZZZZ" || tr.String() != got || len(tr.Hex()) != 64 {
		t.Fatalf("Short = %s", got)
	}
}
