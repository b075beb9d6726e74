package bulletin

import (
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// StandardProofs is the ProofChecker of production nodes (SPEC.md §3.9.1):
// it verifies the proofs inside entry bodies with package ballot and tally.
// The node fills in what its storage knows; fields that are not yet known
// (before the manifest, before open, before close) stay nil and entries
// that need them are rejected.
type StandardProofs struct {
	Manifest *ballot.Manifest // the election's manifest (from entry 0)
	JointKey *group.Element   // the election key K, once open
	// DealerPost returns dealer i's post from the board (for reveals).
	DealerPost func(dealer int) (*tally.DealerPost, error)
	// Tally returns the aggregate and the trustees' verification keys X_1..X_N
	// (for partial decryptions, after close).
	Tally func() (agg [][]*ballot.Ciphertext, vk []*group.Element, err error)
	// MixRows returns the rows the next shuffle of mixed question q takes
	// and the next decryption decrypts (SPEC.md §11.2): the last accepted
	// shuffle's output, or the K.5 rows of the counted ballots in board
	// order before the first shuffle (after close).
	MixRows func(q int) ([]shuffle.Row, error)
}

// errNotReady rejects an entry whose proofs need election data the board does
// not have yet (a ballot before open, a partial decryption before close): the
// entry is early, so it is a phase error.
var errNotReady = fmt.Errorf("%w: the election data needed to check this entry is not on the board yet", ErrWrongPhase)

// params returns the tally parameters of the manifest.
func (p *StandardProofs) params() (*tally.Params, error) {
	if p.Manifest == nil {
		return nil, errNotReady
	}
	return tally.ManifestParams(p.Manifest), nil
}

// CheckProofs implements ProofChecker. Cast ballots are verified together
// with ballot.VerifyBatch; every other entry on its own.
func (p *StandardProofs) CheckProofs(rand io.Reader, st *ElectionState, entries []*Entry) []error {
	errs := make([]error, len(entries))
	var ballots []*ballot.Ballot
	var ballotPos []int
	tips := map[int][]shuffle.Row{} // outputs of the shuffles of this batch
	for i, e := range entries {
		switch e.Type {
		case TypeShuffle, TypeMixDecryption:
			errs[i] = p.checkMix(rand, e, tips)
		default:
			errs[i] = p.checkOne(rand, e, &ballots, &ballotPos, i)
		}
	}
	if len(ballots) == 0 {
		return errs
	}
	if p.Manifest == nil || p.JointKey == nil {
		for _, i := range ballotPos {
			errs[i] = errNotReady
		}
		return errs
	}
	bad, err := ballot.VerifyBatch(rand, p.Manifest, p.JointKey, ballots, nil)
	if err != nil {
		bad = nil
		for _, i := range ballotPos {
			errs[i] = err
		}
	}
	for _, k := range bad {
		errs[ballotPos[k]] = fmt.Errorf("%w: ballot proofs", ErrInvalidProof)
	}
	return errs
}

func (p *StandardProofs) checkOne(rand io.Reader, e *Entry, ballots *[]*ballot.Ballot, pos *[]int, i int) error {
	switch e.Type {
	case TypeBallot:
		b, err := ballot.ParseBallot(e.Body)
		if err != nil {
			return malformedBody(e.Type, err)
		}
		*ballots, *pos = append(*ballots, b), append(*pos, i)
		return nil
	case TypeAuditedBallot:
		// Protocol 1.1's audited ballot carries the credential and proofs
		// bound to it: the rules still accept it so that 1.1 records verify,
		// but a node proposes only audits (SPEC.md §7.3).
		return reject(ErrNotAuthorized, "an audited-ballot entry links the challenge to the voter's credential; post an audit (type %d, a one-time key) instead", TypeAudit)
	case TypeAudit:
		if p.Manifest == nil || p.JointKey == nil {
			return errNotReady
		}
		a, err := ballot.ParseAudit(e.Body)
		if err != nil {
			return malformedBody(e.Type, err)
		}
		if err := ballot.VerifyAudit(p.Manifest, p.JointKey, a); err != nil {
			return fmt.Errorf("%w: audit: %v", ErrInvalidProof, err)
		}
	case TypeDKGDeal:
		ps, err := p.params()
		if err != nil {
			return err
		}
		d, err := tally.ParseDealerPost(e.Body)
		if err != nil {
			return malformedBody(e.Type, err)
		}
		if tally.CheckDealerPost(ps, d) != nil {
			return fmt.Errorf("%w: dealer post", ErrInvalidProof)
		}
	case TypeDKGReveal:
		if p.DealerPost == nil {
			return errNotReady
		}
		rv, err := tally.ParseReveal(e.Body)
		if err != nil {
			return malformedBody(e.Type, err)
		}
		d, err := p.DealerPost(rv.Dealer)
		if err != nil {
			return err
		}
		if d == nil || !tally.CheckReveal(d, rv) {
			return fmt.Errorf("%w: revealed share", ErrInvalidProof)
		}
	case TypePartialDecryption:
		ps, err := p.params()
		if err != nil {
			return err
		}
		if p.Tally == nil {
			return errNotReady
		}
		pd, err := tally.ParsePartialDecryption(e.Body)
		if err != nil {
			return malformedBody(e.Type, err)
		}
		agg, vk, err := p.Tally()
		if err != nil {
			return err
		}
		if pd.Trustee < 1 || pd.Trustee > len(vk) {
			return malformedBody(e.Type, fmt.Errorf("trustee %d", pd.Trustee))
		}
		if tally.VerifyPartialBatch(rand, ps, vk[pd.Trustee-1], agg, pd) != nil {
			return fmt.Errorf("%w: partial decryption", ErrInvalidProof)
		}
	case TypeManifest:
		if _, err := ballot.ParseManifest(e.Body); err != nil {
			return malformedBody(e.Type, err)
		}
	}
	return nil
}
