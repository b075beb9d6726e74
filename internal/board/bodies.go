package board

import (
	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// bodies implements bulletin.Bodies for Apply: the strict decoders of
// bulletin.StandardBodies for every type but cast ballots.
type bodies struct{ bulletin.StandardBodies }

var _ bulletin.Bodies = bodies{}

// Ballot reads the credential and tracker of a cast ballot without decoding
// its group elements (ballot.PeekCredential). Why: Apply runs on every
// replica, serially, for every ballot; a strict ParseBallot decodes ~40
// Ristretto elements and capped the board at ~1,700 ballots/s. The strict
// decoding and every proof were checked by the proposing node's pre-check
// (preCheck: ParseBallot and ballot.VerifyBatch) before the ballot was
// proposed, and this extraction is a pure function of the committed bytes,
// so all replicas still decide identically.
func (bodies) Ballot(body []byte) (*bulletin.BallotFacts, error) {
	cred, err := ballot.PeekCredential(body)
	if err != nil {
		return nil, err
	}
	return &bulletin.BallotFacts{Credential: cred, Tracker: [32]byte(ballot.TrackerOf(body))}, nil
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
