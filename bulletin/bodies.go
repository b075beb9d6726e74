package bulletin

import (
	"crypto/ed25519"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/tally"
)

// StandardBodies decodes entry bodies with the strict parsers of the
// packages that own them (ballot, tally). It is the Bodies of production
// nodes and of verifiers.
type StandardBodies struct{}

var _ Bodies = StandardBodies{}

// Manifest implements Bodies with ballot.ParseManifest.
func (StandardBodies) Manifest(body []byte) (*ManifestFacts, error) {
	m, err := ballot.ParseManifest(body)
	if err != nil {
		return nil, err
	}
	f := &ManifestFacts{
		Fingerprint:         m.Fingerprint(),
		ElectionID:          m.ElectionID,
		Authority:           [32]byte(m.Authority.Bytes()),
		CredentialAuthority: [32]byte(m.CredentialAuthority.Bytes()),
		Threshold:           int(m.Threshold),
		Quorum:              int(m.BoardQuorum),
	}
	for _, t := range m.Trustees {
		f.Trustees = append(f.Trustees, [32]byte(t.SigningKey.Bytes()))
	}
	for _, n := range m.BoardNodes {
		f.Nodes = append(f.Nodes, NodeKey{ID: n.ID, PublicKey: ed25519.PublicKey(slices.Clone(n.Key))})
	}
	return f, nil
}

// Credentials implements Bodies with ballot.ParseCredentialList.
func (StandardBodies) Credentials(body []byte) ([][32]byte, error) {
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

// Deal implements Bodies with tally.ParseDealerPost.
func (StandardBodies) Deal(body []byte) (*DealFacts, error) {
	p, err := tally.ParseDealerPost(body)
	if err != nil {
		return nil, err
	}
	return &DealFacts{Dealer: p.Dealer, ConstantTerm: [32]byte(p.Commitments[0].Bytes())}, nil
}

// Confirmation implements Bodies with tally.ParseConfirmation.
func (StandardBodies) Confirmation(body []byte) (*ConfirmationFacts, error) {
	c, err := tally.ParseConfirmation(body)
	if err != nil {
		return nil, err
	}
	return &ConfirmationFacts{Trustee: c.Trustee, Dealers: c.Dealers}, nil
}

// Complaint implements Bodies with tally.ParseComplaint.
func (StandardBodies) Complaint(body []byte) (*ComplaintFacts, error) {
	c, err := tally.ParseComplaint(body)
	if err != nil {
		return nil, err
	}
	return &ComplaintFacts{Dealer: c.Dealer, Complainer: c.Complainer}, nil
}

// Reveal implements Bodies with tally.ParseReveal.
func (StandardBodies) Reveal(body []byte) (*RevealFacts, error) {
	rv, err := tally.ParseReveal(body)
	if err != nil {
		return nil, err
	}
	return &RevealFacts{Dealer: rv.Dealer, Complainer: rv.Complainer}, nil
}

// Ballot implements Bodies with ballot.ParseBallot.
func (StandardBodies) Ballot(body []byte) (*BallotFacts, error) {
	b, err := ballot.ParseBallot(body)
	if err != nil {
		return nil, err
	}
	return &BallotFacts{Credential: [32]byte(b.Credential().Bytes()), Tracker: [32]byte(b.Tracker())}, nil
}

// AuditedBallot implements Bodies with ballot.ParseAuditedBallot; the
// tracker is that of the audited ballot.
func (StandardBodies) AuditedBallot(body []byte) (*BallotFacts, error) {
	a, err := ballot.ParseAuditedBallot(body)
	if err != nil {
		return nil, err
	}
	return &BallotFacts{Credential: [32]byte(a.Ballot.Credential().Bytes()), Tracker: [32]byte(a.Ballot.Tracker())}, nil
}

// PartialDecryption implements Bodies with tally.ParsePartialDecryption.
func (StandardBodies) PartialDecryption(body []byte) (*PartialFacts, error) {
	p, err := tally.ParsePartialDecryption(body)
	if err != nil {
		return nil, err
	}
	return &PartialFacts{Trustee: p.Trustee}, nil
}

// Result implements Bodies with tally.ParseResult.
func (StandardBodies) Result(body []byte) error {
	_, err := tally.ParseResult(body)
	return err
}
