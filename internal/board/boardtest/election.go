// Package boardtest builds the signed entries of a small real election
// (manifest, credentials, key ceremony, ballots, audits, tally) for tests
// of the board, the server and the benchmarks. It is test support: it
// imports testing and uses deterministic randomness.
package boardtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/tally"
)

// Seeded is a deterministic io.Reader for test keys and randomness.
type Seeded struct {
	seed [32]byte
	ctr  uint64
	buf  []byte
}

func NewSeeded(s string) *Seeded { return &Seeded{seed: sha256.Sum256([]byte(s))} }

func (s *Seeded) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(s.buf) == 0 {
			var in [40]byte
			copy(in[:], s.seed[:])
			binary.BigEndian.PutUint64(in[32:], s.ctr)
			s.ctr++
			h := sha256.Sum256(in[:])
			s.buf = h[:]
		}
		k := copy(p, s.buf)
		s.buf, p = s.buf[k:], p[k:]
	}
	return n, nil
}

// Election holds every party's keys and builds signed entries for a
// small election: 2 questions, 3 trustees with threshold 2, nodes n1..n3
// with quorum 2.
type Election struct {
	t        testing.TB
	Rand     *Seeded
	ea, ca   *schnorr.PrivateKey
	trustees []*tally.TrusteeSecret
	params   *tally.Params
	M        *ballot.Manifest
	FP       [32]byte
	NodeKeys map[string]ed25519.PrivateKey // board nodes' checkpoint keys
	creds    []*ballot.CredentialKey

	posts   []*tally.DealerPost
	states  []*tally.DealerState
	reports []*tally.ReceiverReport
	qual    []int
	key     *group.Element
}

var testQuestions = []ballot.Question{
	{Text: "Chair", Options: []string{"Ada", "Grace", "Edsger"}, Min: 1, Max: 1},
	{Text: "Budget", Options: []string{"yes", "no"}, Min: 0, Max: 1},
}

// NewElection returns an election with voters credentials and the board
// nodes named nodes (quorum 2).
func NewElection(t testing.TB, voters int, nodes ...string) *Election {
	t.Helper()
	e := &Election{t: t, Rand: NewSeeded("board test election"), NodeKeys: map[string]ed25519.PrivateKey{}}
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.ea, err = schnorr.GenerateKey(e.Rand)
	must(err)
	e.ca, err = schnorr.GenerateKey(e.Rand)
	must(err)
	var trustees []ballot.Trustee
	for i := 1; i <= 3; i++ {
		s, err := tally.GenerateTrustee(e.Rand)
		must(err)
		e.trustees = append(e.trustees, s)
		pub := s.Public()
		trustees = append(trustees, ballot.Trustee{Name: fmt.Sprintf("trustee %d", i), SigningKey: pub.SigningKey, ShareKey: pub.ShareKey})
	}
	var bn []ballot.BoardNode
	for _, id := range nodes {
		seed := make([]byte, ed25519.SeedSize)
		e.Rand.Read(seed)
		k := ed25519.NewKeyFromSeed(seed)
		e.NodeKeys[id] = k
		bn = append(bn, ballot.BoardNode{ID: id, Key: k.Public().(ed25519.PublicKey)})
	}
	e.M, err = ballot.NewManifest("board-test", "Board test", testQuestions, e.ea.Public(), e.ca.Public(), trustees, 2, bn, 2)
	must(err)
	e.FP = e.M.Fingerprint()
	e.params = &tally.Params{Fingerprint: e.FP, N: 3, T: 2}
	for i, s := range e.trustees {
		pub := s.Public()
		pub.Index = i + 1
		e.params.Trustees = append(e.params.Trustees, *pub)
	}
	for range voters {
		c, err := ballot.GenerateCredential(e.Rand)
		must(err)
		k, err := c.Key(e.M.ElectionID)
		must(err)
		e.creds = append(e.creds, k)
	}
	return e
}

// UseWitnesses makes the election's manifest a version-2 manifest naming
// witnesses, quorum of which must cosign every checkpoint. Call it before
// building any entry.
func (e *Election) UseWitnesses(ws []ballot.Witness, quorum uint32) {
	e.t.Helper()
	m, err := e.M.WithWitnesses(ws, quorum)
	if err != nil {
		e.t.Fatal(err)
	}
	e.M, e.FP = m, m.Fingerprint()
	e.params.Fingerprint = e.FP
}

func (e *Election) Entry(typ bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) []byte {
	e.t.Helper()
	en, err := bulletin.NewEntry(typ, e.FP, role, key.Public(), body)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := en.Sign(e.Rand, key); err != nil {
		e.t.Fatal(err)
	}
	return en.Bytes()
}

func (e *Election) Manifest() []byte {
	return e.Entry(bulletin.TypeManifest, bulletin.RoleAuthority, e.ea, e.M.Bytes())
}

func (e *Election) Credentials() []byte {
	var pubs []*group.Element
	for _, c := range e.creds {
		pubs = append(pubs, c.Public())
	}
	l, err := ballot.NewCredentialList(pubs)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.ca, l.Bytes())
}

// deals returns every trustee's dkg-deal entry.
func (e *Election) Deals() [][]byte {
	var out [][]byte
	for i, s := range e.trustees {
		p, st, err := tally.Deal(e.Rand, e.params, i+1, s)
		if err != nil {
			e.t.Fatal(err)
		}
		e.posts, e.states = append(e.posts, p), append(e.states, st)
		out = append(out, e.Entry(bulletin.TypeDKGDeal, bulletin.RoleTrustee, s.SigningKey(), p.Bytes()))
	}
	return out
}

// confirmations returns every trustee's confirmation entry.
func (e *Election) Confirmations() [][]byte {
	var out [][]byte
	for i, s := range e.trustees {
		rep, err := tally.ReceiveShares(e.params, i+1, s, e.posts)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(rep.Complaints) != 0 {
			e.t.Fatalf("trustee %d complains", i+1)
		}
		e.reports = append(e.reports, rep)
		out = append(out, e.Entry(bulletin.TypeDKGConfirmation, bulletin.RoleTrustee, s.SigningKey(), rep.Confirmation.Bytes()))
	}
	return out
}

func (e *Election) Open() []byte {
	var err error
	if e.qual, err = tally.Qualified(e.params, e.posts, nil, nil); err != nil {
		e.t.Fatal(err)
	}
	if e.key, err = tally.JointKey(e.params, e.posts, e.qual); err != nil {
		e.t.Fatal(err)
	}
	body := &bulletin.OpenBody{JointKey: e.key}
	for _, q := range e.qual {
		body.Qualified = append(body.Qualified, uint16(q))
	}
	return e.Entry(bulletin.TypeOpen, bulletin.RoleAuthority, e.ea, body.Bytes())
}

// ballot returns voter v's ballot entry for the given choices and the ballot.
func (e *Election) Ballot(v int, chair, budget int) ([]byte, *ballot.Ballot, *ballot.Secrets) {
	e.t.Helper()
	choices := [][]uint32{{uint32(chair)}, {}}
	if budget >= 0 {
		choices[1] = []uint32{uint32(budget)}
	}
	b, s, err := ballot.EncryptBallot(e.Rand, e.M, e.key, e.creds[v], choices)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.creds[v].PrivateKey(), b.Bytes()), b, s
}

func (e *Election) Audited(v int, b *ballot.Ballot, s *ballot.Secrets) []byte {
	o, err := b.Open(s)
	if err != nil {
		e.t.Fatal(err)
	}
	a := &ballot.AuditedBallot{Ballot: b, Opening: o}
	return e.Entry(bulletin.TypeAuditedBallot, bulletin.RoleVoter, e.creds[v].PrivateKey(), a.Bytes())
}

func (e *Election) Close() []byte {
	return e.Entry(bulletin.TypeClose, bulletin.RoleAuthority, e.ea, (&bulletin.CloseBody{Reason: "polls closed"}).Bytes())
}

// tally returns the partial decryptions of trustees 1 and 2 over the
// counted ballots, and the result entry.
func (e *Election) Tally(counted []*ballot.Ballot) (partials [][]byte, result []byte, counts [][]uint64) {
	e.t.Helper()
	var cts [][][]*ballot.Ciphertext
	for _, b := range counted {
		cts = append(cts, b.Ciphertexts())
	}
	agg, err := tally.Aggregate([]int{3, 2}, cts)
	if err != nil {
		e.t.Fatal(err)
	}
	vk, err := tally.VerificationKeys(e.params, e.posts, e.qual)
	if err != nil {
		e.t.Fatal(err)
	}
	pds := map[int]*tally.PartialDecryption{}
	for _, j := range []int{1, 2} {
		share, err := e.states[j-1].Finish(e.params, e.reports[j-1], e.posts, nil, e.qual)
		if err != nil {
			e.t.Fatal(err)
		}
		pd, err := tally.PartialDecrypt(e.Rand, e.params, share, agg)
		if err != nil {
			e.t.Fatal(err)
		}
		pds[j] = pd
		partials = append(partials, e.Entry(bulletin.TypePartialDecryption, bulletin.RoleTrustee, e.trustees[j-1].SigningKey(), pd.Bytes()))
	}
	res, _, err := tally.Combine(e.params, vk, agg, pds, uint64(len(counted)))
	if err != nil {
		e.t.Fatal(err)
	}
	return partials, e.Entry(bulletin.TypeResult, bulletin.RoleAuthority, e.ea, res.Bytes()), res.Counts
}

// Board returns the client-side view of the board's keys (quorum 2).
func (e *Election) Board() *bulletin.Board { return bulletin.BoardFor(e.M) }

// Stranger returns a fresh Schnorr key registered nowhere.
func (e *Election) Stranger() *schnorr.PrivateKey {
	k, err := schnorr.GenerateKey(e.Rand)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// Voters is the number of credentials.
func (e *Election) Voters() int { return len(e.creds) }

// BallotWith is Ballot with its own randomness source, safe to call from
// several goroutines at once (the election's state is only read).
func (e *Election) BallotWith(rnd io.Reader, v, chair, budget int) []byte {
	e.t.Helper()
	choices := [][]uint32{{uint32(chair)}, {}}
	if budget >= 0 {
		choices[1] = []uint32{uint32(budget)}
	}
	b, _, err := ballot.EncryptBallot(rnd, e.M, e.key, e.creds[v], choices)
	if err != nil {
		e.t.Error(err)
		return nil
	}
	en, err := bulletin.NewEntry(bulletin.TypeBallot, e.FP, bulletin.RoleVoter, e.creds[v].Public(), b.Bytes())
	if err != nil {
		e.t.Error(err)
		return nil
	}
	if err := en.Sign(rnd, e.creds[v].PrivateKey()); err != nil {
		e.t.Error(err)
		return nil
	}
	return en.Bytes()
}

// Variant returns a copy of ballot entry raw whose first option ciphertext's
// α is replaced by k·G: a structurally valid ballot with a new tracker but
// invalid proofs and signature. For benchmarks of the board without proof
// checks only.
func (e *Election) Variant(raw []byte, k uint64) []byte {
	e.t.Helper()
	en, err := bulletin.ParseEntry(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := ballot.ParseBallot(en.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	alpha := b.Ciphertext(0, 0).Bytes()[:32]
	i := bytes.Index(raw, alpha)
	if i < 0 {
		e.t.Fatal("boardtest: ciphertext not found in ballot entry")
	}
	out := bytes.Clone(raw)
	copy(out[i:], group.NewElement().ScalarBaseMult(group.ScalarFromUint64(k+2)).Bytes())
	return out
}
