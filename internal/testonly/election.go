package testonly

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// Config shapes an election. Zero fields take the defaults of a small
// board election: 3 trustees with threshold 2, decryption by the first T
// trustees, 3 board nodes, blocks of 16 entries.
type Config struct {
	Voters    int   // registered credentials
	Ballots   int   // Build: cast ballots in total (≥ Voters-Abstain: the surplus are revotes)
	Abstain   int   // Build: voters who never vote
	Audits    int   // Build: voters who first audit a ballot
	N, T      int   // trustees and threshold
	Decrypt   []int // trustees posting partial decryptions (≥ T of them)
	Complaint bool  // dealer 1's share for trustee 2 does not decrypt: trustee 2 complains, dealer 1 reveals
	Nodes     int   // board nodes n1…nNodes; quorum Nodes/2+1
	BlockSize int   // entries per block when sealing
	// Witnesses, if any, make the manifest a version-2 one naming them
	// with WitnessQuorum (UseWitnesses); Seal does not cosign.
	Witnesses     []ballot.Witness
	WitnessQuorum uint32
	// Questions of the manifest (nil: Questions()). Pick assumes at least
	// Questions()'s options; Build chooses by Config.choices.
	Questions []ballot.Question
	// Schedule, if set, makes the manifest version 4 with this voting
	// window (SPEC.md §3.9).
	Schedule *ballot.Schedule
	custom   bool // Questions were given (setDefaults)
	// Weights, if set, are the voters' weights (voter v weighs Weights[v],
	// len(Weights) = Voters): the credential list is weighted (SPEC.md
	// §5.3 version 2).
	Weights []uint32
	// Late voters: the last Late voters are not on the credential list;
	// Build registers them with a late-credentials entry right after open.
	Late int
	// ElectionID is the manifest's election id ("" means "test-election").
	ElectionID string
	// NodeKeys, if set, are the board nodes' checkpoint keys (node i+1
	// has NodeKeys[i]; at least Nodes of them), so that several elections
	// can name the nodes of one cluster (SPEC.md §3.14).
	NodeKeys []ed25519.PrivateKey
}

// WeightedConfig is SmallConfig with weighted credentials (1, 3, 1000, 1,
// 7, 2), one late voter (the last, weight 2) and no abstention, so that
// the late voter votes.
func WeightedConfig() Config {
	c := SmallConfig()
	c.Weights, c.Late, c.Abstain = []uint32{1, 3, ballot.MaxWeight, 1, 7, 2}, 1, 0
	return c
}

// Roll is the public roll fingerprint of the test elections' weighted lists.
var Roll = [32]byte{'t', 'e', 's', 't', ' ', 'r', 'o', 'l', 'l'}

// OneOfFive is the benchmark shape shared with bench/ (and Belenios'
// driver ../shared/peers/belenios.sh): one question, choose exactly 1 of 5;
// 3 trustees, threshold 2, decrypted by trustees 1 and 2; 3 board nodes;
// n voters who each cast one ballot; blocks of 256 entries.
func OneOfFive(n int) Config {
	return Config{Voters: n, Ballots: n, N: 3, T: 2, Decrypt: []int{1, 2}, Nodes: 3, BlockSize: 256,
		Questions: []ballot.Question{{Text: "Pick one", Options: []string{"A", "B", "C", "D", "E"}, Min: 1, Max: 1}}}
}

// SmallConfig is a full small election for Build: 3 trustees with
// threshold 2, a complaint, 6 voters of whom one abstains, 2 revotes, 1
// audit, decryption by trustees 2 and 3, 3 board nodes, blocks of 4.
func SmallConfig() Config {
	return Config{Voters: 6, Ballots: 7, Abstain: 1, Audits: 1, N: 3, T: 2, Decrypt: []int{2, 3}, Complaint: true, Nodes: 3, BlockSize: 4}
}

func (c *Config) setDefaults() {
	if c.N == 0 {
		c.N, c.T = 3, 2
	}
	if c.Decrypt == nil {
		for j := 1; j <= c.T; j++ {
			c.Decrypt = append(c.Decrypt, j)
		}
	}
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.BlockSize <= 0 {
		c.BlockSize = 16
	}
	c.custom = c.Questions != nil
	if c.Questions == nil {
		c.Questions = Questions()
	}
}

// Questions are the questions of every fixture election: a 1-of-3 and an
// up-to-2-of-4 that may be left blank.
func Questions() []ballot.Question {
	return []ballot.Question{
		{Text: "Chair", Options: []string{"Ada", "Grace", "Edsger"}, Min: 1, Max: 1},
		{Text: "Committee", Options: []string{"Alan", "Barbara", "Donald", "Frances"}, Min: 0, Max: 2},
	}
}

// Pick returns the choices "chair" on the first question and "committee"
// on the second (-1: none).
func Pick(chair, committee int) [][]uint32 {
	ch := [][]uint32{{uint32(chair)}, {}}
	if committee >= 0 {
		ch[1] = []uint32{uint32(committee)}
	}
	return ch
}

// Node is a board node's checkpoint key.
type Node struct {
	ID  string
	Key ed25519.PrivateKey
}

// Election is an election's keys and the state of its key ceremony. The
// step methods (ManifestEntry … TallyEntries) return signed entries
// without keeping them; Build keeps them in Entries, in board order.
//
// An Election stops its test (tb.Fatal) when something fails; built with
// a nil tb (an Example, or a fixture shared through sync.Once) it panics.
type Election struct {
	tb       testing.TB
	Config   Config
	Rand     *seeded.Reader
	Manifest *ballot.Manifest
	EA, CA   *schnorr.PrivateKey
	Trustees []*tally.TrusteeSecret
	// Credentials are the voters' credentials and Voters the keys derived
	// from them; voter v has both at index v.
	Credentials []ballot.Credential
	Voters      []*ballot.CredentialKey
	Nodes       []Node

	// Set by OpenEntry: QUAL and the joint election key.
	Qualified []int
	JointKey  *group.Element
	// Set by TallyEntries and Build: the trustees' key shares (test
	// secrets, so tests can produce other partial decryptions) and the
	// verification keys X_1..X_N.
	Shares           []*tally.KeyShare
	VerificationKeys []*group.Element

	// Set by Build.
	Entries [][]byte // canonical signed entries, entry i has sequence number i
	Result  *tally.Result

	// Sequence numbers of notable entries (Build).
	SeqCredentials int
	SeqLate        int   // Build: the late-credentials entry (Config.Late > 0), else -1
	SeqDeals       []int // by dealer index - 1
	SeqComplaint   int   // -1 without complaint
	SeqReveal      int   // -1 without complaint
	SeqOpen        int
	SeqBallots     []int // every cast ballot
	SeqCounted     []int // the ballots that count
	SeqSuperseded  []int // valid ballots replaced by a revote
	SeqAudited     []int
	SeqClose       int
	SeqPartials    map[int]int // trustee → seq
	SeqResult      int

	// Choices[seq] is the plaintext of the cast ballot at seq (Build).
	Choices map[int][][]uint32

	params     *tally.Params
	posts      []*tally.DealerPost
	states     []*tally.DealerState
	reports    []*tally.ReceiverReport
	complaints []*tally.Complaint
	reveals    []*tally.Reveal
}

// panicking is the testing.TB of an Election made without a test: it
// panics where a test would stop.
type panicking struct{ testing.TB }

func (panicking) Helper()                        {}
func (panicking) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (panicking) Errorf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

func (e *Election) t() testing.TB {
	if e.tb == nil {
		return panicking{}
	}
	return e.tb
}

// must stops the test on err.
func (e *Election) must(err error) {
	if err != nil {
		e.t().Helper()
		e.t().Fatalf("testonly: %v", err)
	}
}

// NewElection returns an election with every key drawn from seed: the
// authorities, the trustees, the board nodes, the manifest and
// cfg.Voters credentials. Nothing is posted yet.
func NewElection(tb testing.TB, seed string, cfg Config) *Election {
	if tb != nil {
		tb.Helper()
	}
	cfg.setDefaults()
	e := &Election{tb: tb, Config: cfg, Rand: seeded.New(seed), SeqComplaint: -1, SeqReveal: -1,
		SeqPartials: map[int]int{}, Choices: map[int][][]uint32{}}
	e.EA, e.CA = e.Stranger(), e.Stranger()
	var trustees []ballot.Trustee
	for i := 0; i < cfg.N; i++ {
		ts, err := tally.GenerateTrustee(e.Rand)
		e.must(err)
		e.Trustees = append(e.Trustees, ts)
		p := ts.Public()
		trustees = append(trustees, ballot.Trustee{Name: fmt.Sprintf("trustee-%d", i+1), SigningKey: p.SigningKey, ShareKey: p.ShareKey})
	}
	var nodes []ballot.BoardNode
	for i := 0; i < cfg.Nodes; i++ {
		k := ed25519.NewKeyFromSeed(e.Rand.Bytes(ed25519.SeedSize))
		if i < len(cfg.NodeKeys) {
			k = cfg.NodeKeys[i]
		}
		e.Nodes = append(e.Nodes, Node{ID: fmt.Sprintf("n%d", i+1), Key: k})
		nodes = append(nodes, ballot.BoardNode{ID: fmt.Sprintf("n%d", i+1), Key: k.Public().(ed25519.PublicKey)})
	}
	id := cfg.ElectionID
	if id == "" {
		id = "test-election"
	}
	m, err := ballot.NewManifest(id, "Test election", cfg.Questions, e.EA.Public(), e.CA.Public(),
		trustees, uint32(cfg.T), nodes, uint32(cfg.Nodes/2+1))
	e.must(err)
	if cfg.Schedule != nil {
		m, err = m.WithSchedule(*cfg.Schedule)
		e.must(err)
	}
	e.Manifest = m
	e.params = tally.ManifestParams(m)
	for range cfg.Voters {
		c, err := ballot.GenerateCredential(e.Rand)
		e.must(err)
		k, err := c.Key(m.ElectionID)
		e.must(err)
		e.Credentials, e.Voters = append(e.Credentials, c), append(e.Voters, k)
	}
	return e
}

// Params returns the tally parameters of the election.
func (e *Election) Params() *tally.Params { return tally.ManifestParams(e.Manifest) }

// Fingerprint is the manifest's fingerprint.
func (e *Election) Fingerprint() [32]byte { return e.Manifest.Fingerprint() }

// NodeKeys returns the board nodes' checkpoint keys by node ID.
func (e *Election) NodeKeys() map[string]ed25519.PrivateKey {
	out := map[string]ed25519.PrivateKey{}
	for _, n := range e.Nodes {
		out[n.ID] = n.Key
	}
	return out
}

// Board returns the client-side view of the board's keys and quorums.
func (e *Election) Board() *bulletin.Board { return bulletin.BoardFor(e.Manifest) }

// UseWitnesses makes the election's manifest a version-2 manifest naming
// witnesses, quorum of which must cosign every checkpoint. Call it before
// building any entry.
func (e *Election) UseWitnesses(ws []ballot.Witness, quorum uint32) {
	m, err := e.Manifest.WithWitnesses(ws, quorum)
	e.must(err)
	e.Manifest = m
	e.params = tally.ManifestParams(m)
}

// Stranger returns a fresh Schnorr key registered nowhere.
func (e *Election) Stranger() *schnorr.PrivateKey {
	k, err := schnorr.GenerateKey(e.Rand)
	e.must(err)
	return k
}

// EntryFor returns an entry of election fingerprint fp, signed by key.
func (e *Election) EntryFor(fp [32]byte, typ bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) []byte {
	e.t().Helper()
	en, err := bulletin.NewEntry(typ, fp, role, key.Public(), body)
	e.must(err)
	e.must(en.Sign(e.Rand, key))
	return en.Bytes()
}

// Entry returns an entry of this election, signed by key.
func (e *Election) Entry(typ bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) []byte {
	e.t().Helper()
	return e.EntryFor(e.Fingerprint(), typ, role, key, body)
}

// ManifestEntry returns the authority's manifest entry.
func (e *Election) ManifestEntry() []byte {
	e.t().Helper()
	return e.Entry(bulletin.TypeManifest, bulletin.RoleAuthority, e.EA, e.Manifest.Bytes())
}

// CredentialsEntry returns the credential authority's list of every voter
// but the Config.Late last ones, weighted when Config.Weights is set.
func (e *Election) CredentialsEntry() []byte {
	e.t().Helper()
	n := len(e.Voters) - e.Config.Late
	return e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, e.credentialList(0, n, e.Config.Weights == nil).Bytes())
}

// LateCredentialsEntry returns the late-credentials entry of the
// Config.Late last voters (a weighted list, SPEC.md §3.2).
func (e *Election) LateCredentialsEntry() []byte {
	e.t().Helper()
	n := len(e.Voters)
	return e.Entry(bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, e.CA, e.credentialList(n-e.Config.Late, n, false).Bytes())
}

// LateCredentialsBody returns the body of a late-credentials entry that
// registers pub with weight w (a weighted list, SPEC.md §5.3), for tests
// that post it signed by another key, at another time or twice.
func (e *Election) LateCredentialsBody(pub *group.Element, w uint32) []byte {
	e.t().Helper()
	l, err := ballot.NewWeightedCredentialList(Roll, []*group.Element{pub}, []uint32{w})
	e.must(err)
	return l.Bytes()
}

// credentialList is the list of voters from..to-1, unweighted or weighted.
func (e *Election) credentialList(from, to int, unweighted bool) *ballot.CredentialList {
	var pubs []*group.Element
	var ws []uint32
	for v := from; v < to; v++ {
		pubs, ws = append(pubs, e.Voters[v].Public()), append(ws, e.Weight(v))
	}
	var l *ballot.CredentialList
	var err error
	if unweighted {
		l, err = ballot.NewCredentialList(pubs)
	} else {
		l, err = ballot.NewWeightedCredentialList(Roll, pubs, ws)
	}
	e.must(err)
	return l
}

// Weight returns voter v's weight (1 without Config.Weights).
func (e *Election) Weight(v int) uint32 {
	if e.Config.Weights == nil {
		return 1
	}
	return e.Config.Weights[v]
}

// weightOf returns the weight of the voter whose public credential is cred.
func (e *Election) weightOf(cred *group.Element) uint32 {
	for v, k := range e.Voters {
		if k.Public().Equal(cred) {
			return e.Weight(v)
		}
	}
	e.t().Fatalf("testonly: no voter has this credential")
	return 0
}

// DealEntries runs every trustee's deal and returns the dkg-deal entries,
// dealer 1 first. With Config.Complaint, dealer 1's share for trustee 2
// does not decrypt.
func (e *Election) DealEntries() [][]byte {
	e.t().Helper()
	e.posts, e.states, e.reports, e.complaints, e.reveals = nil, nil, nil, nil, nil
	var out [][]byte
	for i, s := range e.Trustees {
		post, st, err := tally.Deal(e.Rand, e.params, i+1, s)
		e.must(err)
		if e.Config.Complaint && i == 0 && e.Config.N >= 2 {
			post.Shares[0].Ciphertext[0] ^= 1
		}
		e.posts, e.states = append(e.posts, post), append(e.states, st)
		out = append(out, e.Entry(bulletin.TypeDKGDeal, bulletin.RoleTrustee, s.SigningKey(), post.Bytes()))
	}
	return out
}

// receive runs trustee j's receiving step and returns its complaint
// entries and its confirmation entry.
func (e *Election) receive(j int) (complaints [][]byte, confirmation []byte) {
	e.t().Helper()
	s := e.Trustees[j-1]
	rep, err := tally.ReceiveShares(e.params, j, s, e.posts)
	e.must(err)
	if len(rep.Complaints) != 0 && !e.Config.Complaint {
		e.t().Fatalf("testonly: trustee %d complains", j)
	}
	e.reports = append(e.reports, rep)
	for _, c := range rep.Complaints {
		e.complaints = append(e.complaints, c)
		complaints = append(complaints, e.Entry(bulletin.TypeDKGComplaint, bulletin.RoleTrustee, s.SigningKey(), c.Bytes()))
	}
	return complaints, e.Entry(bulletin.TypeDKGConfirmation, bulletin.RoleTrustee, s.SigningKey(), rep.Confirmation.Bytes())
}

// ConfirmationEntries runs every trustee's receiving step and returns, by
// trustee, its complaints (with Config.Complaint) and its confirmation.
func (e *Election) ConfirmationEntries() [][]byte {
	e.t().Helper()
	var out [][]byte
	for j := 1; j <= len(e.Trustees); j++ {
		cs, conf := e.receive(j)
		out = append(append(out, cs...), conf)
	}
	return out
}

// RevealEntries returns the dealers' reveals answering the complaints.
func (e *Election) RevealEntries() [][]byte {
	e.t().Helper()
	var out [][]byte
	e.reveals = nil
	for _, c := range e.complaints {
		rv, err := e.states[c.Dealer-1].Reveal(c)
		e.must(err)
		e.reveals = append(e.reveals, rv)
		out = append(out, e.Entry(bulletin.TypeDKGReveal, bulletin.RoleTrustee, e.Trustees[c.Dealer-1].SigningKey(), rv.Bytes()))
	}
	return out
}

// OpenEntry computes QUAL and the joint key from the deals, complaints and
// reveals so far and returns the authority's open entry.
func (e *Election) OpenEntry() []byte {
	e.t().Helper()
	var err error
	e.Qualified, err = tally.Qualified(e.params, e.posts, e.complaints, e.reveals)
	e.must(err)
	e.JointKey, err = tally.JointKey(e.params, e.posts, e.Qualified)
	e.must(err)
	body := &bulletin.OpenBody{JointKey: e.JointKey}
	for _, q := range e.Qualified {
		body.Qualified = append(body.Qualified, uint16(q))
	}
	return e.Entry(bulletin.TypeOpen, bulletin.RoleAuthority, e.EA, body.Bytes())
}

// BallotEntry returns voter v's ballot entry for choices, the ballot and
// its secrets.
func (e *Election) BallotEntry(v int, choices [][]uint32) ([]byte, *ballot.Ballot, *ballot.Secrets) {
	e.t().Helper()
	b, s, err := ballot.EncryptBallot(e.Rand, e.Manifest, e.JointKey, e.Voters[v], choices)
	e.must(err)
	return e.Entry(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[v].PrivateKey(), b.Bytes()), b, s
}

// BallotWith is BallotEntry with its own randomness source, safe to call
// from several goroutines at once (the election is only read). It reports
// a failure with tb.Errorf and returns nil.
func (e *Election) BallotWith(rnd io.Reader, v int, choices [][]uint32) []byte {
	e.t().Helper()
	b, _, err := ballot.EncryptBallot(rnd, e.Manifest, e.JointKey, e.Voters[v], choices)
	if err != nil {
		e.t().Errorf("testonly: %v", err)
		return nil
	}
	en, err := bulletin.NewEntry(bulletin.TypeBallot, e.Fingerprint(), bulletin.RoleVoter, e.Voters[v].Public(), b.Bytes())
	if err == nil {
		err = en.Sign(rnd, e.Voters[v].PrivateKey())
	}
	if err != nil {
		e.t().Errorf("testonly: %v", err)
		return nil
	}
	return en.Bytes()
}

// AuditEntry returns the audit (protocol 1.2, SPEC.md §7.3) of b: its
// ciphertexts and opening, signed by a fresh one-time key.
func (e *Election) AuditEntry(b *ballot.Ballot, s *ballot.Secrets) []byte {
	e.t().Helper()
	a, err := b.Audit(s)
	e.must(err)
	k, err := schnorr.GenerateKey(e.Rand)
	e.must(err)
	return e.Entry(bulletin.TypeAudit, bulletin.RoleAuditor, k, a.Bytes())
}

// ForgedAudit returns body as an audit entry signed with a fresh one-time
// key (anyone may post an audit, SPEC.md §12.10).
func (e *Election) ForgedAudit(body []byte) []byte {
	e.t().Helper()
	k, err := schnorr.GenerateKey(seeded.New("forger"))
	e.must(err)
	return e.Entry(bulletin.TypeAudit, bulletin.RoleAuditor, k, body)
}

// V1AuditBody returns the body of a version-1 audit (SPEC.md §7.3) of a
// version-1 election's ballot, named for e: choices of the §7.1 layout
// and their opening, which a version-3 election refuses.
func (e *Election) V1AuditBody() []byte {
	e.t().Helper()
	v1 := NewElection(e.tb, "v1 audit", Config{Voters: 1, N: 1, T: 1})
	b, s, err := ballot.EncryptBallot(seeded.New("v1 ballot"), v1.Manifest, e.JointKey, v1.Voters[0], [][]uint32{{0}, {1, 2}})
	e.must(err)
	a, err := b.Audit(s)
	e.must(err)
	body := a.Bytes()
	fp := e.Fingerprint()
	copy(body, fp[:])
	return body
}

// AuditedEntry returns voter v's audited-ballot entry opening b, as
// protocol 1.1 posted it (signed by the credential; nodes refuse it now).
func (e *Election) AuditedEntry(v int, b *ballot.Ballot, s *ballot.Secrets) []byte {
	e.t().Helper()
	o, err := b.Open(s)
	e.must(err)
	a := &ballot.AuditedBallot{Ballot: b, Opening: o}
	return e.Entry(bulletin.TypeAuditedBallot, bulletin.RoleVoter, e.Voters[v].PrivateKey(), a.Bytes())
}

// CloseEntry returns the authority's close entry.
func (e *Election) CloseEntry() []byte {
	e.t().Helper()
	return e.Entry(bulletin.TypeClose, bulletin.RoleAuthority, e.EA, (&bulletin.CloseBody{Reason: "polls closed"}).Bytes())
}

// keyShares finishes the key ceremony: every trustee's key share and the
// verification keys.
func (e *Election) keyShares() {
	e.t().Helper()
	if e.Shares != nil {
		return
	}
	vk, err := tally.VerificationKeys(e.params, e.posts, e.Qualified)
	e.must(err)
	shares := make([]*tally.KeyShare, len(e.Trustees))
	for j := range shares {
		shares[j], err = e.states[j].Finish(e.params, e.reports[j], e.posts, e.reveals, e.Qualified)
		e.must(err)
	}
	e.Shares, e.VerificationKeys = shares, vk
}

// TallyEntries aggregates the counted ballots and returns the partial
// decryptions of the Config.Decrypt trustees (in that order), the result
// entry and the result.
func (e *Election) TallyEntries(counted []*ballot.Ballot) (partials [][]byte, result []byte, res *tally.Result) {
	e.t().Helper()
	options := tally.SelectOptions(e.Manifest)
	var cts [][][]*ballot.Ciphertext
	var ws []uint32
	var maxCount uint64
	for _, b := range counted {
		cts, ws = append(cts, b.Ciphertexts()), append(ws, e.weightOf(b.Credential()))
		maxCount += uint64(ws[len(ws)-1])
	}
	agg, err := tally.WeightedAggregate(options, cts, ws)
	e.must(err)
	return e.TallyOf(agg, maxCount)
}

// TallyOf is TallyEntries for an aggregate already summed, of ballots
// whose weights add up to maxCount: what a generator that streams its
// ballots (bench/genrecord) keeps instead of every counted ballot.
func (e *Election) TallyOf(agg [][]*ballot.Ciphertext, maxCount uint64) (partials [][]byte, result []byte, res *tally.Result) {
	e.t().Helper()
	e.keyShares()
	pds := map[int]*tally.PartialDecryption{}
	for _, j := range e.Config.Decrypt {
		pd, err := tally.PartialDecrypt(e.Rand, e.params, e.Shares[j-1], agg)
		e.must(err)
		pds[j] = pd
		partials = append(partials, e.Entry(bulletin.TypePartialDecryption, bulletin.RoleTrustee, e.Trustees[j-1].SigningKey(), pd.Bytes()))
	}
	res, _, err := tally.Combine(e.params, e.VerificationKeys, agg, pds, maxCount)
	e.must(err)
	return partials, e.Entry(bulletin.TypeResult, bulletin.RoleAuthority, e.EA, res.Bytes()), res
}

// Variant returns a copy of ballot entry raw whose first option
// ciphertext's α is replaced by (k+2)·G: a structurally valid ballot with
// a new tracker but invalid proofs and signature. For benchmarks of the
// board without proof checks only.
func (e *Election) Variant(raw []byte, k uint64) []byte {
	e.t().Helper()
	en, err := bulletin.ParseEntry(raw)
	e.must(err)
	b, err := ballot.ParseBallot(en.Body)
	e.must(err)
	alpha := b.Ciphertext(0, 0).Bytes()[:32]
	i := bytes.Index(raw, alpha)
	if i < 0 {
		e.t().Fatalf("testonly: ciphertext not found in ballot entry")
	}
	out := bytes.Clone(raw)
	copy(out[i:], group.NewElement().ScalarBaseMult(group.ScalarFromUint64(k+2)).Bytes())
	return out
}
