package board

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// tallyFixture shapes a closed election for the tests and benchmarks of
// the node's tally inputs (Submitter.tallyInputs).
type tallyFixture struct {
	voters    int               // credentials, testonly.LargeCredentials(voters); every one votes
	revotes   int               // voters 0..revotes-1 vote a second time (the later ballot counts)
	weighted  bool              // voter v weighs 1 + v%ballot.MaxWeight
	questions []ballot.Question // nil: testonly.Questions() (two questions)
	// answers, if set, are voter v's answers to the questions of a
	// version-3 manifest (nil: testonly.KindAnswers).
	answers func(v int) []ballot.Answer
	// tamper, if set, changes the body of ballot k (0-based, revotes
	// last) before it is posted.
	tamper func(k int, body []byte)
	// open opens the board's store (nil: bbolt, boltOpener).
	open func(tb testing.TB, id, dir string) store.Store
}

// oneOfFive is the shape of bench/manifest-1of5.json and of the
// 1,000,000-ballot demo: one question, choose 1 of 5.
var oneOfFive = []ballot.Question{{Text: "Pick one", Options: []string{"A", "B", "C", "D", "E"}, Min: 1, Max: 1}}

// build makes a lone board (bbolt unless cfg.open says otherwise) without checks (its proposer's role is
// played by the test: entries are applied as committed Raft entries) and
// applies a whole election up to its close: the manifest, a list of
// cfg.voters credentials, the key ceremony, cfg.voters + cfg.revotes
// ballots and the close. The ballots are real ballots of the election's
// shape whose credential is replaced by the voter's and whose first alpha
// by a point of its own (so each has its own tracker): every ciphertext
// point is a canonical encoding and the aggregate differs per ballot, but
// their proofs and signatures do not verify, which Apply does not check
// (SPEC.md §3.9.1: the proposer's pre-check does). It is the fastest way
// to a board of 100,000 counted ballots (about 10 s).
func (cfg tallyFixture) build(tb testing.TB) (*Board, *testonly.Election) {
	tb.Helper()
	e := testonly.NewElection(tb, fmt.Sprintf("tally fixture %d", cfg.voters), testonly.Config{Voters: 4, Questions: cfg.questions})
	open := cfg.open
	if open == nil {
		open = boltOpener
	}
	st := open(tb, "n1", filepath.Join(tb.TempDir(), "n1"))
	tb.Cleanup(func() { st.Close() })
	b, err := Open(Config{NodeID: "n1", Store: st, SkipChecks: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	index := uint64(0)
	apply := func(entries ...[]byte) {
		tb.Helper()
		index++
		cmds := make([][]byte, len(entries))
		for i, en := range entries {
			cmds[i] = encodeEntryCmd(1, en)
		}
		for i, r := range b.ApplyEntries([]replica.Entry{{Index: index, Cmds: cmds}})[0] {
			if r.Err != nil {
				tb.Fatalf("fixture entry %d of raft entry %d: %v", i, index, r.Err)
			}
		}
	}
	creds := testonly.LargeCredentials(cfg.voters)
	var list *ballot.CredentialList
	if cfg.weighted {
		ws := make([]uint32, cfg.voters)
		for v := range ws {
			ws[v] = 1 + uint32(v%ballot.MaxWeight)
		}
		list, err = ballot.NewWeightedCredentialList(testonly.Roll, creds, ws)
	} else {
		list, err = ballot.NewCredentialList(creds)
	}
	if err != nil {
		tb.Fatal(err)
	}
	apply(e.ManifestEntry())
	apply(e.Entry(bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, e.CA, list.Bytes()))
	apply(e.DealEntries()...)
	apply(e.ConfirmationEntries()...)
	apply(e.OpenEntry())

	// Four real ballots, and the offset of their first alpha.
	var base [][]byte
	var at []int
	for v := range 4 {
		var bl *ballot.Ballot
		switch {
		case e.Manifest.Version == ballot.ManifestVersionKinds && cfg.answers != nil:
			_, bl = e.AnswersEntry(v, cfg.answers(v))
		case e.Manifest.Version == ballot.ManifestVersionKinds:
			_, bl = e.AnswersEntry(v, testonly.KindAnswers(v))
		case cfg.questions != nil:
			_, bl, _ = e.BallotEntry(v, [][]uint32{{uint32(v)}}) // oneOfFive
		default:
			_, bl, _ = e.BallotEntry(v, testonly.Pick(v%3, v-1)) // blank on the second question for v = 0
		}
		raw := bl.Bytes()
		base = append(base, raw)
		at = append(at, bytes.Index(raw, bl.Ciphertext(0, 0).Alpha.Bytes()))
	}
	// Ballot k's first alpha is H + k·G: distinct, never the identity
	// (H is no small multiple of G).
	alpha := group.HashToElement([]byte("tally fixture"), []byte("urna/test"))
	g := group.Generator()
	sig := &schnorr.Signature{R: group.Generator(), S: group.NewScalar()} // canonical, not valid
	fp := e.Fingerprint()
	const perRaftEntry = 2048
	var batch [][]byte
	total := cfg.voters + cfg.revotes
	for k := range total {
		v := k
		if k >= cfg.voters {
			v = k - cfg.voters // a revote
		}
		body := bytes.Clone(base[k%len(base)])
		copy(body[credentialOffset:], creds[v].Bytes())
		alpha = group.NewElement().Add(alpha, g)
		copy(body[at[k%len(base)]:], alpha.Bytes())
		if cfg.tamper != nil {
			cfg.tamper(k, body)
		}
		en, err := bulletin.NewEntry(bulletin.TypeBallot, fp, bulletin.RoleVoter, creds[v], body)
		if err != nil {
			tb.Fatal(err)
		}
		en.Sig = sig
		batch = append(batch, en.Bytes())
		if len(batch) == perRaftEntry || k == total-1 {
			apply(batch...)
			batch = batch[:0]
		}
	}
	apply(e.CloseEntry())
	v := b.FSM.current()
	if v.rules.Phase != bulletin.PhaseClosed || v.rules.Ballots != uint64(total) {
		tb.Fatalf("fixture: phase %v, %d ballots; want closed with %d", v.rules.Phase, v.rules.Ballots, total)
	}
	return b, e
}

// credentialOffset is where a ballot's credential starts (SPEC.md §6.1:
// version u8 ‖ fingerprint[32] ‖ credential[32] ‖ ...).
const credentialOffset = 1 + 32

// checkTamperSkipped checks what the node computed (err, the encoding got)
// from a fixture whose ballot k (of one with revotes revotes) was tampered
// with in bytes the computation reads past or does not read: no error and
// the encoding clean of the untampered fixture's, while the full decode
// (fullErr) refuses the ballot if it counts (else the case tests nothing)
// and does not read it if a revote superseded it.
func checkTamperSkipped(t *testing.T, k, revotes int, err, fullErr error, got, clean []byte) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, clean) {
		t.Fatal("the result differs from that of the same ballots untampered")
	}
	if k < revotes && fullErr != nil {
		t.Fatalf("the full decode refuses a superseded ballot: %v", fullErr)
	}
	if k >= revotes && fullErr == nil {
		t.Fatal("the full decode accepts a non-canonical commitment (the case tests nothing)")
	}
}

// storedBallot returns the ballot of entry seq, one of a credential's cast
// ballots.
func storedBallot(tx store.ReadTx, seq uint64) (*ballot.Ballot, error) {
	e, err := storedEntry(tx, seq)
	if err != nil {
		return nil, err
	}
	return ballot.ParseBallot(e.Body)
}
