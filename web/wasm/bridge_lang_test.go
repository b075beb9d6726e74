package main

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

// Languages, schedules and late voters in the booth's bridge (manifest
// version 4, SPEC.md §4.1, §3.9; weighted and late credentials, §5.3).

var zhTexts = ballot.Texts{Title: "测试选举", Questions: []ballot.QuestionTexts{
	{Text: "主席", Options: []string{"阿达", "格蕾丝", "艾兹格"}},
	{Text: "委员会", Options: []string{"甲", "乙", "丙", "丁"}},
}}

// bilingual returns a weighted election with a late voter, whose manifest
// is in English and Chinese and opens and closes at the given times.
func bilingual(t *testing.T, s ballot.Schedule) *testonly.Election {
	t.Helper()
	cfg := testonly.WeightedConfig()
	if s.Scheduled() {
		cfg.Schedule = &s
	}
	e := testonly.NewElection(t, "web bridge languages", cfg)
	m, err := e.Manifest.WithLanguages([]string{"en", "zh"}, []ballot.Texts{zhTexts})
	if err != nil {
		t.Fatal(err)
	}
	e.Manifest = m
	return e
}

// jointKeyOf returns a valid point to encrypt under: the booth needs no
// key ceremony here.
func jointKeyOf(e *testonly.Election) string {
	return hex.EncodeToString(e.Stranger().Public().Bytes())
}

func TestManifestViewLanguages(t *testing.T) {
	e := bilingual(t, ballot.Schedule{OpensAt: 1_800_000_000_000, ClosesAt: 1_800_000_360_000, Manual: true})
	v, err := parseManifest(wire.EncodeB64(e.Manifest.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Languages, []string{"en", "zh"}) || len(v.Texts) != 2 {
		t.Fatalf("languages %v, %d texts; want en, zh", v.Languages, len(v.Texts))
	}
	en, zh := v.Texts[0], v.Texts[1]
	if en.Lang != "en" || en.Title != "Test election" || en.Questions[0].Text != "Chair" || en.Questions[0].Options[1] != "Grace" {
		t.Errorf("English texts %+v", en)
	}
	if zh.Lang != "zh" || zh.Title != "测试选举" || zh.Questions[1].Text != "委员会" || !slices.Equal(zh.Questions[0].Options, zhTexts.Questions[0].Options) {
		t.Errorf("Chinese texts %+v", zh)
	}
	// The questions' rules stay those of the manifest, in any language.
	if v.Questions[0].Max != 1 || v.Questions[1].Max != 2 {
		t.Errorf("questions %+v", v.Questions)
	}
	s := v.Schedule
	if s.OpensAt != 1_800_000_000_000 || s.ClosesAt != 1_800_000_360_000 || !s.Manual ||
		s.OpensAtUTC != "2027-01-15T08:00:00Z" || s.ClosesAtUTC != "2027-01-15T08:06:00Z" {
		t.Errorf("schedule %+v", s)
	}

	// A manifest without languages or a schedule: no texts, no times,
	// the manual close.
	f := newFixture(t)
	v, err = parseManifest(f.mb64)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Languages) != 0 || len(v.Texts) != 0 || v.Schedule != (ScheduleView{Manual: true}) {
		t.Errorf("version-1 manifest: languages %v, texts %v, schedule %+v", v.Languages, v.Texts, v.Schedule)
	}
}

func TestVotingWindow(t *testing.T) {
	const opens, closes = 1_800_000_000_000, 1_800_000_360_000
	e := bilingual(t, ballot.Schedule{OpensAt: opens, ClosesAt: closes})
	mb64 := wire.EncodeB64(e.Manifest.Bytes())
	for _, c := range []struct {
		at   uint64
		want string
	}{{1, "not_open_yet"}, {opens - 1, "not_open_yet"}, {opens, "open"}, {closes - 1, "open"}, {closes, "closed"}, {closes + 1e9, "closed"}} {
		got, err := votingWindow(mb64, c.at)
		if err != nil || got != c.want {
			t.Errorf("at %d: %q %v, want %q", c.at, got, err, c.want)
		}
	}
	// Without a schedule voting is never refused by time.
	f := newFixture(t)
	if got, err := votingWindow(f.mb64, 1); err != nil || got != "open" {
		t.Errorf("no schedule: %q %v, want open", got, err)
	}
	_, err := votingWindow("not base64!", 1)
	wantCode(t, "bad manifest", err, "malformed")
}

// TestRegisteredLate: a voter of a weighted list and a late voter are
// recognized with their weights.
func TestRegisteredLate(t *testing.T) {
	e := bilingual(t, ballot.Schedule{Manual: true})
	mb64 := wire.EncodeB64(e.Manifest.Bytes())
	list, late := e.CredentialsEntry(), e.LateCredentialsEntry()
	boothOf := func(v int) *booth {
		b, err := newBooth(rand.Reader, mb64, jointKeyOf(e), e.Credentials[v].Text())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	last := len(e.Voters) - 1
	for _, c := range []struct {
		voter   int
		entries [][]byte
		want    Registration
	}{
		{1, [][]byte{list}, Registration{Registered: true, Weight: 3}},
		{2, [][]byte{list, late}, Registration{Registered: true, Weight: ballot.MaxWeight}},
		{last, [][]byte{list}, Registration{}},
		{last, [][]byte{list, late}, Registration{Registered: true, Weight: e.Weight(last), Late: true}},
	} {
		r, err := boothOf(c.voter).Registered(c.entries)
		if err != nil || *r != c.want {
			t.Errorf("voter %d with %d entries: %+v %v, want %+v", c.voter, len(c.entries), r, err, c.want)
		}
	}
	b := boothOf(last)
	_, err := b.Registered(nil)
	wantCode(t, "no entries", err, "malformed")
	_, err = b.Registered([][]byte{late})
	wantCode(t, "late entry first", err, "malformed")
	_, err = b.Registered([][]byte{list, list})
	wantCode(t, "credential list twice", err, "malformed")
}

// TestAttackRegisteredLate: a node that serves a late-credentials entry
// the credential authority did not sign, one of another election, or one
// that registers a voter again with another weight does not get the booth
// to take its credential or weight.
func TestAttackRegisteredLate(t *testing.T) {
	e := bilingual(t, ballot.Schedule{Manual: true})
	mb64 := wire.EncodeB64(e.Manifest.Bytes())
	list := e.CredentialsEntry()
	body := func(raw []byte) []byte { return parseEntry(t, raw).Body }
	lateBody := body(e.LateCredentialsEntry())
	last := len(e.Voters) - 1
	b, err := newBooth(rand.Reader, mb64, jointKeyOf(e), e.Credentials[last].Text())
	if err != nil {
		t.Fatal(err)
	}
	stranger := e.Stranger()
	forged := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, stranger, lateBody)
	_, err = b.Registered([][]byte{list, forged})
	wantCode(t, "late voter added by a stranger", err, "invalid_signature")

	byEA := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleAuthority, e.EA, lateBody)
	_, err = b.Registered([][]byte{list, byEA})
	wantCode(t, "late voter added by the election authority", err, "invalid_signature")

	other := testonly.NewElection(t, "another election", testonly.WeightedConfig())
	elsewhere := other.EntryFor(other.Fingerprint(), bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, lateBody)
	_, err = b.Registered([][]byte{list, elsewhere})
	wantCode(t, "late entry of another election", err, "wrong_election")

	// A signature that does not verify: one byte of the body changed.
	tampered := e.LateCredentialsEntry()
	tampered[len(tampered)-70] ^= 1
	if _, err = b.Registered([][]byte{list, tampered}); err == nil {
		t.Fatal("a tampered late-credentials entry was taken")
	}

	// Voter 1 (weight 3) registered again, weight 1000: the rules refuse
	// the entry ("duplicate"), and so does the booth.
	reweigh := e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, e.LateCredentialsBody(e.Voters[1].Public(), ballot.MaxWeight))
	b1, err := newBooth(rand.Reader, mb64, jointKeyOf(e), e.Credentials[1].Text())
	if err != nil {
		t.Fatal(err)
	}
	_, err = b1.Registered([][]byte{list, reweigh})
	wantCode(t, "a voter registered again with another weight", err, "malformed")
}

func TestElectorate(t *testing.T) {
	e := bilingual(t, ballot.Schedule{Manual: true})
	mb64 := wire.EncodeB64(e.Manifest.Bytes())
	v, err := electorate(mb64, [][]byte{e.CredentialsEntry(), e.LateCredentialsEntry()})
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for i := range e.Voters {
		total += uint64(e.Weight(i))
	}
	if v.Credentials != len(e.Voters) || v.Weight != total || !v.Weighted || v.Late != 1 {
		t.Errorf("electorate %+v, want %d credentials of weight %d, one late entry", v, len(e.Voters), total)
	}
	f := newFixture(t)
	if v, err := electorate(f.mb64, [][]byte{f.credList}); err != nil || v.Weighted || v.Weight != uint64(v.Credentials) {
		t.Errorf("unweighted electorate %+v %v", v, err)
	}
	_, err = electorate(mb64, [][]byte{e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.Stranger(), []byte{0})})
	wantCode(t, "a list not by the credential authority", err, "invalid_signature")
}
