package bulletin

import (
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/tally"
)

// DecodeBody decodes the body of an entry of type t with the strict decoder
// of the package that owns the type (SPEC.md V1.6): *ballot.Manifest,
// *ballot.CredentialList, *tally.DealerPost, *tally.Confirmation,
// *tally.Complaint, *tally.Reveal, *OpenBody, *ballot.Ballot,
// *ballot.AuditedBallot, *ballot.Audit, *CloseBody, *tally.PartialDecryption or
// *tally.Result, *tally.MixShuffle or *tally.MixDecryption. It is the one
// table of body decoders.
func DecodeBody(t EntryType, body []byte) (any, error) {
	switch t {
	case TypeManifest:
		return ballot.ParseManifest(body)
	case TypeCredentials, TypeLateCredentials:
		return ballot.ParseCredentialList(body)
	case TypeDKGDeal:
		return tally.ParseDealerPost(body)
	case TypeDKGConfirmation:
		return tally.ParseConfirmation(body)
	case TypeDKGComplaint:
		return tally.ParseComplaint(body)
	case TypeDKGReveal:
		return tally.ParseReveal(body)
	case TypeOpen:
		return ParseOpenBody(body)
	case TypeBallot:
		return ballot.ParseBallot(body)
	case TypeAuditedBallot:
		return ballot.ParseAuditedBallot(body)
	case TypeAudit:
		return ballot.ParseAudit(body)
	case TypeClose:
		return ParseCloseBody(body)
	case TypePartialDecryption:
		return tally.ParsePartialDecryption(body)
	case TypeResult:
		return tally.ParseResult(body)
	case TypeShuffle:
		return tally.ParseMixShuffle(body)
	case TypeMixDecryption:
		return tally.ParseMixDecryption(body)
	}
	return nil, fmt.Errorf("%w: unknown entry type %d", ErrMalformed, t)
}

// StandardBodies implements Bodies: it decodes each body with Decode (or
// DecodeBody when Decode is nil) and extracts the facts the rules need.
// Decode lets a verifier keep the objects it decoded; it MUST return the
// same types as DecodeBody.
type StandardBodies struct {
	Decode func(t EntryType, body []byte) (any, error)
}

var _ Bodies = StandardBodies{}

// decode returns the object of type T decoded from body.
func decode[T any](s StandardBodies, t EntryType, body []byte) (T, error) {
	var zero T
	d := s.Decode
	if d == nil {
		d = DecodeBody
	}
	obj, err := d(t, body)
	if err != nil {
		return zero, err
	}
	v, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("bulletin: %s body decoded as %T", t, obj)
	}
	return v, nil
}

// Manifest implements Bodies.
func (s StandardBodies) Manifest(body []byte) (*ManifestFacts, error) {
	m, err := decode[*ballot.Manifest](s, TypeManifest, body)
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
		OpensAt:             m.Window().OpensAt,
		ClosesAt:            m.Window().ClosesAt,
		NoManualClose:       !m.Window().Manual,
	}
	for _, t := range m.Trustees {
		f.Trustees = append(f.Trustees, [32]byte(t.SigningKey.Bytes()))
	}
	for q, mq := range m.Questions {
		if mq.Kind.Mixed() {
			f.Mixed = append(f.Mixed, q)
		}
	}
	for _, n := range m.BoardNodes {
		f.Nodes = append(f.Nodes, NodeKey{ID: n.ID, PublicKey: ed25519.PublicKey(slices.Clone(n.Key))})
	}
	return f, nil
}

// Credentials implements Bodies, for credentials and late-credentials
// entries (t).
func (s StandardBodies) Credentials(t EntryType, body []byte) (*CredentialFacts, error) {
	l, err := decode[*ballot.CredentialList](s, t, body)
	if err != nil {
		return nil, err
	}
	f := &CredentialFacts{Credentials: make([][32]byte, len(l.Credentials))}
	for i, c := range l.Credentials {
		f.Credentials[i] = [32]byte(c.Bytes())
	}
	if l.Weights != nil {
		f.Weights = slices.Clone(l.Weights)
	}
	return f, nil
}

// Deal implements Bodies.
func (s StandardBodies) Deal(body []byte) (*DealFacts, error) {
	p, err := decode[*tally.DealerPost](s, TypeDKGDeal, body)
	if err != nil {
		return nil, err
	}
	return &DealFacts{Dealer: p.Dealer, ConstantTerm: [32]byte(p.Commitments[0].Bytes())}, nil
}

// Confirmation implements Bodies.
func (s StandardBodies) Confirmation(body []byte) (*ConfirmationFacts, error) {
	c, err := decode[*tally.Confirmation](s, TypeDKGConfirmation, body)
	if err != nil {
		return nil, err
	}
	return &ConfirmationFacts{Trustee: c.Trustee, Dealers: c.Dealers}, nil
}

// Complaint implements Bodies.
func (s StandardBodies) Complaint(body []byte) (*ComplaintFacts, error) {
	c, err := decode[*tally.Complaint](s, TypeDKGComplaint, body)
	if err != nil {
		return nil, err
	}
	return &ComplaintFacts{Dealer: c.Dealer, Complainer: c.Complainer}, nil
}

// Reveal implements Bodies.
func (s StandardBodies) Reveal(body []byte) (*RevealFacts, error) {
	rv, err := decode[*tally.Reveal](s, TypeDKGReveal, body)
	if err != nil {
		return nil, err
	}
	return &RevealFacts{Dealer: rv.Dealer, Complainer: rv.Complainer}, nil
}

// Ballot implements Bodies.
func (s StandardBodies) Ballot(body []byte) (*BallotFacts, error) {
	b, err := decode[*ballot.Ballot](s, TypeBallot, body)
	if err != nil {
		return nil, err
	}
	return &BallotFacts{Credential: [32]byte(b.Credential().Bytes()), Tracker: [32]byte(b.Tracker())}, nil
}

// AuditedBallot implements Bodies; the tracker is that of the audited ballot.
func (s StandardBodies) AuditedBallot(body []byte) (*BallotFacts, error) {
	a, err := decode[*ballot.AuditedBallot](s, TypeAuditedBallot, body)
	if err != nil {
		return nil, err
	}
	return &BallotFacts{Credential: [32]byte(a.Ballot.Credential().Bytes()), Tracker: [32]byte(a.Ballot.Tracker())}, nil
}

// Audit implements Bodies.
func (s StandardBodies) Audit(body []byte) (*AuditFacts, error) {
	a, err := decode[*ballot.Audit](s, TypeAudit, body)
	if err != nil {
		return nil, err
	}
	return &AuditFacts{Election: a.Fingerprint(), Tracker: [32]byte(a.Tracker()), Kinds: a.Version() == ballot.BallotVersionKinds}, nil
}

// PartialDecryption implements Bodies.
func (s StandardBodies) PartialDecryption(body []byte) (*PartialFacts, error) {
	p, err := decode[*tally.PartialDecryption](s, TypePartialDecryption, body)
	if err != nil {
		return nil, err
	}
	return &PartialFacts{Trustee: p.Trustee}, nil
}

// Result implements Bodies.
func (s StandardBodies) Result(body []byte) error {
	_, err := decode[*tally.Result](s, TypeResult, body)
	return err
}

// Shuffle implements Bodies.
func (s StandardBodies) Shuffle(body []byte) (*ShuffleFacts, error) {
	ms, err := decode[*tally.MixShuffle](s, TypeShuffle, body)
	if err != nil {
		return nil, err
	}
	return &ShuffleFacts{Question: ms.Question, Trustee: ms.Trustee, Position: ms.Position}, nil
}

// MixDecryption implements Bodies.
func (s StandardBodies) MixDecryption(body []byte) (*MixDecryptionFacts, error) {
	md, err := decode[*tally.MixDecryption](s, TypeMixDecryption, body)
	if err != nil {
		return nil, err
	}
	return &MixDecryptionFacts{Question: md.Question, Trustee: md.Trustee}, nil
}
