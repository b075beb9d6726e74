package board

import (
	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// applyBodies implements bulletin.Bodies for Apply: the strict decoders of
// bulletin.StandardBodies for every type but cast ballots, which it peeks
// at. It keeps the object of the last strict decode so that Apply uses the
// manifest and the dealer index the rules decoded instead of decoding the
// body a second time. Apply is serial (FSM.applyMu), so one applyBodies per
// FSM is safe.
type applyBodies struct {
	bulletin.StandardBodies
	decoded any // the object of the last strict decode (bulletin.DecodeBody)
}

var _ bulletin.Bodies = (*applyBodies)(nil)

func newApplyBodies() *applyBodies {
	ab := &applyBodies{}
	ab.Decode = func(t bulletin.EntryType, body []byte) (any, error) {
		obj, err := bulletin.DecodeBody(t, body)
		ab.decoded = obj
		return obj, err
	}
	return ab
}

// Ballot reads the credential and tracker of a cast ballot without decoding
// its group elements (ballot.PeekCredential). Why: Apply runs on every
// replica, serially, for every ballot; a strict ParseBallot decodes ~40
// Ristretto elements and capped the board at ~1,700 ballots/s. The strict
// decoding and every proof were checked by the proposing node's pre-check
// (Submitter: ParseBallot and ballot.VerifyBatch) before the ballot was
// proposed, and this extraction is a pure function of the committed bytes,
// so all replicas still decide identically.
func (*applyBodies) Ballot(body []byte) (*bulletin.BallotFacts, error) {
	return peekBallot(body)
}

func peekBallot(body []byte) (*bulletin.BallotFacts, error) {
	cred, err := ballot.PeekCredential(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.BallotFacts{Credential: cred, Tracker: [32]byte(ballot.TrackerOf(body))}, nil
}

// Credentials reads a credential list's credentials and weights without
// decoding its elements (ballot.PeekCredentialList), for the reason Ballot
// gives: the proposer's pre-check decoded the list strictly (the rules'
// Credentials through bulletin.DecodeBody) before proposing it, and a
// list of 2²⁰ voters costs every replica seconds of CPU and ~100 MB to
// decode again.
func (*applyBodies) Credentials(_ bulletin.EntryType, body []byte) (*bulletin.CredentialFacts, error) {
	creds, weights, err := ballot.PeekCredentialList(body)
	if err != nil {
		return nil, err
	}
	f := &bulletin.CredentialFacts{Credentials: make([][32]byte, len(creds)), Weights: weights}
	for i, c := range creds {
		f.Credentials[i] = [32]byte(c)
	}
	return f, nil
}
