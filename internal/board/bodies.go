package board

import (
	"crypto/ed25519"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/tally"
)

// bodies implements bulletin.Bodies with the strict parsers of ballot and
// tally. Every method is deterministic and rejects what the owner's parser
// rejects.
type bodies struct{}

var _ bulletin.Bodies = bodies{}

func (bodies) Manifest(body []byte) (*bulletin.ManifestFacts, error) {
	m, err := ballot.ParseManifest(body)
	if err != nil {
		return nil, err
	}
	f := &bulletin.ManifestFacts{
		Fingerprint: m.Fingerprint(), ElectionID: m.ElectionID,
		Authority: [32]byte(m.Authority.Bytes()), CredentialAuthority: [32]byte(m.CredentialAuthority.Bytes()),
		Threshold: int(m.Threshold), Quorum: int(m.BoardQuorum),
	}
	for _, t := range m.Trustees {
		f.Trustees = append(f.Trustees, [32]byte(t.SigningKey.Bytes()))
	}
	for _, n := range m.BoardNodes {
		if len(n.Key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("board node %q key of %d bytes", n.ID, len(n.Key))
		}
		f.Nodes = append(f.Nodes, bulletin.NodeKey{ID: n.ID, PublicKey: ed25519.PublicKey(n.Key)})
	}
	return f, nil
}

func (bodies) Credentials(body []byte) ([][32]byte, error) {
	l, err := ballot.ParseCredentialList(body)
	if err != nil {
		return nil, err
	}
	out := make([][32]byte, len(l.Credentials))
	for i, c := range l.Credentials {
		out[i] = [32]byte(c.Bytes())
	}
	return out, nil
}

func (bodies) Deal(body []byte) (*bulletin.DealFacts, error) {
	p, err := tally.ParseDealerPost(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.DealFacts{Dealer: p.Dealer, ConstantTerm: [32]byte(p.Commitments[0].Bytes())}, nil
}

func (bodies) Confirmation(body []byte) (*bulletin.ConfirmationFacts, error) {
	c, err := tally.ParseConfirmation(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.ConfirmationFacts{Trustee: c.Trustee, Dealers: c.Dealers}, nil
}

func (bodies) Complaint(body []byte) (*bulletin.ComplaintFacts, error) {
	c, err := tally.ParseComplaint(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.ComplaintFacts{Dealer: c.Dealer, Complainer: c.Complainer}, nil
}

func (bodies) Reveal(body []byte) (*bulletin.RevealFacts, error) {
	r, err := tally.ParseReveal(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.RevealFacts{Dealer: r.Dealer, Complainer: r.Complainer}, nil
}

// Ballot reads the credential and tracker of a cast ballot without decoding
// its group elements (SPEC.md §6.1 layout: version u8 || fingerprint[32] ||
// credential[32] || ...). Why: Apply runs on every replica, serially, for
// every ballot; a strict ParseBallot decodes ~40 Ristretto elements and
// capped the board at ~1,700 ballots/s. The strict decoding and every
// proof were checked by the proposing node's pre-check (preCheck, which
// runs ParseBallot and ballot.VerifyBatch) before the ballot was proposed,
// and this extraction is a pure function of the committed bytes, so all
// replicas still decide identically.
func (bodies) Ballot(body []byte) (*bulletin.BallotFacts, error) {
	if len(body) < ballotCredentialEnd || body[0] != ballot.BallotVersion {
		return nil, fmt.Errorf("ballot: %d bytes or unknown version", len(body))
	}
	return &bulletin.BallotFacts{Credential: [32]byte(body[ballotCredentialEnd-32 : ballotCredentialEnd]), Tracker: [32]byte(ballot.TrackerOf(body))}, nil
}

// ballotCredentialEnd is the end offset of the credential in a ballot.
const ballotCredentialEnd = 1 + 32 + 32

func (bodies) AuditedBallot(body []byte) (*bulletin.BallotFacts, error) {
	a, err := ballot.ParseAuditedBallot(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.BallotFacts{Credential: [32]byte(a.Ballot.Credential().Bytes()), Tracker: [32]byte(a.Ballot.Tracker())}, nil
}

func (bodies) PartialDecryption(body []byte) (*bulletin.PartialFacts, error) {
	p, err := tally.ParsePartialDecryption(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.PartialFacts{Trustee: p.Trustee}, nil
}

func (bodies) Result(body []byte) error {
	_, err := tally.ParseResult(body)
	return err
}

// bodyViewer decodes bodies for the API's JSON views: the tracker of
// ballots and audited ballots.
func bodyViewer(t bulletin.EntryType, body []byte) ([]byte, any, error) {
	switch t {
	case bulletin.TypeBallot:
		b, err := ballot.ParseBallot(body)
		if err != nil {
			return nil, nil, err
		}
		tr := b.Tracker()
		return tr[:], map[string]any{"tracker": tr.Short(), "questions": b.NumQuestions()}, nil
	case bulletin.TypeAuditedBallot:
		a, err := ballot.ParseAuditedBallot(body)
		if err != nil {
			return nil, nil, err
		}
		tr := a.Ballot.Tracker()
		return tr[:], map[string]any{"tracker": tr.Short(), "audited": true}, nil
	}
	return nil, nil, nil
}
