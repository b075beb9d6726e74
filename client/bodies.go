package client

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/tally"
)

// bodies implements bulletin.Bodies for the replay of the rules (V5) with
// the strict parsers of ballot and tally. It keeps the object it decoded
// last, so that the later steps (V6–V13) reuse it instead of decoding the
// body a second time (a ballot costs one point decoding per element).
type bodies struct {
	lastBody []byte
	lastObj  any
}

var _ bulletin.Bodies = (*bodies)(nil)

func (b *bodies) keep(body []byte, obj any) { b.lastBody, b.lastObj = body, obj }

// cached returns the object decoded from exactly this body slice, if any.
func (b *bodies) cached(body []byte) any {
	if len(body) > 0 && len(b.lastBody) == len(body) && &b.lastBody[0] == &body[0] {
		return b.lastObj
	}
	return nil
}

func (b *bodies) Manifest(body []byte) (*bulletin.ManifestFacts, error) {
	m, err := ballot.ParseManifest(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, m)
	return manifestFacts(m)
}

func manifestFacts(m *ballot.Manifest) (*bulletin.ManifestFacts, error) {
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
			return nil, fmt.Errorf("client: board node %q key of %d bytes", n.ID, len(n.Key))
		}
		f.Nodes = append(f.Nodes, bulletin.NodeKey{ID: n.ID, PublicKey: ed25519.PublicKey(bytes.Clone(n.Key))})
	}
	return f, nil
}

func (b *bodies) Credentials(body []byte) ([][32]byte, error) {
	l, err := ballot.ParseCredentialList(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, l)
	out := make([][32]byte, len(l.Credentials))
	for i, c := range l.Credentials {
		out[i] = [32]byte(c.Bytes())
	}
	return out, nil
}

func (b *bodies) Deal(body []byte) (*bulletin.DealFacts, error) {
	p, err := tally.ParseDealerPost(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, p)
	return &bulletin.DealFacts{Dealer: p.Dealer, ConstantTerm: [32]byte(p.Commitments[0].Bytes())}, nil
}

func (b *bodies) Confirmation(body []byte) (*bulletin.ConfirmationFacts, error) {
	c, err := tally.ParseConfirmation(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, c)
	return &bulletin.ConfirmationFacts{Trustee: c.Trustee, Dealers: c.Dealers}, nil
}

func (b *bodies) Complaint(body []byte) (*bulletin.ComplaintFacts, error) {
	c, err := tally.ParseComplaint(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, c)
	return &bulletin.ComplaintFacts{Dealer: c.Dealer, Complainer: c.Complainer}, nil
}

func (b *bodies) Reveal(body []byte) (*bulletin.RevealFacts, error) {
	rv, err := tally.ParseReveal(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, rv)
	return &bulletin.RevealFacts{Dealer: rv.Dealer, Complainer: rv.Complainer}, nil
}

func (b *bodies) Ballot(body []byte) (*bulletin.BallotFacts, error) {
	bl, err := ballot.ParseBallot(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, bl)
	return &bulletin.BallotFacts{Credential: [32]byte(bl.Credential().Bytes()), Tracker: bl.Tracker()}, nil
}

func (b *bodies) AuditedBallot(body []byte) (*bulletin.BallotFacts, error) {
	a, err := ballot.ParseAuditedBallot(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, a)
	return &bulletin.BallotFacts{Credential: [32]byte(a.Ballot.Credential().Bytes()), Tracker: a.Ballot.Tracker()}, nil
}

func (b *bodies) PartialDecryption(body []byte) (*bulletin.PartialFacts, error) {
	pd, err := tally.ParsePartialDecryption(body)
	if err != nil {
		return nil, err
	}
	b.keep(body, pd)
	return &bulletin.PartialFacts{Trustee: pd.Trustee}, nil
}

func (b *bodies) Result(body []byte) error {
	res, err := tally.ParseResult(body)
	if err != nil {
		return err
	}
	b.keep(body, res)
	return nil
}

// decodeBody decodes e's body with the owning package's parser (V1.6),
// reusing the rules' decoding when there is one.
func (b *bodies) decodeBody(e *bulletin.Entry) (any, error) {
	if obj := b.cached(e.Body); obj != nil {
		return obj, nil
	}
	switch e.Type {
	case bulletin.TypeManifest:
		return ballot.ParseManifest(e.Body)
	case bulletin.TypeCredentials:
		return ballot.ParseCredentialList(e.Body)
	case bulletin.TypeDKGDeal:
		return tally.ParseDealerPost(e.Body)
	case bulletin.TypeDKGConfirmation:
		return tally.ParseConfirmation(e.Body)
	case bulletin.TypeDKGComplaint:
		return tally.ParseComplaint(e.Body)
	case bulletin.TypeDKGReveal:
		return tally.ParseReveal(e.Body)
	case bulletin.TypeOpen:
		return bulletin.ParseOpenBody(e.Body)
	case bulletin.TypeBallot:
		return ballot.ParseBallot(e.Body)
	case bulletin.TypeAuditedBallot:
		return ballot.ParseAuditedBallot(e.Body)
	case bulletin.TypeClose:
		return bulletin.ParseCloseBody(e.Body)
	case bulletin.TypePartialDecryption:
		return tally.ParsePartialDecryption(e.Body)
	case bulletin.TypeResult:
		return tally.ParseResult(e.Body)
	}
	return nil, fmt.Errorf("client: unknown entry type %d", e.Type)
}
