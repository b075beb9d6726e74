// Package clienttest builds complete, valid Urna election records in
// process, with the real ballot, tally and bulletin code, for the tests of
// the verifier (package client) and the end-to-end tests of the CLI. It is
// for tests only: every key it draws comes from a deterministic seed.
//
// Build runs a whole election: manifest, credentials, a key ceremony with
// one complaint answered by a reveal, open, ballots with revotes and a
// Benaloh audit, close, T-of-N partial decryptions and the result. Seal
// groups entries into hash-linked blocks, recomputes the Merkle log and has
// the board nodes sign checkpoints, so a test can change an entry, re-sign
// it with the right key and re-seal the record, and see exactly the
// semantic step fail.
package clienttest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/tally"
)

// Reader is a deterministic randomness source: SHA-256 in counter mode
// over a seed. circl's random functions ignore their reader, so tests
// derive everything through group.RandomScalar(io.Reader), which reads it.
type Reader struct {
	seed [32]byte
	ctr  uint64
	buf  []byte
}

// NewReader returns a Reader for seed.
func NewReader(seed string) *Reader { return &Reader{seed: sha256.Sum256([]byte(seed))} }

func (r *Reader) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(r.buf) == 0 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], r.ctr)
			r.ctr++
			h := sha256.Sum256(append(r.seed[:], c[:]...))
			r.buf = h[:]
		}
		k := copy(p, r.buf)
		p, r.buf = p[k:], r.buf[k:]
	}
	return n, nil
}

// Config shapes the election Build runs.
type Config struct {
	Voters    int   // registered credentials
	Ballots   int   // cast ballots in total (≥ Voters-Abstain: the surplus are revotes)
	Abstain   int   // voters who never vote
	Audits    int   // voters who first audit a ballot
	N, T      int   // trustees and threshold
	Decrypt   []int // trustees posting partial decryptions (≥ T of them)
	Complaint bool  // trustee 2 complains against dealer 1, who reveals
	Nodes     int   // board nodes; quorum is Nodes/2+1
	BlockSize int   // entries per block when sealing
	// Questions of the manifest; nil means Questions(). Voter k then
	// chooses Min options of each question (at least one), starting at
	// option k mod the number of options.
	Questions []ballot.Question
}

// SmallConfig is a full small election: 3 trustees with threshold 2, a
// complaint, 6 voters of whom one abstains, 2 revotes, 1 audit, decryption
// by trustees 2 and 3, 3 board nodes.
func SmallConfig() Config {
	return Config{Voters: 6, Ballots: 7, Abstain: 1, Audits: 1, N: 3, T: 2, Decrypt: []int{2, 3}, Complaint: true, Nodes: 3, BlockSize: 4}
}

// Node is a board node's checkpoint key.
type Node struct {
	ID  string
	Key ed25519.PrivateKey
}

// Election is a built election: its keys, its entries in board order, and
// where the interesting entries are.
type Election struct {
	Config   Config
	Rand     *Reader
	Manifest *ballot.Manifest
	EA, CA   *schnorr.PrivateKey
	Trustees []*tally.TrusteeSecret
	Voters   []*ballot.CredentialKey
	Nodes    []Node
	Entries  [][]byte // canonical signed entries, entry i has sequence number i
	JointKey *group.Element
	Result   *tally.Result
	// Shares are the trustees' key shares (test secrets), so tests can
	// produce other partial decryptions.
	Shares []*tally.KeyShare
	// VerificationKeys are X_1..X_N.
	VerificationKeys []*group.Element

	// Sequence numbers of notable entries.
	SeqCredentials int
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

	// Choices[seq] is the plaintext of the cast ballot at seq.
	Choices map[int][][]uint32
}

// Questions are the questions of every built election.
func Questions() []ballot.Question {
	return []ballot.Question{
		{Text: "Chair", Options: []string{"Ada", "Grace", "Edsger"}, Min: 1, Max: 1},
		{Text: "Committee", Options: []string{"Alan", "Barbara", "Donald", "Frances"}, Min: 0, Max: 2},
	}
}

// choices returns the choices of ballot i.
func (c *Config) choices(i int) [][]uint32 {
	if c.Questions == nil {
		return choicesFor(i)
	}
	out := make([][]uint32, len(c.Questions))
	for q, mq := range c.Questions {
		n := max(int(mq.Min), min(1, int(mq.Max)))
		for j := 0; j < n; j++ {
			out[q] = append(out[q], uint32((i+j)%len(mq.Options)))
		}
	}
	return out
}

func choicesFor(i int) [][]uint32 {
	q1 := []uint32{}
	switch i % 3 {
	case 0:
		q1 = []uint32{uint32(i % 4)}
	case 1:
		q1 = []uint32{uint32(i % 4), uint32((i + 1) % 4)}
	}
	return [][]uint32{{uint32(i % 3)}, q1}
}

// Build runs a whole election with keys and randomness derived from seed.
func Build(seed string, cfg Config) (*Election, error) {
	rnd := NewReader(seed)
	e := &Election{Config: cfg, Rand: rnd, SeqComplaint: -1, SeqReveal: -1, SeqPartials: map[int]int{}, Choices: map[int][][]uint32{}}
	var err error
	if e.EA, err = schnorr.GenerateKey(rnd); err != nil {
		return nil, err
	}
	if e.CA, err = schnorr.GenerateKey(rnd); err != nil {
		return nil, err
	}
	var trustees []ballot.Trustee
	for i := 0; i < cfg.N; i++ {
		ts, err := tally.GenerateTrustee(rnd)
		if err != nil {
			return nil, err
		}
		e.Trustees = append(e.Trustees, ts)
		p := ts.Public()
		trustees = append(trustees, ballot.Trustee{Name: fmt.Sprintf("trustee-%d", i+1), SigningKey: p.SigningKey, ShareKey: p.ShareKey})
	}
	var nodes []ballot.BoardNode
	for i := 0; i < cfg.Nodes; i++ {
		seedb := make([]byte, ed25519.SeedSize)
		io.ReadFull(rnd, seedb)
		k := ed25519.NewKeyFromSeed(seedb)
		e.Nodes = append(e.Nodes, Node{ID: fmt.Sprintf("n%d", i+1), Key: k})
		nodes = append(nodes, ballot.BoardNode{ID: fmt.Sprintf("n%d", i+1), Key: k.Public().(ed25519.PublicKey)})
	}
	qs := cfg.Questions
	if qs == nil {
		qs = Questions()
	}
	m, err := ballot.NewManifest("test-election", "Test election", qs, e.EA.Public(), e.CA.Public(),
		trustees, uint32(cfg.T), nodes, uint32(cfg.Nodes/2+1))
	if err != nil {
		return nil, err
	}
	e.Manifest = m
	if _, err := e.Post(bulletin.TypeManifest, bulletin.RoleAuthority, e.EA, m.Bytes()); err != nil {
		return nil, err
	}

	// Credentials.
	var pubs []*group.Element
	for i := 0; i < cfg.Voters; i++ {
		sk, err := schnorr.GenerateKey(rnd)
		if err != nil {
			return nil, err
		}
		ck := ballot.NewCredentialKey(sk)
		e.Voters = append(e.Voters, ck)
		pubs = append(pubs, ck.Public())
	}
	cl, err := ballot.NewCredentialList(pubs)
	if err != nil {
		return nil, err
	}
	if e.SeqCredentials, err = e.Post(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, cl.Bytes()); err != nil {
		return nil, err
	}

	// Key ceremony.
	params := e.Params()
	var posts []*tally.DealerPost
	var states []*tally.DealerState
	for i := 1; i <= cfg.N; i++ {
		post, st, err := tally.Deal(rnd, params, i, e.Trustees[i-1])
		if err != nil {
			return nil, err
		}
		if cfg.Complaint && i == 1 && cfg.N >= 2 {
			post.Shares[0].Ciphertext[0] ^= 1 // dealer 1's share for trustee 2 will not decrypt
		}
		posts, states = append(posts, post), append(states, st)
		seq, err := e.Post(bulletin.TypeDKGDeal, bulletin.RoleTrustee, e.Trustees[i-1].SigningKey(), post.Bytes())
		if err != nil {
			return nil, err
		}
		e.SeqDeals = append(e.SeqDeals, seq)
	}
	var reports []*tally.ReceiverReport
	var complaints []*tally.Complaint
	for j := 1; j <= cfg.N; j++ {
		rep, err := tally.ReceiveShares(params, j, e.Trustees[j-1], posts)
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep)
		for _, c := range rep.Complaints {
			seq, err := e.Post(bulletin.TypeDKGComplaint, bulletin.RoleTrustee, e.Trustees[j-1].SigningKey(), c.Bytes())
			if err != nil {
				return nil, err
			}
			e.SeqComplaint = seq
			complaints = append(complaints, c)
		}
		if _, err := e.Post(bulletin.TypeDKGConfirmation, bulletin.RoleTrustee, e.Trustees[j-1].SigningKey(), rep.Confirmation.Bytes()); err != nil {
			return nil, err
		}
	}
	var reveals []*tally.Reveal
	for _, c := range complaints {
		rv, err := states[c.Dealer-1].Reveal(c)
		if err != nil {
			return nil, err
		}
		seq, err := e.Post(bulletin.TypeDKGReveal, bulletin.RoleTrustee, e.Trustees[c.Dealer-1].SigningKey(), rv.Bytes())
		if err != nil {
			return nil, err
		}
		e.SeqReveal = seq
		reveals = append(reveals, rv)
	}
	qual, err := tally.Qualified(params, posts, complaints, reveals)
	if err != nil {
		return nil, err
	}
	if e.JointKey, err = tally.JointKey(params, posts, qual); err != nil {
		return nil, err
	}
	vk, err := tally.VerificationKeys(params, posts, qual)
	if err != nil {
		return nil, err
	}
	shares := make([]*tally.KeyShare, cfg.N)
	for j := 1; j <= cfg.N; j++ {
		if shares[j-1], err = states[j-1].Finish(params, reports[j-1], posts, reveals, qual); err != nil {
			return nil, err
		}
	}
	e.Shares, e.VerificationKeys = shares, vk
	ob := &bulletin.OpenBody{JointKey: e.JointKey}
	for _, q := range qual {
		ob.Qualified = append(ob.Qualified, uint16(q))
	}
	if e.SeqOpen, err = e.Post(bulletin.TypeOpen, bulletin.RoleAuthority, e.EA, ob.Bytes()); err != nil {
		return nil, err
	}

	// Voting: audits first, then one ballot per voting voter, then revotes.
	for a := 0; a < cfg.Audits && a < cfg.Voters; a++ {
		b, sec, err := ballot.EncryptBallot(rnd, m, e.JointKey, e.Voters[a], cfg.choices(a+1))
		if err != nil {
			return nil, err
		}
		op, err := b.Open(sec)
		if err != nil {
			return nil, err
		}
		ab := &ballot.AuditedBallot{Ballot: b, Opening: op}
		seq, err := e.Post(bulletin.TypeAuditedBallot, bulletin.RoleVoter, e.Voters[a].PrivateKey(), ab.Bytes())
		if err != nil {
			return nil, err
		}
		e.SeqAudited = append(e.SeqAudited, seq)
	}
	voting := cfg.Voters - cfg.Abstain
	lastOf := map[int]int{}
	var counted [][][]*ballot.Ciphertext
	byVoterBallot := map[int]*ballot.Ballot{}
	for k := 0; k < cfg.Ballots; k++ {
		v := k % voting
		ch := cfg.choices(k)
		b, _, err := ballot.EncryptBallot(rnd, m, e.JointKey, e.Voters[v], ch)
		if err != nil {
			return nil, err
		}
		seq, err := e.Post(bulletin.TypeBallot, bulletin.RoleVoter, e.Voters[v].PrivateKey(), b.Bytes())
		if err != nil {
			return nil, err
		}
		e.SeqBallots = append(e.SeqBallots, seq)
		e.Choices[seq] = ch
		if prev, ok := lastOf[v]; ok {
			e.SeqSuperseded = append(e.SeqSuperseded, prev)
		}
		lastOf[v] = seq
		byVoterBallot[v] = b
	}
	for v := 0; v < voting; v++ {
		if b, ok := byVoterBallot[v]; ok {
			counted = append(counted, b.Ciphertexts())
			e.SeqCounted = append(e.SeqCounted, lastOf[v])
		}
	}
	if e.SeqClose, err = e.Post(bulletin.TypeClose, bulletin.RoleAuthority, e.EA, (&bulletin.CloseBody{Reason: "polls closed"}).Bytes()); err != nil {
		return nil, err
	}

	// Tally.
	var options []int
	for _, q := range m.Questions {
		options = append(options, len(q.Options))
	}
	agg, err := tally.Aggregate(options, counted)
	if err != nil {
		return nil, err
	}
	partials := map[int]*tally.PartialDecryption{}
	for _, j := range cfg.Decrypt {
		pd, err := tally.PartialDecrypt(rnd, params, shares[j-1], agg)
		if err != nil {
			return nil, err
		}
		partials[j] = pd
		seq, err := e.Post(bulletin.TypePartialDecryption, bulletin.RoleTrustee, e.Trustees[j-1].SigningKey(), pd.Bytes())
		if err != nil {
			return nil, err
		}
		e.SeqPartials[j] = seq
	}
	res, _, err := tally.Combine(params, vk, agg, partials, uint64(len(counted)))
	if err != nil {
		return nil, err
	}
	e.Result = res
	if e.SeqResult, err = e.Post(bulletin.TypeResult, bulletin.RoleAuthority, e.EA, res.Bytes()); err != nil {
		return nil, err
	}
	return e, nil
}

// Params returns the tally parameters of the election.
func (e *Election) Params() *tally.Params {
	p := &tally.Params{Fingerprint: e.Manifest.Fingerprint(), N: len(e.Trustees), T: int(e.Manifest.Threshold)}
	for i, t := range e.Trustees {
		pub := t.Public()
		pub.Index = i + 1
		p.Trustees = append(p.Trustees, *pub)
	}
	return p
}

// Sign returns a signed entry of election fingerprint fp.
func Sign(rnd io.Reader, fp [32]byte, t bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) ([]byte, error) {
	en, err := bulletin.NewEntry(t, fp, role, key.Public(), body)
	if err != nil {
		return nil, err
	}
	if err := en.Sign(rnd, key); err != nil {
		return nil, err
	}
	return en.Bytes(), nil
}

// Post appends a signed entry and returns its sequence number.
func (e *Election) Post(t bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) (int, error) {
	b, err := Sign(e.Rand, e.Manifest.Fingerprint(), t, role, key, body)
	if err != nil {
		return 0, err
	}
	e.Entries = append(e.Entries, b)
	return len(e.Entries) - 1, nil
}

// Resign returns entry seq with its body replaced by body, signed again by key.
func (e *Election) Resign(seq int, key *schnorr.PrivateKey, body []byte) []byte {
	en, err := bulletin.ParseEntry(e.Entries[seq])
	if err != nil {
		panic(err)
	}
	b, err := Sign(e.Rand, en.Election, en.Type, en.Role, key, body)
	if err != nil {
		panic(err)
	}
	return b
}

// Body returns the body of entry seq.
func (e *Election) Body(seq int) []byte {
	en, err := bulletin.ParseEntry(e.Entries[seq])
	if err != nil {
		panic(err)
	}
	return en.Body
}

// Block is one sealed block.
type Block struct {
	Header  *bulletin.BlockHeader
	Entries [][]byte
}

// Sealed is a record before encoding: blocks and checkpoint notes.
type Sealed struct {
	Blocks []Block
	Notes  [][]byte
}

// Seal groups entries into blocks of e.Config.BlockSize, with block times
// one second apart, and has every board node sign a checkpoint after the
// middle block and after the last one.
func (e *Election) Seal(entries [][]byte) *Sealed {
	s, err := e.SealWith(entries, e.Config.BlockSize, nil)
	if err != nil {
		panic(err)
	}
	return s
}

// SealWith is Seal with a block size and the indexes of the nodes that
// sign (nil: all of them).
func (e *Election) SealWith(entries [][]byte, blockSize int, signers []int) (*Sealed, error) {
	if blockSize <= 0 {
		blockSize = 16
	}
	if signers == nil {
		for i := range e.Nodes {
			signers = append(signers, i)
		}
	}
	s := &Sealed{}
	var log bulletin.MemoryLog
	var prev *bulletin.BlockHeader
	for i := 0; i < len(entries); i += blockSize {
		end := min(i+blockSize, len(entries))
		for _, en := range entries[i:end] {
			if err := log.Append(en); err != nil {
				return nil, err
			}
		}
		root, err := log.Root(log.Size())
		if err != nil {
			return nil, err
		}
		h, err := bulletin.NextBlock(prev, 1_700_000_000_000+uint64(len(s.Blocks))*1000, uint32(end-i), root)
		if err != nil {
			return nil, err
		}
		s.Blocks = append(s.Blocks, Block{Header: h, Entries: entries[i:end]})
		prev = h
	}
	at := []int{len(s.Blocks) - 1}
	if mid := len(s.Blocks) / 2; mid != len(s.Blocks)-1 {
		at = []int{mid, len(s.Blocks) - 1}
	}
	for _, bi := range at {
		n, err := e.Checkpoint(s.Blocks[bi].Header, signers)
		if err != nil {
			return nil, err
		}
		s.Notes = append(s.Notes, n)
	}
	return s, nil
}

// Checkpoint returns the note for the log after block h, signed by the
// given nodes (nil: all of them).
func (e *Election) Checkpoint(h *bulletin.BlockHeader, signers []int) ([]byte, error) {
	if signers == nil {
		for i := range e.Nodes {
			signers = append(signers, i)
		}
	}
	c := &bulletin.Checkpoint{Origin: bulletin.Origin(e.Manifest.ElectionID, e.Manifest.Fingerprint()),
		Size: h.LogSize, Root: h.LogRoot, Height: h.Height, BlockHash: h.Hash()}
	var notes [][]byte
	for _, i := range signers {
		sg, err := bulletin.NodeSigner(e.Nodes[i].ID, e.Nodes[i].Key)
		if err != nil {
			return nil, err
		}
		n, err := bulletin.SignCheckpoint(c, sg)
		if err != nil {
			return nil, err
		}
		notes = append(notes, n)
	}
	return bulletin.MergeCheckpointSignatures(notes...)
}

// Encode writes the record file.
func (s *Sealed) Encode() []byte {
	var buf bytes.Buffer
	w, err := bulletin.NewRecordWriter(&buf)
	if err != nil {
		panic(err)
	}
	for _, b := range s.Blocks {
		if err := w.WriteBlock(b.Header, b.Entries); err != nil {
			panic(err)
		}
	}
	for _, n := range s.Notes {
		if err := w.WriteCheckpoint(n); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Record seals e's entries and encodes the record.
func (e *Election) Record() []byte { return e.Seal(e.Entries).Encode() }

// WithEntry returns a copy of e's entries with entry seq replaced.
func (e *Election) WithEntry(seq int, entry []byte) [][]byte {
	out := append([][]byte(nil), e.Entries...)
	out[seq] = entry
	return out
}

// OneOfFive is the benchmark shape shared with bench/ (and Belenios'
// driver ../shared/peers/belenios.sh): one question, choose exactly 1 of 5;
// 3 trustees, threshold 2, decrypted by trustees 1 and 2; 3 board nodes;
// n voters who each cast one ballot; blocks of 256 entries.
func OneOfFive(n int) Config {
	return Config{Voters: n, Ballots: n, N: 3, T: 2, Decrypt: []int{1, 2}, Nodes: 3, BlockSize: 256,
		Questions: []ballot.Question{{Text: "Pick one", Options: []string{"A", "B", "C", "D", "E"}, Min: 1, Max: 1}}}
}
