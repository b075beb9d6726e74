package testonly

import (
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/schnorr"
)

// Build runs a whole election with keys and randomness derived from seed
// and keeps its entries in board order: manifest, credentials, the key
// ceremony (with Config.Complaint, trustee 2's complaint right before its
// confirmation and dealer 1's reveal after the confirmations), open, the
// Config.Audits audited ballots, Config.Ballots cast ballots (voter
// k mod (Voters-Abstain) casts the k-th, so later ones are revotes),
// close, the partial decryptions and the result.
func Build(tb testing.TB, seed string, cfg Config) *Election {
	if tb != nil {
		tb.Helper()
	}
	e := NewElection(tb, seed, cfg)
	e.postSetup()
	cfg = e.Config

	// Voting: audits first, then one ballot per voting voter, then revotes.
	for a := 0; a < cfg.Audits && a < cfg.Voters; a++ {
		_, b, s := e.BallotEntry(a, e.Config.choices(a+1))
		e.SeqAudited = append(e.SeqAudited, e.Post(e.AuditEntry(b, s)))
	}
	voting := cfg.Voters - cfg.Abstain
	lastOf := map[int]int{}
	last := map[int]*ballot.Ballot{}
	for k := 0; k < cfg.Ballots; k++ {
		v, ch := k%voting, e.Config.choices(k)
		en, b, _ := e.BallotEntry(v, ch)
		seq := e.Post(en)
		e.SeqBallots = append(e.SeqBallots, seq)
		e.Choices[seq] = ch
		if prev, ok := lastOf[v]; ok {
			e.SeqSuperseded = append(e.SeqSuperseded, prev)
		}
		lastOf[v], last[v] = seq, b
	}
	var counted []*ballot.Ballot
	for v := 0; v < voting; v++ {
		if b, ok := last[v]; ok {
			counted = append(counted, b)
			e.SeqCounted = append(e.SeqCounted, lastOf[v])
		}
	}
	e.SeqClose = e.Post(e.CloseEntry())

	partials, result, res := e.TallyEntries(counted)
	for i, p := range partials {
		e.SeqPartials[cfg.Decrypt[i]] = e.Post(p)
	}
	e.Result = res
	e.SeqResult = e.Post(result)
	return e
}

// choices are the choices of Build's i-th ballot. With the default
// questions: every chair in turn, and none, one or two committee members.
// With c.Questions: Min options of each question (at least one), starting
// at option i mod the number of options.
func (c *Config) choices(i int) [][]uint32 {
	if c.custom {
		out := make([][]uint32, len(c.Questions))
		for q, mq := range c.Questions {
			n := max(int(mq.Min), min(1, int(mq.Max)))
			for j := range n {
				out[q] = append(out[q], uint32((i+j)%len(mq.Options)))
			}
		}
		return out
	}
	return choicesFor(i)
}

// choicesFor are the default questions' choices of Build's i-th ballot.
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

// Post appends entry to Entries and returns its sequence number.
func (e *Election) Post(entry []byte) int {
	e.Entries = append(e.Entries, entry)
	return len(e.Entries) - 1
}

// Resign returns entry seq with its body replaced by body, signed again by key.
func (e *Election) Resign(seq int, key *schnorr.PrivateKey, body []byte) []byte {
	e.t().Helper()
	en, err := bulletin.ParseEntry(e.Entries[seq])
	e.must(err)
	return e.EntryFor(en.Election, en.Type, en.Role, key, body)
}

// Body returns the body of entry seq.
func (e *Election) Body(seq int) []byte {
	e.t().Helper()
	en, err := bulletin.ParseEntry(e.Entries[seq])
	e.must(err)
	return en.Body
}

// WithEntry returns a copy of Entries with entry seq replaced.
func (e *Election) WithEntry(seq int, entry []byte) [][]byte {
	out := append([][]byte(nil), e.Entries...)
	out[seq] = entry
	return out
}

// VoterKey returns the private key of the voter whose credential signed
// entry seq.
func (e *Election) VoterKey(seq int) *schnorr.PrivateKey {
	e.t().Helper()
	en, err := bulletin.ParseEntry(e.Entries[seq])
	e.must(err)
	for _, v := range e.Voters {
		if v.Public().Equal(en.Author) {
			return v.PrivateKey()
		}
	}
	e.t().Fatalf("testonly: no voter signed entry %d", seq)
	return nil
}

// ResignedOpen returns the open entry with its body changed by edit and
// signed again by the authority: what a lying authority could post.
func (e *Election) ResignedOpen(edit func(*bulletin.OpenBody)) []byte {
	e.t().Helper()
	ob, err := bulletin.ParseOpenBody(e.Body(e.SeqOpen))
	e.must(err)
	edit(ob)
	return e.Resign(e.SeqOpen, e.EA, ob.Bytes())
}

// postSetup posts Build's entries up to voting: manifest, credentials, the
// key ceremony, open and (Config.Late) the late credentials.
func (e *Election) postSetup() {
	cfg := e.Config
	if len(cfg.Witnesses) > 0 {
		e.UseWitnesses(cfg.Witnesses, cfg.WitnessQuorum)
	}
	e.Post(e.ManifestEntry())
	e.SeqCredentials = e.Post(e.CredentialsEntry())
	for _, d := range e.DealEntries() {
		e.SeqDeals = append(e.SeqDeals, e.Post(d))
	}
	for j := 1; j <= cfg.N; j++ {
		complaints, confirmation := e.receive(j)
		for _, c := range complaints {
			e.SeqComplaint = e.Post(c)
		}
		e.Post(confirmation)
	}
	for _, rv := range e.RevealEntries() {
		e.SeqReveal = e.Post(rv)
	}
	e.SeqOpen = e.Post(e.OpenEntry())
	e.keyShares()
	e.SeqLate = -1
	if cfg.Late > 0 {
		e.SeqLate = e.Post(e.LateCredentialsEntry())
	}
}
