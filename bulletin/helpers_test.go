package bulletin

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"slices"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

var update = flag.Bool("update", false, "rewrite the pinned vectors in testdata/")

func mustKey(t testing.TB, rng *seeded.Reader) *schnorr.PrivateKey {
	t.Helper()
	k, err := schnorr.GenerateKey(rng)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func key32(k *schnorr.PrivateKey) [32]byte { return [32]byte(k.Public().Bytes()) }

// jsonBodies is a test Bodies: every body is the JSON of its facts struct.
type jsonBodies struct{}

func dec[T any](body []byte) (*T, error) {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func (jsonBodies) Manifest(b []byte) (*ManifestFacts, error) { return dec[ManifestFacts](b) }
func (jsonBodies) Credentials(_ EntryType, b []byte) (*CredentialFacts, error) {
	v, err := dec[[][32]byte](b)
	if err != nil {
		return nil, err
	}
	return &CredentialFacts{Credentials: *v}, nil
}
func (jsonBodies) Deal(b []byte) (*DealFacts, error) { return dec[DealFacts](b) }
func (jsonBodies) Confirmation(b []byte) (*ConfirmationFacts, error) {
	return dec[ConfirmationFacts](b)
}
func (jsonBodies) Complaint(b []byte) (*ComplaintFacts, error)       { return dec[ComplaintFacts](b) }
func (jsonBodies) Reveal(b []byte) (*RevealFacts, error)             { return dec[RevealFacts](b) }
func (jsonBodies) Ballot(b []byte) (*BallotFacts, error)             { return dec[BallotFacts](b) }
func (jsonBodies) AuditedBallot(b []byte) (*BallotFacts, error)      { return dec[BallotFacts](b) }
func (jsonBodies) Audit(b []byte) (*AuditFacts, error)               { return dec[AuditFacts](b) }
func (jsonBodies) PartialDecryption(b []byte) (*PartialFacts, error) { return dec[PartialFacts](b) }
func (jsonBodies) Shuffle(b []byte) (*ShuffleFacts, error)           { return dec[ShuffleFacts](b) }
func (jsonBodies) MixDecryption(b []byte) (*MixDecryptionFacts, error) {
	return dec[MixDecryptionFacts](b)
}
func (jsonBodies) Result(b []byte) error {
	if string(b) != "result" {
		return errors.New("bad result")
	}
	return nil
}

func js(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// election is a test election: n=3 trustees, T=2, 4 voters, 3 board nodes, quorum 2.
type election struct {
	rng       *seeded.Reader
	auth, ca  *schnorr.PrivateKey
	trustees  []*schnorr.PrivateKey
	voters    []*schnorr.PrivateKey
	secrets   []*group.Scalar // trustees' constant terms a_i0
	nodeKeys  []ed25519.PrivateKey
	nodes     []NodeKey
	manifest  ManifestFacts
	fp        [32]byte
	manifestB []byte
}

func newElection(t testing.TB, seed string) *election {
	rng := seeded.Raw(seed)
	el := &election{rng: rng, auth: mustKey(t, rng), ca: mustKey(t, rng)}
	for i := 0; i < 3; i++ {
		el.trustees = append(el.trustees, mustKey(t, rng))
		s, _ := group.RandomNonZeroScalar(rng)
		el.secrets = append(el.secrets, s)
	}
	for i := 0; i < 4; i++ {
		el.voters = append(el.voters, mustKey(t, rng))
	}
	for _, id := range []string{"node-a", "node-b", "node-c"} {
		seed := make([]byte, ed25519.SeedSize)
		rng.Read(seed)
		k := ed25519.NewKeyFromSeed(seed)
		el.nodeKeys = append(el.nodeKeys, k)
		el.nodes = append(el.nodes, NodeKey{ID: id, PublicKey: k.Public().(ed25519.PublicKey)})
	}
	el.fp = sha256.Sum256([]byte("fingerprint " + seed))
	el.manifest = ManifestFacts{
		Fingerprint: el.fp, ElectionID: "test-2026", Authority: key32(el.auth), CredentialAuthority: key32(el.ca),
		Threshold: 2, Nodes: el.nodes, Quorum: 2,
	}
	for _, k := range el.trustees {
		el.manifest.Trustees = append(el.manifest.Trustees, key32(k))
	}
	el.manifestB = js(el.manifest)
	return el
}

func (el *election) entry(t testing.TB, typ EntryType, role Role, k *schnorr.PrivateKey, body []byte) *Entry {
	t.Helper()
	e, err := NewEntry(typ, el.fp, role, k.Public(), body)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sign(el.rng, k); err != nil {
		t.Fatal(err)
	}
	return e
}

func (el *election) constTerm(i int) [32]byte {
	return [32]byte(group.NewElement().ScalarBaseMult(el.secrets[i-1]).Bytes())
}

func (el *election) jointKey(qual ...int) *group.Element {
	k := group.NewElement()
	for _, i := range qual {
		k.Add(k, group.NewElement().ScalarBaseMult(el.secrets[i-1]))
	}
	return k
}

// Canonical entries of the test election.
func (el *election) manifestE(t testing.TB) *Entry {
	return el.entry(t, TypeManifest, RoleAuthority, el.auth, el.manifestB)
}
func (el *election) credentialsE(t testing.TB) *Entry {
	var cs [][32]byte
	for _, v := range el.voters {
		cs = append(cs, key32(v))
	}
	return el.entry(t, TypeCredentials, RoleCredentialAuthority, el.ca, js(cs))
}

// lateE registers two fresh credentials derived from seed (plus extra, if
// given) in a late-credentials entry signed by the credential authority.
func (el *election) lateE(t testing.TB, seed string, extra ...[32]byte) *Entry {
	rng := seeded.Raw(seed)
	cs := append([][32]byte{key32(mustKey(t, rng)), key32(mustKey(t, rng))}, extra...)
	slices.SortFunc(cs, compare32)
	return el.entry(t, TypeLateCredentials, RoleCredentialAuthority, el.ca, js(cs))
}
func (el *election) dealE(t testing.TB, i int) *Entry {
	return el.entry(t, TypeDKGDeal, RoleTrustee, el.trustees[i-1], js(DealFacts{Dealer: i, ConstantTerm: el.constTerm(i)}))
}
func (el *election) confirmE(t testing.TB, i int, dealers ...int) *Entry {
	return el.entry(t, TypeDKGConfirmation, RoleTrustee, el.trustees[i-1], js(ConfirmationFacts{Trustee: i, Dealers: dealers}))
}
func (el *election) complaintE(t testing.TB, from, against int) *Entry {
	return el.entry(t, TypeDKGComplaint, RoleTrustee, el.trustees[from-1], js(ComplaintFacts{Dealer: against, Complainer: from}))
}
func (el *election) revealE(t testing.TB, dealer, to int) *Entry {
	return el.entry(t, TypeDKGReveal, RoleTrustee, el.trustees[dealer-1], js(RevealFacts{Dealer: dealer, Complainer: to}))
}
func (el *election) openE(t testing.TB, qual ...int) *Entry {
	o := &OpenBody{JointKey: el.jointKey(qual...)}
	for _, i := range qual {
		o.Qualified = append(o.Qualified, uint16(i))
	}
	return el.entry(t, TypeOpen, RoleAuthority, el.auth, o.Bytes())
}
func (el *election) ballotE(t testing.TB, v int, tracker string) *Entry {
	return el.entry(t, TypeBallot, RoleVoter, el.voters[v], js(BallotFacts{Credential: key32(el.voters[v]), Tracker: sha256.Sum256([]byte(tracker))}))
}
func (el *election) auditedE(t testing.TB, v int, tracker string) *Entry {
	return el.entry(t, TypeAuditedBallot, RoleVoter, el.voters[v], js(BallotFacts{Credential: key32(el.voters[v]), Tracker: sha256.Sum256([]byte(tracker))}))
}

// auditE is an audit (protocol 1.2) signed by a fresh one-time key drawn
// from the election's test randomness.
func (el *election) auditE(t testing.TB, tracker string) *Entry {
	return el.auditBy(t, mustKey(t, el.rng), tracker)
}
func (el *election) auditBy(t testing.TB, k *schnorr.PrivateKey, tracker string) *Entry {
	return el.entry(t, TypeAudit, RoleAuditor, k, js(AuditFacts{Election: el.fp, Tracker: sha256.Sum256([]byte(tracker))}))
}
func (el *election) closeE(t testing.TB) *Entry {
	return el.entry(t, TypeClose, RoleAuthority, el.auth, (&CloseBody{Reason: "polls closed"}).Bytes())
}
func (el *election) partialE(t testing.TB, i int) *Entry {
	return el.entry(t, TypePartialDecryption, RoleTrustee, el.trustees[i-1], js(PartialFacts{Trustee: i}))
}
func (el *election) resultE(t testing.TB) *Entry {
	return el.entry(t, TypeResult, RoleAuthority, el.auth, []byte("result"))
}

// prefix returns the canonical entries that bring the board to phase p.
func (el *election) prefix(t testing.TB, p Phase) []*Entry {
	var es []*Entry
	steps := []func() []*Entry{
		PhaseSetup: func() []*Entry { return []*Entry{el.manifestE(t)} },
		PhaseKeyCeremony: func() []*Entry {
			return []*Entry{el.credentialsE(t), el.dealE(t, 1), el.dealE(t, 2), el.complaintE(t, 2, 1)}
		},
		PhaseOpen:   func() []*Entry { return []*Entry{el.revealE(t, 1, 2), el.dealE(t, 3), el.openE(t, 1, 2, 3)} },
		PhaseClosed: func() []*Entry { return []*Entry{el.ballotE(t, 0, "b0"), el.closeE(t)} },
		PhaseTally:  func() []*Entry { return []*Entry{el.partialE(t, 1)} },
		PhaseResult: func() []*Entry { return []*Entry{el.partialE(t, 2), el.resultE(t)} },
	}
	for q := PhaseSetup; q <= p; q++ {
		es = append(es, steps[q]()...)
	}
	return es
}

// board is a test board: rules, state, index and Merkle log.
type board struct {
	rules *Rules
	st    *ElectionState
	idx   *MemIndex
	log   MemoryLog
	raw   [][]byte
}

func newBoard() *board {
	return &board{rules: NewRules(jsonBodies{}), st: &ElectionState{}, idx: NewMemIndex()}
}

func (b *board) apply(e *Entry) (*Effects, error) {
	eff, err := b.rules.Apply(b.st, b.idx, e)
	if err != nil {
		return nil, err
	}
	b.idx.Commit(eff)
	raw := e.Bytes()
	b.raw = append(b.raw, raw)
	if err := b.log.Append(raw); err != nil {
		panic(err)
	}
	return eff, nil
}

// mustApply applies es in turn, each of which must be accepted, and returns
// their effects.
func (b *board) mustApply(t testing.TB, es ...*Entry) []*Effects {
	t.Helper()
	effs := make([]*Effects, len(es))
	for i, e := range es {
		eff, err := b.apply(e)
		if err != nil {
			t.Fatalf("entry %d (%s): %v", i, e.Type, err)
		}
		effs[i] = eff
	}
	return effs
}
