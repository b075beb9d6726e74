package board

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/tally"
)

// preCheck runs the expensive checks of SPEC.md §3.9.1 on entries before
// they are proposed: envelope signatures in one batch (bulletin.PreCheck),
// then body proofs: ballots in one ballot.VerifyBatch, audited ballots'
// openings, dealer posts' proofs of knowledge. Partial decryptions are
// checked by verifiers (V12); their proofs need the tally aggregate, which
// the node does not maintain.
func (b *Board) preCheck(v *view, entries []*bulletin.Entry) []error {
	if b.cfg.SkipChecks {
		return make([]error, len(entries))
	}
	var pc bulletin.ProofChecker
	if v.manifest != nil {
		pc = &proofChecker{m: v.manifest.m}
	}
	st := v.rules.st
	if st == nil {
		st = &bulletin.ElectionState{}
	}
	return bulletin.PreCheck(rand.Reader, st, entries, pc)
}

type proofChecker struct{ m *ballot.Manifest }

func (p *proofChecker) CheckProofs(rnd io.Reader, st *bulletin.ElectionState, entries []*bulletin.Entry) []error {
	errs := make([]error, len(entries))
	var pk *group.Element
	if st.Phase >= bulletin.PhaseOpen {
		var err error
		if pk, err = group.DecodeNonIdentity(st.JointKey[:]); err != nil {
			pk = nil
		}
	}
	var ballots []*ballot.Ballot
	var pos []int
	for i, e := range entries {
		switch e.Type {
		case bulletin.TypeBallot:
			if pk == nil {
				errs[i] = fmt.Errorf("%w: ballot before the election key", bulletin.ErrWrongPhase)
				continue
			}
			bb, err := ballot.ParseBallot(e.Body)
			if err != nil {
				errs[i] = fmt.Errorf("%w: ballot: %v", bulletin.ErrMalformed, err)
				continue
			}
			ballots, pos = append(ballots, bb), append(pos, i)
		case bulletin.TypeAuditedBallot:
			if pk == nil {
				errs[i] = fmt.Errorf("%w: audited ballot before the election key", bulletin.ErrWrongPhase)
				continue
			}
			a, err := ballot.ParseAuditedBallot(e.Body)
			if err != nil {
				errs[i] = fmt.Errorf("%w: audited ballot: %v", bulletin.ErrMalformed, err)
				continue
			}
			if err := ballot.VerifyOpening(p.m, pk, a.Ballot, a.Opening); err != nil {
				errs[i] = proofErr(err)
			}
		case bulletin.TypeDKGDeal:
			d, err := tally.ParseDealerPost(e.Body)
			if err != nil {
				errs[i] = fmt.Errorf("%w: dealer post: %v", bulletin.ErrMalformed, err)
				continue
			}
			if err := tally.CheckDealerPost(p.params(), d); err != nil {
				errs[i] = proofErr(err)
			}
		}
	}
	if len(ballots) > 0 {
		bad, err := ballot.VerifyBatch(rnd, p.m, pk, ballots, nil)
		if err != nil {
			for _, i := range pos {
				errs[i] = err
			}
			return errs
		}
		for _, k := range bad {
			errs[pos[k]] = proofErr(ballot.ErrInvalidProof)
		}
	}
	return errs
}

// proofErr maps a body-proof failure to the rules' sentinels so the API
// reports invalid_proof (or malformed for a wrong shape).
func proofErr(err error) error {
	switch {
	case errors.Is(err, ballot.ErrInvalidProof), errors.Is(err, tally.ErrInvalidProof), errors.Is(err, ballot.ErrOpeningMismatch):
		return fmt.Errorf("%w: %v", bulletin.ErrInvalidProof, err)
	case errors.Is(err, ballot.ErrWrongElection):
		return fmt.Errorf("%w: %v", bulletin.ErrWrongElection, err)
	}
	return fmt.Errorf("%w: %v", bulletin.ErrInvalidBody, err)
}

func (p *proofChecker) params() *tally.Params {
	ps := &tally.Params{Fingerprint: p.m.Fingerprint(), N: len(p.m.Trustees), T: int(p.m.Threshold)}
	for i, t := range p.m.Trustees {
		ps.Trustees = append(ps.Trustees, tally.TrusteePublic{Index: i + 1, SigningKey: t.SigningKey, ShareKey: t.ShareKey})
	}
	return ps
}
